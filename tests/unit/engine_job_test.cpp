// SPDX-License-Identifier: BSD-3-Clause
// Reconcile jobs as a user of `reconcile`, `add-rule`, `apply` and `status` meets them: they
// run in steps with the daemon's other work between them, a rule change supersedes the job
// it makes out of date, equal requests share a job, a job the daemon did not finish goes on
// at its next start, a dry run leaves nothing behind, and a step's changes are one commit.
// The engine runs on a loop of the test's own, stepped by hand.
#include "policy/engine.hpp"
#include "policy/store.hpp"
#include "policy/walk_stream.hpp"
#include "tests/support/fake_volume.hpp"
#include "tests/support/rule_builder.hpp"
#include "tests/support/temp_dir.hpp"

#include <condition_variable>
#include <deque>
#include <gtest/gtest.h>
#include <mutex>
#include <sqlite3.h>

using namespace daxpolicy;
using namespace daxpolicy::policy;

namespace
{

using test::make_rule;

// The daemon's event loop, reduced to a queue the test runs one item at a time. The walker
// thread posts to it (Dispatch) when it has files for a step that waits.
class ManualLoop
{
      public:
	void post(std::function<void()> work)
	{
		std::lock_guard lock(mutex_);
		queue_.push_back(std::move(work));
		posted_.notify_all();
	}
	// Runs the next item, waiting a little for one posted from another thread. False
	// when none came.
	bool run_one()
	{
		std::function<void()> work;
		{
			std::unique_lock lock(mutex_);
			if (!posted_.wait_for(lock, std::chrono::seconds(10),
			                      [&] { return !queue_.empty(); }))
				return false;
			work = std::move(queue_.front());
			queue_.pop_front();
		}
		work();
		return true;
	}
	// What the loop held goes with the daemon that posted it.
	void clear()
	{
		std::lock_guard lock(mutex_);
		queue_.clear();
	}
	// Runs until `done` holds; false if the loop ran dry first.
	bool run_until(const std::function<bool()> &done)
	{
		while (!done())
			if (!run_one())
				return false;
		return true;
	}

      private:
	std::mutex mutex_;
	std::condition_variable posted_;
	std::deque<std::function<void()>> queue_;
};

class EngineJobTest : public ::testing::Test
{
      protected:
	void SetUp() override
	{
		vol_.mkdir("/big");
		for (int i = 0; i < kFiles; i++)
			vol_.create("/big/f" + std::to_string(i));
		vol_.mkdir("/other");
		vol_.create("/other/x");
		start();
	}
	void TearDown() override { stop(); }

	void start()
	{
		start_without_waiting();
		// The start-up reconcile (no rules yet) ends at once.
		ASSERT_TRUE(loop_.run_until([&] { return !engine_->current_job(); }));
	}
	// As start, without running the start-up jobs.
	void start_without_waiting()
	{
		store_ = std::make_unique<Store>(dir_.path() / "db");
		engine_ = std::make_unique<Engine>(
		    *store_, std::map<std::string, fscore::Volume *>{{"pool0", &vol_}},
		    [this](std::function<void()> f) { loop_.post(std::move(f)); },
		    [this](std::chrono::milliseconds, std::function<void()> f) {
			    loop_.post(std::move(f));
		    });
		engine_->start();
	}
	void stop()
	{
		engine_.reset();
		store_.reset();
		loop_.clear();
	}
	size_t flagged_under(const std::string &dir)
	{
		size_t n = 0;
		vol_.walk(dir, [&](const fscore::FileInfo &f) { n += f.dax_flag; });
		return n;
	}
	std::vector<Event> events_of(const std::string &type)
	{
		EventQuery q;
		q.types = {type};
		return store_->events(q);
	}

	static constexpr int kFiles = 3000;
	test::TempDir dir_;
	test::FakeVolume vol_;
	ManualLoop loop_;
	std::unique_ptr<Store> store_;
	std::unique_ptr<Engine> engine_;
};

TEST_F(EngineJobTest, AJobRunsInStepsWithOtherWorkBetweenThem)
{
	std::optional<JobReport> report;
	engine_->add_rule(make_rule("big", "/big", true), [&](const JobReport &r) { report = r; });
	// The call returned before the files changed: the job runs from the loop.
	EXPECT_FALSE(report);
	ASSERT_TRUE(engine_->current_job());
	EXPECT_EQ(flagged_under("/big"), 0u);

	// A few items of the loop: the job has made progress but is not done, and between
	// two of its steps anything else the loop holds runs (a request, here).
	bool other_ran = false;
	loop_.post([&] { other_ran = true; });
	ASSERT_TRUE(loop_.run_until([&] { return other_ran; }));
	EXPECT_FALSE(report) << "a request queued behind the first step waited for the whole job";
	size_t midway = flagged_under("/big");
	EXPECT_LT(midway, size_t{kFiles});

	ASSERT_TRUE(loop_.run_until([&] { return report.has_value(); }));
	EXPECT_EQ(report->state, JobState::done);
	EXPECT_EQ(report->files.applied, uint64_t{kFiles} + 1); // the files and /big
	EXPECT_EQ(report->done, uint64_t{kFiles} + 1);
	EXPECT_EQ(flagged_under("/big"), size_t{kFiles} + 1);
	EXPECT_FALSE(engine_->current_job());
	// One summary event beside the files' own.
	auto summaries = events_of("reconcile");
	ASSERT_FALSE(summaries.empty());
	EXPECT_EQ(summaries.back().data["job"], report->id);
	EXPECT_EQ(summaries.back().data["files"]["applied"], kFiles + 1);
	EXPECT_EQ(events_of("flag-change").size(), size_t{kFiles} + 1);
}

TEST_F(EngineJobTest, ARuleChangeSupersedesTheJobItMakesOutOfDate)
{
	std::vector<JobReport> first_done;
	engine_->add_rule(make_rule("big", "/big", true),
	                  [&](const JobReport &r) { first_done.push_back(r); });
	ASSERT_TRUE(loop_.run_one()); // a step of the first job
	uint64_t first = engine_->current_job()->id;

	// Rule "off" for the same files arrives midway: the first job's remaining decisions
	// are stale, so it stops and the new job covers what it left.
	std::optional<JobReport> second_done;
	engine_->add_rule(make_rule("big-off", "/big", false).priority(10),
	                  [&](const JobReport &r) { second_done = r; });
	ASSERT_TRUE(engine_->current_job());
	EXPECT_NE(engine_->current_job()->id, first);
	ASSERT_TRUE(loop_.run_until([&] { return second_done.has_value(); }));
	// Whoever waited for the first job hears when the work it asked for is done.
	ASSERT_EQ(first_done.size(), 1u);
	EXPECT_EQ(first_done[0].id, second_done->id);
	EXPECT_EQ(flagged_under("/big"), 0u) << "the newer rule wins everywhere";
	bool superseded = false;
	for (const auto &e : events_of("reconcile"))
		superseded |= e.data["job"] == first && e.data["state"] == "superseded";
	EXPECT_TRUE(superseded);
}

TEST_F(EngineJobTest, EqualRequestsShareOneQueuedJob)
{
	engine_->add_rule(make_rule("big", "/big", true));
	ASSERT_TRUE(engine_->current_job());
	int heard = 0;
	uint64_t a = engine_->reconcile("pool0", std::nullopt, [&](const JobReport &) { heard++; });
	uint64_t b = engine_->reconcile("pool0", std::nullopt, [&](const JobReport &) { heard++; });
	EXPECT_EQ(a, b);
	EXPECT_EQ(engine_->jobs_waiting(), 1u);
	ASSERT_TRUE(loop_.run_until([&] { return heard == 2; }));
	EXPECT_FALSE(engine_->current_job());
}

TEST_F(EngineJobTest, AJobTheDaemonDidNotFinishGoesOnAtItsNextStart)
{
	engine_->add_rule(make_rule("big", "/big", true));
	// Steps until some of it is committed, then the daemon goes (as kill -9 would
	// leave the store: the job is `running` there).
	ASSERT_TRUE(loop_.run_until([&] { return flagged_under("/big") > 0; }));
	uint64_t id = engine_->current_job()->id;
	ASSERT_LT(flagged_under("/big"), size_t{kFiles} + 1);
	stop();

	start_without_waiting();
	// The resumed job and the start-up reconcile run; then every file is as the rule says.
	ASSERT_TRUE(loop_.run_until([&] { return !engine_->current_job(); }));
	EXPECT_EQ(flagged_under("/big"), size_t{kFiles} + 1);
	bool resumed = false;
	for (const auto &e : events_of("reconcile"))
		resumed |=
		    e.data.value("resumed_from", uint64_t{0}) == id && e.data["state"] == "done";
	EXPECT_TRUE(resumed);
}

TEST_F(EngineJobTest, ADryRunLeavesNothingBehind)
{
	int64_t events = store_->count("events");
	int64_t jobs = store_->count("jobs");
	std::optional<JobReport> plan;
	engine_->apply({make_rule("big", "/big", true).managed()}, true,
	               [&](const JobReport &r) { plan = r; });
	ASSERT_TRUE(loop_.run_until([&] { return plan.has_value(); }));
	EXPECT_TRUE(plan->dry_run);
	EXPECT_EQ(plan->files.applied, uint64_t{kFiles} + 1);
	EXPECT_EQ(flagged_under("/big"), 0u);
	EXPECT_EQ(store_->count("events"), events);
	EXPECT_EQ(store_->count("jobs"), jobs);
	EXPECT_TRUE(store_->rules().empty());
}

TEST_F(EngineJobTest, EachStepCommitsItsChangesTogether)
{
	int commits = 0;
	sqlite3_commit_hook(
	    store_->database().handle(),
	    [](void *n) {
		    ++*static_cast<int *>(n);
		    return 0;
	    },
	    &commits);
	std::optional<JobReport> report;
	engine_->add_rule(make_rule("big", "/big", true), [&](const JobReport &r) { report = r; });
	ASSERT_TRUE(loop_.run_until([&] { return report.has_value(); }));
	sqlite3_commit_hook(store_->database().handle(), nullptr, nullptr);
	// A commit a file would be kFiles of them; a step holds up to hundreds of files.
	EXPECT_LT(commits, kFiles / 20) << commits << " commits for " << kFiles << " files";
}

// The volume is asked once a step for all its changes (for the embedded core, one journal
// transaction), not once a file; files that are mapped still queue, each with its event.
TEST_F(EngineJobTest, EachStepAsksTheVolumeOnceForAllItsChanges)
{
	vol_.map("/big/f7");
	vol_.map("/big/f2999");
	std::optional<JobReport> report;
	engine_->add_rule(make_rule("big", "/big", true), [&](const JobReport &r) { report = r; });
	ASSERT_TRUE(loop_.run_until([&] { return report.has_value(); }));
	// /big itself and every file in it but the two mapped ones.
	EXPECT_EQ(report->files.applied, uint64_t(kFiles - 2 + 1));
	EXPECT_EQ(report->files.deferred, 2u);
	EXPECT_EQ(flagged_under("/big"), size_t(kFiles - 2 + 1));
	EXPECT_EQ(vol_.single_calls(), 0u);
	EXPECT_GE(vol_.batch_calls(), 1u);
	EXPECT_LT(vol_.batch_calls(), unsigned(kFiles / 20))
	    << "a step holds up to hundreds of files";
	EXPECT_EQ(store_->pending().size(), 2u);
	EXPECT_EQ(events_of("deferred").size(), 2u);
	EXPECT_EQ(events_of("flag-change").size(), size_t(kFiles - 2 + 1));
}

TEST(WalkStreamTest, TheWalkerWaitsWhileItsQueueIsFullAndStopsWhenDropped)
{
	test::FakeVolume vol;
	vol.mkdir("/d");
	for (int i = 0; i < 500; i++)
		vol.create("/d/f" + std::to_string(i));
	std::atomic<int> offered{0};
	{
		WalkStream walk(
		    vol, "/d",
		    [&](const fscore::FileInfo &) {
			    offered++;
			    return true;
		    },
		    0, 8);
		std::vector<fscore::FileInfo> files;
		walk.wait();
		// Not taken: the walker holds at most the queue and the file it offers.
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		EXPECT_LE(offered.load(), 10);
		EXPECT_EQ(walk.take(files, 100), 8u);
		// Dropped midway: joins without walking the rest.
	}
	EXPECT_LT(offered.load(), 500);
}

TEST(WalkStreamTest, FilesTheFilterDropsAreCountedAsDone)
{
	test::FakeVolume vol;
	vol.mkdir("/d");
	for (int i = 0; i < 100; i++)
		vol.create("/d/f" + std::to_string(i));
	WalkStream walk(vol, "/d", [](const fscore::FileInfo &f) { return f.path == "/d/f7"; });
	std::vector<fscore::FileInfo> files;
	while (!walk.drained()) {
		walk.wait();
		walk.take(files, 10);
	}
	ASSERT_EQ(files.size(), 1u);
	EXPECT_EQ(files[0].path, "/d/f7");
	EXPECT_EQ(walk.done(), 101u); // the directory and its files
}

} // namespace
