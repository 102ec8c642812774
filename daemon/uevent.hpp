// SPDX-License-Identifier: BSD-3-Clause
// Kernel uevents (NETLINK_KOBJECT_UEVENT), heard with libnl: the daemon learns that a pmem,
// dax or block device came or went, and checks the volumes on it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

struct nl_sock;

namespace daxpolicy::daemon
{

// One uevent as the kernel sends it: "ACTION@DEVPATH", then KEY=VALUE fields, each ended by
// a NUL (the kernel's kobject_uevent_env).
struct Uevent {
	std::string action; // add, remove, change, bind, ...
	std::string devpath;
	std::string subsystem; // block, dax, nd, ...
	std::string devname;   // "pmem0", "loop3"; empty when the device has no node
	std::optional<unsigned> major, minor;
};

// The uevent in `message`, or nothing when it is not one (no "@" header, a field that is
// not KEY=VALUE, a number that is not one, or no ACTION/DEVPATH): nothing in it is trusted.
std::optional<Uevent> parse_uevent(std::span<const char> message);

// Whether the daemon cares: the subsystems of devices a volume can be on.
bool concerns_volumes(const Uevent &e);

class UeventListener
{
      public:
	// `heard` runs on the event loop for each uevent from the kernel (not from another
	// process) about a device a volume can be on. Throws Error when the socket cannot be
	// made (no netlink in a container, say): the caller runs without.
	UeventListener(boost::asio::io_context &io, std::function<void(const Uevent &)> heard);
	~UeventListener();
	UeventListener(const UeventListener &) = delete;
	UeventListener &operator=(const UeventListener &) = delete;
	void stop();

      private:
	void wait();
	void receive();

	std::unique_ptr<nl_sock, void (*)(nl_sock *)> sock_;
	boost::asio::posix::stream_descriptor fd_; // libnl's descriptor, released, not closed
	std::function<void(const Uevent &)> heard_;
};

} // namespace daxpolicy::daemon
