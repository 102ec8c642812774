// SPDX-License-Identifier: BSD-3-Clause
// Data safety of the embedded core under bad input, full pools, failed transactions and
// damaged images (issue 7): nothing acknowledged is lost, nothing is handed out twice, and
// what is refused changes nothing.
#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/fault.hpp"
#include "fscore/embedded/ondisk/fsck.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/embedded/session.hpp"
#include "tests/support/bytes.hpp"
#include "tests/support/error_code.hpp"
#include "tests/support/pool_test.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace daxpolicy;
using namespace daxpolicy::fscore;
using test::filled;

namespace
{

// Raw access to a pool file that nobody has mounted, to damage it as a bad medium would.
class PoolFile
{
      public:
	explicit PoolFile(const std::filesystem::path &path) : path_(path)
	{
		sb_ = read<Superblock>(0);
	}
	template <class T> T read(uint64_t offset) const
	{
		T value;
		std::ifstream in(path_, std::ios::binary);
		in.seekg(static_cast<std::streamoff>(offset));
		in.read(reinterpret_cast<char *>(&value), sizeof(value));
		return value;
	}
	template <class T> void write(uint64_t offset, const T &value) const
	{
		std::fstream out(path_, std::ios::binary | std::ios::in | std::ios::out);
		out.seekp(static_cast<std::streamoff>(offset));
		out.write(reinterpret_cast<const char *>(&value), sizeof(value));
	}
	uint64_t inode_at(uint64_t ino) const
	{
		return sb_.inode_table_start * kBlockSize + ino * kInodeSize;
	}
	DiskInode inode(uint64_t ino) const { return read<DiskInode>(inode_at(ino)); }
	const Superblock &sb() const { return sb_; }

      private:
	std::filesystem::path path_;
	Superblock sb_;
};

class SafetyTest : public test::PoolTest
{
      protected:
	void TearDown() override { fault::disarm(); }
	// Mount must refuse the pool as damaged, and fsck must say why.
	void expect_refused_as_corrupted(const std::string &what)
	{
		SCOPED_TRACE(what);
		try {
			EmbeddedVolume::mount(pool_, {});
			ADD_FAILURE() << "a damaged pool was mounted";
		} catch (const Error &e) {
			EXPECT_EQ(e.code(), Errc::corrupted) << e.what();
			EXPECT_NE(std::string(e.what()).find("fsck"), std::string::npos)
			    << e.what();
		}
		// fsck reports it: as problems, or, where the superblock itself is damaged, by
		// refusing the pool as corrupted too.
		try {
			EXPECT_FALSE(fsck(pool_).clean());
		} catch (const Error &e) {
			EXPECT_EQ(e.code(), Errc::corrupted) << e.what();
		}
	}
};

// Item 1: a transaction that fails while it stages (here: the journal full at the k-th
// record) leaves the allocator exactly as the pool has it. Before, a free that failed had
// already cleared the bits in DRAM, so the blocks the file still owned were handed out again.
TEST_F(SafetyTest, FailedTransactionsLeaveTheAllocatorAsThePoolHasIt)
{
	vol_->set_dax_flag("/", true);
	auto s = vol_->open_session({});
	int keep = s->open("/keep", true);
	for (uint64_t b = 0; b < 64; b += 2) // many extents: a truncate stages many records
		s->pwrite(keep, b * kBlockSize, filled(kBlockSize, 'k'));
	for (uint64_t k = 1;; k++) {
		fault::arm(fault::Site::stage, k);
		try {
			s->truncate(keep, 0);
			fault::disarm();
			break; // k passed every record: nothing left to fail
		} catch (const Error &e) {
			ASSERT_EQ(e.code(), Errc::no_space) << e.what();
		}
		fault::disarm();
		// The blocks /keep still owns must not be given to another file. (A truncate
		// frees in steps after it sets the size: one cut short may have set it.)
		int other = s->open("/other" + std::to_string(k), true);
		s->pwrite(other, 0, filled(16 * kBlockSize, 'o'));
		s->close(other);
		if (s->fstat(keep).size > 0) {
			ASSERT_EQ(s->pread(keep, 0, kBlockSize), filled(kBlockSize, 'k'))
			    << "k=" << k;
		}
	}
	s.reset();
	auto report = unmounted_fsck();
	EXPECT_TRUE(report.clean()) << report.problems.front();
}

// Item 2: a file of tens of thousands of scattered extents is removed, and, removed while
// open and then crashed, freed at the next mount. One transaction for all its frees needs
// more records than the journal holds: the removal failed, and the orphan's free failed at
// every mount, so the daemon never started again. The file is written into the pool image
// directly (the image is checked by fsck first): making it through the API would take
// tens of thousands of transactions.
TEST_F(SafetyTest, FilesOfAnySizeAreFreedInBoundedSteps)
{
	constexpr uint64_t kExtents = 48000; // each one block, one block apart
	vol_.reset();
	pool_ = dir_ / "big.pool";
	fscore::mkfs(pool_, (2 * kExtents + 4096) * kBlockSize);
	vol_ = EmbeddedVolume::mount(pool_, {});
	uint64_t ino = vol_->create("/big").ino;
	vol_.reset();

	PoolFile pf(pool_);
	const Superblock &sb = pf.sb();
	DiskInode di = pf.inode(ino);
	uint64_t first_data = sb.data_start + 64; // clear of the root directory's block
	std::vector<Extent> extents;
	for (uint64_t i = 0; i < kExtents; i++)
		extents.push_back({uint32_t(2 * i), uint32_t(first_data + 2 * i), 1});
	di.size = 2 * kExtents * kBlockSize;
	di.extent_count = kExtents;
	std::copy_n(extents.begin(), kInlineExtents, di.extents);
	uint64_t chain_start = first_data + 2 * kExtents;
	std::vector<uint64_t> used;
	for (const Extent &e : extents)
		used.push_back(e.pblk);
	di.extent_block = chain_start;
	for (uint64_t pos = kInlineExtents, b = 0; pos < kExtents; b++) {
		ExtentBlock eb{};
		eb.count = uint32_t(std::min<uint64_t>(kExtentsPerBlock, kExtents - pos));
		std::copy_n(extents.begin() + std::ptrdiff_t(pos), eb.count, eb.extents);
		pos += eb.count;
		eb.next = pos < kExtents ? chain_start + b + 1 : 0;
		pf.write((chain_start + b) * kBlockSize, eb);
		used.push_back(chain_start + b);
	}
	pf.write(pf.inode_at(ino), di);
	for (uint64_t b : used) {
		uint64_t at = sb.bitmap_start * kBlockSize + b / 64 * 8;
		pf.write(at, pf.read<uint64_t>(at) | uint64_t{1} << (b % 64));
	}
	auto report = fsck(pool_);
	ASSERT_TRUE(report.clean()) << report.problems.front();
	const uint64_t used_before = report.blocks_used;

	// Removed while open, then a crash: an orphan that mount must free.
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		auto vol = EmbeddedVolume::mount(pool_, {});
		auto s = vol->open_session({});
		s->open("/big", false);
		vol->remove("/big");
		_exit(0);
	}
	int status = 0;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	vol_ = EmbeddedVolume::mount(pool_, {});
	EXPECT_THROW(vol_->stat("/big"), Error);
	report = unmounted_fsck();
	EXPECT_TRUE(report.clean()) << report.problems.front();
	EXPECT_EQ(report.blocks_used, used_before - used.size()) << "the orphan was freed";
}

// Item 3: a cached write the pool could never take is refused when it is made, not lost
// at write-back; and a write past the largest file is invalid at once (generic_write_checks)
// rather than accepted and then blocking fsync and truncate.
TEST_F(SafetyTest, CachedWritesAreRefusedWhenTheyCouldNeverBeWrittenBack)
{
	auto s = vol_->open_session({});
	int fd = s->open("/f", true);
	EXPECT_EQ(test::error_code_of([&] { s->pwrite(fd, 0, filled(100 << 20, 'x')); }),
	          Errc::no_space);
	EXPECT_EQ(s->fstat(fd).size, 0u);
	EXPECT_EQ(test::error_code_of([&] { s->pwrite(fd, 20ull << 40, filled(4096, 'x')); }),
	          Errc::invalid_argument);
	EXPECT_EQ(s->fstat(fd).size, 0u);
	s->pwrite(fd, 0, filled(8 << 20, 'y')); // what fits is written, and survives
	s->fsync(fd);
	s->truncate(fd, 4096);
	s.reset();
	vol_.reset();
	vol_ = EmbeddedVolume::mount(pool_, {});
	s = vol_->open_session({});
	fd = s->open("/f", false);
	EXPECT_EQ(s->pread(fd, 0, 8192), filled(4096, 'y'));
}

// Item 3: the page cache of one file is bounded: a long stream of cached writes is written
// back as it goes, so a crash before any fsync still finds most of it in the pool.
TEST_F(SafetyTest, DirtyCacheIsBoundedByWriteBack)
{
	vol_.reset();
	pool_ = dir_ / "large.pool";
	fscore::mkfs(pool_, 256ull << 20);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		auto vol = EmbeddedVolume::mount(pool_, {});
		auto s = vol->open_session({});
		int fd = s->open("/stream", true);
		for (uint64_t off = 0; off < 100ull << 20; off += 1 << 20)
			s->pwrite(fd, off, filled(1 << 20, 's'));
		_exit(0); // no fsync, no unmount: a crash
	}
	int status = 0;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	vol_ = EmbeddedVolume::mount(pool_, {});
	EXPECT_GE(vol_->stat("/stream").size, kDirtyPagesMax * kBlockSize)
	    << "nothing was written back before the crash";
}

// Item 3: and the caches of all files together are bounded, so many clients each writing
// a file a little below the per-file bound cannot make the daemon hold their sum.
TEST_F(SafetyTest, DirtyCachesOfAllFilesTogetherAreBounded)
{
	vol_.reset();
	test::TempDir shm(std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : dir_.path());
	pool_ = shm / "large.pool";
	fscore::mkfs(pool_, 512ull << 20);
	constexpr int kFiles = 5;
	constexpr uint64_t kEach = 40ull << 20; // below kDirtyPagesMax; the sum is above the
	                                        // volume's bound
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		auto vol = EmbeddedVolume::mount(pool_, {});
		std::vector<std::unique_ptr<Session>> sessions;
		for (int f = 0; f < kFiles; f++) {
			sessions.push_back(vol->open_session({}));
			int fd = sessions.back()->open("/f" + std::to_string(f), true);
			for (uint64_t off = 0; off < kEach; off += 1 << 20)
				sessions.back()->pwrite(fd, off, filled(1 << 20, 'a' + f));
		}
		_exit(0); // no fsync, no unmount: a crash
	}
	int status = 0;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	vol_ = EmbeddedVolume::mount(pool_, {});
	uint64_t on_pool = 0;
	for (int f = 0; f < kFiles; f++)
		on_pool += vol_->stat("/f" + std::to_string(f)).size;
	EXPECT_GE(on_pool, kFiles * kEach - kVolumeDirtyPagesMax * kBlockSize - kEach)
	    << "more than the volume's bound stayed dirty in DRAM";
	vol_.reset();
}

// Item 4: offsets near 2^64 do not wrap. Before, a pwrite at 2^64-1024 overwrote the start
// of a page-cache file, and mread/mwrite reached bytes outside their mapping.
TEST_F(SafetyTest, RangesThatWrapAreInvalidAndChangeNothing)
{
	auto s = vol_->open_session({});
	int fd = s->open("/f", true);
	s->pwrite(fd, 0, filled(8192, 'a'));
	const uint64_t near_end = UINT64_MAX - 1023;
	EXPECT_EQ(test::error_code_of([&] { s->pwrite(fd, near_end, filled(2048, 'z')); }),
	          Errc::invalid_argument);
	int map = s->mmap(fd, 0, 4096, true);
	EXPECT_EQ(test::error_code_of([&] { s->mread(map, near_end, 2048); }),
	          Errc::invalid_argument);
	EXPECT_EQ(test::error_code_of([&] { s->mwrite(map, near_end, filled(2048, 'z')); }),
	          Errc::invalid_argument);
	EXPECT_EQ(test::error_code_of([&] { s->mmap(fd, 4096 * 4, UINT64_MAX - 4096, false); }),
	          Errc::invalid_argument);
	EXPECT_EQ(test::error_code_of([&] { s->pin(fd, near_end, 4096); }), Errc::invalid_argument);
	EXPECT_EQ(
	    test::error_code_of([&] { s->fallocate(fd, LayoutOp::punch_hole, near_end, 4096); }),
	    Errc::invalid_argument);
	EXPECT_EQ(s->pread(fd, 0, 8192), filled(8192, 'a'));
	EXPECT_EQ(s->fstat(fd).size, 8192u);
}

// Item 5: what fsck rejects, mount refuses with `corrupted` and the reason; it never serves
// it. Each damage below was mounted before and then served wrong data or names.
TEST_F(SafetyTest, MountRefusesWhatFsckRejects)
{
	{
		auto s = vol_->open_session({});
		vol_->mkdir("/d");
		s->pwrite(s->open("/d/f", true), 0, filled(4096, 'f'));
	}
	uint64_t dir_ino = vol_->stat("/d").ino, file_ino = vol_->stat("/d/f").ino;
	vol_.reset();
	const auto pristine = [&] {
		std::ifstream in(pool_, std::ios::binary);
		return std::string((std::istreambuf_iterator<char>(in)),
		                   std::istreambuf_iterator<char>());
	}();
	auto restore = [&] {
		std::ofstream out(pool_, std::ios::binary | std::ios::trunc);
		out << pristine;
	};
	PoolFile pf(pool_);
	const Superblock sb = pf.sb();
	auto bitmap_word = [&](uint64_t block) {
		return sb.bitmap_start * kBlockSize + block / 64 * 8;
	};
	DiskInode root = pf.inode(kRootIno), dir = pf.inode(dir_ino), file = pf.inode(file_ino);

	// The root directory's block marked free: a new file would be allocated over it.
	uint64_t w = pf.read<uint64_t>(bitmap_word(root.extents[0].pblk));
	pf.write(bitmap_word(root.extents[0].pblk),
	         w & ~(uint64_t{1} << (root.extents[0].pblk % 64)));
	expect_refused_as_corrupted("root's block marked free");
	restore();

	// nlink 0 on a named file: the next create would reuse its inode.
	DiskInode unlinked = file;
	unlinked.nlink = 0;
	pf.write(pf.inode_at(file_ino), unlinked);
	expect_refused_as_corrupted("nlink 0 on a named file");
	restore();

	// A directory cycle: /d holds an entry naming the root's child /d itself.
	Dirent loop{};
	loop.ino = dir_ino;
	loop.name_len = 4;
	std::memcpy(loop.name, "loop", 4);
	pf.write(dir.extents[0].pblk * kBlockSize + kDirentSize, loop);
	expect_refused_as_corrupted("directory cycle");
	restore();

	// A name with a newline, and an extent into the inode table.
	Dirent named = pf.read<Dirent>(dir.extents[0].pblk * kBlockSize);
	named.name[0] = '\n';
	pf.write(dir.extents[0].pblk * kBlockSize, named);
	expect_refused_as_corrupted("a name with a newline");
	restore();
	DiskInode into_metadata = file;
	into_metadata.extents[0].pblk = static_cast<uint32_t>(sb.inode_table_start);
	pf.write(pf.inode_at(file_ino), into_metadata);
	expect_refused_as_corrupted("an extent into the inode table");
	restore();

	// Unknown flag bits, and an extent chain pointing into the journal.
	DiskInode flagged = file;
	flagged.flags |= 1u << 7;
	pf.write(pf.inode_at(file_ino), flagged);
	expect_refused_as_corrupted("unknown inode flags");
	restore();
	DiskInode chained = file;
	chained.extent_count = kInlineExtents + 1;
	chained.extent_block = sb.journal_start;
	pf.write(pf.inode_at(file_ino), chained);
	expect_refused_as_corrupted("an extent chain into the journal");
	restore();

	// A total_blocks whose * 4096 wraps to a small number.
	Superblock huge = sb;
	huge.total_blocks = (uint64_t{1} << 52) + sb.total_blocks;
	pf.write(0, huge);
	expect_refused_as_corrupted("total_blocks * 4096 wraps");
	restore();

	EXPECT_NO_THROW(EmbeddedVolume::mount(pool_, {})) << "the undamaged pool mounts";
}

// Item 17: the journal header is checksummed whole. A damaged record_count (outside the
// old checksum) crashed every mount; now mount refuses it and fsck says what is wrong.
TEST_F(SafetyTest, DamagedJournalHeaderIsRefusedNotReplayed)
{
	vol_.reset();
	// A child commits a transaction and dies at its commit point: the journal is left
	// committed, to be replayed at the next mount.
	struct DieAtCommit : PersistObserver {
		uint64_t committed_at = 0;
		bool committed = false;
		void flushed(uint64_t offset, std::span<const std::byte> bytes) override
		{
			uint64_t one = 1;
			committed = offset == committed_at && bytes.size() == sizeof(one) &&
			            std::memcmp(bytes.data(), &one, sizeof(one)) == 0;
		}
		void drained() override
		{
			if (committed)
				_exit(0);
		}
	};
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		DieAtCommit observer;
		observer.committed_at = PoolFile(pool_).sb().journal_start * kBlockSize +
		                        offsetof(JournalHeader, committed);
		EmbeddedVolume::Options o;
		o.observer = &observer;
		auto vol = EmbeddedVolume::mount(pool_, o);
		vol->mkdir("/d");
		_exit(1);
	}
	int status = 0;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	PoolFile pf(pool_);
	uint64_t header = pf.sb().journal_start * kBlockSize;
	auto h = pf.read<JournalHeader>(header);
	ASSERT_EQ(h.committed, 1u);
	auto report = fsck(pool_);
	EXPECT_TRUE(report.clean()) << report.problems.front();
	ASSERT_FALSE(report.notes.empty());
	EXPECT_NE(report.notes.front().find("replayed here as mount will"), std::string::npos);
	JournalHeader damaged = h;
	damaged.record_count = UINT64_MAX / 2;
	pf.write(header, damaged);
	expect_refused_as_corrupted("record_count damaged");
	pf.write(header, h);
	vol_ = EmbeddedVolume::mount(pool_, {});
	EXPECT_EQ(vol_->stat("/d").type, FileType::directory) << "the transaction was replayed";
}

// Item 6: a pool is in use by one mount at a time; a second mount, fsck and mkfs are
// refused with `busy` naming the holder instead of corrupting it.
TEST_F(SafetyTest, AMountedPoolIsRefusedToEveryoneElse)
{
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int code = 0;
		try {
			EmbeddedVolume::mount(pool_, {});
		} catch (const Error &e) {
			code = e.code() == Errc::busy &&
			               std::string(e.what()).find(
			                   "pid " + std::to_string(getppid())) != std::string::npos
			           ? 10
			           : 1;
		}
		try {
			fsck(pool_);
		} catch (const Error &e) {
			code += e.code() == Errc::busy ? 10 : 1;
		}
		_exit(code);
	}
	int status = 0;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 20) << "a second mount and fsck were not refused as busy";
	EXPECT_TRUE(unmounted_fsck().clean());
}

// Item 9: an fallocate bound to fail (zero length, collapse past end-of-file) fails before
// it breaks anyone's lease: the holder keeps its mapping.
TEST_F(SafetyTest, InvalidSpaceOperationsDisturbNoHolder)
{
	EmbeddedVolume::Options o;
	o.lease_break_timeout = std::chrono::milliseconds(50);
	vol_.reset();
	vol_ = EmbeddedVolume::mount(pool_, o);
	auto holder = vol_->open_session({1, 0});
	auto breaker = vol_->open_session({2, 0});
	int hfd = holder->open("/f", true);
	holder->pwrite(hfd, 0, filled(8192, 'h'));
	int map = holder->mmap(hfd, 0, 8192, false);
	int bfd = breaker->open("/f", false);
	EXPECT_EQ(test::error_code_of(
	              [&] { breaker->fallocate(bfd, LayoutOp::collapse_range, 0, 8192); }),
	          Errc::invalid_argument);
	EXPECT_EQ(test::error_code_of([&] { breaker->fallocate(bfd, LayoutOp::punch_hole, 0, 0); }),
	          Errc::invalid_argument);
	EXPECT_EQ(test::error_code_of([&] { breaker->truncate(bfd, UINT64_MAX); }),
	          Errc::invalid_argument);
	EXPECT_EQ(holder->mread(map, 0, 8192), filled(8192, 'h')) << "the mapping was revoked";
	EXPECT_TRUE(holder->take_notices().empty());
}

// Item 20: names with a NUL or a newline are refused (fsck flags them in a pool); fsck
// reads a pool it may not write, and says what a file that is no pool is.
TEST_F(SafetyTest, BadNamesAndFilesThatAreNoPoolGetClearErrors)
{
	EXPECT_EQ(test::error_code_of([&] { vol_->create(std::string("/a\nb")); }),
	          Errc::invalid_argument);
	EXPECT_EQ(test::error_code_of([&] { vol_->create(std::string("/a\0b", 4)); }),
	          Errc::invalid_argument);
	vol_.reset();
	chmod(pool_.c_str(), 0444);
	chmod(dir_.path().c_str(), 0755); // so that nobody can reach the pool
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) { // as nobody, who may read the pool but not write it
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		try {
			_exit(fsck(pool_).clean() ? 0 : 1);
		} catch (const Error &) {
			_exit(2);
		}
	}
	int status = 0;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	if (geteuid() == 0) {
		ASSERT_TRUE(WIFEXITED(status));
		EXPECT_EQ(WEXITSTATUS(status), 0) << "fsck of a read-only pool failed";
	}
	std::ofstream(dir_ / "empty").close();
	EXPECT_EQ(test::error_code_of([&] { fsck(dir_ / "empty"); }), Errc::invalid_argument);
	EXPECT_EQ(test::error_code_of([&] { fsck("/dev/null"); }), Errc::invalid_argument);
	EXPECT_EQ(test::error_code_of([&] { EmbeddedVolume::mount(dir_ / "empty", {}); }),
	          Errc::invalid_argument);
}

// Item 18: a walk yields the volume lock between batches, so a walk of a large tree does
// not hold every other operation off for its length (and sees files made behind it).
TEST_F(SafetyTest, WalksLetGoOfTheVolumeBetweenBatches)
{
	vol_.reset();
	test::TempDir shm(std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : dir_.path());
	pool_ = shm / "walk.pool";
	fscore::mkfs(pool_, 256ull << 20); // room for 16,384 inodes
	vol_ = EmbeddedVolume::mount(pool_, {});
	vol_->mkdir("/d");
	for (int i = 0; i < 3000; i++)
		vol_->create("/d/f" + std::to_string(10000 + i));
	size_t seen = 0;
	bool made = false;
	vol_->walk("/", [&](const FileInfo &) {
		if (!made) { // made while the walk is under way, named after all the others
			vol_->create("/d/zzz");
			made = true;
		}
		seen++;
	});
	EXPECT_EQ(seen, 3000u + 3) << "/, /d, 3000 files and /d/zzz";
	vol_.reset();
}

// Item 20: a lease_break_timeout too large for the clock made the break's deadline wrap into
// the past, so a holder was revoked at once instead of being waited for.
TEST_F(SafetyTest, AHugeLeaseBreakTimeoutStillWaitsForTheHolder)
{
	EmbeddedVolume::Options o;
	o.lease_break_timeout = std::chrono::milliseconds::max();
	vol_.reset();
	vol_ = EmbeddedVolume::mount(pool_, o);
	auto holder = vol_->open_session({1, 0});
	int fd = holder->open("/f", true);
	holder->pwrite(fd, 0, filled(8192, 'h'));
	int map = holder->mmap(fd, 0, 8192, false);
	auto breaker = vol_->open_session({2, 0});
	int bfd = breaker->open("/f", false);
	std::thread truncate([&] { breaker->truncate(bfd, 0); });
	// The holder hears of the break (its notice), then lets go; the truncate then proceeds.
	while (holder->take_notices().empty())
		std::this_thread::yield();
	EXPECT_EQ(holder->mread(map, 0, 4096), filled(4096, 'h')) << "revoked, not waited for";
	holder->munmap(map);
	truncate.join();
	EXPECT_EQ(breaker->fstat(bfd).size, 0u);
}

} // namespace
