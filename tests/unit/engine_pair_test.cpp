// SPDX-License-Identifier: BSD-3-Clause
// The policy engine and the embedded core together, where what the user sees depends on
// both: clients mapping files through sessions and going away, the pool unmounted and
// mounted again under a queued change, and the core's own check-and-set refusing a file
// mapped after the engine looked. What the engine decides on its own is in
// engine_policy_test.cpp, over the fake volume.
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/embedded/session.hpp"
#include "policy/engine.hpp"
#include "policy/store.hpp"
#include "tests/support/bytes.hpp"
#include "tests/support/engine_fixture.hpp"
#include "tests/support/interposing_volume.hpp"
#include "tests/support/rule_builder.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <optional>

using namespace daxpolicy;
using namespace daxpolicy::fscore;
using namespace daxpolicy::policy;

namespace
{

using test::filled;
using test::make_rule;

class EnginePairTest : public test::EngineFixture
{
      protected:
	void SetUp() override
	{
		fscore::mkfs(pool_, 64ull << 20);
		start();
	}

	// As the daemon starts: the pool mounted, then the engine started over it.
	void start()
	{
		vol_ = EmbeddedVolume::mount(pool_, {"pool0", DaxMode::inode});
		start_engine(*vol_);
	}
	// As the daemon goes: the engine, hearing nothing more, then the pool.
	void stop()
	{
		stop_engine();
		vol_.reset();
	}

	// A file with data in it, open and mapped by `s`: what a database's WAL looks like.
	struct Mapped {
		int fd;
		int map;
	};
	Mapped open_and_map(Session &s, const std::string &path)
	{
		int fd = s.open(path, true);
		s.pwrite(fd, 0, filled(8192, 'w'));
		int map = s.mmap(fd, 0, 8192, true);
		return {fd, map};
	}

	std::filesystem::path pool_ = dir_ / "pool0.pool";
	std::unique_ptr<EmbeddedVolume> vol_;
};

// The core makes the file and opens it in one step, and tells of it while it is open.
TEST_F(EnginePairTest, FileCreatedOpenGetsTheFlagAndItsModeAtLastClose)
{
	vol_->mkdir("/data");
	engine_->add_rule(make_rule("data", "/data", true));
	engine_->add_rule(make_rule("data-tmp", "/data", false).include({"*.tmp"}).priority(10));

	auto s = vol_->open_session({});
	int fd = s->open("/data/open.tmp", true);
	// The notification cleared the flag, but the file was in use from its first moment
	// with the mode of the flag it was created with.
	FileView v = view("/data/open.tmp");
	EXPECT_FALSE(v.file.dax_flag);
	EXPECT_TRUE(v.file.dax_effective);
	EXPECT_EQ(v.state, FileState::pending_evict);
	s->close(fd);
	v = view("/data/open.tmp");
	EXPECT_FALSE(v.file.dax_effective);
	EXPECT_EQ(v.state, FileState::in_sync);
}

TEST_F(EnginePairTest, SessionEndingReleasesMappingsAndAppliesThePendingChange)
{
	vol_->mkdir("/db");
	auto s = vol_->open_session({});
	open_and_map(*s, "/db/f");
	engine_->add_rule(make_rule("db", "/db", true));
	ASSERT_EQ(state("/db/f"), "pending-unmap");
	s.reset(); // a client that went away
	EXPECT_TRUE(flag("/db/f"));
	EXPECT_EQ(state("/db/f"), "in-sync");
	EXPECT_EQ(events("flag-change", "/db/f").size(), 1u);
}

// The pool keeps the flag it had, and the identity the queue names, across an unmount.
TEST_F(EnginePairTest, PendingChangeSurvivesRestartAndIsAppliedAtStart)
{
	vol_->mkdir("/db");
	auto s = vol_->open_session({});
	open_and_map(*s, "/db/wal.log");
	FileInfo fi = vol_->stat("/db/wal.log");
	engine_->add_rule(make_rule("wal", "/db", true));
	ASSERT_EQ(state("/db/wal.log"), "pending-unmap");
	auto deferred = events("deferred", "/db/wal.log");
	ASSERT_EQ(deferred.size(), 1u);

	// The daemon dies: no engine hears the mappings go.
	stop_engine();
	s.reset();
	EXPECT_FALSE(vol_->stat("/db/wal.log").dax_flag);
	vol_.reset();

	start();
	FileInfo now = vol_->stat("/db/wal.log");
	EXPECT_EQ(now.ino, fi.ino);
	EXPECT_EQ(now.generation, fi.generation);
	EXPECT_TRUE(now.dax_flag);
	EXPECT_TRUE(engine_->pending().empty());
	EXPECT_EQ(state("/db/wal.log"), "in-sync");
	auto changes = events("flag-change", "/db/wal.log");
	ASSERT_EQ(changes.size(), 1u);
	EXPECT_EQ(changes[0].data["rule"], "wal");
	EXPECT_EQ(changes[0].data["to"], true);
	EXPECT_GT(changes[0].id, deferred[0].id);
}

TEST_F(EnginePairTest, PendingChangeForAFileGoneWhileDownIsDropped)
{
	auto s = vol_->open_session({});
	open_and_map(*s, "/f");
	engine_->request_flag("pool0", "/f", false, true);
	stop_engine();
	s.reset();
	vol_->remove("/f");
	stop();
	start();
	EXPECT_TRUE(engine_->pending().empty());
	EXPECT_TRUE(events("flag-change", "/f").empty());
}

// A removed file keeps its blocks until its last user goes: its unmap still comes, for a
// change that is no longer queued.
TEST_F(EnginePairTest, RemovingAMappedFileDropsItsPendingChange)
{
	vol_->mkdir("/db");
	auto s = vol_->open_session({});
	auto [fd, map] = open_and_map(*s, "/db/f");
	engine_->add_rule(make_rule("db", "/db", true));
	ASSERT_EQ(engine_->pending().size(), 1u);
	vol_->remove("/db/f");
	EXPECT_TRUE(engine_->pending().empty());
	s->munmap(map);
	s->close(fd);
	EXPECT_TRUE(events("flag-change", "/db/f").empty());
}

// The engine sees the core through a volume that lets a test act just before a flag change
// reaches the core.
class EnginePairRaceTest : public EnginePairTest
{
      protected:
	void SetUp() override
	{
		EnginePairTest::SetUp();
		stop_engine();
		interposer_ = std::make_unique<test::InterposingVolume>(*vol_);
		start_engine(*interposer_);
	}
	std::unique_ptr<test::InterposingVolume> interposer_;
};

// The core's check and change are one step: a mapping made after the engine looked is
// never flipped under. How the engine takes the refusal is in engine_policy_test.cpp.
TEST_F(EnginePairRaceTest, MappingMadeAfterTheEngineLookedDefersInsteadOfFlipping)
{
	vol_->mkdir("/db");
	auto s = vol_->open_session({});
	int fd = s->open("/db/t", true);
	s->pwrite(fd, 0, filled(8192, 'w'));
	ASSERT_EQ(vol_->stat("/db/t").mapped, 0u);
	std::optional<int> map;
	// The rule's reconcile looks at /db/t (not mapped), then a process maps it before the
	// change reaches the volume. (The directory's change comes first: it skips that one.)
	interposer_->before_flag_change = [&] {
		interposer_->before_flag_change = [&] { map = s->mmap(fd, 0, 8192, true); };
	};
	engine_->add_rule(make_rule("db", "/db", true));
	ASSERT_TRUE(map);
	FileView v = view("/db/t");
	EXPECT_FALSE(v.file.dax_flag) << "flipped under a live mapping";
	EXPECT_EQ(v.file.mapped, 1u);
	EXPECT_EQ(v.state, FileState::pending_unmap);

	s->munmap(*map);
	EXPECT_TRUE(flag("/db/t"));
	EXPECT_TRUE(engine_->pending().empty());
	EXPECT_EQ(events("flag-change", "/db/t").size(), 1u);
	s->close(fd);
}

} // namespace
