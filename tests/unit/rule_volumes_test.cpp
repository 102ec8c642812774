// SPDX-License-Identifier: BSD-3-Clause
// Rules against a daemon config's volumes (unknown_volumes): an error at the rule's `volume =`,
// or a rule skipped with where it is written, across the files of a drop-in folder.
#include "policy/rule_volumes.hpp"
#include "tests/support/temp_dir.hpp"

#include <fstream>
#include <gtest/gtest.h>

namespace daxpolicy::policy
{
namespace
{

namespace fs = std::filesystem;

std::string rule_text(const std::string &name, const std::string &volume)
{
	return "[[rule]]\nname = \"" + name + "\"\nvolume = \"" + volume + "\"\nsubtree = \"/" +
	       name + "\"\ndax = \"on\"\n";
}

class RuleVolumes : public ::testing::Test
{
      protected:
	void SetUp() override
	{
		std::ofstream(temp_ / "10-a.toml") << rule_text("a", "pool0") << "\n"
		                                   << rule_text("b", "pmem9");
		std::ofstream(temp_ / "20-c.toml") << rule_text("c", "pmem8");
	}
	PolicyLoad load() const { return load_policy_path(temp_.path()); }

	test::TempDir temp_;
	const std::set<std::string> volumes_{"pool0"};
};

TEST_F(RuleVolumes, ErrorsPointAtEachVolumeLineInFileOrder)
{
	PolicyLoad l = load();
	auto skipped = sort_out_unknown_volumes(l, volumes_, UnknownVolumes::error, "c.toml");
	EXPECT_TRUE(skipped.empty());
	EXPECT_TRUE(l.rules.empty()) << "a wrong policy gives no rules";
	ASSERT_EQ(l.errors.size(), 2u);
	EXPECT_EQ(l.errors[0].to_string(),
	          (temp_ / "10-a.toml").string() +
	              ":9:10: volume: no volume named 'pmem9' in c.toml (unknown_volumes = "
	              "\"ignore\" would skip the rule)");
	EXPECT_EQ(l.errors[1].file, (temp_ / "20-c.toml").string());
	EXPECT_EQ(l.errors[1].line, 3);
}

TEST_F(RuleVolumes, IgnoreTakesOutTheRulesAndSaysWhereTheyAre)
{
	PolicyLoad l = load();
	auto skipped = sort_out_unknown_volumes(l, volumes_, UnknownVolumes::ignore, "c.toml");
	EXPECT_TRUE(l.ok());
	ASSERT_EQ(l.rules.size(), 1u);
	EXPECT_EQ(l.rules[0].name, "a");
	ASSERT_EQ(skipped.size(), 2u);
	EXPECT_EQ(skipped[0].to_json(), (nlohmann::json{{"rule", "b"},
	                                                {"volume", "pmem9"},
	                                                {"subtree", "/b"},
	                                                {"source", (temp_ / "10-a.toml").string()},
	                                                {"line", 9}}));
	EXPECT_EQ(skipped[1].rule.name, "c");
	EXPECT_EQ(skipped[1].at.line, 3);
}

TEST(UnknownVolumesNames, AreErrorAndIgnore)
{
	EXPECT_EQ(unknown_volumes_from_name("error"), UnknownVolumes::error);
	EXPECT_EQ(unknown_volumes_from_name("ignore"), UnknownVolumes::ignore);
	EXPECT_FALSE(unknown_volumes_from_name("Ignore"));
	EXPECT_STREQ(unknown_volumes_name(UnknownVolumes::ignore), "ignore");
}

} // namespace
} // namespace daxpolicy::policy
