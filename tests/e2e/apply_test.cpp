// SPDX-License-Identifier: BSD-3-Clause
// `apply` as config management drives it: a dry run is a diff that changes nothing and
// agrees with the run that follows; --detailed-exitcodes tells "changed" from "nothing to
// do"; a second run changes nothing.
#include "tests/e2e/harness.hpp"
#include "tests/support/loop_mount.hpp"

#include <fstream>

using namespace daxpolicy::test;
using nlohmann::json;

namespace
{

std::filesystem::path policy_dir(const Daemon &d, const std::string &rules)
{
	auto dir = d.dir() / "policy.d";
	std::filesystem::create_directories(dir);
	std::ofstream(dir / "10-db.toml") << rules;
	return dir;
}

// What a dry run must not touch: rules, flags, the queue, the event log.
json snapshot(const Daemon &d)
{
	return {d.ok({"list-rules"}), d.ok({"list", "-r", "pool0:/"}), d.ok({"list-pending"}),
	        d.ok({"list-events"})};
}

TEST(Apply, DryRunIsADiffThatChangesNothingAndAgreesWithTheRealRun)
{
	Daemon d;
	make_file(d, "pool0:/db", "mkdir");
	make_file(d, "pool0:/db/a.log");
	make_file(d, "pool0:/db/b.log");
	make_file(d, "pool0:/other");
	auto dir = policy_dir(d, "[[rule]]\nname = \"db\"\nvolume = \"pool0\"\n"
	                         "subtree = \"/db\"\ndax = \"on\"\ninclude = [\"a.log\"]\n");
	json before = snapshot(d);
	Result dry = d.cli({"apply", "--policy-dir", dir.string(), "--dry-run"});
	ASSERT_EQ(dry.exit_code, 0) << dry.err;
	json plan = dry.json();
	EXPECT_EQ(snapshot(d), before) << "a dry run changes no rule, flag, queue entry or event";
	EXPECT_EQ(plan["dry_run"], true);
	EXPECT_EQ(plan["changed"], true);
	// Only a.log: b.log's name is not included, and /db, whose rule has globs, keeps no
	// flag for new files to inherit.
	json want = json::array({{{"path", "pool0:/db/a.log"},
	                          {"from", false},
	                          {"to", true},
	                          {"rule", "db"},
	                          {"action", "apply"}}});
	EXPECT_EQ(plan["changes"], want) << plan.dump(2);
	EXPECT_EQ(plan["files"]["applied"], 1);

	json done = d.ok({"apply", "--policy-dir", dir.string()});
	EXPECT_EQ(done["changes"], plan["changes"]) << "the real run does what the dry run said";
	EXPECT_EQ(done["files"], plan["files"]);
	EXPECT_EQ(d.ok({"list", "pool0:/db/a.log"})[0]["dax_flag"], true);

	json again = d.ok({"apply", "--policy-dir", dir.string()});
	EXPECT_EQ(again["changed"], false);
	EXPECT_EQ(again["changes"], json::array());
}

TEST(Apply, AMappedFileIsListedAsDeferred)
{
	Daemon d;
	make_file(d, "pool0:/db", "mkdir");
	auto holder = d.io("pool0:/db/m.log");
	holder->command("pwrite 0 4k");
	holder->command("mmap -r 0 4k");
	auto dir = policy_dir(d, "[[rule]]\nname = \"db\"\nvolume = \"pool0\"\n"
	                         "subtree = \"/db\"\ndax = \"on\"\ninclude = [\"*.log\"]\n");
	json before = snapshot(d);
	json plan = d.ok({"apply", "--policy-dir", dir.string(), "--dry-run"});
	EXPECT_EQ(snapshot(d), before);
	json done = d.ok({"apply", "--policy-dir", dir.string()});
	for (const json &out : {plan, done}) {
		ASSERT_EQ(out["changes"].size(), 1u) << out.dump(2);
		EXPECT_EQ(out["changes"][0]["path"], "pool0:/db/m.log");
		EXPECT_EQ(out["changes"][0]["action"], "defer");
	}
	EXPECT_EQ(d.ok({"list-pending"}).size(), 1u);
}

TEST(Apply, DetailedExitcodesSayWhetherAnythingChanged)
{
	Daemon d;
	make_file(d, "pool0:/db", "mkdir");
	make_file(d, "pool0:/db/a.log");
	auto dir = policy_dir(d, "[[rule]]\nname = \"db\"\nvolume = \"pool0\"\n"
	                         "subtree = \"/db\"\ndax = \"on\"\n");
	std::vector<std::string> apply = {"apply", "--detailed-exitcodes", "--policy-dir",
	                                  dir.string()};
	auto dry = apply;
	dry.push_back("--dry-run");
	EXPECT_EQ(d.cli(dry).exit_code, 2) << "something would change";
	EXPECT_EQ(d.cli(apply).exit_code, 2) << "something changed";
	EXPECT_EQ(d.cli(apply).exit_code, 0) << "nothing left to change";
	EXPECT_EQ(d.cli(dry).exit_code, 0);
	// A file that drifted is a change too.
	d.ok({"clear-dax", "pool0:/db/a.log"});
	EXPECT_EQ(d.cli(apply).exit_code, 2);
	EXPECT_EQ(d.ok({"list", "pool0:/db/a.log"})[0]["dax_flag"], true);
	std::ofstream(dir / "20-bad.toml") << "[[rule]]\nname = \"x\"\n";
	Result bad = d.cli(apply);
	EXPECT_EQ(bad.exit_code, 1) << "a failure is 1, whatever changed";
	EXPECT_EQ(error_of(bad)["error"], "invalid-argument");
}

TEST(Apply, ChangesOfALargeTreeReachTheClientWhole)
{
	// More changes than a reply may carry in one part (wire::kListPart, 256 KiB): on a
	// host volume, where thousands of files are quick to make.
	SKIP_UNLESS_MOUNTABLE(LoopFs::tools_for("ext4"));
	TempDir dir;
	LoopFs fs(dir.path(), "ext4", 64, {"mkfs.ext4", "-q", "-F", "-N", "8000"}, "dax=inode");
	constexpr int kFiles = 5000;
	std::filesystem::create_directories(fs.host("/big"));
	for (int i = 0; i < kFiles; i++)
		std::ofstream(fs.host("/big/file-with-a-longer-name-" + std::to_string(i)));
	Daemon d("[[volume]]\nname = \"pmem0\"\nkind = \"host\"\npath = \"" +
	         fs.mount_point().string() + "\"\n");
	auto policy = policy_dir(d, "[[rule]]\nname = \"big\"\nvolume = \"pmem0\"\n"
	                            "subtree = \"/big\"\ndax = \"on\"\n");
	json plan = d.ok({"apply", "--dry-run", "--policy-dir", policy.string()});
	EXPECT_EQ(plan["changes"].size(), kFiles + 1u);
	json done = d.ok({"apply", "--policy-dir", policy.string()});
	EXPECT_EQ(done["changes"].size(), kFiles + 1u);
	EXPECT_EQ(done["files"]["applied"], kFiles + 1);
	EXPECT_EQ(done["changes"], plan["changes"]);
}

} // namespace
