// SPDX-License-Identifier: BSD-3-Clause
// The policy is the source of truth: a manual change to a governed file still acts, says which
// rule it defies and is corrected by the next reconcile; every flag change is an event with
// its cause, and withdrawing a queued change is one too. Rules are removed several at once and
// replaced in place.
#include "tests/e2e/harness.hpp"

using namespace daxpolicy::test;
using nlohmann::json;

namespace
{

// The flag-change events of `path`, oldest first.
json flag_changes(const Daemon &d, const std::string &path)
{
	json out = json::array();
	for (const auto &e : d.ok({"list-events", "--type", "flag-change"}))
		if (e["path"] == path)
			out.push_back(e);
	return out;
}

TEST(Drift, SetDaxOnAGovernedFileSaysWhichRuleItDefiesAndReconcileRestoresIt)
{
	Daemon d;
	make_file(d, "pool0:/db", "mkdir");
	make_file(d, "pool0:/db/a.log");
	d.ok({"add-rule", "--name", "db", "--subtree", "pool0:/db", "--dax", "on"});
	ASSERT_EQ(flag_changes(d, "/db/a.log").back()["cause"], "rule");

	json cleared = d.ok({"clear-dax", "pool0:/db/a.log"});
	ASSERT_EQ(cleared.size(), 1u);
	EXPECT_EQ(cleared[0]["result"], "applied");
	EXPECT_EQ(cleared[0]["conflicts_with"], "db");
	EXPECT_EQ(cleared[0]["state"], "out-of-sync");
	json e = flag_changes(d, "/db/a.log").back();
	EXPECT_EQ(e["cause"], "request");
	EXPECT_EQ(e["conflicts_with"], "db");
	EXPECT_EQ(d.ok({"list", "pool0:/db/a.log"})[0]["state"], "out-of-sync");

	d.ok({"reconcile"});
	json restored = d.ok({"list", "pool0:/db/a.log"})[0];
	EXPECT_EQ(restored["dax_flag"], true);
	EXPECT_EQ(restored["state"], "in-sync");
	EXPECT_EQ(flag_changes(d, "/db/a.log").back()["cause"], "drift");

	// Outside any rule: no conflict.
	make_file(d, "pool0:/free");
	EXPECT_EQ(d.ok({"set-dax", "pool0:/free"})[0]["conflicts_with"], nullptr);
}

TEST(Drift, AnIoChattrIsAFlagChangeEventLikeSetDax)
{
	Daemon d;
	make_file(d, "pool0:/db", "mkdir");
	d.ok({"add-rule", "--name", "db", "--subtree", "pool0:/db", "--dax", "on"});
	make_file(d, "pool0:/db/x");
	size_t before = flag_changes(d, "/db/x").size();
	Result r = d.cli({"io", "-c", "chattr -x", "pool0:/db/x"});
	ASSERT_EQ(r.exit_code, 0) << r.err;
	EXPECT_NE(r.out.find("\"conflicts_with\":\"db\""), std::string::npos) << r.out;
	json changes = flag_changes(d, "/db/x");
	ASSERT_EQ(changes.size(), before + 1) << changes.dump(2);
	EXPECT_EQ(changes.back()["cause"], "request");
	EXPECT_EQ(changes.back()["from"], true);
	EXPECT_EQ(changes.back()["to"], false);
	// Setting what is already there changes nothing, and logs nothing.
	ASSERT_EQ(d.cli({"io", "-c", "chattr -x", "pool0:/db/x"}).exit_code, 0);
	EXPECT_EQ(flag_changes(d, "/db/x").size(), before + 1);
}

TEST(Drift, ApplyTellsADriftCorrectionFromAPolicyChange)
{
	Daemon d;
	make_file(d, "pool0:/db", "mkdir");
	make_file(d, "pool0:/db/old");
	make_file(d, "pool0:/new", "mkdir");
	make_file(d, "pool0:/new/f");
	d.ok({"add-rule", "--name", "db", "--subtree", "pool0:/db", "--dax", "on"});
	d.ok({"clear-dax", "pool0:/db/old"});
	d.ok({"add-rule", "--name", "new", "--subtree", "pool0:/new", "--dax", "on"});
	EXPECT_EQ(flag_changes(d, "/new/f").back()["cause"], "rule");
	// A rule change over both: the drifted file is corrected as drift.
	d.ok({"add-rule", "--name", "all", "--subtree", "pool0:/", "--dax", "on"});
	EXPECT_EQ(flag_changes(d, "/db/old").back()["cause"], "drift");
}

TEST(Drift, CancellingAQueuedChangeIsAnEvent)
{
	Daemon d;
	auto holder = d.io("pool0:/m");
	holder->command("pwrite 0 4k");
	holder->command("mmap -r 0 4k");
	EXPECT_EQ(d.ok({"set-dax", "pool0:/m"})[0]["result"], "deferred");
	d.ok({"cancel-pending", "pool0:/m"});
	EXPECT_TRUE(d.ok({"list-pending"}).empty());
	json deferred = d.ok({"list-events", "--type", "deferred"});
	ASSERT_GE(deferred.size(), 2u);
	EXPECT_EQ(deferred.back()["path"], "/m");
	EXPECT_EQ(deferred.back()["action"], "cancelled");
	EXPECT_EQ(deferred.back()["want"], true);
}

TEST(Rules, RemoveRuleTakesSeveralNamesAndReEvaluatesTheirFilesInOneJob)
{
	Daemon d;
	for (const char *dir : {"pool0:/a", "pool0:/b"})
		make_file(d, dir, "mkdir");
	make_file(d, "pool0:/a/f");
	make_file(d, "pool0:/b/f");
	d.ok({"add-rule", "--name", "a", "--subtree", "pool0:/a", "--dax", "on"});
	d.ok({"add-rule", "--name", "b", "--subtree", "pool0:/b", "--dax", "on"});
	d.ok({"add-rule", "--name", "outer", "--subtree", "pool0:/", "--dax", "off"});

	Result bad = d.cli({"remove-rule", "a", "ghost"});
	EXPECT_EQ(bad.exit_code, 1);
	EXPECT_EQ(error_of(bad)["error"], "not-found");
	EXPECT_EQ(d.ok({"list-rules"}).size(), 3u) << "one wrong name removes none";

	size_t jobs = d.ok({"list-events", "--type", "reconcile"}).size();
	json out = d.ok({"remove-rule", "a", "b"});
	EXPECT_EQ(out["removed"], json::array({"a", "b"}));
	EXPECT_EQ(out["files"]["applied"], 4) << out.dump();
	EXPECT_EQ(d.ok({"list-events", "--type", "reconcile"}).size(), jobs + 1) << "one job";
	for (const char *f : {"pool0:/a/f", "pool0:/b/f"}) {
		json file = d.ok({"list", f})[0];
		EXPECT_EQ(file["dax_flag"], false) << f;
		EXPECT_EQ(file["rule"], "outer") << f;
		EXPECT_EQ(file["state"], "in-sync") << f;
	}
}

TEST(Rules, AddRuleReplaceChangesALocalRuleInPlace)
{
	Daemon d;
	make_file(d, "pool0:/a", "mkdir");
	make_file(d, "pool0:/a/f");
	make_file(d, "pool0:/b", "mkdir");
	make_file(d, "pool0:/b/f");
	d.ok({"add-rule", "--name", "r", "--subtree", "pool0:/a", "--dax", "on"});
	Result dup = d.cli({"add-rule", "--name", "r", "--subtree", "pool0:/b", "--dax", "on"});
	EXPECT_EQ(dup.exit_code, 1);
	EXPECT_EQ(error_of(dup)["error"], "exists");

	json moved =
	    d.ok({"add-rule", "--replace", "--name", "r", "--subtree", "pool0:/b", "--dax", "on"});
	EXPECT_EQ(moved["subtree"], "/b");
	EXPECT_EQ(moved["files"]["applied"], 2) << moved.dump();
	EXPECT_EQ(d.ok({"list", "pool0:/b/f"})[0]["dax_flag"], true);
	// What it left is judged by the rules that remain: none, so it keeps its flag.
	EXPECT_EQ(d.ok({"list", "pool0:/a/f"})[0]["state"], "unmanaged");
	d.ok({"add-rule", "--replace", "--name", "r", "--subtree", "pool0:/b", "--dax", "off"});
	EXPECT_EQ(d.ok({"list", "pool0:/b/f"})[0]["dax_flag"], false);
	json rules = d.ok({"list-rules"});
	ASSERT_EQ(rules.size(), 1u);
	EXPECT_EQ(rules[0]["subtree"], "/b");
	json changed = d.ok({"list-events", "--type", "rule-change"}).back();
	EXPECT_EQ(changed["action"], "changed");
}

} // namespace
