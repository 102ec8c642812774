// SPDX-License-Identifier: BSD-3-Clause
#include "wire/varlink.hpp"

#include <cctype>

namespace daxpolicy::wire
{

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

namespace
{

constexpr const char *kMethodNotFound = "org.varlink.service.MethodNotFound";
constexpr const char *kInterfaceNotFound = "org.varlink.service.InterfaceNotFound";
constexpr const char *kInvalidParameter = "org.varlink.service.InvalidParameter";

} // namespace

nlohmann::json ServiceError::to_json() const
{
	nlohmann::json params = parameters_;
	params["message"] = what();
	return {{"error", name_}, {"parameters", std::move(params)}};
}

ServiceError method_not_found(const std::string &method)
{
	return {
	    Errc::not_found, kMethodNotFound, {{"method", method}}, "no method '" + method + "'"};
}

ServiceError interface_not_found(const std::string &interface)
{
	return {Errc::not_found,
	        kInterfaceNotFound,
	        {{"interface", interface}},
	        "no interface '" + interface + "'"};
}

ServiceError invalid_parameter(const std::string &parameter, const std::string &why)
{
	return {Errc::invalid_argument,
	        kInvalidParameter,
	        {{"parameter", parameter}},
	        "parameter '" + parameter + "': " + why};
}

std::optional<Errc> errc_from_error_name(std::string_view name)
{
	if (name == kMethodNotFound || name == kInterfaceNotFound)
		return Errc::not_found;
	if (name == kInvalidParameter)
		return Errc::invalid_argument;
	for (const auto &[code, unused] : kErrcNames)
		if (error_name(code) == name)
			return code;
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

nlohmann::json make_error(Errc code, const std::string &message, bool usage)
{
	nlohmann::json e = {{"error", error_name(code)}, {"parameters", {{"message", message}}}};
	if (usage)
		e["parameters"]["usage"] = true;
	return e;
}

namespace
{

std::string dump(const nlohmann::json &value)
{
	// Invalid UTF-8 in a path is replaced rather than thrown on: a reply must always go out.
	return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

constexpr std::string_view kListTail = "]}}";
constexpr std::string_view kContinues = ",\"continues\":true";

} // namespace

std::string frame(const nlohmann::json &message)
{
	std::string out = dump(message);
	out.push_back('\0');
	return out;
}

constexpr std::string_view kParametersHead = "{\"parameters\":{";

ListReply::ListReply(std::string_view key) : key_(dump(nlohmann::json(key)) + ":[") {}

void ListReply::add_fields(const nlohmann::json &fields)
{
	for (const auto &[k, v] : fields.items())
		fields_ += dump(nlohmann::json(k)) + ":" + dump(v) + ",";
}

void ListReply::add(const nlohmann::json &item)
{
	if (items_++ > 0)
		body_ += ',';
	body_ += dump(item);
}

size_t ListReply::bytes() const
{
	return kParametersHead.size() + fields_.size() + key_.size() + body_.size() +
	       kListTail.size() + kContinues.size() + 1;
}

std::string ListReply::take(bool continues)
{
	if (bytes() > kMaxMessage)
		throw oversized_reply();
	std::string out;
	out.reserve(bytes());
	out += kParametersHead;
	out += fields_;
	out += key_;
	out += body_;
	out += "]}";
	if (continues)
		out += kContinues;
	out += "}";
	out.push_back('\0');
	std::string().swap(body_); // a large part's memory goes with it
	fields_.clear();
	items_ = 0;
	return out;
}

Error oversized_reply()
{
	return Error(Errc::invalid_argument, "the reply would be larger than the " +
	                                         std::to_string(kMaxMessage >> 20) +
	                                         " MiB a message may be: ask for fewer files at "
	                                         "a time");
}

nlohmann::json parse_message(std::string_view text)
{
	// The parser itself is iterative, but what is done with its result is not: the depth is
	// checked as each object or array opens, so a deep message is never built.
	auto bounded = [](int depth, nlohmann::json::parse_event_t event, nlohmann::json &) {
		if ((event == nlohmann::json::parse_event_t::object_start ||
		     event == nlohmann::json::parse_event_t::array_start) &&
		    depth >= kMaxNesting)
			throw Error(Errc::invalid_argument,
			            "message nests objects and arrays deeper than " +
			                std::to_string(kMaxNesting) + " levels");
		return true;
	};
	nlohmann::json j = nlohmann::json::parse(text, bounded, false);
	if (j.is_discarded())
		throw Error(Errc::invalid_argument, "message is not JSON");
	return j;
}

} // namespace daxpolicy::wire
