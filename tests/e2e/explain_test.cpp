// SPDX-License-Identifier: BSD-3-Clause
// explain PATH: why a file has its state, through the real CLI.
#include "tests/e2e/harness.hpp"

using namespace daxpolicy::test;
using nlohmann::json;

namespace
{

void rule(const Daemon &d, std::vector<std::string> args)
{
	args.insert(args.begin(), "add-rule");
	d.ok(args);
}

TEST(Explain, NamesEveryRuleThatHoldsTheFileAndWhyTheWinnerWon)
{
	Daemon d;
	make_file(d, "pool0:/db", "mkdir");
	make_file(d, "pool0:/db/a.log");
	rule(d, {"--name", "all", "--subtree", "pool0:/", "--dax", "off"});
	rule(d, {"--name", "db", "--subtree", "pool0:/db", "--dax", "on"});
	rule(d, {"--name", "tmp", "--subtree", "pool0:/db", "--dax", "off", "--include", "*.tmp"});
	json e = d.ok({"explain", "pool0:/db/a.log"});
	EXPECT_EQ(e["path"], "pool0:/db/a.log");
	EXPECT_EQ(e["state"], "in-sync");
	ASSERT_EQ(e["rules"].size(), 3u) << e.dump(2);
	std::map<std::string, json> by_name;
	for (const auto &r : e["rules"])
		by_name[r["name"]] = r;
	EXPECT_EQ(by_name["tmp"]["accepts_name"], false);
	EXPECT_EQ(by_name["db"]["won"], true);
	EXPECT_EQ(by_name["db"]["depth"], 1);
	EXPECT_EQ(by_name["all"]["depth"], 0);
	EXPECT_EQ(e["winner"]["rule"], "db");
	EXPECT_NE(e["winner"]["why"].get<std::string>().find("deepest subtree"), std::string::npos)
	    << e["winner"];
	EXPECT_EQ(e["mount"]["dax_mode"], "inode");
	EXPECT_EQ(e["pending"], nullptr);

	// Equal depth: priority, then the lower name in byte order.
	rule(d, {"--name", "db2", "--subtree", "pool0:/db", "--dax", "off", "--priority", "5"});
	e = d.ok({"explain", "pool0:/db/a.log"});
	EXPECT_EQ(e["winner"]["rule"], "db2");
	EXPECT_NE(e["winner"]["why"].get<std::string>().find("higher priority"), std::string::npos);
	d.ok({"remove-rule", "db2"});
	rule(d, {"--name", "da", "--subtree", "pool0:/db", "--dax", "off"});
	e = d.ok({"explain", "pool0:/db/a.log"});
	EXPECT_EQ(e["winner"]["rule"], "da");
	EXPECT_NE(e["winner"]["why"].get<std::string>().find("byte order"), std::string::npos);
}

TEST(Explain, ShowsTheQueuedChangeAndWhoHoldsTheFile)
{
	Daemon d;
	auto holder = d.io("pool0:/m");
	holder->command("pwrite 0 4k");
	holder->command("mmap -r 0 4k");
	d.ok({"set-dax", "pool0:/m"});
	json e = d.ok({"explain", "pool0:/m"});
	EXPECT_EQ(e["state"], "pending-unmap");
	EXPECT_EQ(e["winner"]["rule"], nullptr);
	ASSERT_TRUE(e["pending"].is_object()) << e.dump(2);
	EXPECT_EQ(e["pending"]["want"], true);
	ASSERT_EQ(e["pending"]["holders"].size(), 1u) << e.dump(2);
	EXPECT_EQ(e["pending"]["holders"][0]["pid"], holder->pid());

	Result human = d.cli({"-u", "explain", "pool0:/m"});
	ASSERT_EQ(human.exit_code, 0) << human.err;
	EXPECT_NE(human.out.find("pending: flag true"), std::string::npos) << human.out;
	EXPECT_NE(human.out.find("held by pid " + std::to_string(holder->pid())), std::string::npos)
	    << human.out;

	Result missing = d.cli({"explain", "pool0:/nope"});
	EXPECT_EQ(missing.exit_code, 1);
	EXPECT_EQ(error_of(missing)["error"], "not-found");
}

} // namespace

namespace
{

std::vector<std::string> paths_in(const json &files)
{
	std::vector<std::string> out;
	for (const auto &f : files)
		out.push_back(f["path"]);
	return out;
}

TEST(ListFilters, StateAndRuleKeepOnlyThoseFilesAndEachFileIsListedOnce)
{
	Daemon d;
	make_file(d, "pool0:/db", "mkdir");
	make_file(d, "pool0:/db/a");
	make_file(d, "pool0:/db/b");
	make_file(d, "pool0:/free");
	rule(d, {"--name", "db", "--subtree", "pool0:/db", "--dax", "on"});
	d.ok({"clear-dax", "pool0:/db/b"});
	EXPECT_EQ(paths_in(d.ok({"list", "-r", "--state", "out-of-sync", "pool0:"})),
	          std::vector<std::string>{"pool0:/db/b"});
	EXPECT_EQ(paths_in(d.ok(
	              {"list", "-r", "--state", "out-of-sync", "--state", "unmanaged", "pool0:/"})),
	          (std::vector<std::string>{"pool0:/", "pool0:/db/b", "pool0:/free"}));
	EXPECT_EQ(paths_in(d.ok({"list", "-r", "--rule", "db", "pool0:/"})),
	          (std::vector<std::string>{"pool0:/db", "pool0:/db/a", "pool0:/db/b"}));
	// A path inside another, or twice: each file once.
	EXPECT_EQ(d.ok({"list", "-r", "pool0:/db", "pool0:/db/a", "pool0:/db"}).size(), 3u);
	EXPECT_EQ(d.ok({"list", "pool0:/free", "pool0:/free"}).size(), 1u);
	EXPECT_EQ(d.ok({"list", "pool0:"})[0]["path"], "pool0:/");
	EXPECT_EQ(d.cli({"list", "--state", "bogus", "pool0:/"}).exit_code, 2);
}

TEST(ListFilters, AMissingPathIsAnErrorForThatPathOnly)
{
	Daemon d;
	make_file(d, "pool0:/a");
	make_file(d, "pool0:/b");
	Result r = d.cli({"list", "pool0:/a", "pool0:/missing", "pool0:/b"});
	EXPECT_EQ(r.exit_code, 1);
	EXPECT_EQ(paths_in(r.json()), (std::vector<std::string>{"pool0:/a", "pool0:/b"}));
	EXPECT_EQ(error_of(r)["error"], "not-found");
	EXPECT_NE(r.err.find("/missing"), std::string::npos) << r.err;
	Result walked = d.cli({"list", "-r", "pool0:/missing", "pool0:/a"});
	EXPECT_EQ(walked.exit_code, 1);
	EXPECT_EQ(paths_in(walked.json()), std::vector<std::string>{"pool0:/a"});
}

} // namespace
