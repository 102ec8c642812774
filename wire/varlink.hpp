// SPDX-License-Identifier: BSD-3-Clause
// The varlink wire format shared by daxpolicyd and the CLI: JSON objects, each terminated by a
// NUL byte, over a Unix stream socket. Calls name "io.daxpolicy.<Method>"; errors are
// "io.daxpolicy.<Name>" with {"message"} as parameters.
#pragma once

#include "common/error.hpp"
#include "wire/interface.hpp"

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace daxpolicy::wire
{

// A message larger than this is refused: a peer cannot make the daemon buffer without bound.
inline constexpr size_t kMaxMessage = 16 << 20;
// Calls and replies nest a few levels; far deeper nesting is refused when parsed, before
// anything walks it recursively (copies, comparisons, dumps recurse on the stack).
inline constexpr int kMaxNesting = 64;

// A part of a list called with "more" is cut once it holds this many bytes: a client needs no
// buffer larger than this (and one item) whatever the length of the list.
inline constexpr size_t kListPart = 256 << 10;

// "io.daxpolicy.NotFound" <-> Errc::not_found; the errors of org.varlink.service map to the
// nearest code (MethodNotFound, InterfaceNotFound: not_found; InvalidParameter:
// invalid_argument), so a client reports them as it reports ours.
std::string error_name(Errc code);
std::optional<Errc> errc_from_error_name(std::string_view name);

// An error of org.varlink.service, as the varlink specification names it and with the
// parameters it gives (InvalidParameter: {"parameter": NAME}), besides our "message".
class ServiceError : public Error
{
      public:
	ServiceError(Errc code, std::string name, nlohmann::json parameters,
	             const std::string &message)
	    : Error(code, message), name_(std::move(name)), parameters_(std::move(parameters))
	{
	}
	nlohmann::json to_json() const;

      private:
	std::string name_;
	nlohmann::json parameters_;
};
ServiceError method_not_found(const std::string &method);
ServiceError interface_not_found(const std::string &interface);
// A parameter the method does not take, or of the wrong type: `why` says which.
ServiceError invalid_parameter(const std::string &parameter, const std::string &why);

nlohmann::json make_call(std::string_view method_name, nlohmann::json parameters,
                         bool more = false);
nlohmann::json make_reply(nlohmann::json parameters, bool continues = false);
// `usage`: the request itself was malformed (Error::usage), as "usage": true.
nlohmann::json make_error(Errc code, const std::string &message, bool usage = false);
// The message as it goes on the wire, with its terminating NUL.
std::string frame(const nlohmann::json &message);
// One reply of a list, {"parameters": {KEY: [...]}}, built an item at a time: each item is
// serialized once, as it is added (as frame() would), so bytes() is what the reply weighs.
class ListReply
{
      public:
	explicit ListReply(std::string_view key);
	void add(const nlohmann::json &item);
	// Keys beside the list in this part only (an object's other fields, sent once, in the
	// first part, ahead of its list).
	void add_fields(const nlohmann::json &fields);
	size_t items() const { return items_; }
	// The size of the reply framed, as it stands.
	size_t bytes() const;
	// The reply, framed (with "continues": true when more follow); starts an empty one.
	// Throws oversized_reply() past kMaxMessage.
	std::string take(bool continues);

      private:
	std::string key_;    // "KEY":[
	std::string fields_; // "a":1,"b":2, (this part's, before the list)
	std::string body_;   // the items, comma-separated
	size_t items_ = 0;
};

// The error for a reply that would be larger than kMaxMessage (a client could not take it).
Error oversized_reply();
// One message's text (without its NUL) as JSON. Throws Error(invalid_argument) when it is not
// JSON or nests deeper than kMaxNesting.
nlohmann::json parse_message(std::string_view text);

} // namespace daxpolicy::wire
