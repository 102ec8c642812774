// SPDX-License-Identifier: BSD-3-Clause
#include "cli/call.hpp"

#include "wire/client.hpp"

#include <filesystem>

namespace daxpolicy::cli
{

nlohmann::json call(const Globals &g, wire::Method method, nlohmann::json params)
{
	wire::Client client(g.socket);
	return client.call(method, std::move(params));
}

void print_list(const Globals &g, wire::Method method, nlohmann::json params,
                const std::vector<std::string> &columns,
                const std::function<void(nlohmann::json &items)> &shape)
{
	const char *key = wire::spec_of(method).list;
	wire::Client client(g.socket);
	ListPrinter printer(g.out, columns);
	client.call_more(method, std::move(params), [&](const nlohmann::json &reply) {
		nlohmann::json items = reply.value(key, nlohmann::json::array());
		if (shape)
			shape(items);
		printer.add(items);
		return true;
	});
	printer.finish();
}

std::string absolute(const std::string &path)
{
	return std::filesystem::absolute(path).lexically_normal().string();
}

std::string file_name_arg(const std::string &arg)
{
	auto colon = arg.find(':');
	bool volume_name = colon != std::string::npos && arg.find('/') > colon;
	return volume_name || arg.empty() ? arg : absolute(arg);
}

void set_given(nlohmann::json &params, const char *key, const std::string &value)
{
	if (!value.empty())
		params[key] = value;
}

} // namespace daxpolicy::cli
