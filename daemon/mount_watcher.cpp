// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/mount_watcher.hpp"

#include "common/error.hpp"

#include <cerrno>
#include <fcntl.h>

namespace daxpolicy::daemon
{

namespace
{

int open_mountinfo()
{
	int fd = ::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		throw system_error("/proc/self/mountinfo", errno);
	return fd;
}

} // namespace

MountWatcher::MountWatcher(boost::asio::io_context &io, std::function<void()> changed)
    : mountinfo_(io, open_mountinfo()), changed_(std::move(changed))
{
	wait();
}

void MountWatcher::wait()
{
	// The kernel's poll of mountinfo reports the change once per open file and re-arms
	// itself (mounts_poll): nothing needs reading to wait for the next one.
	mountinfo_.async_wait(boost::asio::posix::stream_descriptor::wait_error,
	                      [this](boost::system::error_code ec) {
		                      if (ec)
			                      return; // stopped
		                      changed_();
		                      wait();
	                      });
}

void MountWatcher::stop()
{
	boost::system::error_code ignored; // closing what is open cannot fail here
	mountinfo_.close(ignored);
}

} // namespace daxpolicy::daemon
