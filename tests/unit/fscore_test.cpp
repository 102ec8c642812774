// SPDX-License-Identifier: BSD-3-Clause
// The embedded core as a user of `daxpolicy io` sees it: namespace, data, the per-file DAX
// model of dax.rst (generic/606, 607, 608), sessions, persistence and fsck.
#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/fsck.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/embedded/session.hpp"
#include "tests/support/bytes.hpp"
#include "tests/support/pool_test.hpp"

#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace daxpolicy;
using namespace daxpolicy::fscore;

namespace
{

using test::filled;

class FscoreTest : public test::PoolTest
{
      protected:
	void mount_fresh(DaxMode mode)
	{
		make_pool();
		remount(mode);
	}
	void remount(DaxMode mode = DaxMode::inode) { mount({"pool0", mode}); }
	FileInfo st(const std::string &p) { return vol_->stat(p); }
};

TEST_F(FscoreTest, FreshPoolHasRootAndReportsGeometry)
{
	auto info = vol_->info();
	EXPECT_EQ(info.kind, "embedded");
	EXPECT_EQ(info.files, 1u);
	EXPECT_EQ(info.granularity, "page"); // an ordinary file in $TMPDIR
	EXPECT_EQ(st("/").type, FileType::directory);
	EXPECT_FALSE(vol_->was_unclean());
}

TEST_F(FscoreTest, NamespaceOperations)
{
	vol_->mkdir("/a");
	vol_->create("/a/f");
	EXPECT_EQ(st("/a/f").type, FileType::regular);
	EXPECT_THROW(vol_->create("/a/f"), Error);
	vol_->rename("/a/f", "/g");
	EXPECT_THROW(st("/a/f"), Error);
	EXPECT_EQ(st("/g").type, FileType::regular);
	try {
		vol_->remove("/");
		FAIL();
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Errc::invalid_argument);
	}
	vol_->create("/a/x");
	try {
		vol_->remove("/a");
		FAIL() << "removed a non-empty directory";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Errc::invalid_argument);
	}
	vol_->remove("/a/x");
	vol_->remove("/a");
	try {
		st("/a");
		FAIL();
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Errc::not_found);
	}
	EXPECT_THROW(vol_->rename("/", "/x"), Error);
	EXPECT_THROW(st("relative"), Error);
	EXPECT_THROW(st("/a/../b"), Error);
}

TEST_F(FscoreTest, ManyEntriesGrowDirectoriesAndSurviveRemount)
{
	vol_->mkdir("/d");
	for (int i = 0; i < 100; i++)
		vol_->create("/d/file" + std::to_string(i));
	remount();
	int n = 0;
	vol_->walk("/d", [&](const FileInfo &) { n++; });
	EXPECT_EQ(n, 101);
	EXPECT_TRUE(unmounted_fsck().clean());
}

TEST_F(FscoreTest, DataRoundTripsAndPersists)
{
	auto s = vol_->open_session({});
	int fd = s->open("/f", true);
	auto data = filled(3 * kBlockSize + 123, 'a');
	s->pwrite(fd, 1000, data);
	EXPECT_EQ(s->pread(fd, 1000, data.size()), data);
	EXPECT_EQ(s->pread(fd, 0, 1000), filled(1000, 0)); // the hole before the data
	EXPECT_EQ(s->fstat(fd).size, 1000 + data.size());
	s.reset();
	remount();
	s = vol_->open_session({});
	fd = s->open("/f", false);
	EXPECT_EQ(s->pread(fd, 1000, data.size()), data);
	s.reset();
	EXPECT_TRUE(unmounted_fsck().clean());
}

// generic/607: the flag is inherited from the parent at create time, and only then.
TEST_F(FscoreTest, FlagInheritance)
{
	vol_->mkdir("/a");
	vol_->set_dax_flag("/a", true);
	// 1. new files and directories in a flagged directory get the flag
	vol_->create("/a/f");
	vol_->mkdir("/a/b");
	EXPECT_TRUE(st("/a/f").dax_flag);
	EXPECT_TRUE(st("/a/b").dax_flag);
	// 2. setting the flag on a directory does not change existing children
	vol_->mkdir("/c");
	vol_->create("/c/old");
	vol_->set_dax_flag("/c", true);
	EXPECT_FALSE(st("/c/old").dax_flag);
	// 3. a chain: a(flag) -> b(cleared) -> c inherits b's, not a's
	vol_->set_dax_flag("/a/b", false);
	vol_->mkdir("/a/b/c");
	EXPECT_FALSE(st("/a/b/c").dax_flag);
	// 4. mv keeps the file's own flag whichever directory it goes to
	vol_->rename("/a/f", "/c/old-name");
	EXPECT_TRUE(st("/c/old-name").dax_flag);
	vol_->rename("/c/old", "/a/moved");
	EXPECT_FALSE(st("/a/moved").dax_flag);
	// 5. a copy is a new file: it takes the destination directory's flag
	vol_->create("/c/copy");
	EXPECT_TRUE(st("/c/copy").dax_flag);
	vol_->mkdir("/plain");
	vol_->create("/plain/copy");
	EXPECT_FALSE(st("/plain/copy").dax_flag);
}

// generic/606: the mount mode decides, with `inode` following the flag.
TEST_F(FscoreTest, MountModeMatrix)
{
	for (DaxMode mode : {DaxMode::always, DaxMode::never, DaxMode::inode}) {
		mount_fresh(mode);
		vol_->create("/on");
		vol_->create("/off");
		vol_->set_dax_flag("/on", true);
		bool expect_on = mode != DaxMode::never;
		bool expect_off = mode == DaxMode::always;
		EXPECT_EQ(st("/on").dax_effective, expect_on) << dax_mode_name(mode);
		EXPECT_EQ(st("/off").dax_effective, expect_off) << dax_mode_name(mode);
		EXPECT_TRUE(st("/on").dax_flag);
		EXPECT_FALSE(st("/").dax_effective) << "directories are never effective";
	}
}

// generic/608: the flag changes at once, the effective state at last close or unmap, and
// data written through the page cache survives the switch.
TEST_F(FscoreTest, EffectiveStateChangesOnlyWhenNotInUse)
{
	auto s = vol_->open_session({});
	int fd = s->open("/f", true);
	auto data = filled(10000, 'b');
	s->pwrite(fd, 0, data); // page cache: not DAX yet
	int map = s->mmap(fd, 0, 8192, true);
	s->close(fd);
	s->set_dax_flag(s->open("/f", false), true);
	EXPECT_TRUE(st("/f").dax_flag);
	EXPECT_FALSE(st("/f").dax_effective) << "switched under a live mapping";
	EXPECT_EQ(st("/f").mapped, 1u);
	s.reset(); // closes the file and drops the mapping
	auto f = st("/f");
	EXPECT_TRUE(f.dax_effective);
	EXPECT_EQ(f.mapped, 0u);
	EXPECT_FALSE(f.in_use);
	s = vol_->open_session({});
	fd = s->open("/f", false);
	EXPECT_EQ(s->pread(fd, 0, data.size()), data);
	(void)map;
}

TEST_F(FscoreTest, NotificationsForUnmapAndRelease)
{
	std::vector<VolumeEvent> seen;
	auto sub = vol_->subscribe([&](const VolumeEvent &e) { seen.push_back(e); });
	auto s = vol_->open_session({});
	int fd = s->open("/f", true);
	int map = s->mmap(fd, 0, 4096, false);
	s->munmap(map);
	s->close(fd);
	ASSERT_EQ(seen.size(), 3u);
	EXPECT_EQ(seen[0].kind, VolumeEvent::Kind::created);
	EXPECT_EQ(seen[1].kind, VolumeEvent::Kind::unmapped);
	EXPECT_EQ(seen[2].kind, VolumeEvent::Kind::released);
	EXPECT_EQ(seen[2].path, "/f");
}

TEST_F(FscoreTest, MappingSeesWritesAndRespectsEndOfFile)
{
	auto s = vol_->open_session({});
	int fd = s->open("/f", true);
	s->pwrite(fd, 0, filled(100, 'x'));
	int map = s->mmap(fd, 0, 8192, true);
	EXPECT_EQ(s->mread(map, 0, 100), filled(100, 'x'));
	EXPECT_EQ(s->mread(map, 100, 10), filled(10, 0)) << "past EOF in the last page is zero";
	EXPECT_THROW(s->mread(map, 4096, 10), Error) << "a page wholly past EOF is SIGBUS";
	s->mwrite(map, 0, filled(10, 'y'));
	EXPECT_EQ(s->pread(fd, 0, 10), filled(10, 'y'));
	int ro = s->mmap(fd, 0, 4096, false);
	EXPECT_THROW(s->mwrite(ro, 0, filled(1, 'z')), Error);
}

TEST_F(FscoreTest, RemovedWhileOpenKeepsDataUntilLastClose)
{
	auto s = vol_->open_session({});
	int fd = s->open("/f", true);
	s->pwrite(fd, 0, filled(8192, 'q'));
	s->fsync(fd);
	uint64_t before = vol_->info().files;
	vol_->remove("/f");
	EXPECT_THROW(st("/f"), Error);
	EXPECT_EQ(s->pread(fd, 0, 8192), filled(8192, 'q'));
	s.reset();
	EXPECT_EQ(vol_->info().files, before - 1);
	EXPECT_TRUE(unmounted_fsck().clean());
}

TEST_F(FscoreTest, CrashWithOpenRemovedFileIsCleanedAtMount)
{
	vol_.reset();
	// A child mounts the pool, removes a file it holds open and dies without unmounting:
	// the pool is left exactly as a crash would leave it.
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		auto vol = EmbeddedVolume::mount(pool_, {});
		auto s = vol->open_session({});
		int fd = s->open("/f", true);
		s->pwrite(fd, 0, filled(4096, 'q'));
		vol->remove("/f");
		_exit(0);
	}
	int status = 0;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	auto report = fsck(pool_);
	EXPECT_TRUE(report.clean());
	EXPECT_FALSE(report.notes.empty()) << "the orphan and the unclean mark are noted";
	vol_ = EmbeddedVolume::mount(pool_, {});
	EXPECT_TRUE(vol_->was_unclean());
	EXPECT_EQ(vol_->info().files, 1u) << "the orphan was freed at mount";
	vol_.reset();
	EXPECT_TRUE(fsck(pool_).clean());
	EXPECT_TRUE(fsck(pool_).notes.empty());
}

TEST_F(FscoreTest, FsckFindsDamage)
{
	auto s = vol_->open_session({});
	s->pwrite(s->open("/f", true), 0, filled(4096, 'q'));
	s.reset();
	vol_.reset();
	ASSERT_TRUE(fsck(pool_).clean());
	// Clear the bitmap bit of the file's block: a block owned but marked free.
	auto pool = PmemPool::open(pool_);
	auto *sb = reinterpret_cast<Superblock *>(pool->base());
	auto *words = reinterpret_cast<uint64_t *>(pool->base() + sb->bitmap_start * kBlockSize);
	words[sb->data_start / 64] &= ~(uint64_t{1} << (sb->data_start % 64));
	pool.reset();
	auto report = fsck(pool_);
	ASSERT_FALSE(report.clean());
	EXPECT_NE(report.problems[0].find("marked free"), std::string::npos) << report.problems[0];
}

TEST_F(FscoreTest, ForeignFileIsRefusedNotTrusted)
{
	vol_.reset();
	auto junk = dir_ / "junk.pool";
	{
		std::ofstream out(junk);
		out << std::string(32 << 20, 'J');
	}
	try {
		EmbeddedVolume::mount(junk, {});
		FAIL();
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Errc::invalid_argument);
		EXPECT_NE(std::string(e.what()).find("bad magic"), std::string::npos);
	}
	EXPECT_THROW(fsck(junk), Error);
	EXPECT_THROW(fscore::mkfs(pool_, 64 << 20), Error) << "mkfs over an existing pool";
}

TEST_F(FscoreTest, FullPoolSaysNoSpaceAndStaysConsistent)
{
	vol_->set_dax_flag("/", true); // new files are DAX: every write allocates at once
	auto s = vol_->open_session({});
	int dax = s->open("/dax", true);
	auto chunk = filled(1 << 20, 'z');
	bool full = false;
	for (int i = 0; i < 80 && !full; i++) {
		try {
			s->pwrite(dax, uint64_t(i) << 20, chunk);
		} catch (const Error &e) {
			EXPECT_EQ(e.code(), Errc::no_space);
			full = true;
		}
	}
	EXPECT_TRUE(full);
	// Through the page cache the write is refused at once, as delalloc refuses it: its
	// blocks could not be reserved, so it could never be written back (issue 7, item 3).
	vol_->set_dax_flag("/", false);
	int cached = s->open("/cached", true);
	try {
		s->pwrite(cached, 0, chunk);
		FAIL() << "a cached write that can never be written back was accepted";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Errc::no_space);
	}
	EXPECT_EQ(s->fstat(cached).size, 0u) << "the refused write changed nothing";
	s->fsync(cached);
	s->close(dax);
	s.reset();
	EXPECT_TRUE(unmounted_fsck().clean());
}

// Every other block of a file: 300 extents, most of them in the chain of extent blocks.
TEST_F(FscoreTest, FragmentedFileUsesExtentChain)
{
	vol_->set_dax_flag("/", true);
	auto s = vol_->open_session({});
	int fd = s->open("/frag", true);
	for (uint64_t b = 0; b < 600; b += 2)
		s->pwrite(fd, b * kBlockSize, filled(kBlockSize, char('a' + b % 26)));
	// Fill a neighbour so the allocator cannot make the file contiguous.
	int other = s->open("/other", true);
	s->pwrite(other, 0, filled(kBlockSize, 'o'));
	for (uint64_t b = 1; b < 600; b += 2)
		s->pwrite(other, b * kBlockSize, filled(kBlockSize, 'o'));
	uint64_t ino = s->fstat(fd).ino;
	s.reset();
	remount();
	s = vol_->open_session({});
	fd = s->open("/frag", false);
	for (uint64_t b = 0; b < 600; b += 2) {
		ASSERT_EQ(s->pread(fd, b * kBlockSize, kBlockSize),
		          filled(kBlockSize, char('a' + b % 26)));
		if (b + 1 < 599) { // the last block written ends the file
			ASSERT_EQ(s->pread(fd, (b + 1) * kBlockSize, 1), filled(1, 0))
			    << "hole " << b + 1;
		}
	}
	s.reset();
	vol_.reset();
	{
		auto pool = PmemPool::open(pool_);
		auto *sb = reinterpret_cast<Superblock *>(pool->base());
		auto *di = reinterpret_cast<DiskInode *>(
		    pool->base() + sb->inode_table_start * kBlockSize + ino * kInodeSize);
		EXPECT_GT(di->extent_count, kInlineExtents);
		EXPECT_NE(di->extent_block, 0u);
	}
	auto report = fsck(pool_);
	EXPECT_TRUE(report.clean()) << (report.problems.empty() ? "" : report.problems[0]);
	uint64_t used_before = report.blocks_used;
	remount();
	vol_->remove("/frag");
	vol_.reset();
	report = fsck(pool_);
	EXPECT_TRUE(report.clean());
	EXPECT_EQ(report.blocks_used, used_before - 300 - 1) << "data and chain blocks freed";
}

// A file written 2 MiB at a time gets 2 MiB-aligned extents, so it could be mapped with
// huge pages.
TEST_F(FscoreTest, LargeWritesGetHugeAlignedExtents)
{
	vol_->set_dax_flag("/", true);
	auto s = vol_->open_session({});
	int small = s->open("/small", true);
	s->pwrite(small, 0, filled(3 * kBlockSize, 's')); // knock the allocator off alignment
	int fd = s->open("/big", true);
	s->pwrite(fd, 0, filled(8 << 20, 'b'));
	uint64_t ino = s->fstat(fd).ino;
	s.reset();
	vol_.reset();
	auto pool = PmemPool::open(pool_);
	auto *sb = reinterpret_cast<Superblock *>(pool->base());
	auto *di = reinterpret_cast<DiskInode *>(pool->base() + sb->inode_table_start * kBlockSize +
	                                         ino * kInodeSize);
	ASSERT_GE(di->extent_count, 1u);
	for (uint32_t i = 0; i < di->extent_count; i++) {
		EXPECT_EQ(di->extents[i].lblk % kHugeBlocks, 0u);
		EXPECT_EQ(di->extents[i].pblk % kHugeBlocks, 0u) << "extent " << i;
	}
}

} // namespace
