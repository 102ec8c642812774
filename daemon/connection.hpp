// One client connection: reads NUL-terminated varlink calls, answers each in order, and owns
// the client's io session (and so its open files and mappings) until it goes.
#pragma once

#include "daemon/auth.hpp"
#include "daemon/io_session.hpp"

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/streambuf.hpp>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace daxpolicy::daemon
{

class Daemon;

class Connection : public std::enable_shared_from_this<Connection>
{
      public:
	Connection(Daemon &daemon, boost::asio::local::stream_protocol::socket socket);
	void start();
	void send(const nlohmann::json &message);
	void close();

	const Peer &peer() const { return peer_; }
	bool admin() const { return admin_; }
	// The io session, made on the first Io call.
	std::unique_ptr<IoSession> io;
	// Set while an io command runs: no further call is read until its reply is sent.
	bool awaiting_io = false;
	// Reads the next call (after an io command's reply).
	void resume();
	// Set while the connection follows the event log (Monitor).
	std::optional<std::string> monitor_type;
	bool monitoring = false;

      private:
	void read();
	void handle(const std::string &text);
	void write();

	Daemon &daemon_;
	boost::asio::local::stream_protocol::socket socket_;
	boost::asio::streambuf in_;
	std::deque<std::string> out_;
	Peer peer_;
	bool admin_ = false;
	bool closed_ = false;
};

} // namespace daxpolicy::daemon
