// SPDX-License-Identifier: BSD-3-Clause
// Policy files as `daxpolicy check` and `apply` read them, and the rule checks behind them.
#include "policy/policy_file.hpp"
#include "policy/rule.hpp"
#include "tests/support/rule_builder.hpp"
#include "tests/support/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace daxpolicy::policy
{
namespace
{

namespace fs = std::filesystem;

std::vector<std::string> error_lines(const PolicyLoad &load)
{
	std::vector<std::string> lines;
	for (const PolicyError &error : load.errors)
		lines.push_back(error.to_string());
	return lines;
}

std::vector<std::string> rule_names(const PolicyLoad &load)
{
	std::vector<std::string> names;
	for (const Rule &rule : load.rules)
		names.push_back(rule.name);
	return names;
}

// The one error of a document that should have exactly one.
std::string only_error(std::string_view text)
{
	PolicyLoad load = parse_policy_text(text, "p.toml");
	EXPECT_TRUE(load.rules.empty());
	if (load.errors.size() != 1) {
		ADD_FAILURE() << "expected one error, got "
		              << testing::PrintToString(error_lines(load));
		return "";
	}
	return load.errors[0].to_string();
}

Rule valid_rule()
{
	return test::make_rule("db-wal", "/db/wal", true).include({"*.log"}).exclude({"*.tmp"});
}

TEST(PolicyText, ParsesEveryField)
{
	PolicyLoad load = parse_policy_text(R"(# databases
[[rule]]
name = "db-wal"
volume = "pool0"
subtree = "/db/wal"
dax = "on"
include = ["*.log"]
exclude = ["*.tmp", "*.bak"]
priority = -5

[[rule]]
name = "scratch"
volume = "pmem0"
subtree = "/"
dax = "off"
)",
	                                    "/etc/daxpolicy/policy.d/10-db.toml");

	ASSERT_TRUE(load.ok()) << testing::PrintToString(error_lines(load));
	ASSERT_EQ(load.rules.size(), 2u);

	Rule wal = valid_rule();
	wal.exclude = {"*.tmp", "*.bak"};
	wal.priority = -5;
	wal.source = "/etc/daxpolicy/policy.d/10-db.toml";
	EXPECT_EQ(load.rules[0], wal);
	EXPECT_TRUE(load.rules[0].managed());

	const Rule &scratch = load.rules[1];
	EXPECT_EQ(scratch.name, "scratch");
	EXPECT_EQ(scratch.volume, "pmem0");
	EXPECT_EQ(scratch.subtree, "/");
	EXPECT_FALSE(scratch.dax);
	EXPECT_TRUE(scratch.include.empty());
	EXPECT_TRUE(scratch.exclude.empty());
	EXPECT_EQ(scratch.priority, 0);
}

TEST(PolicyText, InlineArrayOfTablesIsTheSameAsRuleTables)
{
	PolicyLoad load = parse_policy_text(
	    R"(rule = [{name = "a", volume = "pool0", subtree = "/a", dax = "on"}])", "p.toml");

	ASSERT_TRUE(load.ok()) << testing::PrintToString(error_lines(load));
	EXPECT_EQ(rule_names(load), std::vector<std::string>{"a"});
}

TEST(PolicyText, EmptyDocumentIsValid)
{
	for (std::string_view text : {"", "\n", "# nothing here yet\n"}) {
		PolicyLoad load = parse_policy_text(text, "p.toml");
		EXPECT_TRUE(load.ok()) << testing::PrintToString(error_lines(load));
		EXPECT_TRUE(load.rules.empty());
	}
}

TEST(PolicyText, SyntaxErrorPointsAtItsPlace)
{
	PolicyLoad load = parse_policy_text("[[rule]]\nname = \"a\nvolume = \"pool0\"\n", "p.toml");

	ASSERT_EQ(load.errors.size(), 1u);
	EXPECT_EQ(load.errors[0].file, "p.toml");
	EXPECT_EQ(load.errors[0].line, 2);
	EXPECT_EQ(load.errors[0].column, 10);
	EXPECT_FALSE(load.errors[0].message.empty());
	EXPECT_TRUE(load.rules.empty());
}

TEST(PolicyText, KeyDefinedTwiceIsASyntaxError)
{
	EXPECT_TRUE(only_error("[[rule]]\nname = \"a\"\nname = \"b\"\n").starts_with("p.toml:3:"));
}

TEST(PolicyText, UnknownTopLevelKeyIsNamed)
{
	EXPECT_EQ(only_error("\nrules = []\n"),
	          "p.toml:2:1: unknown top-level key \"rules\" (only [[rule]] tables are allowed)");
	EXPECT_EQ(
	    only_error("[defaults]\ndax = \"on\"\n"),
	    "p.toml:1:2: unknown top-level key \"defaults\" (only [[rule]] tables are allowed)");
}

TEST(PolicyText, RuleMustBeAnArrayOfTables)
{
	EXPECT_EQ(only_error("[rule]\nname = \"a\"\n"),
	          "p.toml:1:1: rule: expected an array of tables ([[rule]]), got table");
	EXPECT_EQ(only_error("rule = [1]\n"), "p.toml:1:9: rule[0]: expected a table, got integer");
}

TEST(PolicyText, UnknownKeyInRuleIsNamedAtTheKey)
{
	EXPECT_EQ(only_error(R"([[rule]]
name = "a"
volume = "pool0"
subtree = "/a"
dax = "on"
  subtre = "/b"
)"),
	          "p.toml:6:3: unknown key \"subtre\" in [[rule]]");
}

TEST(PolicyText, MissingKeysPointAtTheirRule)
{
	PolicyLoad load = parse_policy_text(R"([[rule]]
name = "a"
volume = "pool0"
subtree = "/a"
dax = "on"

[[rule]]
name = "b"
subtree = "/b"
)",
	                                    "p.toml");

	EXPECT_EQ(error_lines(load), (std::vector<std::string>{
	                                 "p.toml:7:1: missing required key \"volume\"",
	                                 "p.toml:7:1: missing required key \"dax\"",
	                             }));
	EXPECT_TRUE(load.rules.empty());
}

TEST(PolicyText, WrongTypesNameTheKeyAndBothTypes)
{
	const std::string head = "[[rule]]\nname = \"a\"\nvolume = \"pool0\"\nsubtree = \"/a\"\n";

	EXPECT_EQ(only_error(head + "dax = \"on\"\npriority = \"high\"\n"),
	          "p.toml:6:12: priority: expected an integer, got string");
	EXPECT_EQ(only_error(head + "dax = \"on\"\npriority = 1.5\n"),
	          "p.toml:6:12: priority: expected an integer, got float");
	EXPECT_EQ(only_error(head + "dax = \"on\"\ninclude = \"*.log\"\n"),
	          "p.toml:6:11: include: expected an array of strings, got string");
	EXPECT_EQ(only_error(head + "dax = \"on\"\nexclude = [\"*.tmp\", 3]\n"),
	          "p.toml:6:21: exclude[1]: expected a string, got integer");
	EXPECT_EQ(only_error(head + "dax = true\n"),
	          "p.toml:5:7: dax: expected \"on\" or \"off\", got boolean");
	EXPECT_EQ(
	    only_error("[[rule]]\nname = 7\nvolume = \"pool0\"\nsubtree = \"/a\"\ndax = \"on\"\n"),
	    "p.toml:2:8: name: expected a string, got integer");
}

TEST(PolicyText, DaxMustBeOnOrOff)
{
	EXPECT_EQ(only_error("[[rule]]\nname = \"a\"\nvolume = \"pool0\"\nsubtree = \"/a\"\n"
	                     "dax = \"yes\"\n"),
	          "p.toml:5:7: dax: expected \"on\" or \"off\", got \"yes\"");
}

TEST(PolicyText, InvalidFieldsPointAtTheirValue)
{
	auto rule = [](std::string_view name, std::string_view subtree, std::string_view tail) {
		return "[[rule]]\nname = \"" + std::string(name) + "\"\nvolume = \"pool0\"\n" +
		       "subtree = \"" + std::string(subtree) + "\"\ndax = \"on\"\n" +
		       std::string(tail);
	};

	EXPECT_EQ(only_error(rule("Bad_Name", "/a", "")),
	          "p.toml:2:8: name: \"Bad_Name\" must match [a-z0-9][a-z0-9._-]*");
	EXPECT_EQ(only_error(rule("a", "db/wal", "")),
	          "p.toml:4:11: subtree: \"db/wal\" must be an absolute path");
	EXPECT_EQ(only_error(rule("a", "/db//wal/", "")),
	          "p.toml:4:11: subtree: \"/db//wal/\" must be written as \"/db/wal\"");
	EXPECT_EQ(only_error(rule("a", "/a", "include = [\"*.log\", \"wal/*.log\"]\n")),
	          "p.toml:6:21: include[1]: \"wal/*.log\" must not contain '/' (globs match file "
	          "names)");
	EXPECT_EQ(only_error(rule("a", "/a", "priority = 2000000\n")),
	          "p.toml:6:12: priority: must be within [-1000000, 1000000]");
	// Too big even for an int: still reported as out of range, not wrapped around.
	EXPECT_EQ(only_error(rule("a", "/a", "priority = 4294967296\n")),
	          "p.toml:6:12: priority: must be within [-1000000, 1000000]");
}

TEST(PolicyText, DuplicateNamePointsBackToTheFirst)
{
	EXPECT_EQ(only_error(R"([[rule]]
name = "a"
volume = "pool0"
subtree = "/a"
dax = "on"

[[rule]]
name = "a"
volume = "pool0"
subtree = "/b"
dax = "off"
)"),
	          "p.toml:8:8: name: \"a\" is already defined at p.toml:2:8");
}

TEST(PolicyText, EveryErrorIsReportedInOrderAndNoRuleIsKept)
{
	PolicyLoad load = parse_policy_text(R"(colour = "blue"

[[rule]]
name = "good"
volume = "pool0"
subtree = "/good"
dax = "on"

[[rule]]
name = "bad"
volume = "pool 0"
subtree = "/bad"
dax = "on"
mode = 3
)",
	                                    "p.toml");

	EXPECT_EQ(error_lines(load),
	          (std::vector<std::string>{
	              "p.toml:1:1: unknown top-level key \"colour\" (only [[rule]] tables are "
	              "allowed)",
	              "p.toml:11:10: volume: \"pool 0\" must match [A-Za-z0-9][A-Za-z0-9._-]*",
	              "p.toml:14:1: unknown key \"mode\" in [[rule]]",
	          }));
	EXPECT_FALSE(load.ok());
	EXPECT_TRUE(load.rules.empty());
}

TEST(PolicyError, FormatsLikeACompiler)
{
	EXPECT_EQ((PolicyError{"a.toml", 3, 7, "dax: bad"}).to_string(), "a.toml:3:7: dax: bad");
	// A problem with the whole file has no line to point at.
	EXPECT_EQ((PolicyError{"a.toml", 0, 0, "cannot read: Permission denied"}).to_string(),
	          "a.toml: cannot read: Permission denied");
}

class PolicyPath : public testing::Test
{
      protected:
	fs::path write(const fs::path &name, std::string_view text)
	{
		fs::path file = dir_ / name;
		fs::create_directories(file.parent_path());
		std::ofstream(file) << text;
		return file;
	}

	static std::string rule_text(std::string_view name)
	{
		return "[[rule]]\nname = \"" + std::string(name) +
		       "\"\nvolume = \"pool0\"\nsubtree = \"/" + std::string(name) +
		       "\"\ndax = \"on\"\n";
	}

	test::TempDir temp_;
	const fs::path dir_ = temp_.path();
};

TEST_F(PolicyPath, FileRulesComeFromThatFile)
{
	fs::path file = write("db.toml", rule_text("db"));

	for (PolicyLoad load : {load_policy_file(file), load_policy_path(file)}) {
		ASSERT_TRUE(load.ok()) << testing::PrintToString(error_lines(load));
		ASSERT_EQ(load.rules.size(), 1u);
		EXPECT_EQ(load.rules[0].source, file.string());
	}
}

TEST_F(PolicyPath, ErrorsNameTheFile)
{
	fs::path file = write("bad.toml", "[[rule]]\nname = \"x\"\n");

	PolicyLoad load = load_policy_path(file);
	ASSERT_FALSE(load.errors.empty());
	EXPECT_EQ(load.errors[0].to_string(),
	          file.string() + ":1:1: missing required key \"volume\"");
}

TEST_F(PolicyPath, MissingPathGivesOneErrorNamingIt)
{
	fs::path missing = dir_ / "nope.d";

	PolicyLoad load = load_policy_path(missing);
	EXPECT_EQ(error_lines(load),
	          std::vector<std::string>{missing.string() +
	                                   ": cannot read: No such file or directory"});
	EXPECT_TRUE(load.rules.empty());
}

TEST_F(PolicyPath, FolderReadsTomlFilesInByteOrderOfName)
{
	write("20-b.toml", rule_text("b"));
	write("10-a.toml", rule_text("a"));
	// Byte order, not the locale's: "Z" sorts before "a".
	write("a.toml", rule_text("lower"));
	write("Z.toml", rule_text("upper"));
	write("README", "not toml at all [[");
	write("30-c.toml.bak", rule_text("backup"));
	write("old.toml/inner.toml", rule_text("nested"));

	PolicyLoad load = load_policy_path(dir_);

	ASSERT_TRUE(load.ok()) << testing::PrintToString(error_lines(load));
	EXPECT_EQ(rule_names(load), (std::vector<std::string>{"a", "b", "upper", "lower"}));
	EXPECT_EQ(load.rules[0].source, (dir_ / "10-a.toml").string());
}

TEST_F(PolicyPath, EmptyFolderIsValid)
{
	PolicyLoad load = load_policy_path(dir_);

	EXPECT_TRUE(load.ok());
	EXPECT_TRUE(load.rules.empty());
}

TEST_F(PolicyPath, DuplicateNameAcrossFilesNamesTheOtherFile)
{
	fs::path first = write("10-first.toml", rule_text("shared"));
	fs::path second = write("20-second.toml", "\n" + rule_text("shared"));

	PolicyLoad load = load_policy_path(dir_);

	EXPECT_EQ(error_lines(load),
	          std::vector<std::string>{second.string() +
	                                   ":3:8: name: \"shared\" is already defined at " +
	                                   first.string() + ":2:8"});
}

TEST_F(PolicyPath, ErrorsOfEveryFileAreReportedInFileOrder)
{
	fs::path b = write("b.toml", "x = 1\n");
	fs::path a = write("a.toml", "[[rule]\n");
	write("c.toml", rule_text("fine"));

	PolicyLoad load = load_policy_path(dir_);

	ASSERT_EQ(load.errors.size(), 2u);
	EXPECT_EQ(load.errors[0].file, a.string());
	EXPECT_EQ(load.errors[1].file, b.string());
	// The broken files contribute nothing.
	EXPECT_EQ(rule_names(load), std::vector<std::string>{"fine"});
}

TEST_F(PolicyPath, DaemonReadsOnlyRegularFilesAndNamesWhatItRefuses)
{
	write("a.toml", rule_text("fine"));
	fs::path fifo = dir_ / "b.toml";
	ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
	// Opening a FIFO for reading would wait for a writer: neither load may block.
	for (PolicyLoad load :
	     {load_policy_path(dir_), load_policy_path(fifo, FileKinds::regular)}) {
		ASSERT_EQ(load.errors.size(), 1u);
		EXPECT_EQ(load.errors[0].file, fifo.string());
		EXPECT_NE(load.errors[0].message.find("a FIFO"), std::string::npos)
		    << load.errors[0].message;
	}
	PolicyLoad folder = load_policy_path(dir_ / "a.toml", FileKinds::regular);
	EXPECT_TRUE(folder.ok());
}

TEST_F(PolicyPath, FilesAndFoldersAreBounded)
{
	fs::path big = write("big.toml", std::string(kMaxPolicyFileBytes + 1, '#'));
	PolicyLoad load = load_policy_path(big);
	ASSERT_EQ(load.errors.size(), 1u);
	EXPECT_NE(load.errors[0].message.find("larger than 4 MiB"), std::string::npos)
	    << load.errors[0].message;
	fs::remove(big);
	for (size_t i = 0; i <= kMaxPolicyFiles; i++)
		write("r" + std::to_string(i) + ".toml", "");
	PolicyLoad many = load_policy_path(dir_);
	ASSERT_EQ(many.errors.size(), 1u);
	EXPECT_EQ(many.errors[0].file, dir_.string());
	EXPECT_NE(many.errors[0].message.find("more than 1024"), std::string::npos)
	    << many.errors[0].message;
}

TEST(NormalizeVolumePath, CollapsesSlashesAndDots)
{
	EXPECT_EQ(normalize_volume_path("/"), "/");
	EXPECT_EQ(normalize_volume_path("//"), "/");
	EXPECT_EQ(normalize_volume_path("/."), "/");
	EXPECT_EQ(normalize_volume_path("/db/wal"), "/db/wal");
	EXPECT_EQ(normalize_volume_path("/db/wal/"), "/db/wal");
	EXPECT_EQ(normalize_volume_path("//db/./wal//"), "/db/wal");
	EXPECT_EQ(normalize_volume_path("/db/..wal/.x"), "/db/..wal/.x");
}

TEST(NormalizeVolumePath, RefusesRelativePathsAndDotDot)
{
	EXPECT_EQ(normalize_volume_path(""), std::nullopt);
	EXPECT_EQ(normalize_volume_path("db/wal"), std::nullopt);
	EXPECT_EQ(normalize_volume_path("./db"), std::nullopt);
	EXPECT_EQ(normalize_volume_path("/.."), std::nullopt);
	EXPECT_EQ(normalize_volume_path("/db/../etc"), std::nullopt);
	EXPECT_EQ(normalize_volume_path("/db/wal/.."), std::nullopt);
}

TEST(ValidateRule, AcceptsAValidRule)
{
	EXPECT_EQ(validate_rule(valid_rule()), std::nullopt);

	Rule root = valid_rule();
	root.name = "0.a_b-c";
	root.volume = "Pool_0.x-y";
	root.subtree = "/";
	root.include.clear();
	root.exclude.clear();
	root.priority = -1000000;
	EXPECT_EQ(validate_rule(root), std::nullopt);
}

TEST(ValidateRule, Name)
{
	Rule rule = valid_rule();

	for (std::string bad : {"", "Bad_Name", "-a", ".a", "a b", "a/b", "á"}) {
		rule.name = bad;
		EXPECT_EQ(validate_rule(rule),
		          "name: \"" + bad + "\" must match [a-z0-9][a-z0-9._-]*");
	}
	rule.name = std::string(64, 'a');
	EXPECT_EQ(validate_rule(rule), std::nullopt);
	rule.name = std::string(65, 'a');
	EXPECT_EQ(validate_rule(rule), "name: must be at most 64 characters");
}

TEST(ValidateRule, Volume)
{
	Rule rule = valid_rule();

	for (std::string bad : {"", "_pool", "pool 0", "pool/0"}) {
		rule.volume = bad;
		EXPECT_EQ(validate_rule(rule),
		          "volume: \"" + bad + "\" must match [A-Za-z0-9][A-Za-z0-9._-]*");
	}
}

TEST(ValidateRule, Subtree)
{
	Rule rule = valid_rule();

	rule.subtree = "";
	EXPECT_EQ(validate_rule(rule), "subtree: \"\" must be an absolute path");
	rule.subtree = "db";
	EXPECT_EQ(validate_rule(rule), "subtree: \"db\" must be an absolute path");
	rule.subtree = "/db/../x";
	EXPECT_EQ(validate_rule(rule), "subtree: \"/db/../x\" must not contain \"..\"");
	rule.subtree = "/db/";
	EXPECT_EQ(validate_rule(rule), "subtree: \"/db/\" must be written as \"/db\"");
	rule.subtree = std::string("/db\0x", 5);
	EXPECT_EQ(validate_rule(rule), "subtree: must not contain a NUL byte");
}

TEST(ValidateRule, Globs)
{
	Rule rule = valid_rule();

	rule.include = {"*.log", ""};
	EXPECT_EQ(validate_rule(rule), "include[1]: must not be empty");
	rule.include = {"*.log"};
	rule.exclude = {"tmp/*"};
	EXPECT_EQ(validate_rule(rule),
	          "exclude[0]: \"tmp/*\" must not contain '/' (globs match file names)");
	rule.exclude = {std::string("*\0.log", 6)};
	EXPECT_EQ(validate_rule(rule), "exclude[0]: must not contain a NUL byte");
}

TEST(ValidateRule, Priority)
{
	Rule rule = valid_rule();

	for (int good : {-1000000, 0, 1000000}) {
		rule.priority = good;
		EXPECT_EQ(validate_rule(rule), std::nullopt);
	}
	for (int bad : {-1000001, 1000001}) {
		rule.priority = bad;
		EXPECT_EQ(validate_rule(rule), "priority: must be within [-1000000, 1000000]");
	}
}

TEST(ValidateRule, ReportsTheFirstFieldInOrder)
{
	Rule rule = valid_rule();
	rule.subtree = "x";
	rule.priority = 7000000;
	rule.name = "X";

	ASSERT_TRUE(validate_rule(rule));
	EXPECT_TRUE(validate_rule(rule)->starts_with("name: "));
}

TEST(Rule, SameDefinitionIgnoresOnlyTheSource)
{
	Rule managed = valid_rule();
	managed.source = "/etc/daxpolicy/policy.d/db.toml";
	Rule local = valid_rule();

	EXPECT_TRUE(managed.same_definition(local));
	EXPECT_FALSE(managed == local);

	local.exclude.push_back("*.bak");
	EXPECT_FALSE(managed.same_definition(local));
	local = valid_rule();
	local.priority = 1;
	EXPECT_FALSE(managed.same_definition(local));
	local = valid_rule();
	local.dax = false;
	EXPECT_FALSE(managed.same_definition(local));
}

} // namespace
} // namespace daxpolicy::policy
