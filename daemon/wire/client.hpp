// A blocking varlink client over the daemon's Unix socket (the CLI's side of the wire).
#pragma once

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

// The daemon answered with an error reply.
class RemoteError : public std::runtime_error
{
      public:
	RemoteError(std::string code, const std::string &message)
	    : std::runtime_error(message), code_(std::move(code))
	{
	}
	const std::string &code() const { return code_; } // "not-found", ...

      private:
	std::string code_;
};

class Client
{
      public:
	explicit Client(const std::string &socket_path);
	// One call, one reply: its parameters, or RemoteError.
	nlohmann::json call(const std::string &method_name, nlohmann::json parameters);
	// A call with "more": `on_reply` gets each reply's parameters until one does not
	// continue or on_reply returns false.
	void call_more(const std::string &method_name, nlohmann::json parameters,
	               const std::function<bool(const nlohmann::json &)> &on_reply);

      private:
	void send(const nlohmann::json &message);
	// The next reply, whole; an error reply is thrown as RemoteError.
	nlohmann::json receive();

	std::string path_;
	boost::asio::io_context io_;
	boost::asio::local::stream_protocol::socket socket_;
	boost::asio::streambuf buffer_;
};

} // namespace daxpolicy::wire
