#include "daemon/connection.hpp"

#include "daemon/daemon.hpp"
#include "daemon/methods.hpp"
#include "daemon/wire/varlink.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

namespace daxpolicy::daemon
{

namespace asio = boost::asio;

Connection::Connection(Daemon &daemon, asio::local::stream_protocol::socket socket)
    : daemon_(daemon), socket_(std::move(socket)), in_(wire::kMaxMessage)
{
	peer_ = peer_of(socket_.native_handle());
	admin_ = is_admin(peer_, daemon_.config().admin_group);
	daemon_.metrics().connections_total++;
	daemon_.metrics().connections_open++;
}

void Connection::start()
{
	read();
}

void Connection::resume()
{
	if (!closed_)
		read();
}

void Connection::close()
{
	if (closed_)
		return;
	closed_ = true;
	daemon_.metrics().connections_open--;
	boost::system::error_code ignored; // the peer may have gone first: nothing to report
	socket_.close(ignored);
	// Dropping the io session releases the client's files and mappings: an unmap that a
	// pending change waits for happens here, however the client went away.
	io.reset();
	daemon_.forget(this);
}

void Connection::read()
{
	auto self = shared_from_this();
	asio::async_read_until(socket_, in_, '\0',
	                       [this, self](boost::system::error_code ec, size_t n) {
		                       if (ec) {
			                       // EOF, a reset, or a message over kMaxMessage.
			                       close();
			                       return;
		                       }
		                       std::string text(asio::buffers_begin(in_.data()),
		                                        asio::buffers_begin(in_.data()) +
		                                            static_cast<std::ptrdiff_t>(n - 1));
		                       in_.consume(n);
		                       handle(text);
		                       if (!closed_ && !awaiting_io)
			                       read();
	                       });
}

void Connection::handle(const std::string &text)
{
	nlohmann::json call = nlohmann::json::parse(text, nullptr, false);
	try {
		if (call.is_discarded() || !call.is_object() || !call.contains("method") ||
		    !call["method"].is_string())
			throw Error(Errc::invalid_argument,
			            "a call must be a JSON object with a \"method\" string");
		nlohmann::json params = call.value("parameters", nlohmann::json::object());
		bool more = call.value("more", false);
		auto reply =
		    call_method(daemon_, *this, call["method"].get<std::string>(), params, more);
		if (reply)
			send(wire::make_reply(*reply));
	} catch (const Error &e) {
		daemon_.metrics().errors[errc_name(e.code())]++;
		send(wire::make_error(e.code(), e.what()));
	} catch (const nlohmann::json::exception &e) {
		daemon_.metrics().errors["invalid-argument"]++;
		send(wire::make_error(Errc::invalid_argument, e.what()));
	}
}

void Connection::send(const nlohmann::json &message)
{
	if (closed_)
		return;
	out_.push_back(wire::frame(message));
	if (out_.size() == 1)
		write();
}

void Connection::write()
{
	auto self = shared_from_this();
	asio::async_write(socket_, asio::buffer(out_.front()),
	                  [this, self](boost::system::error_code ec, size_t) {
		                  if (ec) {
			                  close();
			                  return;
		                  }
		                  out_.pop_front();
		                  if (!out_.empty())
			                  write();
	                  });
}

} // namespace daxpolicy::daemon
