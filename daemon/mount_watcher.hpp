// SPDX-License-Identifier: BSD-3-Clause
// Tells the daemon when this process's mount table changes: the kernel marks
// /proc/self/mountinfo readable-with-priority (POLLPRI) whenever a mount comes or goes
// (proc(5)), which the event loop waits for like any descriptor. A host volume whose mount
// went away (umount, umount -l, its device removed) is then found out and reported, and one
// whose mount is back is opened again.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>

namespace daxpolicy::daemon
{

class MountWatcher
{
      public:
	// `changed` runs on the event loop after each change. Throws Error when the mount
	// table cannot be opened.
	MountWatcher(boost::asio::io_context &io, std::function<void()> changed);
	void stop();

      private:
	void wait();

	boost::asio::posix::stream_descriptor mountinfo_;
	std::function<void()> changed_;
};

} // namespace daxpolicy::daemon
