// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/params.hpp"

#include "wire/varlink.hpp"

#include <cstdint>

namespace daxpolicy::daemon
{

const nlohmann::json *Params::find(const char *key) const
{
	auto it = j_.find(key);
	return it == j_.end() || it->is_null() ? nullptr : &*it;
}

void Params::bad(const char *key, const char *expected) const
{
	throw wire::invalid_parameter(key, std::string("expected ") + expected);
}

std::string Params::string(const char *key) const
{
	auto v = opt_string(key);
	if (!v)
		bad(key, "a string");
	return *v;
}

std::optional<std::string> Params::opt_string(const char *key) const
{
	const nlohmann::json *v = find(key);
	if (!v)
		return std::nullopt;
	if (!v->is_string())
		bad(key, "a string");
	return v->get<std::string>();
}

bool Params::boolean(const char *key, bool fallback) const
{
	const nlohmann::json *v = find(key);
	if (!v)
		return fallback;
	if (!v->is_boolean())
		bad(key, "true or false");
	return v->get<bool>();
}

std::optional<int64_t> Params::opt_integer(const char *key) const
{
	const nlohmann::json *v = find(key);
	if (!v)
		return std::nullopt;
	if (!v->is_number_integer())
		bad(key, "an integer");
	// JSON numbers above 2^63-1 arrive unsigned; get<int64_t> would wrap them to negatives.
	if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX))
		bad(key, "an integer within [-2^63, 2^63)");
	return v->get<int64_t>();
}

std::vector<std::string> Params::strings(const char *key) const
{
	const nlohmann::json *v = find(key);
	if (!v)
		return {};
	if (!v->is_array())
		bad(key, "an array of strings");
	std::vector<std::string> out;
	for (const auto &item : *v) {
		if (!item.is_string())
			bad(key, "an array of strings");
		out.push_back(item.get<std::string>());
	}
	return out;
}

} // namespace daxpolicy::daemon
