// SPDX-License-Identifier: BSD-3-Clause
// The host volume: its parsers on hostile text, and the volume itself on real ext4 and xfs
// images, loop-mounted -o dax=inode, checked against what lsattr and xfs_io say.
#include "common/error.hpp"
#include "fscore/host/block_device.hpp"
#include "fscore/host/dirent_reader.hpp"
#include "fscore/host/fanotify_records.hpp"
#include "fscore/host/file_handle.hpp"
#include "fscore/host/host_volume.hpp"
#include "fscore/host/mount_table.hpp"
#include "fscore/host/path_cache.hpp"
#include "fscore/host/proc_locks.hpp"
#include "fscore/host/proc_maps.hpp"
#include "fscore/host/volume_path.hpp"
#include "fscore/lease_info.hpp"
#include "tests/support/error_code.hpp"
#include "tests/support/event_log.hpp"
#include "tests/support/loop_mount.hpp"
#include "tests/support/temp_dir.hpp"

#include <array>
#include <atomic>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <future>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/fanotify.h>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace daxpolicy;
using namespace daxpolicy::fscore;
using namespace daxpolicy::fscore::host;
using test::BindMount;
using test::error_code_of;
using test::LoopFs;
using test::Ran;
using test::run_tool;
using test::TempDir;
using test::TmpfsMount;
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

// ---- fanotify records and file handles ------------------------------------------------

// One event as the kernel lays it out: fanotify_event_metadata, then info records, each
// padded to 4 bytes.
class EventBytes
{
      public:
	// A fanotify_event_info_fid record; a name (for the *_DFID_NAME types) is followed by
	// its NUL.
	EventBytes &fid(uint8_t type, int32_t handle_type, std::vector<unsigned char> handle,
	                const std::optional<std::string> &name = std::nullopt,
	                std::array<int32_t, 2> fsid = {0x11, 0x22})
	{
		std::vector<std::byte> rec(20);
		std::memcpy(&rec[4], fsid.data(), 8);
		uint32_t bytes = static_cast<uint32_t>(handle.size());
		std::memcpy(&rec[12], &bytes, 4);
		std::memcpy(&rec[16], &handle_type, 4);
		for (unsigned char c : handle)
			rec.push_back(std::byte(c));
		if (name) {
			for (char c : *name)
				rec.push_back(std::byte(c));
			rec.push_back(std::byte(0));
		}
		rec.resize((rec.size() + 3) / 4 * 4);
		return raw(type, rec);
	}
	// Any record: `rec` from its first byte (its header is filled in here).
	EventBytes &raw(uint8_t type, std::vector<std::byte> rec, std::optional<uint16_t> len = {})
	{
		rec[0] = std::byte(type);
		uint16_t l = len ? *len : static_cast<uint16_t>(rec.size());
		std::memcpy(&rec[2], &l, 2);
		records_.insert(records_.end(), rec.begin(), rec.end());
		return *this;
	}
	std::vector<std::byte> event(uint64_t mask, int32_t pid = 42) const
	{
		// Sized once and copied into: GCC 12 at -O2 takes a vector grown by insert() for
		// a write out of bounds (a false -Warray-bounds).
		std::array<std::byte, 24> head{};
		uint32_t len = static_cast<uint32_t>(24 + records_.size());
		std::memcpy(&head[0], &len, 4);
		head[4] = std::byte(FANOTIFY_METADATA_VERSION);
		uint16_t metadata_len = 24;
		std::memcpy(&head[6], &metadata_len, 2);
		std::memcpy(&head[8], &mask, 8);
		int32_t fd = FAN_NOFD;
		std::memcpy(&head[16], &fd, 4);
		std::memcpy(&head[20], &pid, 4);
		std::vector<std::byte> out(head.size() + records_.size());
		std::memcpy(out.data(), head.data(), head.size());
		if (!records_.empty())
			std::memcpy(out.data() + head.size(), records_.data(), records_.size());
		return out;
	}

      private:
	std::vector<std::byte> records_;
};

std::vector<std::byte> concat(std::initializer_list<std::vector<std::byte>> parts)
{
	std::vector<std::byte> out;
	for (const auto &p : parts)
		out.insert(out.end(), p.begin(), p.end());
	return out;
}

// ext4's handles: FILEID_INO32_GEN, u32 ino and u32 generation.
std::vector<unsigned char> ino32_handle(uint32_t ino, uint32_t gen)
{
	std::vector<unsigned char> h(8);
	std::memcpy(&h[0], &ino, 4);
	std::memcpy(&h[4], &gen, 4);
	return h;
}

// A create, as ext4 reports it: directory 2 (the root) and the name, then the new file.
std::vector<std::byte> create_event()
{
	return EventBytes()
	    .fid(FAN_EVENT_INFO_TYPE_DFID_NAME, 1, ino32_handle(2, 0), "new")
	    .fid(FAN_EVENT_INFO_TYPE_FID, 1, ino32_handle(12, 0xdeadbeef))
	    .event(FAN_CREATE);
}

TEST(HostFanotifyRecords, ParsesWhatTheKernelSends)
{
	auto rename = EventBytes()
	                  .fid(FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, 1, ino32_handle(2, 0), "a")
	                  .fid(FAN_EVENT_INFO_TYPE_NEW_DFID_NAME, 1, ino32_handle(7, 5), "b")
	                  .fid(FAN_EVENT_INFO_TYPE_FID, 1, ino32_handle(12, 9))
	                  .event(FAN_RENAME | FAN_ONDIR, 7);
	auto dir_close = EventBytes()
	                     .fid(FAN_EVENT_INFO_TYPE_DFID_NAME, 1, ino32_handle(7, 5), ".")
	                     .event(FAN_CLOSE_NOWRITE | FAN_ONDIR);
	auto overflow = EventBytes().event(FAN_Q_OVERFLOW, 0);
	// A record of a type this version does not know is stepped over.
	auto unknown = EventBytes()
	                   .raw(99, std::vector<std::byte>(12))
	                   .fid(FAN_EVENT_INFO_TYPE_DFID, 1, ino32_handle(7, 5))
	                   .event(FAN_CLOSE_WRITE);
	auto parsed =
	    parse_fanotify_events(concat({create_event(), rename, dir_close, overflow, unknown}));
	EXPECT_EQ(parsed.garbled, 0u);
	EXPECT_FALSE(parsed.cut);
	ASSERT_EQ(parsed.events.size(), 5u);

	const FanotifyEvent &create = parsed.events[0];
	EXPECT_EQ(create.mask, FAN_CREATE);
	EXPECT_EQ(create.pid, 42);
	ASSERT_TRUE(create.dir);
	EXPECT_EQ(create.dir->name, "new");
	EXPECT_EQ(create.dir->fsid, (std::array<int32_t, 2>{0x11, 0x22}));
	EXPECT_EQ(create.dir->handle, (FileHandle{1, ino32_handle(2, 0)}));
	ASSERT_TRUE(create.object);
	EXPECT_EQ(create.object->name, "");
	EXPECT_EQ(identity_of_handle(create.object->handle), (InodeIdentity{12, 0xdeadbeef}));
	EXPECT_FALSE(create.old_dir || create.new_dir);

	const FanotifyEvent &moved = parsed.events[1];
	EXPECT_EQ(moved.pid, 7);
	ASSERT_TRUE(moved.old_dir && moved.new_dir && moved.object);
	EXPECT_FALSE(moved.dir);
	EXPECT_EQ(moved.old_dir->name, "a");
	EXPECT_EQ(moved.new_dir->name, "b");
	EXPECT_EQ(identity_of_handle(moved.new_dir->handle), (InodeIdentity{7, 5}));

	EXPECT_EQ(parsed.events[2].dir->name, ".");
	EXPECT_FALSE(parsed.events[2].object);
	EXPECT_EQ(parsed.events[3].mask, FAN_Q_OVERFLOW);
	EXPECT_FALSE(parsed.events[3].dir || parsed.events[3].object);
	ASSERT_TRUE(parsed.events[4].dir);
	EXPECT_EQ(parsed.events[4].dir->name, "") << "a DFID record has no name";

	EXPECT_TRUE(parse_fanotify_events({}).events.empty());
	EXPECT_FALSE(parse_fanotify_events({}).cut);
}

TEST(HostFanotifyRecords, ABufferCutAnywhereLosesOnlyWhatWasCut)
{
	auto first = create_event();
	auto buf = concat({first, create_event()});
	for (size_t cut = 0; cut < buf.size(); cut++) {
		auto parsed = parse_fanotify_events(std::span(buf).first(cut));
		size_t whole = cut >= first.size() ? 1 : 0;
		EXPECT_EQ(parsed.events.size(), whole) << "cut at " << cut;
		EXPECT_EQ(parsed.cut, cut != 0 && cut != first.size()) << "cut at " << cut;
		EXPECT_EQ(parsed.garbled, 0u);
	}
	EXPECT_EQ(parse_fanotify_events(buf).events.size(), 2u);
}

TEST(HostFanotifyRecords, ImpossibleEventHeadersStopTheBuffer)
{
	auto good = create_event();
	auto with = [&](size_t at, auto value) {
		auto buf = concat({good, good});
		std::memcpy(&buf[at], &value, sizeof value);
		return parse_fanotify_events(buf);
	};
	for (uint32_t len : {0u, 1u, 23u, static_cast<uint32_t>(2 * good.size() + 1), ~0u}) {
		auto parsed = with(0, len);
		EXPECT_TRUE(parsed.cut) << "event_len " << len;
		EXPECT_TRUE(parsed.events.empty()) << "event_len " << len;
	}
	auto parsed = with(4, uint8_t{FANOTIFY_METADATA_VERSION + 1});
	EXPECT_TRUE(parsed.cut);
	EXPECT_TRUE(parsed.events.empty());
	// In the second event: the first is kept.
	parsed = with(good.size(), uint32_t{7});
	EXPECT_TRUE(parsed.cut);
	EXPECT_EQ(parsed.events.size(), 1u);
}

TEST(HostFanotifyRecords, RecordsThatDoNotFitLoseTheirEventOnly)
{
	auto good = create_event();
	// The bad event between two good ones: event_len still says where the next starts.
	auto check = [&](const std::vector<std::byte> &bad, const std::string &what) {
		auto parsed = parse_fanotify_events(concat({good, bad, good}));
		EXPECT_EQ(parsed.events.size(), 2u) << what;
		EXPECT_EQ(parsed.garbled, 1u) << what;
		EXPECT_FALSE(parsed.cut) << what;
	};
	auto patched = [&](size_t at, auto value) {
		auto buf = good;
		std::memcpy(&buf[at], &value, sizeof value);
		return buf;
	};
	// metadata_len: shorter than the header, longer than the event.
	check(patched(6, uint16_t{8}), "metadata_len 8");
	check(patched(6, static_cast<uint16_t>(good.size() + 4)), "metadata_len past the event");
	// The first record's len (at 24 + 2): under a header, into the next record's, past
	// the event.
	check(patched(26, uint16_t{0}), "record len 0");
	check(patched(26, uint16_t{3}), "record len 3");
	check(patched(26, uint16_t{16}), "record len under a fid record");
	check(patched(26, static_cast<uint16_t>(good.size())), "record len past the event");
	// handle_bytes (at 24 + 12): past the record, past MAX_HANDLE_SZ.
	check(patched(36, uint32_t{13}), "handle_bytes past the record");
	check(patched(36, uint32_t{129}), "handle_bytes 129");
	check(patched(36, ~uint32_t{0}), "handle_bytes ~0");
	// A record cut short by the event's end: the last 4 bytes of the event left out.
	{
		auto buf = good;
		buf.resize(buf.size() - 4);
		uint32_t len = static_cast<uint32_t>(buf.size());
		std::memcpy(&buf[0], &len, 4);
		check(buf, "a record past event_len");
	}
	// Names: none (no NUL), empty, "..", or holding a slash.
	check(EventBytes()
	          .raw(FAN_EVENT_INFO_TYPE_DFID_NAME,
	               [] {
		               std::vector<std::byte> rec(32, std::byte('x'));
		               uint32_t bytes = 8;
		               std::memcpy(&rec[12], &bytes, 4);
		               return rec;
	               }())
	          .event(FAN_CREATE),
	      "a name without its NUL");
	for (std::string name : {"", "..", "a/b", "/"})
		check(EventBytes()
		          .fid(FAN_EVENT_INFO_TYPE_DFID_NAME, 1, ino32_handle(2, 0), name)
		          .event(FAN_CREATE),
		      "name '" + name + "'");
	// One record type twice.
	check(EventBytes()
	          .fid(FAN_EVENT_INFO_TYPE_FID, 1, ino32_handle(2, 0))
	          .fid(FAN_EVENT_INFO_TYPE_FID, 1, ino32_handle(3, 0))
	          .event(FAN_CLOSE_WRITE),
	      "two FID records");
	check(EventBytes()
	          .fid(FAN_EVENT_INFO_TYPE_DFID, 1, ino32_handle(2, 0))
	          .fid(FAN_EVENT_INFO_TYPE_DFID_NAME, 1, ino32_handle(2, 0), "x")
	          .event(FAN_CLOSE_WRITE),
	      "two directory records");
	// A record header with nothing after it, and three bytes, less than a header.
	check(EventBytes()
	          .fid(FAN_EVENT_INFO_TYPE_FID, 1, ino32_handle(2, 0))
	          .raw(FAN_EVENT_INFO_TYPE_DFID, std::vector<std::byte>(4))
	          .event(FAN_CLOSE_WRITE),
	      "a bare record header");
	{
		auto buf = good;
		buf.resize(buf.size() + 3);
		uint32_t len = static_cast<uint32_t>(buf.size());
		std::memcpy(&buf[0], &len, 4);
		check(buf, "three bytes after the last record");
	}
}

TEST(HostFanotifyRecords, GarbageNeverReadsPastTheBuffer)
{
	// Random bytes, and valid buffers with random bytes overwritten: whatever comes out,
	// every handle and name it holds lies within what was given (a read past the buffer
	// would show under the sanitizers, which the CI build runs).
	std::mt19937 rng(20251118);
	auto good = concat({create_event(), create_event()});
	for (int round = 0; round < 20000; round++) {
		std::vector<std::byte> buf;
		if (round % 2) {
			buf.resize(rng() % 200);
			for (auto &b : buf)
				b = std::byte(rng());
		} else {
			buf = good;
			for (int i = 0, n = 1 + rng() % 4; i < n; i++)
				buf[rng() % buf.size()] = std::byte(rng());
		}
		auto parsed = parse_fanotify_events(buf);
		size_t bytes = 0;
		for (const auto &e : parsed.events)
			for (const auto *r : {&e.object, &e.dir, &e.old_dir, &e.new_dir})
				if (*r) {
					EXPECT_LE((*r)->handle.bytes.size(), kMaxHandleBytes);
					bytes += (*r)->handle.bytes.size() + (*r)->name.size();
				}
		EXPECT_LE(bytes, buf.size());
		EXPECT_LE(parsed.events.size() * 24, buf.size());
	}
}

TEST(HostFileHandle, ReadsOnlyTheTypesWhoseLayoutIsKnown)
{
	EXPECT_EQ(identity_of_handle({1, ino32_handle(12, 34)}), (InodeIdentity{12, 34}));
	EXPECT_EQ(identity_of_handle({2,
	                              [] {
		                              auto h = ino32_handle(12, 34);
		                              auto parent = ino32_handle(2, 0);
		                              h.insert(h.end(), parent.begin(), parent.end());
		                              return h;
	                              }()}),
	          (InodeIdentity{12, 34}));
	// xfs: struct xfs_fid64, a 64-bit inode number and then the generation, packed.
	std::vector<unsigned char> xfs(12);
	uint64_t ino = 0x100000083;
	uint32_t gen = 0x44f70ac0;
	std::memcpy(&xfs[0], &ino, 8);
	std::memcpy(&xfs[8], &gen, 4);
	EXPECT_EQ(identity_of_handle({0x81, xfs}), (InodeIdentity{0x100000083, 0x44f70ac0}));
	xfs.resize(24);
	EXPECT_EQ(identity_of_handle({0x82, xfs}), (InodeIdentity{0x100000083, 0x44f70ac0}));
	// Too short for their type, or a type of another filesystem (btrfs's 0x4d), or none.
	EXPECT_EQ(identity_of_handle({1, std::vector<unsigned char>(7)}), std::nullopt);
	EXPECT_EQ(identity_of_handle({0x81, std::vector<unsigned char>(11)}), std::nullopt);
	EXPECT_EQ(identity_of_handle({0x4d, std::vector<unsigned char>(40)}), std::nullopt);
	EXPECT_EQ(identity_of_handle({0, {}}), std::nullopt);
	EXPECT_EQ(identity_of_handle({-1, ino32_handle(1, 1)}), std::nullopt);
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

TEST(HostPathCache, MovesWhatIsBelowARenamedDirectory)
{
	PathCache cache(8);
	cache.learn(1, 1, "/a");
	cache.learn(2, 1, "/a/x");
	cache.learn(3, 1, "/a/b/y");
	cache.learn(4, 1, "/ab");    // a name that starts the same is not below /a
	cache.learn(5, 1, "/c/a/z"); // nor is an /a further down
	cache.rename_below("/a", "/q/r");
	EXPECT_EQ(cache.find(1, 1), "/a") << "the directory itself is the caller's to learn";
	EXPECT_EQ(cache.find(2, 1), "/q/r/x");
	EXPECT_EQ(cache.find(3, 1), "/q/r/b/y");
	EXPECT_EQ(cache.find(4, 1), "/ab");
	EXPECT_EQ(cache.find(5, 1), "/c/a/z");
	cache.rename_below("/", "/x"); // the root moves nowhere
	EXPECT_EQ(cache.find(4, 1), "/ab");
	// A create heard after a stat does not undo what the stat saw.
	cache.learn_if_unknown(2, 1, "/a/x");
	EXPECT_EQ(cache.find(2, 1), "/q/r/x");
	cache.learn_if_unknown(6, 1, "/new");
	EXPECT_EQ(cache.find(6, 1), "/new");
}

// ---- the kernel -----------------------------------------------------------------------

void write_file(const std::string &path, size_t bytes = 0)
{
	std::ofstream out(path, std::ios::binary);
	out << std::string(bytes, 'a');
}

// A child process that holds a file: open, or mapped (MAP_SHARED, its descriptor then
// closed, as a program that maps and closes does). It holds it until release(), or until
// it goes out of scope.
class Holder
{
      public:
	enum class How { open, mapped, leased };
	Holder(const std::string &path, How how)
	{
		int ready[2], go[2];
		if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0)
			throw std::runtime_error("pipe");
		pid_ = fork();
		if (pid_ == 0) {
			// Only async-signal-safe calls from here on.
			close(ready[0]);
			close(go[1]);
			int fd = ::open(path.c_str(), O_RDONLY);
			if (fd < 0)
				_exit(2);
			// A leaseholder is sent SIGIO when its lease is broken; the default
			// action would end the holder before the test is done with it.
			if (how == How::leased && (signal(SIGIO, SIG_IGN) == SIG_ERR ||
			                           fcntl(fd, F_SETLEASE, F_WRLCK) != 0))
				_exit(5);
			if (how == How::mapped) {
				if (mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED)
					_exit(3);
				close(fd);
			}
			char c = 'r';
			if (write(ready[1], &c, 1) != 1)
				_exit(4);
			while (read(go[0], &c, 1) < 0 && errno == EINTR) {
			}
			_exit(0);
		}
		close(ready[1]);
		close(go[0]);
		release_fd_ = go[1];
		char c;
		bool up = read(ready[0], &c, 1) == 1;
		close(ready[0]);
		if (!up) {
			release();
			throw std::runtime_error("the holder of " + path + " did not start");
		}
	}
	~Holder() { release(); }
	Holder(const Holder &) = delete;
	Holder &operator=(const Holder &) = delete;

	// The child exits (EOF on its pipe) and is reaped.
	void release()
	{
		if (release_fd_ >= 0) {
			close(release_fd_);
			release_fd_ = -1;
		}
		if (pid_ > 0) {
			while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
			}
			pid_ = -1;
		}
	}

      private:
	pid_t pid_ = -1;
	int release_fd_ = -1;
};

// A child process that does to one file, step by step, what the test tells it: open it, map
// it (MAP_SHARED), close its descriptor, unmap it; or open and close a marker file, whose
// released event, once heard, shows that everything the child did before has been read (the
// kernel queues a group's events in order). It exits when it goes.
class Puppet
{
      public:
	enum Step : char { open = 'o', map = 'm', close = 'c', unmap = 'u', marker = 't' };

	Puppet(const std::string &file, const std::string &marker)
	{
		int to[2], from[2];
		if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0)
			throw std::runtime_error("pipe");
		pid_ = fork();
		if (pid_ == 0) {
			// Only async-signal-safe calls from here on.
			::close(to[1]);
			::close(from[0]);
			int fd = -1;
			void *mapped = MAP_FAILED;
			char c;
			while (read(to[0], &c, 1) == 1) {
				bool ok = true;
				switch (c) {
				case 'o':
					ok = (fd = ::open(file.c_str(), O_RDONLY)) >= 0;
					break;
				case 'm':
					mapped = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
					ok = mapped != MAP_FAILED;
					break;
				case 'c':
					ok = ::close(fd) == 0;
					break;
				case 'u':
					ok = munmap(mapped, 4096) == 0;
					break;
				case 't': {
					int m = ::open(marker.c_str(), O_RDONLY);
					ok = m >= 0 && ::close(m) == 0;
					break;
				}
				}
				char answer = ok ? 'y' : 'n';
				if (write(from[1], &answer, 1) != 1)
					_exit(2);
			}
			_exit(0);
		}
		::close(to[0]);
		::close(from[1]);
		to_ = to[1];
		from_ = from[0];
	}
	~Puppet()
	{
		::close(to_); // EOF: it exits
		::close(from_);
		while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
		}
	}
	Puppet(const Puppet &) = delete;
	Puppet &operator=(const Puppet &) = delete;

	// Whether it did it.
	bool step(Step what)
	{
		char c = what, answer = 0;
		return write(to_, &c, 1) == 1 && read(from_, &answer, 1) == 1 && answer == 'y';
	}

      private:
	pid_t pid_ = -1;
	int to_ = -1;
	int from_ = -1;
};

std::string fstype_name(const testing::TestParamInfo<std::string> &info)
{
	return info.param;
}

class HostVolumeTest : public testing::TestWithParam<std::string>
{
      protected:
	void SetUp() override
	{
		fstype_ = GetParam();
		if (fstype_ == "ext4")
			SKIP_UNLESS_MOUNTABLE("losetup", "mkfs.ext4", "lsattr");
		else
			SKIP_UNLESS_MOUNTABLE("losetup", "mkfs.xfs", "xfs_io");
		fs_ = LoopFs::standard(dir_.path(), fstype_);
		vol_ = open_volume(false);
	}

	using Events = HostVolume::Options::Events;
	std::unique_ptr<HostVolume> open_volume(bool force_ioctl,
	                                        Events events = Events::fanotify_or_inotify)
	{
		HostVolume::Options options;
		options.name = "pmem0";
		options.path = fs_->mount_point();
		options.force_ioctl_fallback = force_ioctl;
		options.events = events;
		return HostVolume::open(options);
	}

	std::string host(const std::string &volume_path) const { return fs_->host(volume_path); }

	// FS_XFLAG_DAX as the filesystem's own tools show it: e2fsprogs' lsattr ('x') on
	// ext4, xfs_io's stat (fsxattr.xflags, read-only open) on xfs.
	bool tool_says_dax(const std::string &volume_path)
	{
		if (fstype_ == "ext4") {
			Ran ran = run_tool({"lsattr", "-d", host(volume_path)});
			EXPECT_EQ(ran.status, 0) << ran.output;
			return ran.output.substr(0, ran.output.find(' ')).find('x') !=
			       std::string::npos;
		}
		Ran ran = run_tool({"xfs_io", "-r", "-c", "stat", host(volume_path)});
		EXPECT_EQ(ran.status, 0) << ran.output;
		auto at = ran.output.find("fsxattr.xflags = ");
		EXPECT_NE(at, std::string::npos) << ran.output;
		return std::stoul(ran.output.substr(at + 17), nullptr, 16) & 0x8000;
	}

	TempDir dir_;
	std::string fstype_;
	std::unique_ptr<LoopFs> fs_; // after dir_: unmounted before the folder goes
	std::unique_ptr<HostVolume> vol_;
};

INSTANTIATE_TEST_SUITE_P(Fs, HostVolumeTest, testing::Values("ext4", "xfs"), fstype_name);

TEST_P(HostVolumeTest, DescribesTheMount)
{
	VolumeInfo info = vol_->info();
	EXPECT_EQ(info.name, "pmem0");
	EXPECT_EQ(info.kind, "host");
	EXPECT_EQ(info.path, fs_->mount_point().string());
	EXPECT_EQ(info.dax_mode, DaxMode::inode);
	EXPECT_FALSE(info.dax_capable) << "a loop device cannot do DAX";
	EXPECT_EQ(info.granularity, "page");
	EXPECT_FALSE(info.can.reports_mappings);
	EXPECT_TRUE(info.can.use_events) << vol_->events_unavailable();
	EXPECT_EQ(vol_->events_unavailable(), "");
	EXPECT_FALSE(info.can.layout_leases);
	EXPECT_FALSE(info.can.io_sessions);
	EXPECT_GE(info.files, 1u); // the root at least
	ASSERT_TRUE(info.usage);
	const VolumeUsage &usage = *info.usage;
	EXPECT_EQ(info.fstype, fstype_);
	EXPECT_EQ(vol_->mount().fstype, fstype_);
	EXPECT_GE(usage.size_bytes, 32u << 20);
	EXPECT_GT(usage.used_bytes, 0u);
	EXPECT_LT(usage.used_bytes, usage.size_bytes);
	EXPECT_GT(usage.inodes, usage.inodes_used);
	EXPECT_EQ(vol_->mount().mount_point, fs_->mount_point().string());
	// The device of the mount is the loop device's.
	struct stat st;
	ASSERT_EQ(::stat(fs_->mount_point().c_str(), &st), 0);
	EXPECT_EQ(vol_->mount().dev_major, major(st.st_dev));
	EXPECT_EQ(vol_->mount().dev_minor, minor(st.st_dev));
	EXPECT_EQ(error_code_of([&] { vol_->leases(std::nullopt); }), Errc::unsupported);
}

TEST_P(HostVolumeTest, ReadsTheDaxModeOfTheMount)
{
	// Without an option both default to inode (dax.rst); xfs then shows none at all in
	// its super options. (dax=always on a loop device: ext4 refuses to mount, xfs mounts
	// and turns itself to never.)
	std::vector<std::string> mkfs = fstype_ == "ext4"
	                                    ? std::vector<std::string>{"mkfs.ext4", "-q", "-F"}
	                                    : std::vector<std::string>{"mkfs.xfs", "-q", "-f"};
	for (auto [options, mode] :
	     {std::pair{"", DaxMode::inode}, {"dax=never", DaxMode::never}}) {
		LoopFs fs(dir_.path(), std::string("mode-") + (*options ? options : "default"),
		          fstype_ == "ext4" ? 64 : 300, mkfs, options);
		auto vol = HostVolume::open({.name = "m", .path = fs.mount_point()});
		EXPECT_EQ(vol->info().dax_mode, mode) << vol->mount().super_options;
	}
}

TEST_P(HostVolumeTest, StatsFilesAndDirectories)
{
	std::filesystem::create_directory(host("/db"));
	write_file(host("/db/x"), 5000);
	FileInfo f = vol_->stat("/db/x");
	struct stat st;
	ASSERT_EQ(::stat(host("/db/x").c_str(), &st), 0);
	EXPECT_EQ(f.path, "/db/x");
	EXPECT_EQ(f.ino, st.st_ino);
	EXPECT_NE(f.generation, 0u) << "ext4 and xfs number generations at random";
	EXPECT_EQ(f.type, FileType::regular);
	EXPECT_EQ(f.size, 5000u);
	EXPECT_FALSE(f.dax_flag);
	EXPECT_FALSE(f.dax_effective);
	EXPECT_EQ(f.mapped, 0u);
	EXPECT_FALSE(f.in_use);
	EXPECT_EQ(f.unsupported, "");
	EXPECT_EQ(vol_->stat("//db//x/").path, "/db/x");
	EXPECT_EQ(vol_->stat("/db").type, FileType::directory);
	EXPECT_EQ(vol_->stat("/").type, FileType::directory);
	EXPECT_EQ(error_code_of([&] { vol_->stat("/db/missing"); }), Errc::not_found);
	EXPECT_EQ(error_code_of([&] { vol_->stat("/db/x/below-a-file"); }), Errc::not_found);
	EXPECT_EQ(error_code_of([&] { vol_->stat("db/x"); }), Errc::invalid_argument);
	EXPECT_EQ(error_code_of([&] { vol_->stat("/db/../db/x"); }), Errc::invalid_argument);
	try {
		vol_->stat("/db/missing");
	} catch (const Error &e) {
		EXPECT_NE(std::string(e.what()).find("volume 'pmem0': /db/missing"),
		          std::string::npos)
		    << e.what();
	}
}

TEST_P(HostVolumeTest, SetsAndClearsTheFlagOfFilesAndDirectories)
{
	// Through file_setattr (the kernel's, 6.17+), then through the ioctls it falls back to.
	for (bool force_ioctl : {false, true}) {
		SCOPED_TRACE(force_ioctl ? "FS_IOC_FSSETXATTR" : "file_setattr");
		auto vol = open_volume(force_ioctl);
		std::string dir = force_ioctl ? "/by-ioctl" : "/by-file-setattr";
		std::filesystem::create_directory(host(dir));
		write_file(host(dir + "/f"), 10);
		for (const auto &path : {dir + "/f", dir}) {
			vol->set_dax_flag(path, true);
			EXPECT_TRUE(vol->stat(path).dax_flag) << path;
			EXPECT_TRUE(tool_says_dax(path)) << path;
			vol->set_dax_flag(path, true); // already so
			EXPECT_TRUE(tool_says_dax(path)) << path;
			vol->set_dax_flag(path, false);
			EXPECT_FALSE(vol->stat(path).dax_flag) << path;
			EXPECT_FALSE(tool_says_dax(path)) << path;
		}
	}
}

TEST_P(HostVolumeTest, KeepsTheOtherAttributes)
{
	// Only FS_XFLAG_DAX changes: flags set by others (here noatime, 'A') stay.
	write_file(host("/f"), 10);
	ASSERT_EQ(run_tool({"chattr", "+A", host("/f")}).status, 0);
	for (bool force_ioctl : {false, true}) {
		auto vol = open_volume(force_ioctl);
		vol->set_dax_flag("/f", true);
		vol->set_dax_flag("/f", false);
		Ran ran = run_tool({"lsattr", host("/f")});
		EXPECT_NE(ran.output.substr(0, ran.output.find(' ')).find('A'), std::string::npos)
		    << ran.output;
	}
}

TEST_P(HostVolumeTest, NewFilesInheritTheFlagOfTheirDirectory)
{
	std::filesystem::create_directory(host("/wal"));
	vol_->set_dax_flag("/wal", true);
	write_file(host("/wal/000001.log"));
	std::filesystem::create_directory(host("/wal/sub"));
	EXPECT_TRUE(vol_->stat("/wal/000001.log").dax_flag);
	EXPECT_TRUE(vol_->stat("/wal/sub").dax_flag);
	EXPECT_TRUE(tool_says_dax("/wal/000001.log"));
	// Only at create: clearing the directory's flag leaves its children alone.
	vol_->set_dax_flag("/wal", false);
	EXPECT_TRUE(vol_->stat("/wal/000001.log").dax_flag);
	write_file(host("/wal/000002.log"));
	EXPECT_FALSE(vol_->stat("/wal/000002.log").dax_flag);
}

TEST_P(HostVolumeTest, ReportsASymlinkAsItselfAndNeverFollowsIt)
{
	write_file(host("/target"), 10);
	std::filesystem::create_directory(host("/dir"));
	write_file(host("/dir/inside"), 10);
	// Absolute links, and one that climbs out: each would leave the volume if followed.
	std::filesystem::create_symlink(host("/target"), host("/link"));
	std::filesystem::create_symlink(host("/dir"), host("/linkdir"));
	std::filesystem::create_symlink("../../../../../../etc/passwd", host("/dir/escape"));
	for (const char *path : {"/link", "/dir/escape"}) {
		FileInfo l = vol_->stat(path);
		EXPECT_EQ(l.type, FileType::other) << path;
		EXPECT_EQ(l.unsupported, "symbolic link") << path;
		EXPECT_EQ(error_code_of([&] { vol_->set_dax_flag(path, true); }),
		          Errc::unsupported);
	}
	EXPECT_FALSE(tool_says_dax("/target"));
	// Through a link in the middle of a path: refused, the directory's file untouched.
	EXPECT_EQ(error_code_of([&] { vol_->stat("/linkdir/inside"); }), Errc::unsupported);
	EXPECT_EQ(error_code_of([&] { vol_->set_dax_flag("/linkdir/inside", true); }),
	          Errc::unsupported);
	EXPECT_FALSE(tool_says_dax("/dir/inside"));
	// A walk reports the links and does not descend through them.
	std::map<std::string, FileInfo> seen;
	vol_->walk("/", [&](const FileInfo &f) { seen[f.path] = f; });
	EXPECT_EQ(seen.at("/linkdir").type, FileType::other);
	EXPECT_EQ(seen.at("/link").unsupported, "symbolic link");
	EXPECT_FALSE(seen.count("/linkdir/inside"));
	EXPECT_TRUE(seen.count("/dir/inside"));
}

TEST_P(HostVolumeTest, ReportsOtherFilesWithoutOpeningThem)
{
	ASSERT_EQ(mkfifo(host("/fifo").c_str(), 0600), 0);
	ASSERT_EQ(mknod(host("/null").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);
	ASSERT_EQ(mknod(host("/disk").c_str(), S_IFBLK | 0600, makedev(7, 200)), 0);
	EXPECT_EQ(vol_->stat("/fifo").unsupported, "fifo");
	EXPECT_EQ(vol_->stat("/null").unsupported, "character device");
	EXPECT_EQ(vol_->stat("/disk").unsupported, "block device");
	EXPECT_EQ(vol_->stat("/fifo").type, FileType::other);
	EXPECT_EQ(error_code_of([&] { vol_->set_dax_flag("/fifo", true); }), Errc::unsupported);
}

TEST_P(HostVolumeTest, WalksParentsFirstAndStaysOnTheVolume)
{
	for (const char *d : {"/a", "/a/b", "/a/b/c", "/a/nested", "/big"})
		std::filesystem::create_directory(host(d));
	for (const char *f : {"/a/x", "/a/b/y", "/a/b/c/z", "/top"})
		write_file(host(f));
	// More names than one getdents64 buffer holds.
	std::set<std::string> want = {"/",    "/a",     "/a/b",     "/a/b/c", "/big",
	                              "/a/x", "/a/b/y", "/a/b/c/z", "/top"};
	for (int i = 0; i < 1500; i++) {
		std::string name = "/big/file-with-a-long-name-" + std::to_string(i);
		write_file(host(name));
		want.insert(name);
	}
	if (fstype_ == "ext4")
		want.insert("/lost+found");
	TmpfsMount nested(host("/a/nested"));
	ASSERT_TRUE(nested.mounted());
	write_file(host("/a/nested/other-fs"));

	std::vector<std::string> order;
	vol_->walk("/", [&](const FileInfo &f) { order.push_back(f.path); });
	std::set<std::string> got(order.begin(), order.end());
	EXPECT_EQ(got.size(), order.size()) << "a file reported twice";
	EXPECT_EQ(got, want) << "the nested mount's root and files stay out";
	std::map<std::string, size_t> at;
	for (size_t i = 0; i < order.size(); i++)
		at[order[i]] = i;
	for (const auto &path : order)
		if (path != "/") {
			auto parent = std::filesystem::path(path).parent_path().string();
			EXPECT_LT(at.at(parent), at.at(path)) << path << " before its parent";
		}
	// A subtree, and a file alone.
	std::vector<std::string> sub;
	vol_->walk("/a/b", [&](const FileInfo &f) { sub.push_back(f.path); });
	EXPECT_EQ(sub.front(), "/a/b");
	EXPECT_EQ(std::set<std::string>(sub.begin(), sub.end()),
	          (std::set<std::string>{"/a/b", "/a/b/y", "/a/b/c", "/a/b/c/z"}));
	std::vector<std::string> one;
	vol_->walk("/top", [&](const FileInfo &f) { one.push_back(f.path); });
	EXPECT_EQ(one, std::vector<std::string>{"/top"});
	// Nothing on the nested mount can be named either.
	EXPECT_EQ(error_code_of([&] { vol_->stat("/a/nested"); }), Errc::invalid_argument);
	EXPECT_EQ(error_code_of([&] { vol_->stat("/a/nested/other-fs"); }), Errc::invalid_argument);
	EXPECT_EQ(error_code_of([&] { vol_->set_dax_flag("/a/nested/other-fs", true); }),
	          Errc::invalid_argument);
}

TEST_P(HostVolumeTest, RefusesATreeDeeperThanItHoldsDescriptorsFor)
{
	std::string deep = "/deep";
	for (size_t i = 0; i < HostVolume::kMaxWalkDepth; i++)
		deep += "/d";
	std::filesystem::create_directories(host(deep));
	size_t seen = 0;
	EXPECT_EQ(error_code_of([&] { vol_->walk("/", [&](const FileInfo &) { seen++; }); }),
	          Errc::invalid_argument);
	EXPECT_GT(seen, HostVolume::kMaxWalkDepth);
	// Walked from further down, it fits.
	seen = 0;
	vol_->walk("/deep/d", [&](const FileInfo &) { seen++; });
	EXPECT_EQ(seen, HostVolume::kMaxWalkDepth);
}

TEST_P(HostVolumeTest, AVisitorMayChangeTheFileItIsShown)
{
	write_file(host("/f"), 4096);
	std::vector<SetFlagResult::Status> results;
	vol_->walk("/", [&](const FileInfo &f) {
		if (f.type == FileType::regular)
			results.push_back(
			    vol_->set_dax_flag_if_unmapped(f.ino, f.generation, true).status);
	});
	EXPECT_EQ(results, std::vector{SetFlagResult::Status::applied});
}

TEST_P(HostVolumeTest, AFileOpenElsewhereIsInUse)
{
	write_file(host("/f"), 4096);
	FileInfo f = vol_->stat("/f");
	{
		Holder holder(host("/f"), Holder::How::open);
		SetFlagResult r = vol_->set_dax_flag_if_unmapped(f.ino, f.generation, true);
		EXPECT_EQ(r.status, SetFlagResult::Status::in_use);
		EXPECT_EQ(r.mappings, 0u);
		EXPECT_FALSE(vol_->stat("/f").dax_flag);
	}
	EXPECT_EQ(vol_->set_dax_flag_if_unmapped(f.ino, f.generation, true).status,
	          SetFlagResult::Status::applied);
	EXPECT_TRUE(tool_says_dax("/f"));
}

// True once the kernel lists a lease of this process as breaking (/proc/locks).
bool my_lease_is_breaking()
{
	std::ifstream in("/proc/locks");
	std::string pid = " " + std::to_string(getpid()) + " ";
	for (std::string line; std::getline(in, line);)
		if (line.find("LEASE") != std::string::npos &&
		    line.find("BREAKING") != std::string::npos &&
		    line.find(pid) != std::string::npos)
			return true;
	return false;
}

TEST_P(HostVolumeTest, AnOpenDuringAChangeWaitsForItAndIsLoggedWithItsPid)
{
	write_file(host("/f"), 4096);
	std::string path = host("/f");
	pid_t opener = -1;
	HostVolume::Options options{
	    .name = "pmem0", .path = fs_->mount_point(), .events = Events::none};
	// While the change holds its lease, another process opens the file: its open waits
	// in the kernel until the lease is given back.
	options.while_leased = [&] {
		opener = fork();
		if (opener == 0) {
			int fd = ::open(path.c_str(), O_RDONLY);
			_exit(fd >= 0 ? 0 : 1);
		}
		for (int i = 0; i < 4000 && !my_lease_is_breaking(); i++)
			std::this_thread::sleep_for(std::chrono::milliseconds(5));
	};
	vol_.reset();
	auto vol = HostVolume::open(options);
	std::vector<VolumeEvent> breaks;
	auto sub = vol->subscribe([&](const VolumeEvent &e) {
		if (e.kind == VolumeEvent::Kind::lease_break)
			breaks.push_back(e);
	});
	FileInfo f = vol->stat("/f");
	EXPECT_EQ(vol->set_dax_flag_if_unmapped(f.ino, f.generation, true).status,
	          SetFlagResult::Status::applied);
	int status = 0;
	ASSERT_EQ(waitpid(opener, &status, 0), opener);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the open went on";
	ASSERT_EQ(breaks.size(), 1u);
	EXPECT_EQ(breaks[0].path, "/f");
	EXPECT_EQ(breaks[0].lease->op, "flag-change");
	EXPECT_EQ(breaks[0].lease->outcome, "released");
	EXPECT_EQ(breaks[0].lease->pid, getpid()) << "the lease was the volume's own";
	EXPECT_EQ(breaks[0].lease->breaker_pid, opener) << "the opener, as /proc/locks names it";
	EXPECT_TRUE(tool_says_dax("/f"));
}

TEST(ProcLocks, TheOpenerBlockedOnALeaseIsFound)
{
	using daxpolicy::fscore::host::FileId;
	using daxpolicy::fscore::host::lease_breaker_in;
	std::string locks = "1: LEASE  BREAKING  READ 12158 fe:00:10952883 0 EOF\n"
	                    "1: -> LEASE  BREAKER   READ 12199 <none>:0 0 EOF\n"
	                    "2: FLOCK  ADVISORY  WRITE 10981 fe:00:10952815 0 EOF\n"
	                    "3: LEASE  ACTIVE    WRITE 777 07:00:12 0 EOF\n";
	FileId file{0xfe, 0, 10952883};
	EXPECT_EQ(lease_breaker_in(locks, 12158, file), 12199);
	EXPECT_EQ(lease_breaker_in(locks, 12159, file), std::nullopt) << "another holder";
	EXPECT_EQ(lease_breaker_in(locks, 777, FileId{7, 0, 12}), std::nullopt) << "not breaking";
	EXPECT_EQ(lease_breaker_in(locks, 12158, FileId{0xfe, 0, 1}), std::nullopt);
	for (const char *bad : {"", "garbage\n", "1: LEASE\n", "1: -> LEASE BREAKER READ x\n",
	                        "1: LEASE BREAKING READ 12158 fe:zz:10952883 0 EOF\n"})
		EXPECT_EQ(lease_breaker_in(bad, 12158, file), std::nullopt) << bad;
}

TEST_P(HostVolumeTest, AFileUnderAnotherProcesssWriteLeaseIsBusyAndInUse)
{
	// As an SMB or NFS server holds files: opening one, even to read its flags, breaks the
	// lease, and O_NONBLOCK makes that open fail rather than wait for the holder.
	write_file(host("/leased"), 4096);
	FileInfo f = vol_->stat("/leased");
	{
		Holder holder(host("/leased"), Holder::How::leased);
		EXPECT_EQ(error_code_of([&] { vol_->stat("/leased"); }), Errc::busy);
		EXPECT_EQ(vol_->set_dax_flag_if_unmapped(f.ino, f.generation, true).status,
		          SetFlagResult::Status::in_use);
	}
	EXPECT_EQ(vol_->set_dax_flag_if_unmapped(f.ino, f.generation, true).status,
	          SetFlagResult::Status::applied);
}

TEST_P(HostVolumeTest, AMappedFileWaitsForItsMappingToGo)
{
	for (bool force_ioctl : {false, true}) {
		SCOPED_TRACE(force_ioctl ? "FS_IOC_FSSETXATTR" : "file_setattr");
		auto vol = open_volume(force_ioctl);
		std::string path = force_ioctl ? "/mapped-ioctl" : "/mapped";
		write_file(host(path), 8192);
		FileInfo f = vol->stat(path);
		Holder holder(host(path), Holder::How::mapped);
		SetFlagResult r = vol->set_dax_flag_if_unmapped(f.ino, f.generation, true);
		EXPECT_EQ(r.status, SetFlagResult::Status::mapped);
		EXPECT_EQ(r.mappings, 1u);
		EXPECT_FALSE(tool_says_dax(path));
		holder.release();
		r = vol->set_dax_flag_if_unmapped(f.ino, f.generation, true);
		EXPECT_EQ(r.status, SetFlagResult::Status::applied);
		EXPECT_TRUE(tool_says_dax(path));
		EXPECT_EQ(vol->set_dax_flag_if_unmapped(f.ino, f.generation, true).status,
		          SetFlagResult::Status::unchanged);
		EXPECT_EQ(vol->set_dax_flag_if_unmapped(f.ino, f.generation, false).status,
		          SetFlagResult::Status::applied);
		EXPECT_FALSE(tool_says_dax(path));
	}
}

// A reconcile walks on a thread of its own while the engine changes flags on another. The
// walk's own opens of the files it reads must never make a change look in use (it would be
// deferred for nothing), nor must a change's lease turn the walk away (busy); and a file that
// another process holds open is never changed, walk or no walk.
TEST_P(HostVolumeTest, AWalkOnAnotherThreadNeitherDefersNorHidesChanges)
{
	constexpr int kFiles = 64;
	for (int i = 0; i < kFiles; i++)
		write_file(host("/f" + std::to_string(i)), 4096);
	write_file(host("/held"), 4096);
	Holder holder(host("/held"), Holder::How::open);
	std::vector<FileInfo> files;
	FileInfo held;
	vol_->walk("/", [&](const FileInfo &f) {
		if (f.path == "/held")
			held = f;
		else if (f.type == FileType::regular)
			files.push_back(f);
	});
	ASSERT_EQ(files.size(), size_t{kFiles});

	std::atomic<bool> stop{false};
	std::atomic<int> walks{0};
	std::vector<std::string> walk_errors;
	std::thread walker([&] {
		while (!stop) {
			try {
				vol_->walk("/", [](const FileInfo &) {});
			} catch (const Error &e) {
				walk_errors.push_back(e.what());
			}
			walks++;
		}
	});
	std::map<std::string, int> deferred;
	int held_changed = 0;
	// At least two whole walks ran beside the changes.
	int rounds = 0;
	for (; rounds < 20 || walks < 2; rounds++) {
		bool on = rounds % 2 == 0;
		for (const auto &f : files)
			if (vol_->set_dax_flag_if_unmapped(f.ino, f.generation, on).status !=
			    SetFlagResult::Status::applied)
				deferred[f.path]++;
		if (vol_->set_dax_flag_if_unmapped(held.ino, held.generation, on).status !=
		    SetFlagResult::Status::in_use)
			held_changed++;
	}
	stop = true;
	walker.join();
	EXPECT_TRUE(deferred.empty())
	    << deferred.size() << " files were refused a change at least "
	    << "once, " << deferred.begin()->first << " " << deferred.begin()->second << " times";
	EXPECT_TRUE(walk_errors.empty())
	    << walk_errors.size() << " walks failed: " << walk_errors.front();
	EXPECT_EQ(held_changed, 0) << "a file open elsewhere was changed";
	EXPECT_FALSE(tool_says_dax("/held"));
	// The last round's flag, as the filesystem's own tool shows it.
	bool last = (rounds - 1) % 2 == 0;
	EXPECT_EQ(tool_says_dax("/f0"), last);
	EXPECT_EQ(tool_says_dax("/f" + std::to_string(kFiles - 1)), last);
}

TEST_P(HostVolumeTest, DirectoriesChangeByIdentityWithoutALease)
{
	std::filesystem::create_directory(host("/d"));
	FileInfo d = vol_->stat("/d");
	// Open elsewhere does not matter: a directory has no lease and no mapping.
	Holder holder(host("/d"), Holder::How::open);
	EXPECT_EQ(vol_->set_dax_flag_if_unmapped(d.ino, d.generation, true).status,
	          SetFlagResult::Status::applied);
	EXPECT_TRUE(tool_says_dax("/d"));
}

// A volume opened by a thread without `cap` (capabilities are a thread's own), with `events`.
std::unique_ptr<HostVolume> open_without(int cap, HostVolume::Options options)
{
	std::unique_ptr<HostVolume> vol;
	std::thread([&] {
		__user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
		__user_cap_data_struct caps[2] = {};
		if (syscall(SYS_capget, &header, caps) != 0)
			return;
		caps[cap / 32].effective &= ~(1u << (cap % 32));
		if (syscall(SYS_capset, &header, caps) != 0)
			return;
		vol = HostVolume::open(options);
	}).join();
	return vol;
}

TEST_P(HostVolumeTest, FindsFilesByIdentityWhereverTheyAre)
{
	// Without events, so that nothing but the file's handle tells where it went.
	auto vol = open_volume(false, Events::none);
	write_file(host("/old"), 10);
	FileInfo f = vol->stat("/old");
	std::filesystem::create_directory(host("/moved"));
	std::filesystem::rename(host("/old"), host("/moved/new"));
	EXPECT_EQ(vol->path_of(f.ino, f.generation), "/moved/new");
	EXPECT_EQ(vol->set_dax_flag_if_unmapped(f.ino, f.generation, true).status,
	          SetFlagResult::Status::applied);
	EXPECT_TRUE(tool_says_dax("/moved/new"));
	// More files than the path cache holds: each is still found, without a path.
	HostVolume::Options small{.name = "pmem0", .path = fs_->mount_point()};
	small.events = Events::none;
	small.path_cache_files = 2;
	auto forgetful = HostVolume::open(small);
	std::vector<FileInfo> files;
	for (int i = 0; i < 5; i++) {
		write_file(host("/moved/f" + std::to_string(i)), 10);
		files.push_back(forgetful->stat("/moved/f" + std::to_string(i)));
	}
	for (int i = 0; i < 5; i++) {
		std::string path = "/moved/f" + std::to_string(i);
		EXPECT_EQ(forgetful->path_of(files[i].ino, files[i].generation), path);
		EXPECT_EQ(
		    forgetful->set_dax_flag_if_unmapped(files[i].ino, files[i].generation, true)
		        .status,
		    SetFlagResult::Status::applied);
		EXPECT_TRUE(tool_says_dax(path));
	}
	// Removed, and a new file in its place (which may well reuse the inode number): not
	// the same file.
	std::filesystem::remove(host("/moved/new"));
	write_file(host("/moved/new"), 10);
	EXPECT_EQ(vol->path_of(f.ino, f.generation), std::nullopt);
	EXPECT_EQ(vol->set_dax_flag_if_unmapped(f.ino, f.generation, false).status,
	          SetFlagResult::Status::gone);
	EXPECT_EQ(vol->path_of(f.ino + 1000000, 1), std::nullopt);
	// A directory moved: its files with it.
	std::filesystem::create_directory(host("/d"));
	write_file(host("/d/f"), 10);
	FileInfo g = vol->stat("/d/f");
	std::filesystem::rename(host("/d"), host("/d2"));
	EXPECT_EQ(vol->path_of(g.ino, g.generation), "/d2/f");
}

TEST_P(HostVolumeTest, WithoutHandlesFindsFilesWhereItLastSawThem)
{
	// Without CAP_DAC_READ_SEARCH there is no open_by_handle_at: what the volume sees of
	// renames itself, without events.
	auto vol =
	    open_without(CAP_DAC_READ_SEARCH,
	                 {.name = "pmem0", .path = fs_->mount_point(), .events = Events::none});
	ASSERT_TRUE(vol);
	write_file(host("/old"), 10);
	FileInfo f = vol->stat("/old");
	EXPECT_EQ(vol->path_of(f.ino, f.generation), "/old");
	std::filesystem::create_directory(host("/moved"));
	std::filesystem::rename(host("/old"), host("/moved/new"));
	// A rename the volume did not see: the file looks gone until a walk sees it.
	EXPECT_EQ(vol->path_of(f.ino, f.generation), std::nullopt);
	EXPECT_EQ(vol->set_dax_flag_if_unmapped(f.ino, f.generation, true).status,
	          SetFlagResult::Status::gone);
	vol->walk("/", [](const FileInfo &) {});
	EXPECT_EQ(vol->path_of(f.ino, f.generation), "/moved/new");
	EXPECT_EQ(vol->set_dax_flag_if_unmapped(f.ino, f.generation, true).status,
	          SetFlagResult::Status::applied);
	EXPECT_TRUE(vol->stat("/moved/new").dax_flag);
	// Removed, and a new file in its place (which may well reuse the inode number): not
	// the same file.
	std::filesystem::remove(host("/moved/new"));
	write_file(host("/moved/new"), 10);
	EXPECT_EQ(vol->path_of(f.ino, f.generation), std::nullopt);
	EXPECT_EQ(vol->set_dax_flag_if_unmapped(f.ino, f.generation, false).status,
	          SetFlagResult::Status::gone);
	EXPECT_EQ(vol->path_of(f.ino + 1000000, 1), std::nullopt);
	// A directory replaced by a symbolic link on the way: not where it was either.
	std::filesystem::create_directory(host("/d"));
	write_file(host("/d/f"), 10);
	FileInfo g = vol->stat("/d/f");
	std::filesystem::rename(host("/d"), host("/d2"));
	std::filesystem::create_directory_symlink(host("/d2"), host("/d"));
	EXPECT_EQ(vol->path_of(g.ino, g.generation), std::nullopt);
}

TEST_P(HostVolumeTest, ConvertsHostPaths)
{
	std::string mnt = fs_->mount_point().string();
	EXPECT_EQ(vol_->volume_path(mnt + "/db/x"), "/db/x");
	EXPECT_EQ(vol_->volume_path(mnt), "/");
	EXPECT_EQ(vol_->volume_path(mnt + "/"), "/");
	EXPECT_EQ(vol_->volume_path(mnt + "-other/x"), std::nullopt);
	EXPECT_EQ(vol_->volume_path("/etc/passwd"), std::nullopt);
	write_file(host("/hp"), 1);
	EXPECT_EQ(vol_->stat(*vol_->volume_path(host("/hp"))).path, "/hp");
}

TEST_P(HostVolumeTest, RefusesAPathThatIsNotAMountPoint)
{
	std::filesystem::create_directory(host("/sub"));
	HostVolume::Options options;
	options.name = "sub";
	options.path = host("/sub");
	try {
		HostVolume::open(options);
		ADD_FAILURE() << "opened a directory that is not a mount point";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Errc::invalid_argument);
		std::string msg = e.what();
		EXPECT_NE(msg.find(host("/sub") + " is not a mount point"), std::string::npos)
		    << msg;
		EXPECT_NE(msg.find("mount at " + fs_->mount_point().string()), std::string::npos)
		    << msg;
	}
	options.path = host("/missing");
	EXPECT_EQ(error_code_of([&] { HostVolume::open(options); }), Errc::not_found);
}

// ---- events ---------------------------------------------------------------------------

using Kind = VolumeEvent::Kind;
using test::EventLog;

// An event of `kind` for the file (ino, generation).
EventLog::Match of(Kind kind, const FileInfo &f)
{
	return [kind, ino = f.ino, gen = f.generation](const VolumeEvent &e) {
		return e.kind == kind && e.ino == ino && e.generation == gen;
	};
}

TEST_P(HostVolumeTest, AFileClosedByAnotherProcessIsReleased)
{
	write_file(host("/f"), 4096);
	write_file(host("/marker"));
	FileInfo f = vol_->stat("/f");
	EventLog log(*vol_);
	Puppet child(host("/f"), host("/marker"));
	// The volume's own opens (a stat reads the file's flags through one) are not heard:
	// a listener that retries on released would hear its own retry.
	vol_->stat("/f");
	ASSERT_TRUE(child.step(Puppet::marker));
	ASSERT_TRUE(log.wait_for(EventLog::is(Kind::released, "/marker")));
	EXPECT_FALSE(log.has(of(Kind::released, f))) << "the volume's own open and close";

	size_t from = log.mark();
	ASSERT_TRUE(child.step(Puppet::open));
	ASSERT_TRUE(child.step(Puppet::close));
	auto released = log.wait_for(of(Kind::released, f), from);
	ASSERT_TRUE(released) << "no released for /f";
	EXPECT_EQ(released->path, "/f");
}

TEST_P(HostVolumeTest, AMappedFileIsReleasedWhenItsMappingGoesNotAtItsClose)
{
	write_file(host("/mapped"), 8192);
	write_file(host("/marker"));
	FileInfo f = vol_->stat("/mapped");
	EventLog log(*vol_);
	Puppet child(host("/mapped"), host("/marker"));
	ASSERT_TRUE(child.step(Puppet::open));
	ASSERT_TRUE(child.step(Puppet::map));
	ASSERT_TRUE(child.step(Puppet::close));
	// The descriptor is closed and the mapping lives: once the marker is heard, whatever
	// the close caused has been read, and it released nothing.
	ASSERT_TRUE(child.step(Puppet::marker));
	ASSERT_TRUE(log.wait_for(EventLog::is(Kind::released, "/marker")));
	EXPECT_FALSE(log.has(of(Kind::released, f))) << "released while still mapped";
	EXPECT_EQ(vol_->set_dax_flag_if_unmapped(f.ino, f.generation, true).status,
	          SetFlagResult::Status::mapped);

	// The munmap drops the mapping's reference to the file, its last: released, with the
	// child still alive (so not at its exit).
	size_t from = log.mark();
	ASSERT_TRUE(child.step(Puppet::unmap));
	auto released = log.wait_for(of(Kind::released, f), from);
	ASSERT_TRUE(released) << "no released after the munmap";
	EXPECT_EQ(released->path, "/mapped");
	EXPECT_EQ(vol_->set_dax_flag_if_unmapped(f.ino, f.generation, true).status,
	          SetFlagResult::Status::applied);
}

TEST_P(HostVolumeTest, CreatesRenamesAndRemovesAreHeardWithVolumePaths)
{
	EventLog log(*vol_);
	// Each change is waited for before the next: an event's path is the one its
	// directory has when the event is read.
	std::filesystem::create_directory(host("/d"));
	auto dir = log.wait_for(EventLog::is(Kind::created, "/d"));
	ASSERT_TRUE(dir);
	FileInfo d = vol_->stat("/d");
	EXPECT_EQ(dir->ino, d.ino);
	EXPECT_EQ(dir->generation, d.generation);

	write_file(host("/d/f"), 10);
	auto created = log.wait_for(EventLog::is(Kind::created, "/d/f"));
	ASSERT_TRUE(created);
	FileInfo f = vol_->stat("/d/f");
	EXPECT_EQ(created->ino, f.ino);
	EXPECT_EQ(created->generation, f.generation);

	std::filesystem::rename(host("/d/f"), host("/d/g"));
	auto renamed = log.wait_for(of(Kind::renamed, f));
	ASSERT_TRUE(renamed);
	EXPECT_EQ(renamed->path, "/d/g");
	EXPECT_EQ(renamed->old_path, "/d/f");

	// A directory's move moves what is below it, without a walk.
	std::filesystem::rename(host("/d"), host("/e"));
	renamed = log.wait_for(of(Kind::renamed, d));
	ASSERT_TRUE(renamed);
	EXPECT_EQ(renamed->path, "/e");
	EXPECT_EQ(renamed->old_path, "/d");
	EXPECT_EQ(vol_->path_of(f.ino, f.generation), "/e/g");
	EXPECT_EQ(vol_->path_of(d.ino, d.generation), "/e");

	std::filesystem::remove(host("/e/g"));
	auto removed = log.wait_for(of(Kind::removed, f));
	ASSERT_TRUE(removed);
	EXPECT_EQ(removed->path, "/e/g");
	EXPECT_EQ(vol_->path_of(f.ino, f.generation), std::nullopt);
	std::filesystem::remove(host("/e"));
	ASSERT_TRUE(log.wait_for(of(Kind::removed, d)));

	// A hard link's removal leaves the file: no removed for it.
	write_file(host("/one"), 10);
	std::filesystem::create_hard_link(host("/one"), host("/two"));
	FileInfo one = vol_->stat("/one");
	std::filesystem::remove(host("/two"));
	write_file(host("/marker"));
	ASSERT_TRUE(log.wait_for(EventLog::is(Kind::created, "/marker")));
	EXPECT_FALSE(log.has(of(Kind::removed, one))) << "removed while /one still names it";
}

TEST_P(HostVolumeTest, RenamesKeepPathOfRightWithoutAWalk)
{
	// Files the volume saw before (a walk), moved in a burst without waiting: once the last
	// move is heard, path_of has them all where they are.
	std::filesystem::create_directories(host("/a/b"));
	write_file(host("/a/b/f"), 10);
	write_file(host("/a/g"), 10);
	FileInfo f = vol_->stat("/a/b/f");
	FileInfo g = vol_->stat("/a/g");
	FileInfo b = vol_->stat("/a/b");
	EventLog log(*vol_);
	std::filesystem::rename(host("/a/b"), host("/a/c"));     // /a/c/f
	std::filesystem::rename(host("/a/c/f"), host("/a/c/h")); // /a/c/h
	std::filesystem::rename(host("/a"), host("/z"));         // /z/c/h, /z/g
	std::filesystem::create_directory(host("/a"));           // a new /a: nothing moves into it
	write_file(host("/marker"));
	ASSERT_TRUE(log.wait_for(EventLog::is(Kind::created, "/marker")));
	EXPECT_EQ(vol_->path_of(f.ino, f.generation), "/z/c/h");
	EXPECT_EQ(vol_->path_of(g.ino, g.generation), "/z/g");
	EXPECT_EQ(vol_->path_of(b.ino, b.generation), "/z/c");
}

TEST_P(HostVolumeTest, EventsOnAnotherMountBelowAreNotHeard)
{
	std::filesystem::create_directory(host("/src"));
	TmpfsMount nested(host("/nested"));
	ASSERT_TRUE(nested.mounted());
	// The volume's own filesystem again, below the volume: its files are the volume's,
	// and named by their paths in it.
	BindMount again(host("/src"), host("/again"));
	ASSERT_TRUE(again.mounted());
	EventLog log(*vol_);
	write_file(host("/nested/x"), 10);
	std::filesystem::rename(host("/nested/x"), host("/nested/y"));
	{
		Puppet child(host("/nested/y"), host("/nested/y"));
		ASSERT_TRUE(child.step(Puppet::marker));
	}
	std::filesystem::remove(host("/nested/y"));
	write_file(host("/again/through-the-bind"), 10);
	ASSERT_TRUE(log.wait_for(EventLog::is(Kind::created, "/src/through-the-bind")));
	write_file(host("/marker"));
	ASSERT_TRUE(log.wait_for(EventLog::is(Kind::created, "/marker")));
	for (const auto &e : log.events()) {
		EXPECT_NE(e.path.rfind("/nested/", 0), 0u) << e.path;
		EXPECT_NE(e.path.rfind("/again/", 0), 0u) << e.path;
	}
}

TEST_P(HostVolumeTest, AVolumeOnABindMountHearsOnlyWhatIsBelowItsRoot)
{
	// The filesystem mark hears the whole filesystem; a volume on a bind mount of one of
	// its directories keeps what is below that directory, and names it from there.
	std::filesystem::create_directory(host("/sub"));
	std::filesystem::create_directory(host("/other"));
	BindMount bind(host("/sub"), dir_ / "bound");
	ASSERT_TRUE(bind.mounted());
	auto vol = HostVolume::open({.name = "bound", .path = dir_ / "bound"});
	ASSERT_TRUE(vol->info().can.use_events) << vol->events_unavailable();
	EventLog log(*vol);
	write_file(host("/other/x"), 10);
	{
		Puppet child(host("/other/x"), host("/other/x"));
		ASSERT_TRUE(child.step(Puppet::marker));
	}
	write_file(host("/sub/x"), 10);
	ASSERT_TRUE(log.wait_for(EventLog::is(Kind::created, "/x")));
	// Moved in from outside: new here. Moved out: gone from here.
	std::filesystem::rename(host("/other/x"), host("/sub/in"));
	auto in = log.wait_for(EventLog::is(Kind::created, "/in"));
	ASSERT_TRUE(in);
	std::filesystem::rename(host("/sub/in"), host("/other/out"));
	auto out = log.wait_for(EventLog::is(Kind::removed, "/in"));
	ASSERT_TRUE(out);
	EXPECT_EQ(out->ino, in->ino);
	std::filesystem::remove(host("/other/out"));
	write_file(host("/sub/marker"));
	ASSERT_TRUE(log.wait_for(EventLog::is(Kind::created, "/marker")));
	std::set<std::string> heard;
	for (const auto &e : log.events())
		heard.insert(e.path);
	EXPECT_EQ(heard, (std::set<std::string>{"/x", "/in", "/marker"}));
}

// Holds the watcher in its listener from the first event on, until let go.
struct BlockedListener {
	explicit BlockedListener(Volume &vol)
	    : let_go_future(let_go.get_future().share()),
	      sub(vol.subscribe([this](const VolumeEvent &e) {
		      calls++;
		      if (e.kind == Kind::overflow)
			      overflows++;
		      if (!held.exchange(true)) {
			      holding.set_value();
			      let_go_future.wait();
		      }
	      }))
	{
	}
	std::atomic<bool> held{false};
	std::atomic<int> calls{0};
	std::atomic<int> overflows{0};
	std::promise<void> holding;
	std::promise<void> let_go;
	std::shared_future<void> let_go_future;
	Subscription sub;
};

TEST_P(HostVolumeTest, ShutdownWithEventsPendingDoesNotHang)
{
	auto vol = open_volume(false);
	auto blocked = std::make_unique<BlockedListener>(*vol);
	write_file(host("/first"));
	ASSERT_EQ(blocked->holding.get_future().wait_for(EventLog::kPatience),
	          std::future_status::ready);
	// Queued in the kernel while the watcher waits for its listener.
	for (int i = 0; i < 2000; i++)
		write_file(host("/pending-" + std::to_string(i)));
	std::atomic<bool> gone{false};
	int calls_when_gone = 0;
	auto shutdown = std::async(std::launch::async, [&] {
		vol.reset();
		calls_when_gone = blocked->calls;
		gone = true;
	});
	blocked->let_go.set_value();
	ASSERT_EQ(shutdown.wait_for(std::chrono::seconds(30)), std::future_status::ready)
	    << "the volume's destructor did not return";
	EXPECT_EQ(blocked->calls, calls_when_gone) << "a listener called after the volume went";
	EXPECT_LT(blocked->calls, 2001) << "the watcher worked through the queue first";
}

TEST_P(HostVolumeTest, AnOverflowOfTheKernelsQueueIsReported)
{
	std::ifstream limit("/proc/sys/fs/fanotify/max_queued_events");
	int max_queued = 0;
	ASSERT_TRUE(limit >> max_queued);
	if (max_queued > 100000)
		GTEST_SKIP() << "max_queued_events is " << max_queued << ": too many to fill";
	BlockedListener blocked(*vol_);
	write_file(host("/first"));
	ASSERT_EQ(blocked.holding.get_future().wait_for(EventLog::kPatience),
	          std::future_status::ready);
	// Each name its own event (the kernel merges only events on one entry).
	for (int i = 0; i < max_queued + 100; i++) {
		std::string name = host("/o-" + std::to_string(i));
		ASSERT_EQ(mknod(name.c_str(), S_IFREG | 0600, 0), 0) << name;
		ASSERT_EQ(unlink(name.c_str()), 0);
	}
	EventLog log(*vol_);
	blocked.let_go.set_value();
	EXPECT_TRUE(log.wait_for(EventLog::is(Kind::overflow), 0, std::chrono::seconds(120)))
	    << "no overflow after " << blocked.calls << " events";
	EXPECT_EQ(blocked.overflows, 1);
}

TEST_P(HostVolumeTest, WithoutFanotifyThereAreNoEvents)
{
	auto off = open_volume(false, Events::none);
	EXPECT_FALSE(off->info().can.use_events);
	EXPECT_NE(off->events_unavailable(), "");
	// Without CAP_SYS_ADMIN the kernel refuses the filesystem mark: the volume opens
	// without fanotify, hearing entries through inotify, releases not at all.
	auto vol = open_without(CAP_SYS_ADMIN, {.name = "pmem0", .path = fs_->mount_point()});
	ASSERT_TRUE(vol);
	bool use_events = vol->info().can.use_events;
	std::string why = vol->events_unavailable();
	EXPECT_FALSE(use_events);
	EXPECT_NE(why.find("EPERM"), std::string::npos) << why;
}

TEST(HostVolumeRefuses, FilesystemsWithoutAPerFileFlag)
{
	SKIP_UNLESS_MOUNTABLE("losetup", "mkfs.ext2");
	TempDir dir;
	{
		LoopFs ext2(dir.path(), "ext2", 16, {"mkfs.ext2", "-q", "-F"}, "");
		HostVolume::Options options{.name = "old", .path = ext2.mount_point()};
		try {
			HostVolume::open(options);
			ADD_FAILURE() << "opened ext2";
		} catch (const Error &e) {
			EXPECT_EQ(e.code(), Errc::unsupported);
			EXPECT_NE(std::string(e.what()).find("ext2 has no per-file DAX flag"),
			          std::string::npos)
			    << e.what();
		}
	}
	TmpfsMount tmpfs(dir / "tmpfs");
	ASSERT_TRUE(tmpfs.mounted());
	HostVolume::Options options{.name = "tmp", .path = dir / "tmpfs"};
	try {
		HostVolume::open(options);
		ADD_FAILURE() << "opened tmpfs";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Errc::unsupported);
		EXPECT_NE(std::string(e.what()).find("is a tmpfs mount"), std::string::npos)
		    << e.what();
	}
}

TEST(HostVolumeExt4, InlineDataRefusesTheFlag)
{
	SKIP_UNLESS_MOUNTABLE("losetup", "mkfs.ext4");
	TempDir dir;
	LoopFs fs(dir.path(), "inline", 64, {"mkfs.ext4", "-q", "-F", "-O", "inline_data"},
	          "dax=inode");
	HostVolume::Options options{.name = "inl", .path = fs.mount_point()};
	auto vol = HostVolume::open(options);
	write_file(fs.host("/small"), 20); // fits in the inode
	FileInfo f = vol->stat("/small");
	EXPECT_NE(f.unsupported.find("inline data"), std::string::npos) << f.unsupported;
	EXPECT_EQ(error_code_of([&] { vol->set_dax_flag("/small", true); }), Errc::unsupported);
	EXPECT_EQ(error_code_of([&] { vol->set_dax_flag_if_unmapped(f.ino, f.generation, true); }),
	          Errc::unsupported);
	// Directories with inline data may carry it (ext4 lets them, for their children).
	std::filesystem::create_directory(fs.host("/d"));
	EXPECT_EQ(vol->stat("/d").unsupported, "");
	vol->set_dax_flag("/d", true);
	EXPECT_TRUE(vol->stat("/d").dax_flag);
}

} // namespace
