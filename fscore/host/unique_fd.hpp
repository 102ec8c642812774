// SPDX-License-Identifier: BSD-3-Clause
// A file descriptor owned by one object and closed when it goes.
#pragma once

#include <unistd.h>
#include <utility>

namespace daxpolicy::fscore::host
{

class UniqueFd
{
      public:
	UniqueFd() = default;
	explicit UniqueFd(int fd) : fd_(fd) {}
	UniqueFd(UniqueFd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
	UniqueFd &operator=(UniqueFd &&other) noexcept
	{
		if (this != &other)
			reset(std::exchange(other.fd_, -1));
		return *this;
	}
	UniqueFd(const UniqueFd &) = delete;
	UniqueFd &operator=(const UniqueFd &) = delete;
	~UniqueFd() { reset(); }

	int get() const { return fd_; }
	explicit operator bool() const { return fd_ >= 0; }
	void reset(int fd = -1)
	{
		// close(2) releases the descriptor even when it reports an error (EINTR
		// included), so it is never retried.
		if (fd_ >= 0)
			::close(fd_);
		fd_ = fd;
	}

      private:
	int fd_ = -1;
};

} // namespace daxpolicy::fscore::host
