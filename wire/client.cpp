// SPDX-License-Identifier: BSD-3-Clause
#include "wire/client.hpp"

#include "wire/varlink.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

namespace daxpolicy::wire
{

namespace asio = boost::asio;

Client::Client(const std::string &socket_path)
    : path_(socket_path), socket_(io_), buffer_(kMaxMessage)
{
	boost::system::error_code ec;
	socket_.connect(asio::local::stream_protocol::endpoint(socket_path), ec);
	// A socket the caller may not open is there and answers others: that is a refusal
	// (exit 1), not a daemon that is away (exit 3).
	if (ec == boost::system::errc::permission_denied)
		throw Error(Errc::permission_denied, "may not connect to daxpolicyd at " +
		                                         socket_path + ": " + ec.message());
	if (ec)
		throw Unreachable("cannot reach daxpolicyd at " + socket_path + ": " +
		                  ec.message());
}

void Client::send(const nlohmann::json &message)
{
	boost::system::error_code ec;
	asio::write(socket_, asio::buffer(frame(message)), ec);
	// A daemon that refuses the connection (busy: max_connections) says why, then closes
	// before the call is written: its reason is the error, rather than a broken pipe.
	if (ec)
		receive();
	if (ec)
		throw Unreachable("lost connection to daxpolicyd at " + path_ + ": " +
		                  ec.message());
}

nlohmann::json Client::receive()
{
	boost::system::error_code ec;
	size_t n = asio::read_until(socket_, buffer_, '\0', ec);
	if (ec)
		throw Unreachable("lost connection to daxpolicyd at " + path_ + ": " +
		                  ec.message());
	std::string text(asio::buffers_begin(buffer_.data()),
	                 asio::buffers_begin(buffer_.data()) + static_cast<std::ptrdiff_t>(n - 1));
	buffer_.consume(n);
	nlohmann::json reply;
	try {
		reply = parse_message(text);
	} catch (const Error &e) {
		throw Error(Errc::internal,
		            std::string("daxpolicyd sent a bad reply: ") + e.what());
	}
	if (!reply.is_object())
		throw Error(Errc::internal, "daxpolicyd sent a reply that is not a JSON object");
	if (reply.contains("error")) {
		std::string name =
		    reply["error"].is_string() ? reply["error"].get<std::string>() : "";
		auto code = errc_from_error_name(name);
		const auto params = reply.value("parameters", nlohmann::json::object());
		std::string message = params.value("message", name);
		bool usage = params.value("usage", false) && code == Errc::invalid_argument;
		throw Error(code.value_or(Errc::internal), code ? message : name + ": " + message,
		            usage);
	}
	return reply;
}

nlohmann::json Client::call(Method method, nlohmann::json parameters)
{
	send(make_call(qualified_name(method), std::move(parameters)));
	return receive().value("parameters", nlohmann::json::object());
}

void Client::call_more(Method method, nlohmann::json parameters,
                       const std::function<bool(const nlohmann::json &)> &on_reply)
{
	send(make_call(qualified_name(method), std::move(parameters), true));
	for (;;) {
		nlohmann::json reply = receive();
		if (!on_reply(reply.value("parameters", nlohmann::json::object())) ||
		    !reply.value("continues", false))
			return;
	}
}

} // namespace daxpolicy::wire
