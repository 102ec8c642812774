// SPDX-License-Identifier: BSD-3-Clause
// Layout leases of the embedded core: every operation that changes the extent map breaks
// the leases it overlaps, in the same way; pins hold blocks as in-flight DMA does.
#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/fsck.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/embedded/session.hpp"
#include "tests/support/bytes.hpp"
#include "tests/support/pool_test.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <future>
#include <gtest/gtest.h>
#include <iterator>
#include <set>
#include <thread>

using namespace daxpolicy;
using namespace daxpolicy::fscore;
using namespace std::chrono_literals;

namespace
{

using test::filled;

class LeaseTest : public test::PoolTest
{
      protected:
	void SetUp() override { make_pool(); }
	void mount(std::chrono::milliseconds timeout)
	{
		EmbeddedVolume::Options o;
		o.lease_break_timeout = timeout;
		o.waits_for_break = [this](std::string_view waiting) {
			std::lock_guard lock(events_mutex_);
			waits_.emplace_back(waiting);
			waited_.notify_all();
		};
		PoolTest::mount(o);
		vol_->set_dax_flag("/", true);
		sub_ = vol_->subscribe([this](const VolumeEvent &e) {
			std::lock_guard lock(events_mutex_);
			if (e.lease)
				outcomes_.push_back(
				    std::string(e.kind == VolumeEvent::Kind::lease_revoked
				                    ? "lease-revoked:"
				                    : "lease-break:") +
				    e.lease->op + ":" + e.lease->outcome);
		});
		holder_ = vol_->open_session({100, 1000});
		breaker_ = vol_->open_session({200, 0});
		hfd_ = holder_->open("/f", true);
		bfd_ = breaker_->open("/f", false);
		breaker_->pwrite(bfd_, 0, filled(256 * 1024, 'd'));
	}
	// Waits (bounded) until a lease of the file is in `state`.
	bool wait_lease_state(LeaseState state)
	{
		for (int i = 0; i < 2000; i++) {
			for (const auto &l : vol_->leases(std::string("/f")))
				if (l.state == state)
					return true;
			std::this_thread::sleep_for(5ms);
		}
		return false;
	}
	// The pool blocks of a file, read through a second mapping of the pool.
	// The pool blocks of a file of the mounted pool, read from the pool file itself (the
	// volume holds the pool locked, so not through another mount): its inline extents.
	std::set<uint64_t> blocks_of(uint64_t ino)
	{
		std::ifstream in(pool_, std::ios::binary);
		Superblock sb;
		in.read(reinterpret_cast<char *>(&sb), sizeof(sb));
		DiskInode di;
		in.seekg(static_cast<std::streamoff>(sb.inode_table_start * kBlockSize +
		                                     ino * kInodeSize));
		in.read(reinterpret_cast<char *>(&di), sizeof(di));
		EXPECT_TRUE(in && di.extent_count <= kInlineExtents);
		std::set<uint64_t> out;
		for (uint32_t i = 0; i < std::min<uint32_t>(di.extent_count, kInlineExtents); i++)
			for (uint64_t b = di.extents[i].pblk;
			     b < uint64_t{di.extents[i].pblk} + di.extents[i].len; b++)
				out.insert(b);
		return out;
	}
	// Waits (bounded) until `what` has started to wait for a break to end.
	bool wait_until_waiting(const std::string &what)
	{
		std::unique_lock lock(events_mutex_);
		return waited_.wait_for(lock, 60s, [&] {
			return std::find(waits_.begin(), waits_.end(), what) != waits_.end();
		});
	}
	std::vector<std::string> outcomes()
	{
		std::lock_guard lock(events_mutex_);
		return outcomes_;
	}

	Subscription sub_;
	std::mutex events_mutex_; // protects outcomes_ and waits_
	std::condition_variable waited_;
	std::vector<std::string> outcomes_;
	std::vector<std::string> waits_; // what started to wait for a break, in order
	std::unique_ptr<Session> holder_, breaker_;
	int hfd_ = -1, bfd_ = -1;
};

TEST_F(LeaseTest, PunchWaitsForTheHolderToLetGo)
{
	mount(30s);
	int map = holder_->mmap(hfd_, 0, 64 * 1024, false);
	auto punch = std::async(std::launch::async,
	                        [&] { breaker_->fallocate(bfd_, LayoutOp::punch_hole, 0, 8192); });
	ASSERT_TRUE(wait_lease_state(LeaseState::breaking));
	EXPECT_EQ(punch.wait_for(0s), std::future_status::timeout) << "did not wait for the holder";
	auto notices = holder_->take_notices();
	ASSERT_EQ(notices.size(), 1u);
	EXPECT_EQ(notices[0].op, "punch-hole");
	EXPECT_TRUE(notices[0].must_release);
	holder_->munmap(map);
	punch.get();
	EXPECT_EQ(breaker_->pread(bfd_, 0, 8192), filled(8192, 0));
	EXPECT_EQ(outcomes(), std::vector<std::string>{"lease-break:punch-hole:released"});
}

TEST_F(LeaseTest, HolderCanReadAndWriteWhileItsLeaseIsBroken)
{
	// A holder learns of a break from its next command's reply, so that command must not
	// wait behind the break: it would only end when the break revoked the holder.
	mount(30s);
	int map = holder_->mmap(hfd_, 0, 64 * 1024, false);
	auto truncate = std::async(std::launch::async, [&] { breaker_->truncate(bfd_, 4096); });
	ASSERT_TRUE(wait_lease_state(LeaseState::breaking));
	EXPECT_EQ(holder_->pread(hfd_, 8192, 4096), filled(4096, 'd'));
	holder_->pwrite(hfd_, 0, filled(100, 'h'));
	ASSERT_EQ(holder_->take_notices().size(), 1u);
	holder_->munmap(map);
	truncate.get();
	EXPECT_EQ(outcomes(), std::vector<std::string>{"lease-break:truncate:released"});
	auto head = filled(4096, 'd');
	std::fill_n(head.begin(), 100, std::byte('h'));
	EXPECT_EQ(breaker_->pread(bfd_, 0, 8192), head);
}

TEST_F(LeaseTest, PinMadeDuringABreakWaitsForIt)
{
	// A pin is in-flight DMA, which a break must see; one made while the break waits for
	// mappings waits for the break instead of slipping past it.
	mount(30s);
	int map = holder_->mmap(hfd_, 0, 64 * 1024, false);
	auto punch = std::async(std::launch::async,
	                        [&] { breaker_->fallocate(bfd_, LayoutOp::punch_hole, 0, 8192); });
	ASSERT_TRUE(wait_lease_state(LeaseState::breaking));
	auto dma = vol_->open_session({300, 0});
	int dfd = dma->open("/f", false);
	auto pin = std::async(std::launch::async, [&] { dma->pin(dfd, 0, 8192); });
	ASSERT_TRUE(wait_until_waiting("pin")) << "the pin did not wait for the break";
	EXPECT_EQ(pin.wait_for(0s), std::future_status::timeout) << "pinned during the break";
	holder_->munmap(map);
	punch.get();
	pin.get();
	auto leases = vol_->leases(std::string("/f"));
	ASSERT_EQ(leases.size(), 1u);
	EXPECT_EQ(leases[0].kind, LeaseKind::pin);
}

TEST_F(LeaseTest, SecondBreakWaitsForTheFirst)
{
	// While a break waits for a holder it has let go of the file's locks; a second
	// operation on the file must not pass over the lease that is `breaking` and take
	// blocks from under the holder.
	mount(30s);
	int map = holder_->mmap(hfd_, 0, 64 * 1024, false);
	auto truncate = std::async(std::launch::async, [&] { breaker_->truncate(bfd_, 4096); });
	ASSERT_TRUE(wait_lease_state(LeaseState::breaking));
	auto other = vol_->open_session({300, 0});
	int ofd = other->open("/f", false);
	auto punch = std::async(std::launch::async,
	                        [&] { other->fallocate(ofd, LayoutOp::punch_hole, 8192, 8192); });
	ASSERT_TRUE(wait_until_waiting("punch-hole")) << "the punch did not wait for the break";
	EXPECT_EQ(punch.wait_for(0s), std::future_status::timeout) << "punched during the break";
	holder_->munmap(map);
	truncate.get();
	punch.get();
	EXPECT_EQ(outcomes(), std::vector<std::string>{"lease-break:truncate:released"});
}

TEST_F(LeaseTest, MappingWaitingForABreakGivesUpWhenItsSessionIsCancelled)
{
	// The daemon cancels a session whose client went away, then joins its worker: a
	// worker waiting in mmap for a break must come back at once, not when the break ends.
	mount(30s);
	int map = holder_->mmap(hfd_, 0, 64 * 1024, false);
	auto truncate = std::async(std::launch::async, [&] { breaker_->truncate(bfd_, 4096); });
	ASSERT_TRUE(wait_lease_state(LeaseState::breaking));
	auto late = vol_->open_session({300, 0});
	int lfd = late->open("/f", false);
	auto mapping =
	    std::async(std::launch::async, [&] { return late->mmap(lfd, 0, 4096, false); });
	late->cancel();
	try {
		mapping.get();
		ADD_FAILURE() << "mmap went through while the break ran";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Errc::timeout) << e.what();
	}
	EXPECT_EQ(truncate.wait_for(0s), std::future_status::timeout);
	holder_->munmap(map);
	truncate.get();
}

TEST_F(LeaseTest, AccessThroughARevokedMappingFailsEvenAfterTheFileIsClosed)
{
	mount(50ms);
	int map = holder_->mmap(hfd_, 0, 64 * 1024, true);
	breaker_->truncate(bfd_, 0);
	holder_->close(hfd_);
	breaker_->close(bfd_); // the last use: the file leaves the in-core table
	for (auto access :
	     {std::function<void()>([&] { holder_->mread(map, 0, 10); }),
	      std::function<void()>([&] { holder_->mwrite(map, 0, filled(1, 'x')); })}) {
		try {
			access();
			ADD_FAILURE() << "access through a revoked mapping succeeded";
		} catch (const Error &e) {
			EXPECT_EQ(e.code(), Errc::revoked) << e.what();
		}
	}
	holder_->munmap(map);
}

TEST_F(LeaseTest, HolderThatHangsOnIsRevokedAndItsBlocksQuarantined)
{
	mount(100ms);
	int map = holder_->mmap(hfd_, 0, 64 * 1024, false);
	std::set<uint64_t> before = blocks_of(breaker_->fstat(bfd_).ino);
	breaker_->fallocate(bfd_, LayoutOp::punch_hole, 4096, 64 * 1024);
	std::set<uint64_t> punched;
	std::set<uint64_t> after = blocks_of(breaker_->fstat(bfd_).ino);
	std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
	                    std::inserter(punched, punched.begin()));
	ASSERT_EQ(punched.size(), 16u);
	try {
		holder_->mread(map, 0, 16);
		FAIL() << "a revoked mapping still reads";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Errc::revoked);
	}
	EXPECT_EQ(outcomes(), (std::vector<std::string>{"lease-break:punch-hole:revoked",
	                                                "lease-revoked:punch-hole:revoked"}));
	EXPECT_EQ(vol_->stat("/f").mapped, 0u) << "a revoked mapping no longer counts";
	// The punched blocks are free on the pool but not handed out while the revoked holder
	// still has its mapping: a new file must get other blocks.
	// Refilling the hole aims the allocator right at the punched blocks (the block after
	// block 0's): they must not be handed out while the revoked holder may reach them.
	breaker_->pwrite(bfd_, 4096, filled(4096, 'n'));
	for (uint64_t b : blocks_of(breaker_->fstat(bfd_).ino))
		EXPECT_FALSE(punched.count(b)) << "quarantined block " << b << " reused";
	holder_->munmap(map);
	EXPECT_TRUE(vol_->leases(std::nullopt).empty());
	holder_.reset();
	breaker_.reset();
	vol_.reset();
	auto report = fsck(pool_);
	EXPECT_TRUE(report.clean()) << (report.problems.empty() ? "" : report.problems[0]);
}

TEST_F(LeaseTest, PinnedBlocksMakeRemovalFailWithBusyAndChangeNothing)
{
	mount(100ms);
	holder_->pin(hfd_, 0, 4096);
	try {
		breaker_->fallocate(bfd_, LayoutOp::collapse_range, 0, 4096);
		FAIL() << "collapsed pinned blocks";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Errc::busy);
	}
	EXPECT_EQ(breaker_->fstat(bfd_).size, 256u * 1024) << "a failed operation changed the file";
	EXPECT_EQ(breaker_->pread(bfd_, 0, 4096), filled(4096, 'd'));
	EXPECT_EQ(outcomes(), std::vector<std::string>{"lease-break:collapse-range:busy"});
	// Outside the pinned range, and once unpinned, it goes through.
	breaker_->fallocate(bfd_, LayoutOp::punch_hole, 8192, 4096);
	holder_->unpin();
	breaker_->fallocate(bfd_, LayoutOp::collapse_range, 0, 4096);
	EXPECT_EQ(breaker_->fstat(bfd_).size, 252u * 1024);
}

TEST_F(LeaseTest, PinOutlastingTheWaitIsReleasedInTime)
{
	mount(30s);
	holder_->pin(hfd_, 0, 4096);
	auto truncate = std::async(std::launch::async, [&] { breaker_->truncate(bfd_, 0); });
	EXPECT_EQ(truncate.wait_for(50ms), std::future_status::timeout);
	holder_->unpin();
	truncate.get();
	EXPECT_EQ(breaker_->fstat(bfd_).size, 0u);
}

// An allocating write under a mapping tells the holder without waiting, and the mapping
// sees the new data, never a zero page left from reading the hole (the 2016 race).
TEST_F(LeaseTest, AllocationUnderAMappingNotifiesAndTheMappingSeesNewData)
{
	mount(30s);
	breaker_->fallocate(bfd_, LayoutOp::punch_hole, 64 * 1024, 64 * 1024);
	int map = holder_->mmap(hfd_, 0, 256 * 1024, false);
	EXPECT_EQ(holder_->mread(map, 64 * 1024, 4096), filled(4096, 0)) << "a hole reads zeros";
	breaker_->pwrite(bfd_, 64 * 1024, filled(4096, 'w'));
	EXPECT_EQ(holder_->mread(map, 64 * 1024, 4096), filled(4096, 'w'));
	auto notices = holder_->take_notices();
	ASSERT_EQ(notices.size(), 1u);
	EXPECT_EQ(notices[0].op, "write");
	EXPECT_FALSE(notices[0].must_release);
	EXPECT_EQ(outcomes(), std::vector<std::string>{"lease-break:write:notified"});
	// Overwriting blocks that exist changes no layout: nobody is told.
	breaker_->pwrite(bfd_, 0, filled(4096, 'o'));
	EXPECT_TRUE(holder_->take_notices().empty());
}

// Insert range shifts blocks under a mapping beyond its offset, so it breaks leases there
// exactly as collapse range does (the 2018 argument).
TEST_F(LeaseTest, InsertRangeBreaksLeasesBeyondItsOffsetLikeCollapse)
{
	mount(100ms);
	for (LayoutOp op : {LayoutOp::insert_range, LayoutOp::collapse_range}) {
		int map = holder_->mmap(hfd_, 128 * 1024, 64 * 1024, false);
		breaker_->fallocate(bfd_, op, 0, 4096);
		EXPECT_THROW(holder_->mread(map, 0, 1), Error) << layout_op_name(op);
		holder_->munmap(map);
	}
	EXPECT_EQ(outcomes(), (std::vector<std::string>{"lease-break:insert-range:revoked",
	                                                "lease-revoked:insert-range:revoked",
	                                                "lease-break:collapse-range:revoked",
	                                                "lease-revoked:collapse-range:revoked"}));
}

TEST_F(LeaseTest, TheBreakersOwnMappingIsNotBroken)
{
	mount(100ms);
	int map = breaker_->mmap(bfd_, 0, 64 * 1024, false);
	breaker_->fallocate(bfd_, LayoutOp::punch_hole, 0, 4096);
	EXPECT_EQ(breaker_->mread(map, 0, 4096), filled(4096, 0));
	EXPECT_TRUE(outcomes().empty());
}

TEST_F(LeaseTest, LeasesAreListedAndGoWithTheirSession)
{
	mount(30s);
	holder_->mmap(hfd_, 0, 8192, true);
	holder_->pin(hfd_, 0, 4096);
	auto list = vol_->leases(std::string("/f"));
	ASSERT_EQ(list.size(), 2u);
	EXPECT_EQ(list[0].kind, LeaseKind::mapping);
	EXPECT_EQ(list[0].holder.pid, 100);
	EXPECT_EQ(list[0].holder.uid, 1000u);
	EXPECT_EQ(list[0].length, 8192u);
	EXPECT_EQ(list[1].kind, LeaseKind::pin);
	holder_.reset();
	EXPECT_TRUE(vol_->leases(std::nullopt).empty());
}

} // namespace
