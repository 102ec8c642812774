// SPDX-License-Identifier: BSD-3-Clause
// Rules, deferral and the queue, as an administrator drives them with daxpolicy.
#include "tests/e2e/harness.hpp"

#include <fstream>

using namespace daxpolicy::test;
using nlohmann::json;

namespace
{

json events_of(const Daemon &d, const std::string &type)
{
	return d.ok({"list-events", "--type", type});
}

TEST(Policy, RuleAppliesToExistingAndNewFiles)
{
	Daemon d;
	make_file(d, "pool0:/db", "mkdir");
	make_file(d, "pool0:/db/wal", "mkdir");
	make_file(d, "pool0:/db/wal/000001.log");
	make_file(d, "pool0:/db/wal/notes.tmp");
	json rule = d.ok({"add-rule", "--name", "db-wal", "--subtree", "pool0:/db/wal", "--dax",
	                  "on", "--include", "*.log"});
	EXPECT_EQ(rule["origin"], "local");
	json files = d.ok({"list", "-r", "pool0:/db"});
	std::map<std::string, json> by_path;
	for (const auto &f : files)
		by_path[f["path"]] = f;
	EXPECT_EQ(by_path["pool0:/db/wal/000001.log"]["dax_flag"], true);
	EXPECT_EQ(by_path["pool0:/db/wal/000001.log"]["state"], "in-sync");
	EXPECT_EQ(by_path["pool0:/db/wal/000001.log"]["rule"], "db-wal");
	// Not the directory: names the rule turns away would inherit DAX from it.
	EXPECT_EQ(by_path["pool0:/db/wal"]["dax_flag"], false);
	EXPECT_EQ(by_path["pool0:/db/wal"]["state"], "in-sync");
	EXPECT_EQ(by_path["pool0:/db/wal/notes.tmp"]["dax_flag"], false) << "not included";
	EXPECT_EQ(by_path["pool0:/db/wal/notes.tmp"]["state"], "unmanaged");
	EXPECT_EQ(by_path["pool0:/db"]["state"], "unmanaged");

	// A new file the rule takes gets the flag as it is created.
	make_file(d, "pool0:/db/wal/000002.log");
	EXPECT_EQ(d.ok({"list", "pool0:/db/wal/000002.log"})[0]["dax_flag"], true);
	EXPECT_EQ(d.ok({"list", "pool0:/db/wal/000002.log"})[0]["dax_effective"], true);
	json changes = events_of(d, "flag-change");
	EXPECT_GE(changes.size(), 2u);
	EXPECT_EQ(changes[0]["rule"], "db-wal");
	EXPECT_EQ(d.ok({"list-rules"}).size(), 1u);
	EXPECT_EQ(d.ok({"status"})["rules"], 1);
}

// Item 15 of issue 7: a directory flagged for a rule with include globs gave DAX to every new
// name in it, which then stayed DAX as `unmanaged`.
TEST(Policy, NamesAGlobRuleTurnsAwayDoNotInheritItsFlag)
{
	Daemon d;
	make_file(d, "pool0:/d", "mkdir");
	d.ok({"add-rule", "--name", "logs", "--subtree", "pool0:/d", "--include", "*.log", "--dax",
	      "on"});
	make_file(d, "pool0:/d/x.txt");
	make_file(d, "pool0:/d/x.log");
	json txt = d.ok({"list", "pool0:/d/x.txt"})[0];
	EXPECT_EQ(txt["dax_flag"], false);
	EXPECT_EQ(txt["state"], "unmanaged");
	EXPECT_EQ(d.wait_state("pool0:/d/x.log", "in-sync")["dax_flag"], true);
	json dir = d.ok({"list", "pool0:/d"})[0];
	EXPECT_EQ(dir["dax_flag"], false);
	EXPECT_EQ(dir["dax_desired"], false);
	EXPECT_EQ(dir["rule"], "logs");
	EXPECT_EQ(dir["state"], "in-sync");
}

// What an older daxpolicyd left: the directory flagged, and turned-away names that inherited
// it. Reconcile clears what the directory gave them, and leaves a flag set by hand.
TEST(Policy, ReconcileClearsFlagsInheritedFromADirectoryItClears)
{
	Daemon d;
	make_file(d, "pool0:/d", "mkdir");
	d.ok({"set-dax", "pool0:/d"});
	make_file(d, "pool0:/d/old.txt");
	ASSERT_EQ(d.ok({"list", "pool0:/d/old.txt"})[0]["dax_flag"], true);
	d.ok({"add-rule", "--name", "logs", "--subtree", "pool0:/d", "--include", "*.log", "--dax",
	      "on"});
	EXPECT_EQ(d.ok({"list", "pool0:/d"})[0]["dax_flag"], false);
	json old = d.ok({"list", "pool0:/d/old.txt"})[0];
	EXPECT_EQ(old["dax_flag"], false);
	EXPECT_EQ(old["state"], "unmanaged");
	json cleared = json();
	for (const auto &e : events_of(d, "flag-change"))
		if (e["path"] == "/d/old.txt")
			cleared = e;
	EXPECT_EQ(cleared["inherited_from"], "/d") << cleared.dump();
	EXPECT_EQ(cleared["to"], false);

	d.ok({"set-dax", "pool0:/d/old.txt"});
	d.ok({"reconcile"});
	EXPECT_EQ(d.ok({"list", "pool0:/d/old.txt"})[0]["dax_flag"], true);
}

// Item 20: list-pending showed where the file was when its change was queued.
TEST(Policy, ListPendingShowsWhereARenamedFileIsNow)
{
	Daemon d;
	make_file(d, "pool0:/db", "mkdir");
	auto holder = d.io("pool0:/db/1.log");
	holder->command("mmap 0 4k");
	ASSERT_EQ(d.ok({"set-dax", "pool0:/db/1.log"})[0]["result"], "deferred");
	make_file(d, "pool0:/archive", "mkdir");
	Result mv = d.cli({"io", "-c", "mv /archive/1.log", "pool0:/db/1.log"});
	ASSERT_EQ(mv.exit_code, 0) << mv.out << mv.err;
	json pending = d.ok({"list-pending"});
	ASSERT_EQ(pending.size(), 1u);
	EXPECT_EQ(pending[0]["path"], "pool0:/archive/1.log");
	EXPECT_EQ(d.ok({"list", "pool0:/archive/1.log"})[0]["state"], "pending-unmap");
	EXPECT_EQ(holder->finish(), 0);
	EXPECT_EQ(d.wait_state("pool0:/archive/1.log", "unmanaged")["dax_flag"], true);
}

TEST(Policy, DeeperRuleWinsAndOffRuleClears)
{
	Daemon d;
	make_file(d, "pool0:/data", "mkdir");
	make_file(d, "pool0:/data/cache", "mkdir");
	make_file(d, "pool0:/data/cache/blob");
	make_file(d, "pool0:/data/table");
	d.ok({"add-rule", "--name", "data", "--subtree", "pool0:/data", "--dax", "on"});
	d.ok({"add-rule", "--name", "cache", "--subtree", "pool0:/data/cache", "--dax", "off"});
	json blob = d.ok({"list", "pool0:/data/cache/blob"})[0];
	EXPECT_EQ(blob["rule"], "cache");
	EXPECT_EQ(blob["dax_flag"], false);
	EXPECT_EQ(d.ok({"list", "pool0:/data/table"})[0]["dax_flag"], true);
	// The files the removed rule decided are judged at once by the rules that remain.
	json removed = d.ok({"remove-rule", "cache"});
	EXPECT_EQ(removed["files"]["applied"], 2); // /data/cache and its blob
	blob = d.ok({"list", "pool0:/data/cache/blob"})[0];
	EXPECT_EQ(blob["state"], "in-sync");
	EXPECT_EQ(blob["rule"], "data");
	EXPECT_EQ(blob["dax_flag"], true);
}

// The change waits for the mapping to go, then applies by itself, and says so.
TEST(Policy, ChangeToMappedFileIsDeferredThenApplied)
{
	Daemon d;
	make_file(d, "pool0:/db", "mkdir");
	auto holder = d.io("pool0:/db/table");
	holder->command("pwrite 0 64k");
	EXPECT_EQ(holder->command("mmap 0 64k")["cmd"], "mmap");
	json rule = d.ok({"add-rule", "--name", "db", "--subtree", "pool0:/db", "--dax", "on"});
	json f = d.ok({"list", "pool0:/db/table"})[0];
	EXPECT_EQ(f["state"], "pending-unmap");
	EXPECT_EQ(f["dax_flag"], false) << "the flag must not flip under a mapping";
	EXPECT_EQ(f["mapped"], 1);
	json pending = d.ok({"list-pending"});
	ASSERT_EQ(pending.size(), 1u);
	EXPECT_EQ(pending[0]["path"], "pool0:/db/table");
	EXPECT_EQ(pending[0]["want"], true);
	EXPECT_EQ(pending[0]["rule"], "db");
	ASSERT_EQ(events_of(d, "deferred").size(), 1u);

	// set-dax on a mapped file reports deferred too.
	json again = d.ok({"set-dax", "pool0:/db/table"});
	EXPECT_EQ(again[0]["result"], "deferred");

	holder->command("munmap");
	// Unmapped but still open: the flag is applied, the mode waits for last close.
	json evict = d.wait_state("pool0:/db/table", "pending-evict");
	EXPECT_EQ(evict["dax_flag"], true);
	EXPECT_EQ(evict["dax_effective"], false);
	EXPECT_EQ(holder->finish(), 0);
	json done = d.wait_state("pool0:/db/table", "in-sync");
	EXPECT_EQ(done["dax_effective"], true);
	EXPECT_TRUE(d.ok({"list-pending"}).empty());
	json changes = events_of(d, "flag-change");
	json last = changes.back();
	EXPECT_EQ(last["path"], "/db/table");
	EXPECT_EQ(last["from"], false);
	EXPECT_EQ(last["to"], true);
	EXPECT_EQ(last["rule"], "db");
	EXPECT_GE(last["deferred_ms"].get<int>(), 0);
}

TEST(Policy, SessionEndingAbruptlyReleasesItsMappings)
{
	Daemon d;
	auto holder = d.io("pool0:/f");
	holder->command("mmap 0 4k");
	EXPECT_EQ(d.ok({"clear-dax", "pool0:/f"})[0]["result"], "unchanged");
	EXPECT_EQ(d.ok({"set-dax", "pool0:/f"})[0]["result"], "deferred");
	holder.reset(); // the CLI goes away (stdin closed, process reaped)
	EXPECT_EQ(d.wait_state("pool0:/f", "unmanaged")["dax_flag"], true);
}

TEST(Policy, RulesAndPendingChangesSurviveKill9)
{
	Daemon d;
	make_file(d, "pool0:/keep", "mkdir");
	d.ok({"add-rule", "--name", "keep", "--subtree", "pool0:/keep", "--dax", "on"});
	auto holder = d.io("pool0:/held");
	holder->command("mmap 0 4k");
	// A change that only the queue remembers: no rule covers /held.
	EXPECT_EQ(d.ok({"set-dax", "pool0:/held"})[0]["result"], "deferred");
	d.kill_hard();
	holder->finish();
	d.start();
	// Nothing is mapped after a restart: the queued change is applied at start.
	EXPECT_EQ(d.ok({"list", "pool0:/held"})[0]["dax_flag"], true);
	EXPECT_TRUE(d.ok({"list-pending"}).empty());
	json last = events_of(d, "flag-change").back();
	EXPECT_EQ(last["path"], "/held");
	EXPECT_EQ(last["to"], true);
	json rules = d.ok({"list-rules"});
	ASSERT_EQ(rules.size(), 1u);
	EXPECT_EQ(rules[0]["name"], "keep");
	json vol = events_of(d, "volume").back();
	EXPECT_EQ(vol["unclean"], true) << "the pool was not unmounted cleanly";
	d.stop();
	EXPECT_EQ(run({DAXPOLICY_BIN, "fsck", d.pool()}).exit_code, 0);
}

TEST(Policy, ApplyManagesPolicyFilesAndLeavesLocalRulesAlone)
{
	Daemon d;
	make_file(d, "pool0:/db", "mkdir");
	make_file(d, "pool0:/db/a.log");
	make_file(d, "pool0:/scratch", "mkdir");
	d.ok({"add-rule", "--name", "local-one", "--subtree", "pool0:/scratch", "--dax", "off"});
	auto dir = d.dir() / "policy.d";
	std::filesystem::create_directories(dir);
	std::ofstream(dir / "10-db.toml") << "[[rule]]\nname = \"db\"\nvolume = \"pool0\"\n"
	                                     "subtree = \"/db\"\ndax = \"on\"\n";
	json plan = d.ok({"apply", "--policy-dir", dir.string(), "--dry-run"});
	EXPECT_EQ(plan["changed"], true);
	EXPECT_EQ(plan["rules"]["added"], json::array({"db"}));
	EXPECT_EQ(plan["files"]["applied"], 2);
	EXPECT_EQ(d.ok({"list", "pool0:/db/a.log"})[0]["dax_flag"], false) << "dry run changed it";
	EXPECT_EQ(d.ok({"list-rules"}).size(), 1u);

	json applied = d.ok({"apply", "--policy-dir", dir.string()});
	EXPECT_EQ(applied["files"]["applied"], 2);
	EXPECT_EQ(d.ok({"list", "pool0:/db/a.log"})[0]["dax_flag"], true);
	json again = d.ok({"apply", "--policy-dir", dir.string()});
	EXPECT_EQ(again["changed"], false);
	EXPECT_EQ(again["rules"]["unchanged"], json::array({"db"}));

	Result r = d.cli({"remove-rule", "db"});
	EXPECT_EQ(r.exit_code, 1) << "a managed rule is removed from its file";
	std::filesystem::remove(dir / "10-db.toml");
	json removed = d.ok({"apply", "--policy-dir", dir.string()});
	EXPECT_EQ(removed["rules"]["removed"], json::array({"db"}));
	json rules = d.ok({"list-rules"});
	ASSERT_EQ(rules.size(), 1u);
	EXPECT_EQ(rules[0]["name"], "local-one");
}

TEST(Policy, BadPolicyFileChangesNothing)
{
	Daemon d;
	auto dir = d.dir() / "policy.d";
	std::filesystem::create_directories(dir);
	std::ofstream(dir / "good.toml") << "[[rule]]\nname = \"a\"\nvolume = \"pool0\"\n"
	                                    "subtree = \"/a\"\ndax = \"on\"\n";
	std::ofstream(dir / "bad.toml") << "[[rule]]\nname = \"b\"\nvolume = \"pool0\"\n"
	                                   "subtree = \"/b\"\ndax = \"maybe\"\n";
	Result r = d.cli({"apply", "--policy-dir", dir.string()});
	EXPECT_EQ(r.exit_code, 1);
	EXPECT_NE(r.err.find("bad.toml:5:7"), std::string::npos) << r.err;
	EXPECT_TRUE(d.ok({"list-rules"}).empty());
	Result check = run({DAXPOLICY_BIN, "check", dir.string()});
	EXPECT_EQ(check.exit_code, 1);
	EXPECT_NE(check.err.find("bad.toml:5:7: dax"), std::string::npos) << check.err;
	std::filesystem::remove(dir / "bad.toml");
	EXPECT_EQ(run({DAXPOLICY_BIN, "check", dir.string()}).exit_code, 0);
}

TEST(Policy, UnknownVolumeInPolicyIsRefused)
{
	Daemon d;
	auto file = d.dir() / "x.toml";
	std::ofstream(file) << "[[rule]]\nname = \"x\"\nvolume = \"nope\"\nsubtree = \"/\"\n"
	                       "dax = \"on\"\n";
	Result r = d.cli({"apply", "--policy-dir", file.string()});
	EXPECT_EQ(r.exit_code, 1);
	EXPECT_NE(r.err.find("no volume named 'nope'"), std::string::npos) << r.err;
	EXPECT_TRUE(d.ok({"list-rules"}).empty());
}

} // namespace
