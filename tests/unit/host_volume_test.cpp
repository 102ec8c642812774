// The host volume's parsers of what the kernel writes (mountinfo, sysfs, getdents64 records,
// /proc/PID/maps), its paths and its path cache, on hostile input.
#include "common/error.hpp"
#include "fscore/host/block_device.hpp"
#include "fscore/host/dirent_reader.hpp"
#include "fscore/host/mount_table.hpp"
#include "fscore/host/path_cache.hpp"
#include "fscore/host/proc_maps.hpp"
#include "fscore/host/volume_path.hpp"
#include "tests/support/error_code.hpp"
#include "tests/support/temp_dir.hpp"

#include <cstring>
#include <dirent.h>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

using namespace daxpolicy;
using namespace daxpolicy::fscore;
using namespace daxpolicy::fscore::host;
using test::error_code_of;
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

// ---- getdents64 records ---------------------------------------------------------------

// One struct linux_dirent64 record: header, name, NUL, padded to 8 bytes as the kernel does.
void append_dirent(std::vector<std::byte> &buf, uint64_t ino, unsigned char type,
                   const std::string &name, size_t reclen = 0)
{
	size_t natural = (19 + name.size() + 1 + 7) / 8 * 8;
	if (!reclen)
		reclen = natural;
	size_t at = buf.size();
	buf.resize(at + std::max(reclen, natural));
	std::memcpy(&buf[at], &ino, 8);
	uint16_t len = static_cast<uint16_t>(reclen);
	std::memcpy(&buf[at + 16], &len, 2);
	std::memcpy(&buf[at + 18], &type, 1);
	std::memcpy(&buf[at + 19], name.data(), name.size());
	buf.resize(at + reclen);
}

TEST(HostDirents, ParsesRecordsAndLeavesOutDots)
{
	std::vector<std::byte> buf;
	append_dirent(buf, 2, DT_DIR, ".");
	append_dirent(buf, 1, DT_DIR, "..");
	append_dirent(buf, 12, DT_REG, "file");
	append_dirent(buf, 13, DT_LNK, std::string(255, 'n'));
	auto entries = parse_dirents(buf);
	ASSERT_TRUE(entries);
	ASSERT_EQ(entries->size(), 2u);
	EXPECT_EQ((*entries)[0].ino, 12u);
	EXPECT_EQ((*entries)[0].type, DT_REG);
	EXPECT_EQ((*entries)[0].name, "file");
	EXPECT_EQ((*entries)[1].name, std::string(255, 'n'));
	EXPECT_TRUE(parse_dirents({})->empty());
}

TEST(HostDirents, RefusesRecordsThatDoNotFit)
{
	std::vector<std::byte> good;
	append_dirent(good, 12, DT_REG, "file");
	// Each record length that is shorter than a header with a NUL, or longer than what
	// is left, is refused; and so is a buffer cut short anywhere inside a record.
	for (size_t reclen : {0, 1, 18, 19}) {
		auto buf = good;
		uint16_t len = static_cast<uint16_t>(reclen);
		std::memcpy(&buf[16], &len, 2);
		EXPECT_FALSE(parse_dirents(buf)) << "reclen " << reclen;
	}
	{
		auto buf = good;
		uint16_t len = static_cast<uint16_t>(good.size() + 8);
		std::memcpy(&buf[16], &len, 2);
		EXPECT_FALSE(parse_dirents(buf));
	}
	for (size_t cut = 1; cut < good.size(); cut++)
		EXPECT_FALSE(parse_dirents(std::span(good).first(cut))) << "cut at " << cut;
	// No NUL within the record: the name would run into the next one.
	std::vector<std::byte> unterminated;
	append_dirent(unterminated, 12, DT_REG, "abcde");
	std::memset(&unterminated[19], 'x', unterminated.size() - 19);
	EXPECT_FALSE(parse_dirents(unterminated));
	// An empty name.
	std::vector<std::byte> empty;
	append_dirent(empty, 12, DT_REG, "");
	EXPECT_FALSE(parse_dirents(empty));
}

// ---- volume paths ---------------------------------------------------------------------

TEST(HostVolumePath, SplitsAndRefuses)
{
	using V = std::vector<std::string>;
	EXPECT_EQ(volume_path_names("/"), V{});
	EXPECT_EQ(volume_path_names("//db///wal/"), (V{"db", "wal"}));
	EXPECT_EQ(volume_path_names("/" + std::string(255, 'a')), V{std::string(255, 'a')});
	for (const std::string &bad :
	     std::vector<std::string>{"", "db/x", "/db/../x", "/..", "/./x", "/db/.",
	                              "/" + std::string(256, 'a'), "/a\nb"s, "/a\0b"s})
		EXPECT_EQ(error_code_of([&] { volume_path_names(bad); }), Errc::invalid_argument)
		    << bad;
	EXPECT_EQ(volume_path_of_names({}), "/");
	EXPECT_EQ(volume_path_of_names({"db", "x"}), "/db/x");
	EXPECT_EQ(relative_of_names({}), ".");
	EXPECT_EQ(relative_of_names({"db", "x"}), "db/x");
}

TEST(HostVolumePath, HostPathsUnderTheMountPoint)
{
	EXPECT_EQ(volume_path_under("/mnt/pmem0/db/x", "/mnt/pmem0"), "/db/x");
	EXPECT_EQ(volume_path_under("/mnt/pmem0", "/mnt/pmem0"), "/");
	EXPECT_EQ(volume_path_under("/mnt/pmem0/", "/mnt/pmem0"), "/");
	EXPECT_EQ(volume_path_under("/mnt/pmem0/db", "/mnt/pmem0/"), "/db");
	EXPECT_EQ(volume_path_under("/mnt/pmem01/db", "/mnt/pmem0"), std::nullopt);
	EXPECT_EQ(volume_path_under("/mnt", "/mnt/pmem0"), std::nullopt);
	EXPECT_EQ(volume_path_under("db/x", "/mnt/pmem0"), std::nullopt);
	EXPECT_EQ(volume_path_under("/db/x", "/"), "/db/x");
	EXPECT_EQ(volume_path_under("/db/x", ""), std::nullopt);
	// By spelling only: what comes out is checked like any volume path.
	auto dots = volume_path_under("/mnt/pmem0/../etc", "/mnt/pmem0");
	ASSERT_TRUE(dots);
	EXPECT_EQ(error_code_of([&] { volume_path_names(*dots); }), Errc::invalid_argument);
}

// ---- /proc/PID/maps -------------------------------------------------------------------

TEST(HostProcMaps, CountsMappingsOfOneInode)
{
	std::istringstream maps(
	    "55d0c0a00000-55d0c0a01000 r--p 00000000 fd:01 1234 /usr/bin/x\n"
	    "7f0000000000-7f0000001000 rw-s 00000000 07:00 12 /mnt/a file (deleted)\n"
	    "7f0000001000-7f0000002000 r--s 00001000 07:00 12 /mnt/renamed\n"
	    "7f0000002000-7f0000003000 rw-p 00000000 00:00 0 \n"
	    "7f0000003000-7f0000004000 rw-s 00000000 07:01 12 /mnt/other-fs\n"
	    "7f0000004000-7f0000005000 rw-s 00000000 103:0a 12 /mnt/wide-major\n"
	    "garbage\n"
	    "7f0000005000-7f0000006000 rw-s 00000000 07:00\n"
	    "7f0000006000-7f0000007000 rw-s 00000000 07:zz 12\n"
	    "7f0000007000-7f0000008000 rw-s 00000000 07:00 12");
	EXPECT_EQ(count_mappings_in(maps, {7, 0, 12}), 3u);
	std::istringstream again("7f0000004000-7f0000005000 rw-s 00000000 103:0a 12 /x\n");
	EXPECT_EQ(count_mappings_in(again, {0x103, 0xa, 12}), 1u);
	std::istringstream anonymous("7f0000002000-7f0000003000 rw-p 00000000 00:00 0\n");
	EXPECT_EQ(count_mappings_in(anonymous, {0, 0, 0}), 0u);
}

TEST(HostProcMaps, ReadsEveryProcess)
{
	TempDir dir;
	std::filesystem::create_directories(dir / "1");
	std::filesystem::create_directories(dir / "22");
	std::filesystem::create_directories(dir / "self");
	std::ofstream(dir / "1" / "maps")
	    << "7f00-7f01 r--s 0 07:00 12 /a\n7f01-7f02 r--s 0 07:00 12 /a\n";
	std::ofstream(dir / "22" / "maps") << "7f00-7f01 r--s 0 07:00 12 /a\n";
	std::ofstream(dir / "self" / "maps") << "7f00-7f01 r--s 0 07:00 12 /a\n"; // not a pid
	EXPECT_EQ(count_mappings({7, 0, 12}, dir.path()), 3u);
	EXPECT_EQ(count_mappings({7, 0, 13}, dir.path()), 0u);
}

// ---- the path cache -------------------------------------------------------------------

TEST(HostPathCache, RemembersTheLatestPathAndForgetsTheOldest)
{
	PathCache cache(2);
	cache.learn(1, 1, "/a");
	cache.learn(2, 1, "/b");
	cache.learn(1, 1, "/a2"); // renamed, and now the most recently used
	EXPECT_EQ(cache.find(1, 1), "/a2");
	EXPECT_EQ(cache.find(1, 2), std::nullopt); // another generation is another file
	cache.learn(3, 1, "/c");                   // over capacity: /b goes
	EXPECT_EQ(cache.size(), 2u);
	EXPECT_EQ(cache.find(2, 1), std::nullopt);
	EXPECT_EQ(cache.find(3, 1), "/c");
	cache.forget(3, 1);
	EXPECT_EQ(cache.find(3, 1), std::nullopt);
	EXPECT_EQ(cache.size(), 1u);
}

} // namespace
