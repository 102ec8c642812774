// SPDX-License-Identifier: BSD-3-Clause
// One drop-in set for a fleet of hosts with different volumes: unknown_volumes decides whether
// a rule for a volume this host lacks is a typo (the default, fatal) or a rule for other hosts
// (skipped, and reported); a policy_dir not made yet reads as empty, a mistyped --policy-dir
// is wrong usage. Offline, `check --config` sorts rules against a daemon config the same way,
// and `daxpolicyd --check-config` validates a config without starting anything.
#include "tests/e2e/harness.hpp"

#include <fstream>

using namespace daxpolicy::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace
{

// Rule "here" for pool0 and rule "elsewhere" for a volume only other hosts have; the
// latter's `volume =` is on line 9, column 10.
constexpr const char *kFleetRules = "[[rule]]\n"
                                    "name = \"here\"\n"
                                    "volume = \"pool0\"\n"
                                    "subtree = \"/db\"\n"
                                    "dax = \"on\"\n"
                                    "\n"
                                    "[[rule]]\n"
                                    "name = \"elsewhere\"\n"
                                    "volume = \"pmem9\"\n"
                                    "subtree = \"/big\"\n"
                                    "dax = \"on\"\n";

fs::path write_drop_ins(const fs::path &dir)
{
	fs::create_directories(dir);
	std::ofstream(dir / "10-fleet.toml") << kFleetRules;
	return dir / "10-fleet.toml";
}

std::string config_text(const fs::path &policy_dir, const std::string &unknown_volumes = "")
{
	std::string text = "policy_dir = \"" + policy_dir.string() + "\"\n";
	if (!unknown_volumes.empty())
		text += "unknown_volumes = \"" + unknown_volumes + "\"\n";
	return text;
}

std::vector<std::string> rule_names(const Daemon &d)
{
	std::vector<std::string> names;
	for (const auto &r : d.ok({"list-rules"}))
		names.push_back(r["name"]);
	return names;
}

json skipped_elsewhere(const fs::path &file)
{
	return json::array({{{"rule", "elsewhere"},
	                     {"volume", "pmem9"},
	                     {"subtree", "/big"},
	                     {"source", file.string()},
	                     {"line", 9}}});
}

std::string config_path(const Daemon &d)
{
	return (d.dir() / "daxpolicyd.toml").string();
}

TEST(Fleet, ARuleForAVolumeThisHostLacksIsFatalByDefaultAtItsLine)
{
	TempDir policy;
	fs::path file = write_drop_ins(policy.path());
	Daemon d(config_text(policy.path()));
	make_file(d, "pool0:/db", "mkdir");
	Result r = d.cli({"apply"});
	EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
	std::string message = error_of(r)["message"];
	EXPECT_NE(message.find(file.string() + ":9:10: volume: no volume named 'pmem9'"),
	          std::string::npos)
	    << message;
	EXPECT_TRUE(rule_names(d).empty()) << "a refused apply changes nothing";
	EXPECT_EQ(d.ok({"list", "pool0:/db"})[0]["dax_flag"], false);
}

TEST(Fleet, IgnoredUnknownVolumesAreSkippedReportedAndLogged)
{
	TempDir policy;
	fs::path file = write_drop_ins(policy.path());
	Daemon d(config_text(policy.path(), "ignore"));
	make_file(d, "pool0:/db", "mkdir");

	json plan = d.ok({"apply", "--dry-run"});
	EXPECT_EQ(plan["skipped"], skipped_elsewhere(file)) << plan.dump(2);
	EXPECT_TRUE(d.ok({"list-events", "--type", "rule-change"}).empty())
	    << "a dry run logs nothing, a skip included";

	Result r = d.cli({"apply", "--detailed-exitcodes"});
	EXPECT_EQ(r.exit_code, 2) << r.err;
	json done = r.json();
	EXPECT_EQ(done["rules"]["added"], json::array({"here"}));
	EXPECT_EQ(done["skipped"], skipped_elsewhere(file));
	EXPECT_EQ(rule_names(d), std::vector<std::string>{"here"});
	EXPECT_EQ(d.ok({"list", "pool0:/db"})[0]["dax_flag"], true);

	json skips = json::array();
	for (const auto &e : d.ok({"list-events", "--type", "rule-change"}))
		if (e["action"] == "skipped")
			skips.push_back(e);
	ASSERT_EQ(skips.size(), 1u);
	EXPECT_EQ(skips[0]["rule"], "elsewhere");
	EXPECT_EQ(skips[0]["volume"], "pmem9");
	EXPECT_EQ(skips[0]["path"], "/big");
	EXPECT_EQ(skips[0]["source"], file.string());
	EXPECT_EQ(skips[0]["line"], 9);

	// Skipping is no change: a second run has nothing to do.
	r = d.cli({"apply", "--detailed-exitcodes"});
	EXPECT_EQ(r.exit_code, 0) << r.out;
	EXPECT_EQ(r.json()["skipped"], skipped_elsewhere(file));
}

TEST(Fleet, UnknownVolumesIsTakenByAReload)
{
	TempDir policy;
	fs::path file = write_drop_ins(policy.path());
	Daemon d(config_text(policy.path()));
	Result r = d.cli({"reload"});
	EXPECT_EQ(r.exit_code, 1) << "the default keeps the unknown volume fatal";
	EXPECT_NE(error_of(r)["message"].get<std::string>().find(file.string() + ":9:10:"),
	          std::string::npos);

	std::ofstream(config_path(d)) << config_text(policy.path(), "ignore");
	r = d.cli({"reload"});
	ASSERT_EQ(r.exit_code, 0) << r.err;
	json reloaded = r.json();
	EXPECT_EQ(reloaded["skipped"], skipped_elsewhere(file));
	EXPECT_EQ(reloaded["restart_needed"], json::array()) << "no restart needed for it";
	EXPECT_EQ(rule_names(d), std::vector<std::string>{"here"});
	EXPECT_EQ(d.ok({"apply"})["skipped"], skipped_elsewhere(file));
}

TEST(Fleet, ABadUnknownVolumesValueIsAConfigErrorAtItsPlace)
{
	TempDir policy;
	Daemon d(config_text(policy.path()));
	std::ofstream(config_path(d)) << config_text(policy.path(), "sometimes");
	Result r = d.cli({"reload"});
	EXPECT_EQ(r.exit_code, 1);
	std::string message = error_of(r)["message"];
	EXPECT_NE(message.find(config_path(d) +
	                       ":2:19: unknown_volumes: expected \"error\" or \"ignore\""),
	          std::string::npos)
	    << message;
}

TEST(Fleet, APolicyDirNotMadeYetReadsAsEmptyWithAWarning)
{
	TempDir root;
	fs::path missing = root / "policy.d";
	Daemon d(config_text(missing));
	d.ok({"add-rule", "--name", "mine", "--subtree", "pool0:/", "--dax", "off"});
	Result r = d.cli({"apply", "--detailed-exitcodes"});
	ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
	json out = r.json();
	EXPECT_EQ(out["changed"], false);
	ASSERT_EQ(out["warnings"].size(), 1u) << out.dump(2);
	EXPECT_NE(out["warnings"][0].get<std::string>().find(missing.string() + " does not exist"),
	          std::string::npos)
	    << out.dump(2);
	EXPECT_EQ(rule_names(d), std::vector<std::string>{"mine"}) << "local rules stay";

	r = d.cli({"reload"});
	ASSERT_EQ(r.exit_code, 0) << r.err;
	EXPECT_EQ(r.json()["warnings"], out["warnings"]);
}

TEST(Fleet, AMistypedPolicyDirOnTheCommandLineIsWrongUsage)
{
	TempDir policy;
	write_drop_ins(policy.path());
	Daemon d(config_text(policy.path(), "ignore"));
	ASSERT_EQ(d.cli({"apply"}).exit_code, 0);
	Result r = d.cli({"apply", "--policy-dir", (policy / "typo.d").string()});
	EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
	json e = error_of(r);
	EXPECT_EQ(e["error"], "invalid-argument");
	EXPECT_NE(
	    e["message"].get<std::string>().find((policy / "typo.d").string() + " does not exist"),
	    std::string::npos)
	    << e.dump();
	EXPECT_EQ(rule_names(d), std::vector<std::string>{"here"}) << "the managed rules stay";
}

TEST(CheckConfig, RulesAreCheckedAgainstTheVolumesOfADaemonConfig)
{
	TempDir dir;
	fs::path file = write_drop_ins(dir / "policy.d");
	std::ofstream(dir / "plain.toml") << "";
	std::ofstream(dir / "both.toml") << "[[volume]]\nname = \"pool0\"\nkind = \"embedded\"\n"
	                                    "[[volume]]\nname = \"pmem9\"\nkind = \"host\"\n"
	                                    "path = \"/mnt/pmem9\"\n";
	std::ofstream(dir / "fleet.toml") << "unknown_volumes = \"ignore\"\n";
	std::string drop_ins = (dir / "policy.d").string();

	EXPECT_EQ(run({DAXPOLICY_BIN, "check", drop_ins}).exit_code, 0)
	    << "without a config, any volume name is well-formed";

	Result r =
	    run({DAXPOLICY_BIN, "check", "--config", (dir / "plain.toml").string(), drop_ins});
	EXPECT_EQ(r.exit_code, 1);
	EXPECT_NE(r.err.find(file.string() + ":9:10: volume: no volume named 'pmem9' in " +
	                     (dir / "plain.toml").string()),
	          std::string::npos)
	    << r.err;
	EXPECT_EQ(r.json()[0]["valid"], false);

	r = run({DAXPOLICY_BIN, "check", "--config", (dir / "both.toml").string(), drop_ins});
	EXPECT_EQ(r.exit_code, 0) << r.err;

	r = run({DAXPOLICY_BIN, "check", "--config", (dir / "fleet.toml").string(), drop_ins});
	EXPECT_EQ(r.exit_code, 0) << r.err;
	EXPECT_EQ(r.json()[0]["skipped"], skipped_elsewhere(file));
	EXPECT_EQ(r.json()[0]["rules"], json::array({"here"}));
}

TEST(CheckConfig, ABadDaemonConfigIsAFindingAtItsPlace)
{
	TempDir dir;
	write_drop_ins(dir / "policy.d");
	std::ofstream(dir / "bad.toml") << "[[volume]]\nname = \"pool0\"\nkind = \"tape\"\n";
	Result r = run({DAXPOLICY_BIN, "check", "--config", (dir / "bad.toml").string(),
	                (dir / "policy.d").string()});
	EXPECT_EQ(r.exit_code, 1);
	EXPECT_NE(r.err.find((dir / "bad.toml").string() + ":3:8: kind:"), std::string::npos)
	    << r.err;
}

TEST(DaemonCheckConfig, ValidatesWithoutMakingAnything)
{
	TempDir dir;
	fs::path state = dir / "state", socket = dir / "run" / "daxpolicy.sock";
	std::string good = "state_dir = \"" + state.string() + "\"\nsocket = \"" + socket.string() +
	                   "\"\npolicy_dir = \"" + dir.path().string() +
	                   "\"\n[[volume]]\nname = \"pool0\"\nkind = \"embedded\"\n"
	                   "size = \"64MiB\"\n";
	std::ofstream(dir / "good.toml") << good;
	Result r =
	    run({DAXPOLICYD_BIN, "--check-config", "--config", (dir / "good.toml").string()});
	EXPECT_EQ(r.exit_code, 0) << r.err;
	EXPECT_EQ(r.err, "");
	EXPECT_FALSE(fs::exists(state)) << "no state dir, no pool";
	EXPECT_FALSE(fs::exists(socket.parent_path())) << "no socket";

	std::ofstream(dir / "bad.toml") << "lease_break_timeout = \"soon\"\n" << good;
	r = run({DAXPOLICYD_BIN, "--check-config", "--config", (dir / "bad.toml").string()});
	EXPECT_EQ(r.exit_code, 1);
	EXPECT_NE(r.err.find((dir / "bad.toml").string() + ":1:23: lease_break_timeout:"),
	          std::string::npos)
	    << r.err;
	EXPECT_FALSE(fs::exists(state));

	r = run({DAXPOLICYD_BIN, "--check-config", "--config", (dir / "none.toml").string()});
	EXPECT_EQ(r.exit_code, 1);
	EXPECT_NE(r.err.find((dir / "none.toml").string()), std::string::npos) << r.err;
}

} // namespace
