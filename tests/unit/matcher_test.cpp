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

TEST(Matcher, APrefixOfAComponentIsAnotherSubtree)
{
	Matcher matcher({make_rule("a", "/a", true), make_rule("ab", "/ab", false),
	                 make_rule("a-b", "/a/b", false)});

	EXPECT_EQ(decider(matcher, "/a"), "a");
	EXPECT_EQ(decider(matcher, "/a/bc"), "a");
	EXPECT_EQ(decider(matcher, "/a/b"), "a-b");
	EXPECT_EQ(decider(matcher, "/ab"), "ab");
	EXPECT_EQ(decider(matcher, "/ab/c", true), "ab");
	EXPECT_EQ(decider(matcher, "/abc"), "");
	EXPECT_EQ(decider(matcher, "/b"), "");
}

TEST(Matcher, RootSubtreeYieldsToDeeperOnesAndHoldsWhatTheyTurnAway)
{
	Matcher matcher({make_rule("all", "/", false).priority(5),
	                 make_rule("logs", "/var/log", true).include({"*.log"})});

	EXPECT_EQ(decider(matcher, "/var/log/x.log"), "logs");
	EXPECT_EQ(decider(matcher, "/var/log/x.txt"), "all");
	EXPECT_EQ(decider(matcher, "/var/log", true), "all");
	EXPECT_EQ(decider(matcher, "/", true), "all");
	EXPECT_EQ(decider(matcher, "/x.log"), "all");
}

TEST(Matcher, DeepPathsAreDecidedByTheDeepestRule)
{
	std::string deep;
	for (int i = 0; i < 40; i++)
		deep += "/d" + std::to_string(i);
	std::string deeper = deep;
	for (int i = 40; i < 2000; i++)
		deeper += "/d" + std::to_string(i);
	Matcher matcher(
	    {make_rule("top", "/d0", false), make_rule("deep", deep, true).include({"*.log"})});

	EXPECT_EQ(decider(matcher, deeper + "/f.log"), "deep");
	EXPECT_EQ(decider(matcher, deeper + "/f.txt"), "top");
	EXPECT_EQ(decider(matcher, deeper, true), "top");
	EXPECT_EQ(decider(matcher, deep + "x/f.log"), "top");
}

TEST(Matcher, ManyRulesAtOneNodeRankByPriorityThenName)
{
	// 1000 rules at /d, rule i takes "*.i"; every tenth takes "*.0" too, at its own
	// priority, so that among those the highest priority wins, then the first name.
	std::vector<Rule> rules;
	for (int i = 0; i < 1000; i++) {
		std::vector<std::string> globs{"*." + std::to_string(i)};
		if (i % 10 == 0)
			globs.push_back("*.0");
		rules.push_back(make_rule("r" + std::to_string(i), "/d", i % 2 == 0)
		                    .include(globs)
		                    .priority(i % 100 == 0 ? 7 : 0));
	}
	rules.push_back(make_rule("plain", "/d", false).priority(-1));
	Matcher matcher(std::move(rules));

	EXPECT_EQ(decider(matcher, "/d/f.537"), "r537");
	EXPECT_EQ(decider(matcher, "/d/f.999"), "r999");
	// r0, r100, ..., r900 have priority 7; "r0" is the first name.
	EXPECT_EQ(decider(matcher, "/d/f.0"), "r0");
	EXPECT_EQ(decider(matcher, "/d/f.1000"), "plain");
	EXPECT_EQ(decider(matcher, "/d", true), "plain");
}

TEST(Matcher, GlobsFollowFnmatch)
{
	struct Case {
		std::string glob;
		std::string name;
		bool matches;
	};
	std::string long_name(300, 'a'); // past NAME_MAX
	std::vector<Case> cases{
	    {"LOCK", "LOCK", true},
	    {"LOCK", "LOCK1", false},
	    {"db*", "db", true},
	    {"db*", "xdb", false},
	    {"*.log", ".log", true},
	    {"*.log", "a.log.gz", false},
	    {"a*b*c", "abc", true},
	    {"a*b*c", "aXbYbZc", true},
	    {"a*b*c", "acb", false},
	    {"*ab*ab", "abab", true},
	    {"*ab*ab", "aba", false},
	    {"a**", "a", true},
	    {"*", "", true},
	    {"?", "x", true},
	    {"?", "xy", false},
	    {"a?c", "abc", true},
	    {"[0-9]*.wal", "7.wal", true},
	    {"[0-9]*.wal", "x.wal", false},
	    {"[!a]*", "ba", true},
	    {"[!a]*", "ab", false},
	    {"\\*x", "*x", true},
	    {"\\*x", "ax", false},
	    {"a*", long_name, true},
	    {"[a]*", long_name, true},
	    {"[b]*", long_name, false},
	};
	for (const auto &c : cases) {
		Matcher matcher({make_rule("g", "/", true).include({c.glob})});
		EXPECT_EQ(decider(matcher, "/d/" + c.name), c.matches ? "g" : "")
		    << c.glob << " on " << c.name;
	}
}

TEST(Matcher, ExplainListsEveryRuleThatHoldsThePath)
{
	Matcher matcher({make_rule("all", "/", false), make_rule("db", "/db", true).priority(1),
	                 make_rule("db-low", "/db", false),
	                 make_rule("wal", "/db/wal", true).include({"*.log"}),
	                 make_rule("walrus", "/db/walrus", true),
	                 make_rule("other", "/db/wal", true).on_volume("pmem0")});

	auto e = matcher.explain("pool0", "/db/wal/LOCK", false);
	ASSERT_EQ(e.contenders.size(), 4u);
	EXPECT_EQ(e.contenders[0].rule->name, "wal");
	EXPECT_FALSE(e.contenders[0].accepts_name);
	EXPECT_EQ(e.contenders[1].rule->name, "db");
	EXPECT_TRUE(e.contenders[1].accepts_name);
	EXPECT_EQ(e.contenders[2].rule->name, "db-low");
	EXPECT_EQ(e.contenders[3].rule->name, "all");
	ASSERT_TRUE(e.decision);
	EXPECT_EQ(e.decision->rule, e.contenders[1].rule);
	EXPECT_TRUE(e.decision->dax);

	auto log = matcher.explain("pool0", "/db/wal/1.log", false);
	ASSERT_EQ(log.contenders.size(), 4u);
	EXPECT_TRUE(log.contenders[0].accepts_name);
	ASSERT_TRUE(log.decision);
	EXPECT_EQ(log.decision->rule->name, "wal");
}

TEST(Matcher, ExplainGivesADirectoryTheDecisionOfDirectories)
{
	Matcher matcher({make_rule("logs", "/d", true).include({"*.log"})});

	auto e = matcher.explain("pool0", "/d/sub.log", true);
	ASSERT_EQ(e.contenders.size(), 1u);
	EXPECT_TRUE(e.contenders[0].accepts_name);
	ASSERT_TRUE(e.decision);
	EXPECT_EQ(e.decision->rule->name, "logs");
	EXPECT_FALSE(e.decision->dax) << "names the glob turns away must not inherit DAX";
}

TEST(Matcher, ExplainOfAPathNoRuleHolds)
{
	Matcher matcher({make_rule("a", "/a", true)});

	for (std::string_view volume : {"pool0", "pool1"}) {
		auto e = matcher.explain(volume, "/b/f", false);
		EXPECT_TRUE(e.contenders.empty());
		EXPECT_FALSE(e.decision);
	}
}

TEST(Matcher, CopiesExplainOnTheirOwn)
{
	auto original = std::make_unique<Matcher>(std::vector<Rule>{make_rule("a", "/a", true)});
	Matcher copy(std::vector<Rule>{});
	copy = *original;
	original.reset();

	auto e = copy.explain("pool0", "/a/f", false);
	ASSERT_EQ(e.contenders.size(), 1u);
	EXPECT_EQ(e.contenders[0].rule, &copy.rules()[0]);
	ASSERT_TRUE(e.decision);
	EXPECT_EQ(e.decision->rule, &copy.rules()[0]);
}

} // namespace
} // namespace daxpolicy::policy
