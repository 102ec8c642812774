// SPDX-License-Identifier: BSD-3-Clause
#include "common/units.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>

namespace daxpolicy
{

namespace
{

struct Quantity {
	uint64_t number;
	std::string unit; // lower-cased
};

// "512MiB" -> {512, "mib"}: the leading decimal digits and what follows them. Nothing when
// there are no digits or the number does not fit 64 bits.
std::optional<Quantity> split_quantity(std::string_view text)
{
	Quantity q{};
	auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), q.number);
	if (ec != std::errc() || end == text.data())
		return std::nullopt;
	q.unit.assign(end, text.data() + text.size());
	std::transform(q.unit.begin(), q.unit.end(), q.unit.begin(),
	               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
	return q;
}

// Each unit with the power of two it multiplies by.
struct SizeUnit {
	std::string_view name;
	int shift;
};
constexpr SizeUnit kSizeUnits[] = {
    {"", 0},    {"b", 0},  {"k", 10},   {"kib", 10}, {"kb", 10}, {"m", 20},   {"mib", 20},
    {"mb", 20}, {"g", 30}, {"gib", 30}, {"gb", 30},  {"t", 40},  {"tib", 40}, {"tb", 40},
};

struct DurationUnit {
	std::string_view name;
	std::chrono::milliseconds one;
};
constexpr DurationUnit kDurationUnits[] = {
    {"ms", std::chrono::milliseconds(1)}, {"", std::chrono::seconds(1)},
    {"s", std::chrono::seconds(1)},       {"m", std::chrono::minutes(1)},
    {"min", std::chrono::minutes(1)},     {"h", std::chrono::hours(1)},
    {"d", std::chrono::hours(24)},
};

} // namespace

std::optional<uint64_t> parse_size(const std::string &text)
{
	auto q = split_quantity(text);
	if (!q)
		return std::nullopt;
	for (const auto &u : kSizeUnits)
		if (u.name == q->unit)
			return q->number > (UINT64_MAX >> u.shift)
			           ? std::nullopt
			           : std::optional<uint64_t>(q->number << u.shift);
	return std::nullopt;
}

std::optional<std::chrono::milliseconds> parse_duration(const std::string &text)
{
	auto q = split_quantity(text);
	if (!q)
		return std::nullopt;
	for (const auto &u : kDurationUnits) {
		if (u.name != q->unit)
			continue;
		// No duration anyone configures comes near this; refusing keeps the product exact.
		if (q->number > static_cast<uint64_t>(INT64_MAX / u.one.count()))
			return std::nullopt;
		return u.one * static_cast<int64_t>(q->number);
	}
	return std::nullopt;
}

} // namespace daxpolicy
