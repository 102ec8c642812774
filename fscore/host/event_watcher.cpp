// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/event_watcher.hpp"

#include <cerrno>
#include <poll.h>
#include <sys/eventfd.h>
#include <system_error>
#include <unistd.h>

namespace daxpolicy::fscore::host
{

EventWatcher::EventWatcher(UniqueFd fd, Reader reader, Lost lost)
    : fd_(std::move(fd)), wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      reader_(std::move(reader)), lost_(std::move(lost)), buffer_(kBufferBytes)
{
	if (!wake_)
		throw std::system_error(errno, std::generic_category(), "eventfd");
	thread_ = std::thread([this] { run(); });
}

EventWatcher::~EventWatcher()
{
	stopping_ = true;
	uint64_t one = 1;
	// Only EAGAIN can fail it (the counter at its maximum), and then the thread has
	// been woken already.
	[[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof one);
	thread_.join();
}

void EventWatcher::lost() noexcept
{
	try {
		lost_();
	} catch (...) {
	}
}

void EventWatcher::run()
{
	while (!stopping_) {
		pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
		if (::poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (stopping_ || fds[1].revents)
			return;
		if (fds[0].revents & (POLLERR | POLLNVAL))
			break;
		if (!(fds[0].revents & POLLIN))
			continue;
		ssize_t got = ::read(fd_.get(), buffer_.data(), buffer_.size());
		if (got < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		try {
			reader_(std::span(buffer_).first(static_cast<size_t>(got)), stopping_);
		} catch (...) {
			// What was left of this buffer is lost; the next ones are still worth
			// reading.
			lost();
		}
	}
	if (stopping_)
		return;
	running_ = false;
	lost();
}

} // namespace daxpolicy::fscore::host
