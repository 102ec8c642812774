// SPDX-License-Identifier: BSD-3-Clause
// The cross-store step: a queued flag change lives in sqlite, the flag in the pool. Applying
// it changes the pool, then logs the change and retires the row in sqlite. Here the daemon
// is killed (-9) at every point of that step in turn: a child process applies the queued
// change and _exit()s at the k-th persistence point of the pool (flush or fence) or sqlite
// statement, for every k until it completes. After each, as a restarted daemon would, the
// pool is mounted, the store opened and an engine started, and the queued change must have
// converged: the flag is what was wanted, no row is left, fsck is clean, and no event claims
// a change that was not made.
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/fsck.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/embedded/session.hpp"
#include "policy/engine.hpp"
#include "policy/sqlite.hpp"
#include "policy/store.hpp"
#include "tests/support/bytes.hpp"
#include "tests/support/invariants.hpp"
#include "tests/support/rule_builder.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace daxpolicy;
using namespace daxpolicy::fscore;
using namespace daxpolicy::policy;

namespace
{

constexpr int kKilled = 42;
constexpr int kCompleted = 43;
constexpr int kChildFailed = 44;
constexpr const char *kFile = "/db/wal";

// Counts the pool's persistence points and the store's statements as one sequence, and ends
// the process without a word (as SIGKILL would) at the k-th.
class KillAt final : public PersistObserver
{
      public:
	explicit KillAt(uint64_t k) : k_(k) {}
	void point()
	{
		if (armed && ++seen_ == k_)
			_exit(kKilled);
	}
	void flushed(uint64_t, std::span<const std::byte>) override { point(); }
	void drained() override { point(); }
	bool armed = false;

      private:
	uint64_t k_;
	uint64_t seen_ = 0;
};

struct Paths {
	std::filesystem::path pool, db;
};

std::vector<Event> flag_changes(Store &store)
{
	EventQuery q;
	q.types = {"flag-change"};
	std::vector<Event> out;
	for (auto &e : store.events(q))
		if (e.path == kFile)
			out.push_back(std::move(e));
	return out;
}

// A rule wants DAX on kFile, which was mapped when the rule came: the change is queued.
// Then the daemon went away without hearing of the unmap, as after a crash.
void queue_a_change(const Paths &p)
{
	fscore::mkfs(p.pool, kMinPoolSize);
	auto vol = EmbeddedVolume::mount(p.pool, {"pool0", DaxMode::inode});
	Store store(p.db);
	auto engine =
	    std::make_unique<Engine>(store, std::map<std::string, Volume *>{{"pool0", vol.get()}});
	engine->start();
	vol->mkdir("/db");
	auto s = vol->open_session({});
	int fd = s->open(kFile, true);
	s->pwrite(fd, 0, test::filled(8192, 'w'));
	s->mmap(fd, 0, 8192, true);
	engine->add_rule(test::make_rule("db", "/db", true));
	engine.reset();
	s.reset();
	ASSERT_FALSE(vol->stat(kFile).dax_flag);
	ASSERT_EQ(store.pending().size(), 1u);
}

// The daemon starting again, killed at the k-th point. Returns the child's exit code.
int start_and_kill_at(const Paths &p, uint64_t k)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		try {
			KillAt killer(k);
			set_statement_fault_hook([&] {
				killer.point();
				return false;
			});
			auto vol = EmbeddedVolume::mount(
			    p.pool,
			    {"pool0", DaxMode::inode, std::chrono::milliseconds(45000), &killer});
			Store store(p.db);
			Engine engine(store, {{"pool0", vol.get()}});
			killer.armed = true; // from the engine's first step on
			engine.start();      // applies the queued change
			_exit(kCompleted);
		} catch (...) {
			_exit(kChildFailed);
		}
	}
	int status = 0;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

// What a restart finds, and what it makes of it.
void check_after_kill(const Paths &p, uint64_t k)
{
	SCOPED_TRACE("killed at point " + std::to_string(k));
	{
		// Before anything applies it again: the change is either made or still queued,
		// and an event says it was made only if it was.
		auto vol = EmbeddedVolume::mount(p.pool, {"pool0", DaxMode::inode});
		EXPECT_TRUE(test::invariants_hold(*vol));
		Store store(p.db);
		bool flag = vol->stat(kFile).dax_flag;
		EXPECT_TRUE(flag || !store.pending().empty()) << "the queued change was lost";
		EXPECT_TRUE(flag || flag_changes(store).empty())
		    << "an event claims a change not made";
	}
	auto vol = EmbeddedVolume::mount(p.pool, {"pool0", DaxMode::inode});
	Store store(p.db);
	{
		Engine engine(store, {{"pool0", vol.get()}});
		engine.start();
		EXPECT_TRUE(vol->stat(kFile).dax_flag) << "the change did not converge";
		EXPECT_TRUE(store.pending().empty()) << "a row outlived its change";
		EXPECT_EQ(engine.list("pool0", kFile, false).at(0).state, FileState::in_sync);
	}
	auto changes = flag_changes(store);
	EXPECT_LE(changes.size(), 1u) << "the change was logged twice";
	for (const auto &e : changes) {
		EXPECT_EQ(e.data["from"], false);
		EXPECT_EQ(e.data["to"], true);
		EXPECT_EQ(e.data["cause"], "pending");
	}
	vol.reset();
	auto report = fsck(p.pool);
	EXPECT_TRUE(report.clean()) << (report.problems.empty() ? "" : report.problems[0]);
}

TEST(EngineCrash, QueuedChangeConvergesWhereverTheDaemonIsKilled)
{
	uint64_t k = 1;
	for (; k < 10000; k++) {
		test::TempDir dir;
		Paths p{dir / "pool0.pool", dir / "daxpolicy.db"};
		queue_a_change(p);
		int code = start_and_kill_at(p, k);
		ASSERT_TRUE(code == kKilled || code == kCompleted) << "child exit " << code;
		check_after_kill(p, k);
		if (HasFailure() || code == kCompleted)
			break;
	}
	// The pool's journal commit alone has more points than this; a run that stops sooner
	// killed nothing of interest.
	EXPECT_GT(k, 8u);
	RecordProperty("points", static_cast<int>(k));
}

} // namespace
