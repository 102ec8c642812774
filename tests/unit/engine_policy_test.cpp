// SPDX-License-Identifier: BSD-3-Clause
// The policy engine on its own, over a volume in memory, as a user of `list`, `list-events`,
// `list-pending`, `set-dax`, `add-rule` and `apply` sees it: states, flags and events. The
// test plays the other processes, creating, opening and mapping files, and may act between
// the engine's look at a file and its change. engine_pair_test.cpp runs the engine over the
// embedded core, for what the two do together.
#include "common/error.hpp"
#include "policy/engine.hpp"
#include "policy/store.hpp"
#include "tests/support/engine_fixture.hpp"
#include "tests/support/error_code.hpp"
#include "tests/support/fake_volume.hpp"
#include "tests/support/rule_builder.hpp"

#include <algorithm>
#include <gtest/gtest.h>

using namespace daxpolicy;
using namespace daxpolicy::fscore;
using namespace daxpolicy::policy;

namespace
{

using test::error_code_of;
using test::make_rule;
using test::of_type;

class EnginePolicyTest : public test::EngineFixture
{
      protected:
	void SetUp() override { start_engine(vol_); }

	// A file another process has open and mapped: what a database's WAL looks like.
	void create_open_and_map(const std::string &path)
	{
		vol_.create(path);
		vol_.open(path);
		vol_.map(path);
	}

	test::FakeVolume vol_;
};

TEST_F(EnginePolicyTest, AddRuleAppliesToExistingFilesAndDirectoriesAtOnce)
{
	vol_.mkdir("/db");
	vol_.mkdir("/db/wal");
	vol_.mkdir("/db/wal/sub");
	vol_.create("/db/wal/a.log");
	vol_.create("/db/wal/sub/b.log");
	vol_.create("/db/other");
	EXPECT_EQ(state("/db/wal/a.log"), "unmanaged");

	Rule added = engine_->add_rule(make_rule("wal", "/db/wal", true));
	EXPECT_FALSE(added.managed());

	for (const char *p : {"/db/wal", "/db/wal/sub", "/db/wal/a.log", "/db/wal/sub/b.log"}) {
		FileView v = view(p);
		EXPECT_TRUE(v.file.dax_flag) << p;
		EXPECT_EQ(v.state, FileState::in_sync) << p;
		EXPECT_EQ(v.desired, std::optional<bool>(true)) << p;
		EXPECT_EQ(v.rule, std::optional<std::string>("wal")) << p;
		auto changes = events("flag-change", p);
		ASSERT_EQ(changes.size(), 1u) << p;
		EXPECT_EQ(changes[0].data["from"], false);
		EXPECT_EQ(changes[0].data["to"], true);
		EXPECT_EQ(changes[0].data["rule"], "wal");
		EXPECT_EQ(changes[0].data["deferred_ms"], 0);
	}
	// Not in use: the effective state follows the flag at once (inode mode).
	EXPECT_TRUE(view("/db/wal/a.log").file.dax_effective);
	EXPECT_FALSE(view("/db/wal").file.dax_effective) << "directories are never effective";
	// Outside the subtree nothing moved.
	for (const char *p : {"/db", "/db/other", "/"}) {
		EXPECT_FALSE(flag(p)) << p;
		EXPECT_EQ(state(p), "unmanaged") << p;
		EXPECT_FALSE(view(p).rule) << p;
		EXPECT_TRUE(events("flag-change", p).empty()) << p;
	}

	auto rule_changes = store_->events(of_type("rule-change"));
	ASSERT_EQ(rule_changes.size(), 1u);
	EXPECT_EQ(rule_changes[0].volume, "pool0");
	EXPECT_EQ(rule_changes[0].path, "/db/wal");
	EXPECT_EQ(rule_changes[0].data["rule"], "wal");
	EXPECT_EQ(rule_changes[0].data["action"], "added");
	ASSERT_EQ(engine_->rules().size(), 1u);
	EXPECT_EQ(engine_->rules()[0], added);
}

TEST_F(EnginePolicyTest, AddRuleOffClearsTheFlag)
{
	vol_.mkdir("/cold");
	vol_.set_dax_flag("/cold", true);
	vol_.create("/cold/f"); // inherits the flag
	ASSERT_TRUE(flag("/cold/f"));
	engine_->add_rule(make_rule("cold", "/cold", false));
	EXPECT_FALSE(flag("/cold"));
	EXPECT_FALSE(flag("/cold/f"));
	EXPECT_FALSE(view("/cold/f").file.dax_effective);
	EXPECT_EQ(state("/cold/f"), "in-sync");
	auto changes = events("flag-change", "/cold/f");
	ASSERT_EQ(changes.size(), 1u);
	EXPECT_EQ(changes[0].data["from"], true);
	EXPECT_EQ(changes[0].data["to"], false);
}

TEST_F(EnginePolicyTest, IncludeAndExcludeGlobsChooseFilesButNotDirectories)
{
	vol_.mkdir("/logs");
	vol_.mkdir("/logs/d");
	vol_.create("/logs/a.log");
	vol_.create("/logs/b.txt");
	vol_.create("/logs/skip-1.log");
	vol_.create("/logs/d/c.log");

	engine_->add_rule(make_rule("logs", "/logs", true).include({"*.log"}).exclude({"skip-*"}));

	EXPECT_TRUE(flag("/logs/a.log"));
	EXPECT_EQ(state("/logs/a.log"), "in-sync");
	EXPECT_TRUE(flag("/logs/d/c.log"));
	// Directories do not carry it: names the globs turn away would inherit it.
	for (const char *p : {"/logs", "/logs/d"}) {
		FileView d = view(p);
		EXPECT_FALSE(d.file.dax_flag) << p;
		EXPECT_EQ(d.rule, std::optional<std::string>("logs")) << p;
		EXPECT_EQ(d.desired, std::optional<bool>(false)) << p;
		EXPECT_EQ(d.state, FileState::in_sync) << p;
	}
	// Names the rule does not take: no rule covers them, and they are left alone.
	for (const char *p : {"/logs/b.txt", "/logs/skip-1.log"}) {
		EXPECT_FALSE(flag(p)) << p;
		EXPECT_EQ(state(p), "unmanaged") << p;
		EXPECT_FALSE(view(p).desired) << p;
	}
}

TEST_F(EnginePolicyTest, DeeperSubtreeWinsThenPriority)
{
	vol_.mkdir("/db");
	vol_.mkdir("/db/cold");
	vol_.create("/db/hot.dat");
	vol_.create("/db/cold/old.dat");
	engine_->add_rule(make_rule("db", "/db", true).priority(100));
	engine_->add_rule(make_rule("db-cold", "/db/cold", false));
	EXPECT_TRUE(flag("/db/hot.dat"));
	EXPECT_FALSE(flag("/db/cold"));
	EXPECT_FALSE(flag("/db/cold/old.dat"));
	EXPECT_EQ(view("/db/cold/old.dat").rule, std::optional<std::string>("db-cold"));
	EXPECT_EQ(state("/db/cold/old.dat"), "in-sync");

	// Same subtree: the higher priority decides.
	engine_->add_rule(make_rule("db-off", "/db", false).include({"*.dat"}).priority(200));
	EXPECT_FALSE(flag("/db/hot.dat"));
	EXPECT_EQ(view("/db/hot.dat").rule, std::optional<std::string>("db-off"));
	EXPECT_EQ(state("/db/hot.dat"), "in-sync");
}

TEST_F(EnginePolicyTest, NewFileInheritsTheFlagOfItsDirectory)
{
	vol_.mkdir("/data");
	engine_->add_rule(make_rule("data", "/data", true));
	ASSERT_TRUE(flag("/data"));

	vol_.create("/data/new");
	vol_.mkdir("/data/sub");
	vol_.create("/data/sub/deeper");
	for (const char *p : {"/data/new", "/data/sub", "/data/sub/deeper"}) {
		EXPECT_TRUE(flag(p)) << p;
		EXPECT_EQ(state(p), "in-sync") << p;
		// Inherited at create: nothing for the engine to change.
		EXPECT_TRUE(events("flag-change", p).empty()) << p;
	}
	EXPECT_TRUE(view("/data/new").file.dax_effective);
}

TEST_F(EnginePolicyTest, SubtreeMadeAfterTheRuleGetsTheFlag)
{
	engine_->add_rule(make_rule("later", "/later", true));
	EXPECT_TRUE(engine_->pending().empty());
	vol_.mkdir("/later");
	EXPECT_TRUE(flag("/later"));
	EXPECT_EQ(state("/later"), "in-sync");
	vol_.create("/later/f");
	EXPECT_TRUE(flag("/later/f"));
	EXPECT_EQ(state("/later/f"), "in-sync");
}

TEST_F(EnginePolicyTest, CreatedNotificationFixesAFileWhoseRuleDiffersFromItsDirectory)
{
	vol_.mkdir("/data");
	// Directories follow "data", the rule without globs: on. Files named *.tmp follow
	// "data-tmp" (the higher priority): off, which they cannot inherit.
	engine_->add_rule(make_rule("data", "/data", true));
	engine_->add_rule(make_rule("data-tmp", "/data", false).include({"*.tmp"}).priority(10));
	ASSERT_TRUE(flag("/data"));

	vol_.create("/data/x.dat");
	EXPECT_TRUE(flag("/data/x.dat"));
	EXPECT_TRUE(view("/data/x.dat").file.dax_effective);
	EXPECT_EQ(state("/data/x.dat"), "in-sync");
	EXPECT_TRUE(events("flag-change", "/data/x.dat").empty()) << "inherited";

	vol_.create("/data/x.tmp");
	EXPECT_FALSE(flag("/data/x.tmp"));
	EXPECT_FALSE(view("/data/x.tmp").file.dax_effective);
	EXPECT_EQ(state("/data/x.tmp"), "in-sync");
	auto changes = events("flag-change", "/data/x.tmp");
	ASSERT_EQ(changes.size(), 1u);
	EXPECT_EQ(changes[0].data["rule"], "data-tmp");
	EXPECT_EQ(changes[0].data["to"], false);
	EXPECT_EQ(changes[0].data["cause"], "rule");
}

TEST_F(EnginePolicyTest, FileCreatedOpenGetsTheFlagAndItsModeAtLastClose)
{
	vol_.mkdir("/data");
	engine_->add_rule(make_rule("data", "/data", true));
	engine_->add_rule(make_rule("data-tmp", "/data", false).include({"*.tmp"}).priority(10));

	// Its creator holds it open before the created notification's change lands, as
	// open(O_CREAT) does.
	vol_.before_flag_change = [&] { vol_.open("/data/open.tmp"); };
	vol_.create("/data/open.tmp");
	// The notification cleared the flag, but the file was in use from its first moment
	// with the mode of the flag it was created with.
	FileView v = view("/data/open.tmp");
	EXPECT_FALSE(v.file.dax_flag);
	EXPECT_TRUE(v.file.dax_effective);
	EXPECT_EQ(v.state, FileState::pending_evict);
	vol_.close("/data/open.tmp");
	v = view("/data/open.tmp");
	EXPECT_FALSE(v.file.dax_effective);
	EXPECT_EQ(v.state, FileState::in_sync);
}

TEST_F(EnginePolicyTest, ChangeToAMappedFileWaitsForUnmapThenAppliesItself)
{
	vol_.mkdir("/db");
	create_open_and_map("/db/wal.log");
	FileInfo before = vol_.stat("/db/wal.log");

	engine_->add_rule(make_rule("wal", "/db", true));

	// The directory changed at once; the mapped file waits.
	EXPECT_TRUE(flag("/db"));
	FileView v = view("/db/wal.log");
	EXPECT_FALSE(v.file.dax_flag);
	EXPECT_FALSE(v.file.dax_effective);
	EXPECT_EQ(v.file.mapped, 1u);
	EXPECT_EQ(v.desired, std::optional<bool>(true));
	EXPECT_EQ(v.state, FileState::pending_unmap);
	auto deferred = events("deferred", "/db/wal.log");
	ASSERT_EQ(deferred.size(), 1u);
	EXPECT_EQ(deferred[0].volume, "pool0");
	EXPECT_EQ(deferred[0].data["want"], true);
	EXPECT_EQ(deferred[0].data["rule"], "wal");
	EXPECT_EQ(deferred[0].data["mapped"], 1);
	EXPECT_TRUE(events("flag-change", "/db/wal.log").empty());
	auto row = store_->pending_for("pool0", before.ino, before.generation);
	ASSERT_TRUE(row);
	EXPECT_EQ(row->path, "/db/wal.log");
	EXPECT_TRUE(row->want);
	EXPECT_EQ(row->rule, std::optional<std::string>("wal"));
	EXPECT_FALSE(row->reason.empty());
	ASSERT_EQ(engine_->pending().size(), 1u);

	// Evaluating again neither queues nor logs it twice.
	FileCounts again = reconcile_now("pool0", std::nullopt);
	EXPECT_EQ(again.deferred, 1u);
	EXPECT_EQ(again.applied, 0u);
	EXPECT_EQ(events("deferred", "/db/wal.log").size(), 1u);
	EXPECT_EQ(engine_->pending().size(), 1u);

	vol_.unmap("/db/wal.log");
	// Applied by itself on the unmap notification.
	v = view("/db/wal.log");
	EXPECT_TRUE(v.file.dax_flag);
	EXPECT_EQ(v.file.mapped, 0u);
	EXPECT_TRUE(engine_->pending().empty());
	EXPECT_FALSE(store_->pending_for("pool0", before.ino, before.generation));
	auto changes = events("flag-change", "/db/wal.log");
	ASSERT_EQ(changes.size(), 1u);
	EXPECT_EQ(changes[0].data["from"], false);
	EXPECT_EQ(changes[0].data["to"], true);
	EXPECT_EQ(changes[0].data["rule"], "wal");
	ASSERT_TRUE(changes[0].data["deferred_ms"].is_number_integer());
	EXPECT_GE(changes[0].data["deferred_ms"].get<int64_t>(), 0);
	EXPECT_GT(changes[0].id, deferred[0].id);

	// Still open: the mode follows at last close.
	EXPECT_FALSE(v.file.dax_effective);
	EXPECT_TRUE(v.file.in_use);
	EXPECT_EQ(v.state, FileState::pending_evict);
	vol_.close("/db/wal.log");
	v = view("/db/wal.log");
	EXPECT_TRUE(v.file.dax_effective);
	EXPECT_FALSE(v.file.in_use);
	EXPECT_EQ(v.state, FileState::in_sync);
}

TEST_F(EnginePolicyTest, ChangeAppliesWhenTheLastOfSeveralMappingsGoes)
{
	vol_.mkdir("/db");
	create_open_and_map("/db/f");
	vol_.map("/db/f");
	vol_.close("/db/f");
	engine_->add_rule(make_rule("db", "/db", true));
	auto deferred = events("deferred", "/db/f");
	ASSERT_EQ(deferred.size(), 1u);
	EXPECT_EQ(deferred[0].data["mapped"], 2);

	vol_.unmap("/db/f");
	EXPECT_EQ(state("/db/f"), "pending-unmap");
	EXPECT_FALSE(flag("/db/f"));
	vol_.unmap("/db/f");
	EXPECT_TRUE(flag("/db/f"));
	EXPECT_EQ(state("/db/f"), "in-sync") << "nothing holds it: the mode followed";
	EXPECT_TRUE(view("/db/f").file.dax_effective);
}

TEST_F(EnginePolicyTest, RequestFlagOutcomes)
{
	vol_.create("/a");
	create_open_and_map("/b");

	auto r = engine_->request_flag("pool0", "/a", false, true);
	ASSERT_EQ(r.size(), 1u);
	EXPECT_EQ(r[0].second, Outcome::applied);
	EXPECT_STREQ(outcome_name(r[0].second), "applied");
	EXPECT_TRUE(r[0].first.file.dax_flag);
	EXPECT_EQ(r[0].first.state, FileState::unmanaged);
	EXPECT_TRUE(flag("/a"));
	auto changes = events("flag-change", "/a");
	ASSERT_EQ(changes.size(), 1u);
	EXPECT_TRUE(changes[0].data["rule"].is_null());

	r = engine_->request_flag("pool0", "/a", false, true);
	ASSERT_EQ(r.size(), 1u);
	EXPECT_EQ(r[0].second, Outcome::unchanged);
	EXPECT_STREQ(outcome_name(r[0].second), "unchanged");
	EXPECT_EQ(events("flag-change", "/a").size(), 1u);

	r = engine_->request_flag("pool0", "/b", false, true);
	ASSERT_EQ(r.size(), 1u);
	EXPECT_EQ(r[0].second, Outcome::deferred);
	EXPECT_STREQ(outcome_name(r[0].second), "deferred");
	EXPECT_FALSE(r[0].first.file.dax_flag);
	EXPECT_EQ(r[0].first.state, FileState::pending_unmap);
	auto deferred = events("deferred", "/b");
	ASSERT_EQ(deferred.size(), 1u);
	EXPECT_TRUE(deferred[0].data["rule"].is_null());
	ASSERT_EQ(engine_->pending().size(), 1u);
	EXPECT_FALSE(engine_->pending()[0].rule);

	// Asked again: still deferred, queued and logged once.
	r = engine_->request_flag("pool0", "/b", false, true);
	EXPECT_EQ(r.at(0).second, Outcome::deferred);
	EXPECT_EQ(events("deferred", "/b").size(), 1u);
	EXPECT_EQ(engine_->pending().size(), 1u);

	vol_.unmap("/b");
	EXPECT_TRUE(flag("/b"));
	EXPECT_TRUE(engine_->pending().empty());
	changes = events("flag-change", "/b");
	ASSERT_EQ(changes.size(), 1u);
	EXPECT_TRUE(changes[0].data["rule"].is_null());
	EXPECT_GE(changes[0].data["deferred_ms"].get<int64_t>(), 0);
	EXPECT_EQ(state("/b"), "pending-evict");
	vol_.close("/b");
	EXPECT_EQ(state("/b"), "unmanaged");

	// clear-dax
	r = engine_->request_flag("pool0", "/a", false, false);
	EXPECT_EQ(r.at(0).second, Outcome::applied);
	EXPECT_FALSE(flag("/a"));
}

TEST_F(EnginePolicyTest, RequestingTheCurrentFlagWithdrawsAQueuedChange)
{
	create_open_and_map("/f");
	EXPECT_EQ(engine_->request_flag("pool0", "/f", false, true).at(0).second,
	          Outcome::deferred);
	ASSERT_EQ(engine_->pending().size(), 1u);
	// clear-dax on a file whose flag is clear: nothing to do, and set-dax is withdrawn.
	auto r = engine_->request_flag("pool0", "/f", false, false);
	EXPECT_EQ(r.at(0).second, Outcome::unchanged);
	EXPECT_TRUE(engine_->pending().empty());
	EXPECT_NE(r.at(0).first.state, FileState::pending_unmap);
	vol_.unmap("/f");
	EXPECT_FALSE(flag("/f"));
	EXPECT_TRUE(events("flag-change", "/f").empty());
}

TEST_F(EnginePolicyTest, RequestFlagRecursive)
{
	vol_.mkdir("/t");
	vol_.mkdir("/t/u");
	vol_.create("/t/u/f");
	vol_.create("/t/g");
	auto r = engine_->request_flag("pool0", "/t", true, true);
	ASSERT_EQ(r.size(), 4u);
	EXPECT_EQ(r[0].first.file.path, "/t") << "parents before children";
	for (const auto &[v, outcome] : r) {
		EXPECT_EQ(outcome, Outcome::applied) << v.file.path;
		EXPECT_TRUE(v.file.dax_flag) << v.file.path;
		EXPECT_TRUE(flag(v.file.path)) << v.file.path;
	}
	EXPECT_FALSE(flag("/"));
	EXPECT_EQ(error_code_of([&] { engine_->request_flag("pool0", "/nope", false, true); }),
	          Errc::not_found);
	EXPECT_EQ(error_code_of([&] { engine_->request_flag("pool9", "/t", false, true); }),
	          Errc::not_found);
}

// The fake outlives the engine: a restart is the engine and its store going and coming back
// (stop_engine, start_engine), and, where the other processes go with it (a reboot),
// forget_users, which tells nobody.
TEST_F(EnginePolicyTest, PendingChangeSurvivesRestartAndIsAppliedAtStart)
{
	vol_.mkdir("/db");
	create_open_and_map("/db/wal.log");
	FileInfo fi = vol_.stat("/db/wal.log");
	engine_->add_rule(make_rule("wal", "/db", true));
	ASSERT_EQ(state("/db/wal.log"), "pending-unmap");
	auto deferred = events("deferred", "/db/wal.log");
	ASSERT_EQ(deferred.size(), 1u);

	// The daemon dies: no engine hears the mappings go.
	stop_engine();
	vol_.forget_users();
	EXPECT_FALSE(flag("/db/wal.log"));

	// The queue is on disk.
	{
		Store reopened(db_);
		auto pending = reopened.pending();
		ASSERT_EQ(pending.size(), 1u);
		EXPECT_EQ(pending[0].volume, "pool0");
		EXPECT_EQ(pending[0].ino, fi.ino);
		EXPECT_EQ(pending[0].generation, fi.generation);
		EXPECT_EQ(pending[0].path, "/db/wal.log");
		EXPECT_TRUE(pending[0].want);
		EXPECT_EQ(pending[0].rule, std::optional<std::string>("wal"));
		ASSERT_TRUE(reopened.rule("wal"));
	}

	start_engine(vol_);
	EXPECT_TRUE(flag("/db/wal.log"));
	EXPECT_TRUE(engine_->pending().empty());
	EXPECT_EQ(state("/db/wal.log"), "in-sync");
	auto changes = events("flag-change", "/db/wal.log");
	ASSERT_EQ(changes.size(), 1u);
	EXPECT_EQ(changes[0].data["rule"], "wal");
	EXPECT_EQ(changes[0].data["to"], true);
	EXPECT_GE(changes[0].data["deferred_ms"].get<int64_t>(), 0);
	EXPECT_GT(changes[0].id, deferred[0].id);
}

// Only the daemon restarts, as it may over a host filesystem: a client keeps its mapping
// across it, and the queued change goes on waiting for that mapping.
TEST_F(EnginePolicyTest, PendingChangeForAFileStillMappedAtStartWaits)
{
	create_open_and_map("/f");
	engine_->request_flag("pool0", "/f", false, true);
	stop_engine();
	start_engine(vol_);
	EXPECT_FALSE(flag("/f"));
	ASSERT_EQ(engine_->pending().size(), 1u);
	EXPECT_EQ(state("/f"), "pending-unmap");
	vol_.unmap("/f");
	EXPECT_TRUE(flag("/f"));
	EXPECT_TRUE(engine_->pending().empty());
}

TEST_F(EnginePolicyTest, PendingChangeForAFileGoneWhileDownIsDropped)
{
	create_open_and_map("/f");
	engine_->request_flag("pool0", "/f", false, true);
	stop_engine();
	vol_.forget_users();
	vol_.remove("/f");
	start_engine(vol_);
	EXPECT_TRUE(engine_->pending().empty());
	EXPECT_TRUE(events("flag-change", "/f").empty());
}

// The fake forgets a removed file at once, mapped or not; engine_pair_test.cpp has the
// mapping of a removed file go after it.
TEST_F(EnginePolicyTest, RemovingAMappedFileDropsItsPendingChange)
{
	vol_.mkdir("/db");
	create_open_and_map("/db/f");
	engine_->add_rule(make_rule("db", "/db", true));
	ASSERT_EQ(engine_->pending().size(), 1u);
	vol_.remove("/db/f");
	EXPECT_TRUE(engine_->pending().empty());
	EXPECT_TRUE(events("flag-change", "/db/f").empty());
}

TEST_F(EnginePolicyTest, RenamedMappedFileKeepsItsPendingChange)
{
	vol_.mkdir("/db");
	create_open_and_map("/db/1.log");
	engine_->add_rule(make_rule("db", "/db", true));
	ASSERT_EQ(engine_->pending().size(), 1u);

	vol_.rename("/db/1.log", "/db/2.log");
	EXPECT_EQ(engine_->pending().size(), 1u);
	EXPECT_EQ(state("/db/2.log"), "pending-unmap");
	EXPECT_EQ(store_->events(of_type("deferred")).size(), 1u) << "queued once";

	vol_.unmap("/db/2.log");
	EXPECT_TRUE(flag("/db/2.log"));
	EXPECT_TRUE(engine_->pending().empty());
	auto changes = events("flag-change", "/db/2.log");
	ASSERT_EQ(changes.size(), 1u) << "logged where the file is now";
	EXPECT_EQ(changes[0].data["rule"], "db");
	vol_.close("/db/2.log");
	EXPECT_EQ(state("/db/2.log"), "in-sync");
}

TEST_F(EnginePolicyTest, FileMovedUnderARuleIsBroughtInLine)
{
	vol_.mkdir("/db");
	vol_.mkdir("/in");
	engine_->add_rule(make_rule("db", "/db", true));
	vol_.create("/in/f");
	ASSERT_FALSE(flag("/in/f"));
	// mv keeps the file's own flag: the engine changes it.
	vol_.rename("/in/f", "/db/f");
	EXPECT_TRUE(flag("/db/f"));
	EXPECT_EQ(state("/db/f"), "in-sync");
	EXPECT_EQ(events("flag-change", "/db/f").size(), 1u);

	// A mapped one waits.
	create_open_and_map("/in/g");
	vol_.rename("/in/g", "/db/g");
	EXPECT_EQ(state("/db/g"), "pending-unmap");
	EXPECT_EQ(events("deferred", "/db/g").size(), 1u);
	vol_.unmap("/db/g");
	EXPECT_TRUE(flag("/db/g"));
}

TEST_F(EnginePolicyTest, CancelPending)
{
	vol_.mkdir("/db");
	create_open_and_map("/db/f");
	engine_->add_rule(make_rule("db", "/db", true));
	ASSERT_EQ(engine_->pending().size(), 1u);

	engine_->cancel_pending("pool0", "/db/f");
	EXPECT_TRUE(engine_->pending().empty());
	EXPECT_NE(state("/db/f"), "pending-unmap");
	EXPECT_EQ(error_code_of([&] { engine_->cancel_pending("pool0", "/db/f"); }),
	          Errc::not_found);
	EXPECT_EQ(error_code_of([&] { engine_->cancel_pending("pool0", "/db/none"); }),
	          Errc::not_found);
	// Cancelled means the unmap does not apply it.
	vol_.unmap("/db/f");
	vol_.close("/db/f");
	EXPECT_FALSE(flag("/db/f"));
	EXPECT_TRUE(events("flag-change", "/db/f").empty());
	EXPECT_EQ(state("/db/f"), "out-of-sync");
	// Until the rules are evaluated again.
	FileCounts counts = reconcile_now("pool0", std::string("/db"));
	EXPECT_EQ(counts.applied, 1u);
	EXPECT_TRUE(flag("/db/f"));
	EXPECT_EQ(state("/db/f"), "in-sync");
}

TEST_F(EnginePolicyTest, ReconcileRepairsAFlagChangedBehindTheEnginesBack)
{
	vol_.mkdir("/db");
	vol_.create("/db/f");
	engine_->add_rule(make_rule("db", "/db", true));
	vol_.set_dax_flag("/db/f", false); // FS_IOC_FSSETXATTR by someone else
	EXPECT_EQ(state("/db/f"), "out-of-sync");
	FileCounts counts = reconcile_now(std::nullopt, std::nullopt);
	EXPECT_EQ(counts.applied, 1u);
	EXPECT_EQ(counts.deferred, 0u);
	EXPECT_EQ(counts.unchanged, 1u); // the directory
	EXPECT_EQ(state("/db/f"), "in-sync");
	EXPECT_EQ(reconcile_now(std::nullopt, std::nullopt).applied, 0u);
	EXPECT_EQ(error_code_of([&] { engine_->reconcile("pool9", std::nullopt); }),
	          Errc::not_found);
}

TEST_F(EnginePolicyTest, RemoveLocalRule)
{
	vol_.mkdir("/db");
	vol_.create("/db/f");
	engine_->add_rule(make_rule("db", "/db", true));
	engine_->remove_rules({"db"});
	EXPECT_TRUE(engine_->rules().empty());
	EXPECT_EQ(state("/db/f"), "unmanaged");
	EXPECT_FALSE(view("/db/f").rule);
	auto rule_changes = store_->events(of_type("rule-change"));
	ASSERT_EQ(rule_changes.size(), 2u);
	EXPECT_EQ(rule_changes[1].data["rule"], "db");
	EXPECT_EQ(rule_changes[1].data["action"], "removed");
	EXPECT_EQ(error_code_of([&] { engine_->remove_rules({"db"}); }), Errc::not_found);
}

TEST_F(EnginePolicyTest, RemovingARuleWithdrawsItsQueuedChange)
{
	vol_.mkdir("/db");
	create_open_and_map("/db/f");
	engine_->add_rule(make_rule("db", "/db", true));
	ASSERT_EQ(engine_->pending().size(), 1u);

	engine_->remove_rules({"db"});
	// No rule wants the change any more: it must not be applied when the file is unmapped.
	EXPECT_TRUE(engine_->pending().empty());
	EXPECT_EQ(state("/db/f"), "unmanaged");
	vol_.unmap("/db/f");
	vol_.close("/db/f");
	EXPECT_FALSE(flag("/db/f"));
	EXPECT_TRUE(events("flag-change", "/db/f").empty());
}

TEST_F(EnginePolicyTest, ApplyRemovingAManagedRuleWithdrawsItsQueuedChange)
{
	vol_.mkdir("/db");
	create_open_and_map("/db/f");
	engine_->apply({make_rule("db", "/db", true).managed()}, false);
	ASSERT_EQ(engine_->pending().size(), 1u);

	test::Applied res = apply_now({}, false);
	EXPECT_EQ(res.removed, std::vector<std::string>{"db"});
	EXPECT_TRUE(engine_->pending().empty());
	vol_.unmap("/db/f");
	vol_.close("/db/f");
	EXPECT_FALSE(flag("/db/f"));
	EXPECT_TRUE(events("flag-change", "/db/f").empty());
}

TEST_F(EnginePolicyTest, ChangingARuleWithdrawsAQueuedChangeItNoLongerWants)
{
	vol_.mkdir("/db");
	create_open_and_map("/db/f");
	engine_->apply({make_rule("db", "/db", true).managed()}, false);
	ASSERT_EQ(engine_->pending().size(), 1u);
	test::Applied res = apply_now({make_rule("db", "/db", false).managed()}, false);
	EXPECT_EQ(res.changed, std::vector<std::string>{"db"});
	EXPECT_TRUE(engine_->pending().empty());
	EXPECT_EQ(state("/db/f"), "in-sync");
	vol_.unmap("/db/f");
	EXPECT_FALSE(flag("/db/f"));
}

TEST_F(EnginePolicyTest, RemovingAManagedRuleIsRefused)
{
	vol_.mkdir("/db");
	engine_->apply({make_rule("db", "/db", true).managed()}, false);
	EXPECT_EQ(error_code_of([&] { engine_->remove_rules({"db"}); }), Errc::invalid_argument);
	ASSERT_EQ(engine_->rules().size(), 1u);
	EXPECT_TRUE(engine_->rules()[0].managed());
	EXPECT_EQ(state("/db"), "in-sync");
}

TEST_F(EnginePolicyTest, ApplyDryRunChangesNothingButReportsThePlan)
{
	vol_.mkdir("/db");
	vol_.create("/db/a");
	vol_.create("/db/b");
	create_open_and_map("/db/mapped");
	engine_->add_rule(make_rule("local", "/other", true));
	int64_t events_before = store_->count("events");

	test::Applied plan = apply_now({make_rule("db", "/db", true).managed()}, true);
	EXPECT_EQ(plan.added, std::vector<std::string>{"db"});
	EXPECT_TRUE(plan.removed.empty());
	EXPECT_TRUE(plan.changed.empty());
	EXPECT_TRUE(plan.unchanged.empty());
	EXPECT_EQ(plan.files.applied, 3u); // /db, /db/a, /db/b
	EXPECT_EQ(plan.files.deferred, 1u);
	EXPECT_TRUE(plan.changed_anything());

	EXPECT_EQ(store_->count("events"), events_before);
	EXPECT_TRUE(engine_->pending().empty());
	ASSERT_EQ(engine_->rules().size(), 1u);
	EXPECT_EQ(engine_->rules()[0].name, "local");
	for (const char *p : {"/db", "/db/a", "/db/b", "/db/mapped"}) {
		EXPECT_FALSE(flag(p)) << p;
		EXPECT_EQ(state(p), "unmanaged") << p;
	}

	// The plan is what the real run does.
	test::Applied done = apply_now({make_rule("db", "/db", true).managed()}, false);
	EXPECT_EQ(done.added, plan.added);
	EXPECT_EQ(done.files.applied, plan.files.applied);
	EXPECT_EQ(done.files.deferred, plan.files.deferred);
	EXPECT_EQ(done.files.unchanged, plan.files.unchanged);
	EXPECT_EQ(state("/db/mapped"), "pending-unmap");
}

TEST_F(EnginePolicyTest, ApplyAddsChangesAndRemovesManagedRulesAndLeavesLocalOnes)
{
	vol_.mkdir("/a");
	vol_.mkdir("/b");
	vol_.mkdir("/c");
	vol_.mkdir("/local");
	vol_.create("/a/f");
	vol_.create("/b/f");
	vol_.create("/c/f");
	vol_.create("/local/f");
	Rule local = engine_->add_rule(make_rule("local", "/local", true));

	test::Applied first = apply_now(
	    {make_rule("ra", "/a", true).managed(), make_rule("rb", "/b", true).managed()}, false);
	std::vector<std::string> added = first.added;
	std::sort(added.begin(), added.end());
	EXPECT_EQ(added, (std::vector<std::string>{"ra", "rb"}));
	EXPECT_TRUE(first.removed.empty());
	EXPECT_TRUE(first.changed.empty());
	EXPECT_EQ(first.files.applied, 4u);
	EXPECT_TRUE(first.changed_anything());
	EXPECT_TRUE(flag("/a/f"));
	EXPECT_TRUE(flag("/b/f"));
	auto managed_added = store_->events(of_type("rule-change"));
	ASSERT_EQ(managed_added.size(), 3u);
	EXPECT_EQ(managed_added[1].data["source"], "/etc/daxpolicy/policy.d/10-test.toml");

	test::Applied second = apply_now(
	    {make_rule("ra", "/a", false).managed(), make_rule("rc", "/c", true).managed()}, false);
	EXPECT_EQ(second.added, std::vector<std::string>{"rc"});
	EXPECT_EQ(second.changed, std::vector<std::string>{"ra"});
	EXPECT_EQ(second.removed, std::vector<std::string>{"rb"});
	EXPECT_TRUE(second.unchanged.empty());
	EXPECT_FALSE(flag("/a/f"));
	EXPECT_TRUE(flag("/c/f"));
	EXPECT_EQ(state("/a/f"), "in-sync");
	EXPECT_EQ(state("/b/f"), "unmanaged");
	EXPECT_EQ(state("/local/f"), "in-sync");

	auto rules = engine_->rules();
	ASSERT_EQ(rules.size(), 3u);
	EXPECT_EQ(rules[0], local);
	EXPECT_FALSE(rules[0].managed());
	EXPECT_EQ(rules[1].name, "ra");
	EXPECT_FALSE(rules[1].dax);
	EXPECT_TRUE(rules[1].managed());
	EXPECT_EQ(rules[2].name, "rc");

	// Nothing new: nothing changes.
	int64_t events_before = store_->count("events");
	test::Applied third = apply_now(
	    {make_rule("ra", "/a", false).managed(), make_rule("rc", "/c", true).managed()}, false);
	std::vector<std::string> unchanged = third.unchanged;
	std::sort(unchanged.begin(), unchanged.end());
	EXPECT_EQ(unchanged, (std::vector<std::string>{"ra", "rc"}));
	EXPECT_TRUE(third.added.empty());
	EXPECT_TRUE(third.removed.empty());
	EXPECT_TRUE(third.changed.empty());
	EXPECT_EQ(third.files.applied, 0u);
	EXPECT_FALSE(third.changed_anything());
	EXPECT_EQ(store_->count("events"), events_before);

	// An empty policy removes every managed rule, and only those.
	test::Applied empty = apply_now({}, false);
	std::vector<std::string> removed = empty.removed;
	std::sort(removed.begin(), removed.end());
	EXPECT_EQ(removed, (std::vector<std::string>{"ra", "rc"}));
	ASSERT_EQ(engine_->rules().size(), 1u);
	EXPECT_EQ(engine_->rules()[0], local);
}

TEST_F(EnginePolicyTest, ManagedRuleWithALocalRulesNameIsRefused)
{
	vol_.mkdir("/x");
	vol_.create("/x/f");
	Rule local = engine_->add_rule(make_rule("shared", "/local", true));
	int64_t events_before = store_->count("events");
	for (bool dry_run : {true, false}) {
		EXPECT_EQ(error_code_of([&] {
			          engine_->apply({make_rule("other", "/x", true).managed(),
			                          make_rule("shared", "/x", true).managed()},
			                         dry_run);
		          }),
		          Errc::exists)
		    << dry_run;
	}
	ASSERT_EQ(engine_->rules().size(), 1u);
	EXPECT_EQ(engine_->rules()[0], local);
	EXPECT_FALSE(flag("/x/f"));
	EXPECT_FALSE(flag("/x"));
	EXPECT_EQ(store_->count("events"), events_before);
}

TEST_F(EnginePolicyTest, ApplyWithAnInvalidRuleChangesNothing)
{
	vol_.mkdir("/x");
	Rule bad = make_rule("ok", "/x", true).managed().on_volume("pool9");
	EXPECT_EQ(error_code_of([&] {
		          engine_->apply({make_rule("first", "/x", true).managed(), bad}, false);
	          }),
	          Errc::invalid_argument);
	EXPECT_TRUE(engine_->rules().empty());
	EXPECT_FALSE(flag("/x"));
}

TEST_F(EnginePolicyTest, AddRuleRefusesBadRulesAndStoresNothing)
{
	vol_.mkdir("/x");
	Rule unknown_volume = make_rule("r1", "/x", true).on_volume("pool9");
	Rule bad_name = make_rule("Bad Name", "/x", true);
	Rule relative = make_rule("r2", "x", true);
	Rule dotdot = make_rule("r3", "/x/../y", true);
	Rule slash_glob = make_rule("r4", "/x", true).include({"a/b"});
	for (const Rule &r : {unknown_volume, bad_name, relative, dotdot, slash_glob})
		EXPECT_EQ(error_code_of([&] { engine_->add_rule(r); }), Errc::invalid_argument)
		    << r.name << " " << r.volume << ":" << r.subtree;
	EXPECT_TRUE(engine_->rules().empty());
	EXPECT_EQ(store_->count("rules"), 0);
	EXPECT_EQ(store_->count("events"), 0);
	EXPECT_FALSE(flag("/x"));

	engine_->add_rule(make_rule("r1", "/x", true));
	EXPECT_EQ(error_code_of([&] { engine_->add_rule(make_rule("r1", "/y", false)); }),
	          Errc::exists);
	ASSERT_EQ(engine_->rules().size(), 1u);
	EXPECT_EQ(engine_->rules()[0].subtree, "/x");
}

TEST_F(EnginePolicyTest, AddRuleMakesALocalRuleWhateverItsSource)
{
	Rule r = engine_->add_rule(make_rule("r1", "/x", true).managed());
	EXPECT_FALSE(r.managed());
	ASSERT_TRUE(store_->rule("r1"));
	EXPECT_FALSE(store_->rule("r1")->managed());
}

TEST_F(EnginePolicyTest, EventSinkSeesWhatTheLogGets)
{
	std::vector<Event> seen;
	engine_->set_event_sink([&](const Event &e) { seen.push_back(e); });
	vol_.mkdir("/db");
	engine_->add_rule(make_rule("db", "/db", true));
	auto logged = store_->events({});
	ASSERT_EQ(seen.size(), logged.size());
	ASSERT_EQ(seen.size(), 3u); // rule-change, flag-change of /db, the job's summary
	for (size_t i = 0; i < seen.size(); i++) {
		EXPECT_EQ(seen[i].id, logged[i].id);
		EXPECT_EQ(seen[i].type, logged[i].type);
		EXPECT_EQ(seen[i].time, logged[i].time);
	}
}

// Another process acts between the engine's look at a file and its change: the engine must
// change the file it looked at, or queue the change, never act on what it saw before.
class EnginePolicyRaceTest : public EnginePolicyTest
{
};

TEST_F(EnginePolicyRaceTest, RenameBetweenQueueAndApplyChangesTheFileThatWasQueued)
{
	vol_.mkdir("/db");
	vol_.create("/db/other");
	create_open_and_map("/db/wal");
	ASSERT_EQ(engine_->request_flag("pool0", "/db/wal", false, true)[0].second,
	          Outcome::deferred);
	// As the unmap's apply runs, the file is moved away and another takes its name.
	vol_.before_flag_change = [&] {
		vol_.rename("/db/wal", "/db/wal.old");
		vol_.rename("/db/other", "/db/wal");
	};
	vol_.unmap("/db/wal");
	EXPECT_TRUE(flag("/db/wal.old")) << "the file the change was queued for";
	EXPECT_FALSE(flag("/db/wal")) << "a file that took its name meanwhile";
	EXPECT_TRUE(engine_->pending().empty());
	auto changes = store_->events(of_type("flag-change"));
	ASSERT_EQ(changes.size(), 1u);
	EXPECT_EQ(changes[0].path, "/db/wal.old");
	EXPECT_EQ(changes[0].data["cause"], "pending");
	vol_.close("/db/wal.old");
}

TEST_F(EnginePolicyRaceTest, RenameBetweenLookAndChangeChangesTheFileLookedAt)
{
	vol_.mkdir("/db");
	vol_.create("/db/a");
	vol_.create("/db/b");
	vol_.before_flag_change = [&] {
		vol_.rename("/db/a", "/db/a.old");
		vol_.rename("/db/b", "/db/a");
	};
	auto r = engine_->request_flag("pool0", "/db/a", false, true);
	ASSERT_EQ(r.size(), 1u);
	EXPECT_EQ(r[0].second, Outcome::applied);
	EXPECT_TRUE(flag("/db/a.old"));
	EXPECT_FALSE(flag("/db/a"));
}

// How the engine takes the volume's refusal of a file it saw unmapped; engine_pair_test.cpp
// has the embedded core refuse it.
TEST_F(EnginePolicyRaceTest, MappingMadeAfterTheEngineLookedDefersInsteadOfFlipping)
{
	vol_.mkdir("/db");
	vol_.create("/db/t");
	vol_.open("/db/t");
	FileInfo before = vol_.stat("/db/t");
	ASSERT_EQ(before.mapped, 0u);
	bool mapped_meanwhile = false;
	// The rule's reconcile looks at /db/t (not mapped), then a process maps it before the
	// change reaches the volume. (The directory's change comes first: it skips that one.)
	vol_.before_flag_change = [&] {
		vol_.before_flag_change = [&] {
			vol_.map("/db/t");
			mapped_meanwhile = true;
		};
	};
	engine_->add_rule(make_rule("db", "/db", true));
	ASSERT_TRUE(mapped_meanwhile);
	FileView v = view("/db/t");
	EXPECT_FALSE(v.file.dax_flag) << "flipped under a live mapping";
	EXPECT_EQ(v.file.mapped, 1u);
	EXPECT_EQ(v.state, FileState::pending_unmap);
	auto deferred = events("deferred", "/db/t");
	ASSERT_EQ(deferred.size(), 1u);
	EXPECT_EQ(deferred[0].data["mapped"], 1);
	EXPECT_TRUE(events("flag-change", "/db/t").empty());
	ASSERT_TRUE(store_->pending_for("pool0", before.ino, before.generation));

	vol_.unmap("/db/t");
	EXPECT_TRUE(flag("/db/t"));
	EXPECT_TRUE(engine_->pending().empty());
	EXPECT_EQ(events("flag-change", "/db/t").size(), 1u);
	vol_.close("/db/t");
}

TEST_F(EnginePolicyRaceTest, MappingMadeAgainBeforeTheQueuedChangeLandsKeepsItQueued)
{
	create_open_and_map("/f");
	ASSERT_EQ(engine_->request_flag("pool0", "/f", false, true)[0].second, Outcome::deferred);
	// The unmap's apply finds the file mapped again: it waits for that mapping to go.
	vol_.before_flag_change = [&] { vol_.map("/f"); };
	vol_.unmap("/f");
	EXPECT_FALSE(flag("/f")) << "flipped under a live mapping";
	ASSERT_EQ(engine_->pending().size(), 1u);
	EXPECT_EQ(state("/f"), "pending-unmap");
	EXPECT_EQ(events("deferred", "/f").size(), 1u) << "queued and logged once";
	vol_.unmap("/f");
	EXPECT_TRUE(flag("/f"));
	EXPECT_TRUE(engine_->pending().empty());
	EXPECT_EQ(events("flag-change", "/f").size(), 1u);
}

TEST_F(EnginePolicyRaceTest, SetDaxOnAFileMappedAfterTheLookDefers)
{
	vol_.create("/t");
	vol_.open("/t");
	vol_.before_flag_change = [&] { vol_.map("/t"); };
	auto r = engine_->request_flag("pool0", "/t", false, true);
	ASSERT_EQ(r.size(), 1u);
	EXPECT_EQ(r[0].second, Outcome::deferred);
	EXPECT_EQ(r[0].first.state, FileState::pending_unmap);
	EXPECT_FALSE(flag("/t"));
	vol_.unmap("/t");
	EXPECT_TRUE(flag("/t"));
}

TEST_F(EnginePolicyTest, ListPendingShowsWhereTheFileIsNow)
{
	vol_.mkdir("/db");
	create_open_and_map("/db/1.log");
	engine_->request_flag("pool0", "/db/1.log", false, true);
	vol_.mkdir("/archive");
	vol_.rename("/db/1.log", "/archive/1.log");
	auto pending = engine_->pending();
	ASSERT_EQ(pending.size(), 1u);
	EXPECT_EQ(pending[0].path, "/archive/1.log");
}

TEST_F(EnginePolicyTest, DirectoryUnderAGlobRuleIsClearedAndSoAreTheFilesThatInheritedFromIt)
{
	// As an older daxpolicyd left it: /d flagged for a rule taking only *.log, and a file
	// the rule turns away created there, inheriting DAX.
	vol_.mkdir("/d");
	vol_.set_dax_flag("/d", true);
	vol_.create("/d/x.txt");
	vol_.mkdir("/d/sub");
	vol_.create("/d/sub/y.txt");
	vol_.create("/d/a.log");
	ASSERT_TRUE(flag("/d/x.txt"));
	ASSERT_TRUE(flag("/d/sub/y.txt"));

	engine_->add_rule(make_rule("logs", "/d", true).include({"*.log"}));
	EXPECT_TRUE(flag("/d/a.log"));
	for (const char *p : {"/d", "/d/sub", "/d/x.txt", "/d/sub/y.txt"})
		EXPECT_FALSE(flag(p)) << p;
	EXPECT_EQ(state("/d/x.txt"), "unmanaged");
	auto changes = events("flag-change", "/d/x.txt");
	ASSERT_EQ(changes.size(), 1u);
	EXPECT_EQ(changes[0].data["inherited_from"], "/d");
	EXPECT_TRUE(changes[0].data["rule"].is_null());

	// New names the rule turns away inherit nothing; a name it takes gets the flag.
	vol_.create("/d/new.txt");
	vol_.create("/d/new.log");
	EXPECT_FALSE(flag("/d/new.txt"));
	EXPECT_TRUE(flag("/d/new.log"));

	// An unmanaged file set by hand keeps its flag: reconcile takes only what a directory
	// it clears gave.
	engine_->request_flag("pool0", "/d/x.txt", false, true);
	engine_->reconcile(std::nullopt, std::nullopt);
	EXPECT_TRUE(flag("/d/x.txt"));
}

TEST_F(EnginePolicyTest, ListAndUnknownNames)
{
	vol_.mkdir("/d");
	vol_.create("/d/f");
	auto all = engine_->list("pool0", "/d", true);
	ASSERT_EQ(all.size(), 2u);
	EXPECT_EQ(all[0].file.path, "/d");
	EXPECT_EQ(all[1].file.path, "/d/f");
	EXPECT_EQ(all[1].volume, "pool0");
	EXPECT_EQ(error_code_of([&] { engine_->list("pool0", "/nope", false); }), Errc::not_found);
	EXPECT_EQ(error_code_of([&] { engine_->list("pool9", "/", false); }), Errc::not_found);
	EXPECT_EQ(error_code_of([&] { engine_->volume("pool9"); }), Errc::not_found);
	EXPECT_EQ(&engine_->volume("pool0"), &vol_);
}

} // namespace
