// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/connection.hpp"

#include "daemon/daemon.hpp"
#include "daemon/log.hpp"
#include "daemon/methods.hpp"
#include "wire/varlink.hpp"

#include <algorithm>
#include <boost/asio/write.hpp>
#include <poll.h>

namespace daxpolicy::daemon
{

namespace asio = boost::asio;
using nlohmann::json;

namespace
{

// Input a connection may hold without drawing on the daemon-wide budget: every ordinary call.
constexpr size_t kFreeInput = 64 << 10;

// After end-of-input: whether the peer is gone altogether (closed, or died) rather than only
// done sending (shutdown(SHUT_WR)) and still waiting for its answers.
bool peer_hung_up(int fd)
{
	pollfd p{fd, POLLOUT, 0};
	return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

} // namespace

Connection::Connection(Daemon &daemon, asio::local::stream_protocol::socket socket, Peer peer,
                       Role role)
    : daemon_(daemon), socket_(std::move(socket)), idle_(daemon.io_context()),
      peer_(std::move(peer)), admin_(role == Role::admin)
{
	daemon_.metrics().connections_total++;
	daemon_.metrics().connections_open++;
}

void Connection::start()
{
	progress();
	watch_idle();
	pump();
}

void Connection::close()
{
	if (closed_)
		return;
	closed_ = true;
	daemon_.metrics().connections_open--;
	boost::system::error_code ignored; // the peer may have gone first: nothing to report
	socket_.close(ignored);
	idle_.cancel();
	daemon_.give_input(std::exchange(budget_held_, 0));
	stream_.reset(); // what it holds of the list (a walk under way) goes too
	// Dropping the io session cancels the command under way (a wait in a lease break gives
	// up), drops the queued ones, and releases the client's files and mappings: an unmap
	// that a pending change waits for happens here, however the client went away.
	io.reset();
	daemon_.forget(this);
}

void Connection::guarded(const std::function<void()> &completion)
{
	try {
		completion();
	} catch (const std::exception &e) {
		daemon_.metrics().errors[errc_name(Errc::internal)]++;
		log(Priority::err,
		    "closing a connection (pid " + std::to_string(peer_.pid) + "): " + e.what());
		close();
	}
}

// What in_ must be able to hold after one more read: it grows by doubling (up to a whole
// message), so that a large message is not copied once a chunk.
size_t Connection::input_capacity_for_read() const
{
	size_t needed = in_.size() - head_ + kReadChunk;
	if (needed <= in_.capacity())
		return in_.capacity();
	return std::max(needed, std::min(2 * in_.capacity(), wire::kMaxMessage + kReadChunk));
}

// The memory of in_ beyond kFreeInput is taken from the daemon's budget before a read.
bool Connection::reserve_input()
{
	size_t capacity = input_capacity_for_read();
	size_t over = capacity > kFreeInput ? capacity - kFreeInput : 0;
	if (over <= budget_held_)
		return true;
	if (!daemon_.take_input(over - budget_held_, shared_from_this()))
		return false;
	budget_held_ = over;
	return true;
}

void Connection::release_input()
{
	if (reading_)
		return; // what the pending read may need stays reserved
	size_t over = in_.capacity() > kFreeInput ? in_.capacity() - kFreeInput : 0;
	if (budget_held_ > over) {
		daemon_.give_input(budget_held_ - over);
		budget_held_ = over;
	}
}

void Connection::resume_reading()
{
	pump();
}

void Connection::read()
{
	size_t buffered = in_.size() - head_;
	// A whole message at most is held; a complete one waits here until its turn.
	if (buffered >= wire::kMaxMessage || !reserve_input())
		return;
	reading_ = true;
	auto self = shared_from_this();
	socket_.async_read_some(asio::buffer(chunk_),
	                        [this, self](boost::system::error_code ec, size_t n) {
		                        reading_ = false;
		                        guarded([&] { on_read(ec, n); });
	                        });
}

void Connection::on_read(boost::system::error_code ec, size_t n)
{
	if (closed_)
		return;
	if (ec == asio::error::eof) {
		on_end_of_input();
	} else if (ec) {
		close(); // a reset: the peer is gone
		return;
	} else {
		size_t capacity = input_capacity_for_read(); // what reserve_input took budget for
		if (head_ > 0) {
			in_.erase(0, head_);
			scanned_ -= head_;
			head_ = 0;
		}
		in_.reserve(capacity);
		in_.append(chunk_.data(), n);
	}
	pump();
}

void Connection::on_end_of_input()
{
	input_done_ = true;
	// A peer that died (or closed) wants nothing more: its io command under way is
	// cancelled and its queued calls dropped. One that only shut down its sending side
	// still gets the answers to what it sent.
	if (peer_hung_up(socket_.native_handle()))
		close();
}

std::optional<size_t> Connection::end_of_call()
{
	auto begin = in_.begin() + static_cast<std::ptrdiff_t>(std::max(head_, scanned_));
	auto nul = std::find(begin, in_.end(), '\0');
	scanned_ = static_cast<size_t>(nul - in_.begin());
	if (nul == in_.end())
		return std::nullopt;
	return scanned_;
}

std::optional<std::string_view> Connection::next_call()
{
	auto end = end_of_call();
	if (!end)
		return std::nullopt;
	std::string_view text(in_.data() + head_, *end - head_);
	head_ = *end + 1;
	scanned_ = head_;
	return text;
}

void Connection::pump()
{
	for (;;) {
		pull_stream();
		pull_monitor();
		if (closed_ || deferred_ || stream_ || out_bytes_ > kMaxBacklog)
			break;
		auto text = next_call();
		if (!text)
			break;
		progress();
		handle(*text); // the view stays valid: nothing is read into in_ meanwhile
	}
	if (closed_)
		return;
	if (head_ == in_.size()) {
		// Everything handled: give the memory of a large message back.
		if (in_.capacity() > kFreeInput)
			std::string().swap(in_);
		in_.clear();
		head_ = scanned_ = 0;
	}
	if (!input_done_ && in_.size() - head_ >= wire::kMaxMessage && !end_of_call()) {
		input_done_ = true;
		in_.clear();
		head_ = scanned_ = 0;
		fail(Errc::invalid_argument, "a message may be at most " +
		                                 std::to_string(wire::kMaxMessage >> 20) + " MiB");
	}
	release_input();
	if (input_done_) {
		// Nothing more will come: close once every call is answered and sent.
		if (!deferred_ && !stream_ && !end_of_call() && out_.empty())
			close();
	} else if (!reading_ && out_bytes_ <= kMaxBacklog) {
		// A peer that does not read its replies is not read either: it cannot make the
		// daemon queue without bound.
		read();
	}
	if ((deferred_ || stream_) && !reading_ && !closed_)
		watch_hang_up();
}

// While a call is under way and the socket is not read (the peer shut down its sending side,
// or is over a bound), a hang-up still shows as an error condition on the socket.
void Connection::watch_hang_up()
{
	if (watching_hang_up_)
		return;
	watching_hang_up_ = true;
	auto self = shared_from_this();
	socket_.async_wait(asio::socket_base::wait_error,
	                   [this, self](boost::system::error_code ec) {
		                   watching_hang_up_ = false;
		                   if (!ec && !closed_ && peer_hung_up(socket_.native_handle()))
			                   close();
	                   });
}

void Connection::handle(std::string_view text)
{
	reply_with([&]() -> std::optional<json> {
		json call = wire::parse_message(text);
		if (!call.is_object() || !call.contains("method") || !call["method"].is_string())
			throw Error(Errc::invalid_argument,
			            "a call must be a JSON object with a \"method\" string");
		static const json kNoParameters = json::object();
		auto it = call.find("parameters");
		const json &params = it == call.end() ? kNoParameters : *it;
		bool more = call.value("more", false);
		return call_method(daemon_, *this, call["method"].get_ref<const std::string &>(),
		                   params, more);
	});
}

bool Connection::reply_with(const std::function<std::optional<json>()> &step)
{
	try {
		if (auto reply = step())
			send_reply(std::move(*reply));
		return true;
	} catch (const wire::ServiceError &e) {
		end_call();
		daemon_.metrics().errors[errc_name(e.code())]++;
		send(e.to_json());
	} catch (const Error &e) {
		fail(e.code(), e.what(), e.usage());
	} catch (const json::exception &e) {
		fail(Errc::invalid_argument, e.what(), true);
	} catch (const std::exception &e) {
		// A bug or an exhausted resource: this request fails, everyone else is served.
		log(Priority::err,
		    "a request of pid " + std::to_string(peer_.pid) + " failed: " + e.what());
		fail(Errc::internal, e.what());
	}
	return false;
}

std::function<void()> Connection::waker()
{
	// A source that had nothing ready calls this, maybe from its own thread: the pull
	// goes on from the loop, once the connection is still there.
	return [weak = weak_from_this(), &io = daemon_.io_context()] {
		asio::post(io, [weak] {
			if (auto self = weak.lock())
				self->guarded([&] { self->pump(); });
		});
	};
}

void Connection::stream_reply(std::unique_ptr<ReplyStream> stream)
{
	stream->on_ready(waker());
	stream_ = std::move(stream);
}

void Connection::follow(std::unique_ptr<MonitorFeed> feed)
{
	feed->on_ready(waker());
	monitor_ = std::move(feed);
}

size_t Connection::backlog() const
{
	return out_bytes_ + (monitor_ ? monitor_->held_bytes() : 0);
}

void Connection::offer_event(const policy::Event &event, const std::string &framed)
{
	if (!monitor_ || !monitor_->wants(event))
		return;
	if (auto message = monitor_->live(event.id, framed))
		queue(std::move(*message));
}

void Connection::pull_monitor()
{
	while (monitor_ && monitor_->catching_up() && !closed_ && out_bytes_ <= kMaxBacklog) {
		std::string framed;
		auto pull = ItemSource::Pull::end;
		if (!reply_with([&]() -> std::optional<json> {
			    pull = monitor_->next(framed);
			    return std::nullopt;
		    })) {
			monitor_.reset(); // the replay failed (its error is sent): follows no more
			input_done_ = true;
			return;
		}
		if (pull != ItemSource::Pull::item)
			return;
		progress();
		queue(std::move(framed));
	}
}

void Connection::pull_stream()
{
	while (stream_ && !closed_ && out_bytes_ <= kMaxBacklog) {
		std::optional<std::string> reply;
		bool ok = reply_with([&]() -> std::optional<json> {
			reply = stream_->next();
			return std::nullopt;
		});
		if (!ok || (reply && stream_->done()))
			stream_.reset(); // over: failed (the error reply is sent), or whole
		if (!reply)
			return; // over, or waiting for its source
		progress();
		end_call();
		queue(std::move(*reply));
	}
}

void Connection::begin_call(const char *method)
{
	call_method_ = method;
	call_started_ = std::chrono::steady_clock::now();
}

void Connection::end_call()
{
	if (!call_method_)
		return;
	daemon_.metrics().observe_request(call_method_,
	                                  std::chrono::steady_clock::now() - call_started_);
	call_method_ = nullptr;
}

void Connection::fail(Errc code, const std::string &message, bool usage)
{
	end_call();
	daemon_.metrics().errors[errc_name(code)]++;
	send(wire::make_error(code, message, usage));
}

void Connection::send_reply(json reply)
{
	std::string framed = wire::frame(wire::make_reply(std::move(reply)));
	if (framed.size() > wire::kMaxMessage)
		throw wire::oversized_reply();
	end_call();
	queue(std::move(framed));
}

void Connection::send(const json &message)
{
	queue(wire::frame(message));
}

void Connection::queue(std::string framed)
{
	if (closed_)
		return;
	out_bytes_ += framed.size();
	out_.push_back(std::move(framed));
	if (out_.size() == 1)
		write();
}

void Connection::write()
{
	auto self = shared_from_this();
	asio::async_write(socket_, asio::buffer(out_.front()),
	                  [this, self](boost::system::error_code ec, size_t) {
		                  guarded([&] {
			                  if (closed_)
				                  return;
			                  if (ec) {
				                  close();
				                  return;
			                  }
			                  out_bytes_ -= out_.front().size();
			                  out_.pop_front();
			                  progress();
			                  if (!out_.empty())
				                  write();
			                  pump();
		                  });
	                  });
}

std::shared_ptr<Connection> Connection::defer_reply()
{
	deferred_ = true;
	return shared_from_this();
}

void Connection::finish_deferred(const std::function<std::optional<json>()> &answer)
{
	if (closed_)
		return;
	guarded([&] {
		deferred_ = false;
		progress();
		reply_with(answer);
		pump();
	});
}

// A connection that does nothing for idle_timeout holds a descriptor and memory for no one:
// it is closed. Monitors, io sessions (their files and mappings are the client's to keep)
// and calls under way are not idle; a peer that stops reading a list is.
void Connection::watch_idle()
{
	auto timeout = daemon_.config().idle_timeout;
	idle_.expires_at(last_progress_ + timeout);
	auto self = shared_from_this();
	idle_.async_wait([this, self, timeout](boost::system::error_code ec) {
		if (ec || closed_)
			return;
		auto now = std::chrono::steady_clock::now();
		// A list whose source is still looking (nothing queued) is a call under way.
		if (monitor_ || io || deferred_ || (stream_ && out_.empty()))
			last_progress_ = now;
		else if (now - last_progress_ >= timeout) {
			daemon_.metrics().connections_idle_closed++;
			close();
			return;
		}
		watch_idle();
	});
}

} // namespace daxpolicy::daemon
