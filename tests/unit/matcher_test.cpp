// SPDX-License-Identifier: BSD-3-Clause
// Which rule decides a file: the precedence of INTERFACE.md, "Policy files".
#include "policy/matcher.hpp"
#include "tests/support/rule_builder.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <vector>

namespace daxpolicy::policy
{
namespace
{

using test::make_rule;

// The name of the rule that decides a file (or directory), "" when none does.
std::string decider(const Matcher &matcher, std::string_view path, bool is_directory = false,
                    std::string_view volume = "pool0")
{
	const Rule *r = matcher.match(volume, path, is_directory);
	return r ? r->name : "";
}

TEST(Matcher, DeeperSubtreeWinsOverPriorityAndName)
{
	Matcher matcher({make_rule("a-root", "/", true).priority(1000000),
	                 make_rule("b-db", "/db", true).priority(10),
	                 make_rule("c-wal", "/db/wal", true).priority(-1000000)});

	EXPECT_EQ(decider(matcher, "/db/wal/000001.log"), "c-wal");
	EXPECT_EQ(decider(matcher, "/db/wal"), "c-wal");
	EXPECT_EQ(decider(matcher, "/db/index"), "b-db");
	EXPECT_EQ(decider(matcher, "/etc/hosts"), "a-root");
}

TEST(Matcher, HigherPriorityBreaksTiesBetweenEquallyDeepRules)
{
	Matcher matcher({make_rule("a", "/db", true).priority(-1),
	                 make_rule("b", "/db", true).priority(3),
	                 make_rule("c", "/x", true).priority(9)});

	EXPECT_EQ(decider(matcher, "/db/f"), "b");
}

TEST(Matcher, NameInByteOrderBreaksRemainingTies)
{
	// Given in the "wrong" order on purpose; "db-1" < "db.1" < "db1" byte-wise.
	Matcher matcher({make_rule("db1", "/db", true).priority(2),
	                 make_rule("db.1", "/db", true).priority(2),
	                 make_rule("db-1", "/db", true).priority(2)});

	EXPECT_EQ(decider(matcher, "/db/f"), "db-1");
	EXPECT_EQ(decider(matcher, "/db/f", true), "db-1");
}

TEST(Matcher, SubtreeContainsItselfAndBelowButNotPrefixSiblings)
{
	Matcher matcher({make_rule("a", "/a", true)});

	EXPECT_EQ(decider(matcher, "/a"), "a");
	EXPECT_EQ(decider(matcher, "/a/x"), "a");
	EXPECT_EQ(decider(matcher, "/a/x/y/z"), "a");
	EXPECT_EQ(decider(matcher, "/ab"), "");
	EXPECT_EQ(decider(matcher, "/ab/x"), "");
	EXPECT_EQ(decider(matcher, "/"), "");
	EXPECT_EQ(decider(matcher, "/b/a"), "");
}

TEST(Matcher, RootSubtreeContainsEverything)
{
	Matcher matcher({make_rule("all", "/", true)});

	EXPECT_EQ(decider(matcher, "/", true), "all");
	EXPECT_EQ(decider(matcher, "/f"), "all");
	EXPECT_EQ(decider(matcher, "/deep/er/f"), "all");
}

TEST(Matcher, IncludeLimitsTheFilesARuleTakes)
{
	Matcher matcher({make_rule("wal", "/db/wal", true).include({"*.log", "[0-9]*.wal"}),
	                 make_rule("db", "/db", true)});

	EXPECT_EQ(decider(matcher, "/db/wal/000001.log"), "wal");
	EXPECT_EQ(decider(matcher, "/db/wal/7.wal"), "wal");
	// Not taken by the deeper rule, so the shallower one decides.
	EXPECT_EQ(decider(matcher, "/db/wal/x.wal"), "db");
	EXPECT_EQ(decider(matcher, "/db/wal/LOCK"), "db");
}

TEST(Matcher, ExcludeRejectsFiles)
{
	Matcher matcher(
	    {make_rule("wal", "/db/wal", true).include({"*.log"}).exclude({"*.tmp.log", "old-*"})});

	EXPECT_EQ(decider(matcher, "/db/wal/1.log"), "wal");
	EXPECT_EQ(decider(matcher, "/db/wal/1.tmp.log"), "");
	EXPECT_EQ(decider(matcher, "/db/wal/old-1.log"), "");
}

TEST(Matcher, GlobsMatchTheFileNameOnly)
{
	Matcher matcher({make_rule("db-files", "/", true).include({"db*"})});

	EXPECT_EQ(decider(matcher, "/db/x.log"), "");
	EXPECT_EQ(decider(matcher, "/x/db.log"), "db-files");
}

TEST(Matcher, GlobsCoverHiddenFiles)
{
	Matcher matcher({make_rule("logs", "/", true).include({"*.log"})});

	EXPECT_EQ(decider(matcher, "/.hidden.log"), "logs");
}

TEST(Matcher, DirectoriesFollowTheFirstRuleWithoutGlobs)
{
	// A directory's flag is what new files in it inherit: the flag of a name no glob rule
	// takes, which "db" decides here.
	Matcher matcher({make_rule("wal", "/db/wal", true).include({"*.log"}).exclude({"wal"}),
	                 make_rule("db", "/db", true)});

	EXPECT_EQ(decider(matcher, "/db/wal", true), "db");
	EXPECT_EQ(decider(matcher, "/db/wal/archive", true), "db");
	EXPECT_EQ(decider(matcher, "/db/wal/archive", false), "db");
	EXPECT_EQ(decider(matcher, "/db/wal/1.log", false), "wal");
	auto d = matcher.decide("pool0", "/db/wal", true);
	ASSERT_TRUE(d);
	EXPECT_TRUE(d->dax);
}

TEST(Matcher, DirectoriesUnderOnlyGlobRulesAreKeptWithoutTheFlag)
{
	// Names "*.log" turns away have no rule: were the directory flagged, they would
	// inherit DAX and keep it as unmanaged files.
	Matcher matcher({make_rule("logs", "/d", true).include({"*.log"}),
	                 make_rule("other", "/elsewhere", true)});

	auto dir = matcher.decide("pool0", "/d", true);
	ASSERT_TRUE(dir);
	EXPECT_EQ(dir->rule->name, "logs");
	EXPECT_FALSE(dir->dax);
	auto sub = matcher.decide("pool0", "/d/sub", true);
	ASSERT_TRUE(sub);
	EXPECT_FALSE(sub->dax);
	auto log = matcher.decide("pool0", "/d/x.log", false);
	ASSERT_TRUE(log);
	EXPECT_TRUE(log->dax);
	EXPECT_FALSE(matcher.decide("pool0", "/d/x.txt", false));
	EXPECT_FALSE(matcher.decide("pool0", "/", true)) << "above every subtree: no rule";
}

TEST(Matcher, RulesOfOtherVolumesAreIgnored)
{
	Matcher matcher({make_rule("other", "/db/wal", true).priority(100).on_volume("pmem0"),
	                 make_rule("db", "/db", true)});

	EXPECT_EQ(decider(matcher, "/db/wal/1.log"), "db");
	EXPECT_EQ(decider(matcher, "/db/wal/1.log", false, "pmem0"), "other");
	EXPECT_EQ(decider(matcher, "/db/wal/1.log", false, "pool1"), "");
}

TEST(Matcher, NoRulesDecideNothing)
{
	Matcher matcher({});

	EXPECT_EQ(matcher.match("pool0", "/f", false), nullptr);
	EXPECT_TRUE(matcher.rules().empty());
}

TEST(Matcher, ReturnsTheRuleItHolds)
{
	Matcher matcher({make_rule("a", "/a", true), make_rule("b", "/b", true)});

	ASSERT_EQ(matcher.rules().size(), 2u);
	EXPECT_EQ(matcher.rules()[0].name, "a");
	EXPECT_EQ(matcher.match("pool0", "/b/f", false), &matcher.rules()[1]);
}

TEST(Matcher, CopiesMatchOnTheirOwn)
{
	auto original = std::make_unique<Matcher>(std::vector<Rule>{make_rule("a", "/a", true)});
	Matcher copy = *original;
	original.reset();

	EXPECT_EQ(decider(copy, "/a/f"), "a");
	EXPECT_EQ(copy.match("pool0", "/a/f", false), &copy.rules()[0]);
}

} // namespace
} // namespace daxpolicy::policy
