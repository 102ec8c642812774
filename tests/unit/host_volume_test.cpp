// The host volume's parsers of what the kernel writes (mountinfo, sysfs), on hostile text.
#include "fscore/host/block_device.hpp"
#include "fscore/host/mount_table.hpp"
#include "tests/support/temp_dir.hpp"

#include <fstream>
#include <gtest/gtest.h>

using namespace daxpolicy;
using namespace daxpolicy::fscore;
using namespace daxpolicy::fscore::host;
using test::TempDir;
using namespace std::string_literals;

namespace
{

// ---- mountinfo ------------------------------------------------------------------------

TEST(HostMountTable, ParsesEveryField)
{
	auto entries = parse_mountinfo("36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 "
	                               "/dev/root rw,errors=continue\n");
	ASSERT_EQ(entries.size(), 1u);
	const MountEntry &e = entries[0];
	EXPECT_EQ(e.mount_id, 36u);
	EXPECT_EQ(e.parent_id, 35u);
	EXPECT_EQ(e.dev_major, 98u);
	EXPECT_EQ(e.dev_minor, 0u);
	EXPECT_EQ(e.root, "/mnt1");
	EXPECT_EQ(e.mount_point, "/mnt/parent");
	EXPECT_EQ(e.mount_options, "rw,noatime");
	EXPECT_EQ(e.fstype, "ext3");
	EXPECT_EQ(e.source, "/dev/root");
	EXPECT_EQ(e.super_options, "rw,errors=continue");
}

TEST(HostMountTable, OptionalFieldsMayBeNoneOrMany)
{
	auto entries = parse_mountinfo(
	    "45 27 7:0 / /mnt/a rw,relatime - ext4 /dev/loop0 rw,dax=inode\n"
	    "46 27 7:1 / /mnt/b rw shared:1 master:2 propagate_from:3 unbindable - xfs /dev/loop1 "
	    "rw\n");
	ASSERT_EQ(entries.size(), 2u);
	EXPECT_EQ(entries[0].fstype, "ext4");
	EXPECT_EQ(entries[0].super_options, "rw,dax=inode");
	EXPECT_EQ(entries[1].fstype, "xfs");
	EXPECT_EQ(entries[1].mount_point, "/mnt/b");
}

TEST(HostMountTable, UndoesTheKernelsOctalEscapes)
{
	auto entries = parse_mountinfo(
	    "50 27 259:1 / /mnt/pmem\\0400\\011tab\\012nl\\134bs rw - ext4 /dev/pmem0p1 rw\n");
	ASSERT_EQ(entries.size(), 1u);
	EXPECT_EQ(entries[0].mount_point, "/mnt/pmem 0\ttab\nnl\\bs");
	EXPECT_EQ(entries[0].dev_major, 259u);
}

TEST(HostMountTable, KeepsWhatIsNotAnEscape)
{
	EXPECT_EQ(unescape_mount_field("a\\"), "a\\");
	EXPECT_EQ(unescape_mount_field("a\\04"), "a\\04");
	EXPECT_EQ(unescape_mount_field("a\\048"), "a\\048");
	EXPECT_EQ(unescape_mount_field("a\\400"), "a\\400"); // past \377: no byte
	EXPECT_EQ(unescape_mount_field("\\101\\102"), "AB");
	EXPECT_EQ(unescape_mount_field(""), "");
}

TEST(HostMountTable, LeavesOutMalformedLines)
{
	const std::string hostile[] = {
	    "",
	    "   ",
	    "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 ext3 /dev/root rw", // no "-"
	    "36 35 98:0 /mnt1 /mnt/parent rw - ext3 /dev/root",                   // one short
	    "36 35 98:0 /mnt1 /mnt/parent rw - ext3 /dev/root rw extra",          // one over
	    "36 35 98:0 /mnt1 - ext3 /dev/root rw",                               // "-" early
	    "x 35 98:0 / /mnt rw - ext3 /dev/root rw",                            // id
	    "36 35 98 / /mnt rw - ext3 /dev/root rw",                             // no minor
	    "36 35 98:0:1 / /mnt rw - ext3 /dev/root rw",                         // two colons
	    "36 35 98:-1 / /mnt rw - ext3 /dev/root rw",                          // negative
	    "99999999999999999999999 35 98:0 / /mnt rw - ext3 /dev/root rw",      // overflow
	    "36 35 4294967296:0 / /mnt rw - ext3 /dev/root rw",                   // major
	    "36 35 98:0 / mnt rw - ext3 /dev/root rw",                            // relative
	    "36 35 98:0 / /mnt rw -  /dev/root rw",                               // no fstype
	    "36  35 98:0 / /mnt rw - ext3 /dev/root rw",                          // two spaces
	    "36 35 98:0 / /m\0t rw - ext3 /dev/root rw"s,                         // a NUL
	    "36 35 98:0 / /m\\000t rw - ext3 /dev/root rw",                       // \000
	};
	for (const auto &line : hostile)
		EXPECT_TRUE(parse_mountinfo(line).empty()) << "'" << line << "'";
	// The good lines around a bad one are still read.
	auto entries = parse_mountinfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
	                               "garbage\n"
	                               "2 1 8:2 / /home rw - xfs /dev/sda2 rw");
	ASSERT_EQ(entries.size(), 2u);
	EXPECT_EQ(entries[1].mount_point, "/home");
}

TEST(HostMountTable, DaxModeOfSuperOptions)
{
	EXPECT_EQ(dax_mode_of_options("rw,dax=inode"), DaxMode::inode);
	EXPECT_EQ(dax_mode_of_options("rw,dax=always"), DaxMode::always);
	EXPECT_EQ(dax_mode_of_options("rw,dax=never"), DaxMode::never);
	EXPECT_EQ(dax_mode_of_options("rw,dax"), DaxMode::always);    // the old spelling
	EXPECT_EQ(dax_mode_of_options("rw,inode64"), DaxMode::inode); // dax.rst's default
	EXPECT_EQ(dax_mode_of_options(""), DaxMode::inode);
	EXPECT_EQ(dax_mode_of_options("rw,nodax,daxx"), DaxMode::inode);
	EXPECT_EQ(dax_mode_of_options("rw,dax=sometimes"), std::nullopt);
}

// ---- sysfs ----------------------------------------------------------------------------

TEST(HostBlockDevice, DaxCapableFromTheQueue)
{
	TempDir sys;
	namespace fs = std::filesystem;
	auto devices = sys / "devices";
	fs::create_directories(devices / "pmem0" / "queue");
	fs::create_directories(devices / "pmem0" / "pmem0p1");
	fs::create_directories(devices / "loop0" / "queue");
	std::ofstream(devices / "pmem0" / "queue" / "dax") << "1\n";
	std::ofstream(devices / "pmem0" / "pmem0p1" / "partition") << "1\n";
	std::ofstream(devices / "loop0" / "queue" / "dax") << "0\n";
	fs::create_directories(sys / "dev" / "block");
	fs::create_directory_symlink("../../devices/pmem0", sys / "dev" / "block" / "259:0");
	fs::create_directory_symlink("../../devices/pmem0/pmem0p1",
	                             sys / "dev" / "block" / "259:1");
	fs::create_directory_symlink("../../devices/loop0", sys / "dev" / "block" / "7:0");
	EXPECT_TRUE(block_device_dax_capable(259, 0, sys.path()));
	EXPECT_TRUE(block_device_dax_capable(259, 1, sys.path())); // a partition: its disk's
	EXPECT_FALSE(block_device_dax_capable(7, 0, sys.path()));
	EXPECT_FALSE(block_device_dax_capable(0, 42, sys.path())); // no block device
}

} // namespace
