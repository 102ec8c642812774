// SPDX-License-Identifier: BSD-3-Clause
// Fault injection (issue 7): during a fixed random workload, each persistence call, block
// allocation and journal stage fails in turn, as sqlite's test VFS and PMDK's fault injection
// make every call fail once. Every failure must reach the caller as a daxpolicy::Error (never
// another exception, never a crash); the volume goes on serving; and the pool it leaves mounts
// (mount runs the same verifiers as fsck) and checks clean, whatever failed where.
#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/fault.hpp"
#include "fscore/embedded/ondisk/fsck.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/embedded/session.hpp"
#include "tests/support/invariants.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/workload.hpp"

#include <filesystem>
#include <gtest/gtest.h>

using namespace daxpolicy;
using namespace daxpolicy::fscore;

namespace
{

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kOperations = 12;
#else
constexpr int kOperations = 60;
#endif

class FaultInjection : public ::testing::TestWithParam<fault::Site>
{
      protected:
	void SetUp() override
	{
		fscore::mkfs(base_, kMinPoolSize);
		// The same pool, files and flags before every run: the workload starts from it.
		auto vol = EmbeddedVolume::mount(base_, {});
		vol->set_dax_flag("/", true);
		vol->mkdir("/cached");
	}
	void TearDown() override { fault::disarm(); }

	// Runs the workload on a fresh copy of the base pool with the `nth` call at the site
	// failing (0: none). Returns how many calls the site saw.
	uint64_t run(uint64_t nth)
	{
		std::filesystem::copy_file(base_, pool_,
		                           std::filesystem::copy_options::overwrite_existing);
		{
			EmbeddedVolume::Options o;
			o.free_step_extents = 2;
			o.free_step_blocks = 3;
			auto vol = EmbeddedVolume::mount(pool_, o);
			auto s = vol->open_session({});
			test::Workload work(11);
			fault::arm(GetParam(), nth ? nth : UINT64_MAX);
			for (int op = 0; op < kOperations; op++) {
				try {
					work.step(*vol, *s);
				} catch (const Error &) {
					failures_++; // the clean error the caller gets
				}
				// What a failed transaction staged in core was undone with it.
				EXPECT_TRUE(test::invariants_hold(*vol))
				    << "after operation " << op;
				// Anything else escaping is a test failure by itself.
			}
			s.reset();
		} // unmounted here: write-back may fail too, and must not crash
		uint64_t calls = fault::calls(GetParam());
		fault::disarm();
		SCOPED_TRACE("failing call " + std::to_string(nth));
		// A transaction cut short before its commit point left nothing; one cut short after
		// it is replayed here.
		EXPECT_NO_THROW(EmbeddedVolume::mount(pool_, {}));
		auto report = fsck(pool_);
		EXPECT_TRUE(report.clean()) << report.problems.front();
		return calls;
	}

	test::TempDir dir_{std::filesystem::is_directory("/dev/shm")
	                       ? std::filesystem::path("/dev/shm")
	                       : std::filesystem::temp_directory_path()};
	std::filesystem::path base_ = dir_ / "base.pool";
	std::filesystem::path pool_ = dir_ / "pool";
	uint64_t failures_ = 0;
};

TEST_P(FaultInjection, EveryFailureIsACleanErrorAndThePoolStaysConsistent)
{
	const uint64_t calls = run(0);
	ASSERT_GT(calls, 0u) << "the workload never reached the site";
	ASSERT_EQ(failures_, 0u) << "the workload fails with no fault";
	for (uint64_t nth = 1; nth <= calls && !HasFailure(); nth++)
		run(nth);
	EXPECT_GT(failures_, 0u) << "no injected fault reached a caller";
	RecordProperty("calls", int(calls));
}

INSTANTIATE_TEST_SUITE_P(Sites, FaultInjection,
                         ::testing::Values(fault::Site::persist, fault::Site::allocate,
                                           fault::Site::stage),
                         [](const auto &info) {
	                         switch (info.param) {
	                         case fault::Site::persist:
		                         return "Persist";
	                         case fault::Site::allocate:
		                         return "Allocate";
	                         case fault::Site::stage:
		                         return "Stage";
	                         }
	                         return "Unknown";
                         });

} // namespace
