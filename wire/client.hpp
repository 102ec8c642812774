// SPDX-License-Identifier: BSD-3-Clause
// A blocking varlink client over the daemon's Unix socket (the CLI's side of the wire).
#pragma once

#include "wire/interface.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/streambuf.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace daxpolicy::wire
{

// The daemon could not be reached (CLI exit code 3).
class Unreachable : public std::runtime_error
{
      public:
	using std::runtime_error::runtime_error;
};

class Client
{
      public:
	explicit Client(const std::string &socket_path);
	// One call, one reply: its parameters. An error reply is thrown as the Error it names
	// (a name the client does not know is internal, with the name in the message).
	nlohmann::json call(Method method, nlohmann::json parameters = nlohmann::json::object());
	// A call with "more": `on_reply` gets each reply's parameters until one does not
	// continue or on_reply returns false.
	void call_more(Method method, nlohmann::json parameters,
	               const std::function<bool(const nlohmann::json &)> &on_reply);

      private:
	void send(const nlohmann::json &message);
	// The next reply, whole; an error reply is thrown as Error.
	nlohmann::json receive();

	std::string path_;
	boost::asio::io_context io_;
	boost::asio::local::stream_protocol::socket socket_;
	boost::asio::streambuf buffer_;
};

} // namespace daxpolicy::wire
