// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/write_lease.hpp"

#include "common/checks.hpp"
#include "fscore/host/host_error.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <utility>

namespace daxpolicy::fscore::host
{

WriteLease::WriteLease(int fd, const std::string &what) : fd_(fd)
{
	// Before the lease: a break may come the moment it is granted.
	if (::fcntl(fd_, F_SETSIG, SIGURG) != 0)
		throw host_error(what + ": F_SETSIG", errno);
	if (::fcntl(fd_, F_SETLEASE, F_WRLCK) == 0) {
		held_ = true;
		return;
	}
	// EAGAIN is the refusal fs/locks.c gives; EBUSY is taken the same way, as a refusal
	// rather than a failure.
	if (errno != EAGAIN && errno != EBUSY)
		throw host_error(what + ": F_SETLEASE", errno);
}

bool WriteLease::broken() const
{
	return held_ && ::fcntl(fd_, F_GETLEASE) != F_WRLCK;
}

WriteLease::~WriteLease()
{
	release();
}

void WriteLease::release()
{
	// Closing the descriptor would drop the lease too; this gives it back before then,
	// so an opener waiting on it goes on at once.
	if (std::exchange(held_, false))
		::fcntl(fd_, F_SETLEASE, F_UNLCK);
}

void WriteLease::release_by_closing(UniqueFd &fd)
{
	DAXPOLICY_CHECK(fd.get() == fd_, "WriteLease: closing another descriptor than its own");
	held_ = false;
	fd.reset();
}

} // namespace daxpolicy::fscore::host
