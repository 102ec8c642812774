// SPDX-License-Identifier: BSD-3-Clause
// One client connection: reads NUL-terminated varlink calls, answers each in order, and owns
// the client's io session (and so its open files and mappings) until it goes.
//
// What one peer can make the daemon hold is bounded: its input (a message up to
// wire::kMaxMessage; beyond a small allowance, input comes out of the daemon-wide budget),
// its output (calls wait, and list replies are made no further, while more than kMaxBacklog of
// replies is unread), and its time
// (a connection that neither sends a call nor takes a reply for Config::idle_timeout goes).
#pragma once

#include "daemon/auth.hpp"
#include "daemon/io_session.hpp"
#include "daemon/monitor_feed.hpp"
#include "daemon/reply_stream.hpp"

#include <array>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace daxpolicy::daemon
{

class Daemon;

class Connection : public std::enable_shared_from_this<Connection>
{
      public:
	// Replies queued for a peer beyond this: its next calls wait until it reads.
	static constexpr size_t kMaxBacklog = 1 << 20;

	// `peer` and its `role` (reader or admin) as decided when it connected.
	Connection(Daemon &daemon, boost::asio::local::stream_protocol::socket socket, Peer peer,
	           Role role);
	void start();
	// Queues a message for the peer: a reply, or an event of a monitor.
	void send(const nlohmann::json &message);
	void close();

	const Peer &peer() const { return peer_; }
	bool admin() const { return admin_; }
	// Bytes queued for the peer and not yet written, and events held for it.
	size_t backlog() const;
	// The io session, made on the first Io call.
	std::unique_ptr<IoSession> io;
	// From a Monitor call on: the connection follows the event log through `feed`.
	void follow(std::unique_ptr<MonitorFeed> feed);
	bool monitoring() const { return monitor_ != nullptr; }
	// A live event (broadcast): sent if this monitor wants it, now or after its replay.
	void offer_event(const policy::Event &event, const std::string &framed);

	// For a call answered later (Io, Apply): no further call is handled until the answer,
	// but the socket is still read, so a peer that hangs up meanwhile is noticed at once
	// (and its io session cancelled). Returns what keeps the connection alive till then.
	std::shared_ptr<Connection> defer_reply();
	// On the event loop: the deferred call's reply is what `answer` returns, or its error;
	// nothing where `answer` handed the connection a stream_reply instead. Nothing is run
	// once the connection is closed.
	void finish_deferred(const std::function<std::optional<nlohmann::json>()> &answer);
	// Input budget was given back: a connection that waited for it reads again.
	void resume_reading();
	// For a call answered with a list: its replies are pulled from `stream` one at a time,
	// each once the peer has taken enough of those before (the backlog is at most
	// kMaxBacklog), and no further call is handled until its last.
	void stream_reply(std::unique_ptr<ReplyStream> stream);
	// A call of `method` is handled from now: its reply (or the first part of a list, or its
	// error) is timed, for the request latency histogram.
	void begin_call(const char *method);

      private:
	void read();
	void on_read(boost::system::error_code ec, size_t n);
	void on_end_of_input();
	// Handles the calls buffered while nothing else is under way, reads on where it may,
	// and closes once a peer that stopped sending has all its answers.
	void pump();
	// Where the first buffered call ends (its NUL), if it is all here.
	std::optional<size_t> end_of_call();
	std::optional<std::string_view> next_call();
	void handle(std::string_view text);
	// Runs one call's step; a reply it returns is sent, and whatever it throws becomes the
	// call's error reply: no failure of one request ends the daemon. False when it threw.
	bool reply_with(const std::function<std::optional<nlohmann::json>()> &step);
	void send_reply(nlohmann::json reply);
	// Queues the stream's next replies while the backlog allows and its source has them.
	void pull_stream();
	// The same for a monitor's replay and the events held meanwhile.
	void pull_monitor();
	// What a source that said `later` calls: the pulls go on from the loop.
	std::function<void()> waker();
	void queue(std::string framed);
	void fail(Errc code, const std::string &message, bool usage = false);
	void write();
	// Runs an asynchronous completion; an exception escaping it closes this connection
	// rather than the daemon.
	void guarded(const std::function<void()> &completion);
	size_t input_capacity_for_read() const;
	bool reserve_input();
	void release_input();
	void progress() { last_progress_ = std::chrono::steady_clock::now(); }
	void watch_idle();
	void watch_hang_up();

	Daemon &daemon_;
	boost::asio::local::stream_protocol::socket socket_;
	boost::asio::steady_timer idle_;
	std::chrono::steady_clock::time_point last_progress_;
	static constexpr size_t kReadChunk = 16 << 10;
	std::array<char, kReadChunk> chunk_; // what a read lands in
	std::string in_;                     // received and not yet handled, from head_
	size_t head_ = 0;
	size_t scanned_ = 0; // no NUL in [head_, scanned_)
	size_t budget_held_ = 0;
	bool reading_ = false;
	bool watching_hang_up_ = false;
	bool input_done_ = false; // the peer sent its last byte, or broke the protocol
	bool deferred_ = false;
	std::unique_ptr<ReplyStream> stream_; // the list being answered
	std::unique_ptr<MonitorFeed> monitor_;
	std::deque<std::string> out_;
	size_t out_bytes_ = 0;
	// The call being timed (begin_call), until its first reply is queued.
	const char *call_method_ = nullptr;
	std::chrono::steady_clock::time_point call_started_;
	void end_call();
	Peer peer_;
	bool admin_ = false;
	bool closed_ = false;
};

} // namespace daxpolicy::daemon
