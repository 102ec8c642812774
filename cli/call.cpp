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

std::string absolute(const std::string &path)
{
	return std::filesystem::absolute(path).lexically_normal().string();
}

void set_given(nlohmann::json &params, const char *key, const std::string &value)
{
	if (!value.empty())
		params[key] = value;
}

} // namespace daxpolicy::cli
