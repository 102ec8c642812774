// SPDX-License-Identifier: BSD-3-Clause
// Fault injection into the store, as sqlite's test VFS does: a randomized sequence of engine
// operations (add-rule, set-dax and clear-dax on mapped and unmapped files, mmap, munmap,
// remove-rule, apply, reconcile) runs once per sqlite statement it makes, with that one
// statement failing (SQLITE_IOERR). Every failure must reach the caller as a daxpolicy::Error
// (or, inside a notification, the event log), never a crash; no flag may flip under a live
// mapping; and afterwards the database must be consistent, no queued row may outlive its
// file or its change, no event may claim a change that was not made, the engine must decide
// by the rules the store holds, and a restart must bring every file in line. The faults are
// the store's, so the volume is the fake: what the engine asks of any volume is all it uses.
#include "policy/engine.hpp"
#include "policy/sqlite.hpp"
#include "policy/store.hpp"
#include "tests/support/fake_volume.hpp"
#include "tests/support/rule_builder.hpp"
#include "tests/support/temp_dir.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <random>

using namespace daxpolicy;
using namespace daxpolicy::fscore;
using namespace daxpolicy::policy;

namespace
{

const std::vector<std::string> kFiles = {"/a/1.log", "/a/2.dat", "/a/b/3.log", "/c/4.dat",
                                         "/c/5.log"};
const std::vector<std::string> kSubtrees = {"/a", "/a/b", "/c", "/"};

struct Op {
	enum Kind { add_rule, remove_rule, set_dax, map, unmap, apply, reconcile } kind = add_rule;
	size_t file = 0;
	bool on = false;
	Rule rule;
	std::vector<Rule> managed;
};

// One draw after another, in this order, so that a seed makes the same rule on every run.
test::RuleBuilder random_rule(std::mt19937_64 &rng, const std::string &name)
{
	std::string subtree = kSubtrees[rng() % kSubtrees.size()];
	bool dax = rng() % 2;
	auto rule = test::make_rule(name, subtree, dax);
	if (rng() % 2)
		rule.include({"*.log"});
	rule.priority(static_cast<int>(rng() % 3));
	return rule;
}

// The same operations for every run of one seed: none depends on how the last one went.
std::vector<Op> make_ops(uint64_t seed, size_t count)
{
	std::mt19937_64 rng(seed);
	std::vector<Op> ops;
	int rules = 0;
	for (size_t i = 0; i < count; i++) {
		Op op;
		op.kind = static_cast<Op::Kind>(rng() % 7);
		op.file = rng() % kFiles.size();
		op.on = rng() % 2;
		if (op.kind == Op::add_rule || op.kind == Op::remove_rule)
			op.rule =
			    random_rule(rng, "local-" + std::to_string(op.kind == Op::add_rule
			                                                   ? rules++
			                                                   : rng() % (rules + 1)));
		if (op.kind == Op::apply)
			for (int m = 0, n = static_cast<int>(rng() % 3); m < n; m++)
				op.managed.push_back(
				    random_rule(rng, "managed-" + std::to_string(m))
				        .managed("/etc/daxpolicy/policy.d/fault.toml"));
		ops.push_back(op);
	}
	return ops;
}

// Fails the n-th statement after it is armed (n = 0: none), and counts them all.
struct StatementFault {
	uint64_t fail_at = 0;
	uint64_t seen = 0;
	bool fired = false;
	StatementFault()
	{
		set_statement_fault_hook([this] {
			if (++seen != fail_at)
				return false;
			fired = true;
			return true;
		});
	}
	~StatementFault() { set_statement_fault_hook(nullptr); }
};

class FaultRun
{
      public:
	// Every file open by another process from the start, as a database holds its files.
	FaultRun()
	{
		store_ = std::make_unique<Store>(db_);
		for (const char *d : {"/a", "/a/b", "/c"})
			vol_.mkdir(d);
		for (const auto &f : kFiles) {
			vol_.create(f);
			vol_.open(f);
		}
		start_engine();
	}

	void start_engine()
	{
		engine_ = std::make_unique<Engine>(
		    *store_, std::map<std::string, Volume *>{{"pool0", &vol_}});
		engine_->start();
	}

	// Runs `op`; an Error is what the caller would see. Returns whether it failed.
	bool run(const Op &op)
	{
		// A job that fails tells its waiters (here, within the call: no loop).
		size_t errors_before = errors_.size();
		auto job_done = [this](const JobReport &r) {
			if (r.state == JobState::failed)
				errors_.push_back(r.error);
		};
		try {
			switch (op.kind) {
			case Op::add_rule:
				engine_->add_rule(op.rule, job_done);
				break;
			case Op::remove_rule:
				engine_->remove_rules({op.rule.name}, job_done);
				break;
			case Op::set_dax:
				engine_->request_flag("pool0", kFiles[op.file], false, op.on);
				break;
			case Op::map:
				if (!mapped_flag_.contains(op.file)) {
					vol_.map(kFiles[op.file]);
					mapped_flag_[op.file] = vol_.stat(kFiles[op.file]).dax_flag;
				}
				break;
			case Op::unmap:
				if (mapped_flag_.contains(op.file)) {
					vol_.unmap(kFiles[op.file]);
					mapped_flag_.erase(op.file);
				}
				break;
			case Op::apply:
				engine_->apply(op.managed, false, job_done);
				break;
			case Op::reconcile:
				engine_->reconcile(std::nullopt, std::nullopt, job_done);
				break;
			}
		} catch (const Error &e) {
			errors_.push_back(e.what());
			return true;
		}
		return errors_.size() > errors_before;
	}

	// No flag changes under a live mapping, whatever failed. (A change by path, which does
	// not look at mappings, shows here when it meets a mapped file.)
	void check_mapped_flags_held()
	{
		for (const auto &[i, flag] : mapped_flag_)
			EXPECT_EQ(vol_.stat(kFiles[i]).dax_flag, flag)
			    << kFiles[i] << ": flipped while mapped";
	}

	bool saw_injected_failure()
	{
		auto injected = [](const std::string &m) {
			return m.find("(injected)") != std::string::npos;
		};
		if (std::any_of(errors_.begin(), errors_.end(), injected))
			return true;
		EventQuery q;
		q.types = {"volume"};
		auto events = store_->events(q);
		return std::any_of(events.begin(), events.end(), [&](const Event &e) {
			return injected(e.data.value("message", ""));
		});
	}

	void check_consistent()
	{
		Statement integrity(store_->database(), "PRAGMA integrity_check");
		ASSERT_TRUE(integrity.step());
		EXPECT_EQ(integrity.text(0), "ok");
		Statement keys(store_->database(), "PRAGMA foreign_key_check");
		EXPECT_FALSE(keys.step()) << "a row names a rule that is not there";

		// A queued row is for a file that exists and a change not yet made.
		for (const auto &c : store_->pending()) {
			auto path = vol_.path_of(c.ino, c.generation);
			ASSERT_TRUE(path) << "a row outlived its file: " << c.path;
			EXPECT_NE(vol_.stat(*path).dax_flag, c.want)
			    << *path << ": a row outlived its change";
		}
		// The engine decides by the rules the store holds, and says a file waits
		// exactly when a row says so.
		Matcher stored(store_->rules());
		for (const auto &f : kFiles) {
			FileView v = engine_->list("pool0", f, false).at(0);
			auto d = stored.decide("pool0", f, false);
			EXPECT_EQ(v.rule, d ? std::optional(d->rule->name) : std::nullopt) << f;
			bool queued =
			    store_->pending_for("pool0", v.file.ino, v.file.generation).has_value();
			EXPECT_EQ(v.state == FileState::pending_unmap, queued) << f;
		}
		// No event claims a change that was not made.
		EventQuery q;
		q.types = {"flag-change"};
		std::map<std::string, size_t> logged;
		for (const auto &e : store_->events(q))
			logged[e.path]++;
		for (const auto &f : kFiles)
			EXPECT_LE(logged[f], vol_.flag_changes(f))
			    << f << ": more flag-change events than changes";
	}

	// A restart of the daemon and of every process using the volume, so that nothing is
	// mapped: everything queued applies, and a reconcile brings every file a rule covers in
	// line.
	void check_recovers()
	{
		engine_.reset();
		vol_.forget_users();
		mapped_flag_.clear();
		start_engine();
		EXPECT_TRUE(store_->pending().empty());
		engine_->reconcile(std::nullopt, std::nullopt);
		for (const auto &f : kFiles) {
			FileView v = engine_->list("pool0", f, false).at(0);
			EXPECT_TRUE(v.state == FileState::in_sync ||
			            v.state == FileState::unmanaged)
			    << f << ": " << file_state_name(v.state);
		}
	}

      private:
	// On tmpfs where there is one: this test is about failing statements, not durability,
	// and a thousand runs of sqlite's fsyncs would take minutes.
	static std::filesystem::path scratch()
	{
		std::error_code ec;
		return std::filesystem::is_directory("/dev/shm", ec)
		           ? std::filesystem::path("/dev/shm")
		           : std::filesystem::temp_directory_path();
	}
	test::TempDir dir_{scratch()};
	std::filesystem::path db_ = dir_ / "daxpolicy.db";
	test::FakeVolume vol_; // outlives the engine, which is subscribed to it
	std::unique_ptr<Store> store_;
	std::unique_ptr<Engine> engine_;
	std::map<size_t, bool> mapped_flag_; // the mapped files, with the flag each had then
	std::vector<std::string> errors_;
};

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr size_t kOperations = 12;
#else
constexpr size_t kOperations = 30;
#endif

TEST(EngineFault, EachStatementFailingInTurnLeavesAConsistentState)
{
	for (uint64_t seed : {1, 2}) {
		auto ops = make_ops(seed, kOperations);
		uint64_t statements = 0;
		{
			FaultRun run;
			StatementFault count;
			for (const auto &op : ops)
				run.run(op);
			statements = count.seen;
		}
		ASSERT_GT(statements, 50u);
		RecordProperty("statements_seed_" + std::to_string(seed),
		               static_cast<int>(statements));
		for (uint64_t n = 1; n <= statements; n++) {
			SCOPED_TRACE("seed " + std::to_string(seed) + ", statement " +
			             std::to_string(n) + " of " + std::to_string(statements) +
			             " fails");
			FaultRun run;
			{
				StatementFault fault;
				fault.fail_at = n;
				for (const auto &op : ops) {
					run.run(op);
					run.check_mapped_flags_held();
				}
				EXPECT_TRUE(!fault.fired || run.saw_injected_failure())
				    << "a failure nobody was told of";
			}
			run.check_consistent();
			run.check_recovers();
			if (HasFailure())
				return;
		}
	}
}

} // namespace
