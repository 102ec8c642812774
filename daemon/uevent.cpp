// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/uevent.hpp"

#include "common/error.hpp"

#include <charconv>
#include <cstdlib>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <string_view>

namespace daxpolicy::daemon
{

namespace
{

// The kernel's multicast group for uevents (udev's own rebroadcast is group 2).
constexpr uint32_t kKernelGroup = 1;
// A uevent is at most UEVENT_BUFFER_SIZE (2048) bytes of fields plus its header.
constexpr size_t kMaxUevent = 8192;

std::optional<unsigned> number(std::string_view text)
{
	unsigned v = 0;
	auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
	if (ec != std::errc() || end != text.data() + text.size() || text.empty())
		return std::nullopt;
	return v;
}

} // namespace

std::optional<Uevent> parse_uevent(std::span<const char> message)
{
	if (message.empty() || message.size() > kMaxUevent)
		return std::nullopt;
	std::string_view all(message.data(), message.size());
	size_t end = all.find('\0');
	std::string_view header = all.substr(0, end);
	if (header.find('@') == std::string_view::npos)
		return std::nullopt; // libudev's messages, or anything else
	Uevent e;
	while (end != std::string_view::npos && end + 1 < all.size()) {
		size_t start = end + 1;
		end = all.find('\0', start);
		std::string_view field = all.substr(
		    start, end == std::string_view::npos ? all.size() - start : end - start);
		if (field.empty())
			continue;
		size_t eq = field.find('=');
		if (eq == std::string_view::npos || eq == 0)
			return std::nullopt;
		std::string_view key = field.substr(0, eq), value = field.substr(eq + 1);
		if (key == "ACTION") {
			e.action = value;
		} else if (key == "DEVPATH") {
			e.devpath = value;
		} else if (key == "SUBSYSTEM") {
			e.subsystem = value;
		} else if (key == "DEVNAME") {
			e.devname = value;
		} else if (key == "MAJOR" || key == "MINOR") {
			auto n = number(value);
			if (!n)
				return std::nullopt;
			(key == "MAJOR" ? e.major : e.minor) = n;
		}
	}
	if (e.action.empty() || e.devpath.empty())
		return std::nullopt;
	return e;
}

bool concerns_volumes(const Uevent &e)
{
	return e.subsystem == "block" || e.subsystem == "dax" || e.subsystem == "nd";
}

UeventListener::UeventListener(boost::asio::io_context &io,
                               std::function<void(const Uevent &)> heard)
    : sock_(nl_socket_alloc(), nl_socket_free), fd_(io), heard_(std::move(heard))
{
	if (!sock_)
		throw Error(Errc::internal, "uevents: nl_socket_alloc failed");
	// Uevents are not netlink requests and replies: no sequence numbers to check.
	nl_socket_disable_seq_check(sock_.get());
	nl_join_groups(sock_.get(), kKernelGroup);
	if (int rc = nl_connect(sock_.get(), NETLINK_KOBJECT_UEVENT); rc < 0)
		throw Error(Errc::unsupported, std::string("uevents: ") + nl_geterror(rc));
	if (int rc = nl_socket_set_nonblocking(sock_.get()); rc < 0)
		throw Error(Errc::internal, std::string("uevents: ") + nl_geterror(rc));
	fd_.assign(nl_socket_get_fd(sock_.get()));
	wait();
}

UeventListener::~UeventListener()
{
	stop();
}

void UeventListener::stop()
{
	if (fd_.is_open()) {
		fd_.cancel();
		fd_.release(); // nl_socket_free closes it
	}
}

void UeventListener::wait()
{
	fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
	               [this](boost::system::error_code ec) {
		               if (ec)
			               return; // stopped
		               receive();
		               wait();
	               });
}

void UeventListener::receive()
{
	// Everything queued now, then back to waiting: a storm of uevents is read in turns
	// of the loop, not all at once.
	for (int i = 0; i < 64; i++) {
		sockaddr_nl from = {};
		unsigned char *buf = nullptr;
		int n = nl_recv(sock_.get(), &from, &buf, nullptr);
		std::unique_ptr<unsigned char, decltype(&std::free)> owned(buf, std::free);
		if (n <= 0)
			return; // nothing more now (or an error the next wait sees again)
		// Only the kernel's own (port 0): another process must not make the daemon
		// think a device went.
		if (from.nl_pid != 0)
			continue;
		auto e =
		    parse_uevent({reinterpret_cast<const char *>(buf), static_cast<size_t>(n)});
		if (e && concerns_volumes(*e))
			heard_(*e);
	}
}

} // namespace daxpolicy::daemon
