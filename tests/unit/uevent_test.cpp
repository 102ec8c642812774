// SPDX-License-Identifier: BSD-3-Clause
// Kernel uevents as the daemon reads them off the netlink socket: what it accepts, and that
// nothing malformed is taken for a device event.
#include "daemon/uevent.hpp"

#include <gtest/gtest.h>
#include <string>

using daxpolicy::daemon::concerns_volumes;
using daxpolicy::daemon::parse_uevent;
using namespace std::string_literals;

namespace
{

std::optional<daxpolicy::daemon::Uevent> parse(const std::string &text)
{
	return parse_uevent({text.data(), text.size()});
}

// The kernel's layout: a header, then NUL-terminated KEY=VALUE fields.
const std::string kRemove = "remove@/devices/virtual/block/loop3\0ACTION=remove\0"
                            "DEVPATH=/devices/virtual/block/loop3\0SUBSYSTEM=block\0"
                            "MAJOR=7\0MINOR=3\0DEVNAME=loop3\0DEVTYPE=disk\0SEQNUM=4242\0"s;

TEST(Uevent, KernelMessageIsRead)
{
	auto e = parse(kRemove);
	ASSERT_TRUE(e);
	EXPECT_EQ(e->action, "remove");
	EXPECT_EQ(e->devpath, "/devices/virtual/block/loop3");
	EXPECT_EQ(e->subsystem, "block");
	EXPECT_EQ(e->devname, "loop3");
	EXPECT_EQ(e->major, 7u);
	EXPECT_EQ(e->minor, 3u);
	EXPECT_TRUE(concerns_volumes(*e));
}

TEST(Uevent, OtherSubsystemsAreNotTheVolumes)
{
	auto e = parse("add@/devices/x\0ACTION=add\0DEVPATH=/devices/x\0"
	               "SUBSYSTEM=usb\0"s);
	ASSERT_TRUE(e);
	EXPECT_FALSE(concerns_volumes(*e));
	for (const char *s : {"dax", "nd", "block"}) {
		e->subsystem = s;
		EXPECT_TRUE(concerns_volumes(*e)) << s;
	}
}

TEST(Uevent, MalformedMessagesAreRefused)
{
	EXPECT_FALSE(parse(""));
	// udev's own rebroadcast starts "libudev" and has no '@' header.
	EXPECT_FALSE(parse("libudev\0\xfe\xed\xca\xfe"s));
	EXPECT_FALSE(parse("remove@/x\0ACTION=remove\0"s)) << "no DEVPATH";
	EXPECT_FALSE(parse("remove@/x\0DEVPATH=/x\0"s)) << "no ACTION";
	EXPECT_FALSE(parse("remove@/x\0ACTION=remove\0DEVPATH=/x\0garbage\0"s))
	    << "a field that is not KEY=VALUE";
	EXPECT_FALSE(parse("a@/x\0ACTION=a\0DEVPATH=/x\0=v\0"s)) << "no key";
	for (const char *bad : {"MAJOR=", "MAJOR=7x", "MAJOR=-1", "MINOR=99999999999"}) {
		std::string m = "a@/x\0ACTION=a\0DEVPATH=/x\0"s + bad + '\0';
		EXPECT_FALSE(parse(m)) << bad;
	}
	EXPECT_FALSE(parse(std::string(9000, 'a'))) << "longer than any uevent";
}

TEST(Uevent, EveryCutOfAMessageIsHandled)
{
	// A message cut anywhere parses or is refused; it never reads past its end.
	for (size_t n = 0; n <= kRemove.size(); n++)
		(void)parse(kRemove.substr(0, n));
	// Without its final NUL the last field still counts.
	auto e = parse(kRemove.substr(0, kRemove.size() - 1));
	ASSERT_TRUE(e);
	EXPECT_EQ(e->devname, "loop3");
}

} // namespace
