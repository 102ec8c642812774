// SPDX-License-Identifier: BSD-3-Clause
// The thread that reads a fanotify group and hands each event on, for as long as it lives.
//
// It sleeps in poll(2) on the group and on an eventfd of its own; the destructor sets the
// stop flag, writes the eventfd and joins, and the thread looks at the flag before each event
// it hands on, so that a queue full of events is not worked through first: shutdown waits at
// most for the one handler call under way. Handlers run on the watcher's thread, one at a
// time, in the kernel's order; one that throws loses that event and nothing else.
#pragma once

#include "fscore/host/fanotify_records.hpp"
#include "fscore/host/unique_fd.hpp"

#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace daxpolicy::fscore::host
{

class EventWatcher
{
      public:
	using Handler = std::function<void(const FanotifyEvent &)>;

	// Starts the thread on `group` (a fanotify group opened FAN_NONBLOCK). Throws
	// std::system_error when the eventfd or the thread cannot be had.
	EventWatcher(UniqueFd group, Handler handler);
	~EventWatcher();
	EventWatcher(const EventWatcher &) = delete;
	EventWatcher &operator=(const EventWatcher &) = delete;

	// False once the thread has stopped on an error of its own (a read or poll that
	// fails other than EINTR or EAGAIN): it handed on a FAN_Q_OVERFLOW event first.
	bool running() const { return running_.load(); }

	// How many bytes one read takes at most: whole events, never part of one.
	static constexpr size_t kBufferBytes = 64 * 1024;

      private:
	void run();
	// Hands on a FAN_Q_OVERFLOW of our own: events were lost here rather than in the
	// kernel (a garbled buffer, or the watcher failing), and the listener must look again
	// just as after the kernel's.
	void lost();

	UniqueFd group_;
	UniqueFd wake_; // eventfd
	Handler handler_;
	std::vector<std::byte> buffer_;
	std::atomic<bool> stopping_{false};
	std::atomic<bool> running_{true};
	std::thread thread_; // last: started once everything it uses is there
};

} // namespace daxpolicy::fscore::host
