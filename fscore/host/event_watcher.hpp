// SPDX-License-Identifier: BSD-3-Clause
// The thread that reads a notification descriptor (a fanotify group, or an inotify instance)
// and hands what it reads on, for as long as it lives.
//
// It sleeps in poll(2) on the descriptor and on an eventfd of its own; the destructor sets
// the stop flag, writes the eventfd and joins. The reader is handed the stop flag with each
// buffer and looks at it before each event it hands on, so that a queue full of events is
// not worked through first: shutdown waits at most for the one handler call under way.
// Readers run on the watcher's thread, one buffer at a time, in the kernel's order.
#pragma once

#include "fscore/host/unique_fd.hpp"

#include <atomic>
#include <cstddef>
#include <functional>
#include <span>
#include <thread>
#include <vector>

namespace daxpolicy::fscore::host
{

class EventWatcher
{
      public:
	// One read's bytes: whole events, as fanotify and inotify return them (neither splits
	// an event across reads), and the stop flag.
	using Reader = std::function<void(std::span<const std::byte> bytes,
	                                  const std::atomic<bool> &stopping)>;
	// Events were lost here rather than in the kernel (the reader threw, or the watcher
	// failed): whoever relies on them must look again, as after the kernel's overflow.
	using Lost = std::function<void()>;

	// Starts the thread on `fd` (opened non-blocking). Throws std::system_error when the
	// eventfd or the thread cannot be had.
	EventWatcher(UniqueFd fd, Reader reader, Lost lost);
	~EventWatcher();
	EventWatcher(const EventWatcher &) = delete;
	EventWatcher &operator=(const EventWatcher &) = delete;

	// False once the thread has stopped on an error of its own (a read or poll that
	// fails other than EINTR or EAGAIN): it called `lost` first.
	bool running() const { return running_.load(); }
	// The descriptor read, for marks added after the start (fanotify_mark and
	// inotify_add_watch may be called from any thread).
	int fd() const { return fd_.get(); }

	// How many bytes one read takes at most.
	static constexpr size_t kBufferBytes = 64 * 1024;

      private:
	void run();
	void lost() noexcept;

	UniqueFd fd_;
	UniqueFd wake_; // eventfd
	Reader reader_;
	Lost lost_;
	std::vector<std::byte> buffer_;
	std::atomic<bool> stopping_{false};
	std::atomic<bool> running_{true};
	std::thread thread_; // last: started once everything it uses is there
};

} // namespace daxpolicy::fscore::host
