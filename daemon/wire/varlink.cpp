#include "daemon/wire/varlink.hpp"

#include <cctype>

namespace daxpolicy::wire
{

std::string method(std::string_view name)
{
	return std::string(kInterface) + "." + std::string(name);
}

std::string error_name(Errc code)
{
	// "no-space" -> "NoSpace"
	std::string out = std::string(kInterface) + ".";
	bool upper = true;
	for (const char *p = errc_name(code); *p; p++) {
		if (*p == '-') {
			upper = true;
			continue;
		}
		out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(*p))) : *p;
		upper = false;
	}
	return out;
}

std::optional<Errc> errc_from_error_name(std::string_view name)
{
	for (Errc c : {Errc::not_found, Errc::exists, Errc::invalid_argument,
	               Errc::permission_denied, Errc::busy, Errc::timeout, Errc::revoked,
	               Errc::unsupported, Errc::no_space, Errc::corrupted, Errc::internal})
		if (error_name(c) == name)
			return c;
	return std::nullopt;
}

nlohmann::json make_call(std::string_view method_name, nlohmann::json parameters, bool more)
{
	nlohmann::json call = {{"method", method_name}, {"parameters", std::move(parameters)}};
	if (more)
		call["more"] = true;
	return call;
}

nlohmann::json make_reply(nlohmann::json parameters, bool continues)
{
	nlohmann::json reply = {{"parameters", std::move(parameters)}};
	if (continues)
		reply["continues"] = true;
	return reply;
}

nlohmann::json make_error(Errc code, const std::string &message)
{
	return {{"error", error_name(code)}, {"parameters", {{"message", message}}}};
}

std::string frame(const nlohmann::json &message)
{
	// Invalid UTF-8 in a path is replaced rather than thrown on: a reply must always go out.
	std::string out = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
	out.push_back('\0');
	return out;
}

} // namespace daxpolicy::wire
