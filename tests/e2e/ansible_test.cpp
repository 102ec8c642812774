// SPDX-License-Identifier: BSD-3-Clause
// daxpolicy as Ansible drives it, with a real ansible-playbook on localhost: a `copy` task
// drops a policy file into the daemon's policy_dir, refused by `validate: daxpolicy check %s`
// when it is wrong, and a handler runs `daxpolicy apply --detailed-exitcodes`, whose exit code
// is Ansible's changed (2) or failed (1). Check mode changes nothing, the real run changes the
// flags, a second run reports no change.
#include "tests/e2e/harness.hpp"

#include <fstream>
#include <map>
#include <regex>

using namespace daxpolicy::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace
{

constexpr const char *kAnsiblePlaybook = "/usr/bin/ansible-playbook";

constexpr const char *kPlaybook = R"(- hosts: localhost
  connection: local
  gather_facts: false
  environment:
    DAXPOLICY_SOCKET: "{{ daxpolicy_socket }}"
  tasks:
    - name: the DAX policy of the database
      copy:
        src: "{{ policy_src }}"
        dest: "{{ policy_dir }}/{{ policy_name }}"
        validate: "{{ daxpolicy }} check %s"
      notify: apply the DAX policy
  handlers:
    - name: apply the DAX policy
      command: "{{ daxpolicy }} apply --detailed-exitcodes"
      register: applied
      # Puppet's convention: 2 something changed, 0 nothing did, 1 (or 3, no daemon) failed.
      changed_when: applied.rc == 2
      failed_when: applied.rc not in [0, 2]
)";

constexpr const char *kGoodPolicy = "[[rule]]\nname = \"db\"\nvolume = \"pool0\"\n"
                                    "subtree = \"/db\"\ndax = \"on\"\n";
// Its `dax` is on line 5, column 7.
constexpr const char *kBadPolicy = "[[rule]]\nname = \"db2\"\nvolume = \"pool0\"\n"
                                   "subtree = \"/db2\"\ndax = \"maybe\"\n";

// A run of the playbook: what it printed, and the counts of its PLAY RECAP line
// ("localhost : ok=2 changed=2 unreachable=0 failed=0 ...").
struct Playbook {
	Result result;
	std::map<std::string, int> recap;
};

std::map<std::string, int> recap_of(const std::string &out)
{
	std::map<std::string, int> counts;
	auto at = out.find("PLAY RECAP");
	if (at == std::string::npos)
		return counts;
	std::string rest = out.substr(at);
	static const std::regex count(R"((\w+)=(\d+))");
	for (auto it = std::sregex_iterator(rest.begin(), rest.end(), count);
	     it != std::sregex_iterator(); ++it)
		counts[(*it)[1]] = std::stoi((*it)[2]);
	return counts;
}

class Ansible
{
      public:
	Ansible(const Daemon &d, const fs::path &policy_dir) : d_(d), policy_dir_(policy_dir)
	{
		std::ofstream(dir_ / "site.yml") << kPlaybook;
		std::ofstream(dir_ / "good.toml") << kGoodPolicy;
		std::ofstream(dir_ / "bad.toml") << kBadPolicy;
		std::ofstream(dir_ / "ansible.cfg") << "";
	}

	// ansible-playbook site.yml installing `source` as `name`, with `extra` flags (--check).
	Playbook run_playbook(const std::string &source, const std::string &name,
	                      const std::vector<std::string> &extra = {}) const
	{
		// Fast and self-contained: no facts, no cows, no colours, no retry files, every
		// temporary and cached file in the test's folder.
		std::vector<std::string> argv = {
		    "/usr/bin/env",
		    "ANSIBLE_CONFIG=" + (dir_ / "ansible.cfg").string(),
		    "ANSIBLE_HOME=" + (dir_ / "home").string(),
		    "ANSIBLE_LOCAL_TEMP=" + (dir_ / "tmp-local").string(),
		    "ANSIBLE_REMOTE_TEMP=" + (dir_ / "tmp-remote").string(),
		    "ANSIBLE_NOCOWS=1",
		    "ANSIBLE_RETRY_FILES_ENABLED=0",
		    "ANSIBLE_GATHERING=explicit",
		    "ANSIBLE_NOCOLOR=1",
		    "ANSIBLE_LOCALHOST_WARNING=0",
		    "ANSIBLE_INVENTORY_UNPARSED_WARNING=0",
		    "ANSIBLE_PYTHON_INTERPRETER=auto_silent",
		    kAnsiblePlaybook,
		    "-i",
		    "localhost,",
		    (dir_ / "site.yml").string(),
		    "-e",
		    "daxpolicy=" + std::string(DAXPOLICY_BIN),
		    "-e",
		    "daxpolicy_socket=" + d_.socket(),
		    "-e",
		    "policy_dir=" + policy_dir_.string(),
		    "-e",
		    "policy_src=" + (dir_ / source).string(),
		    "-e",
		    "policy_name=" + name};
		argv.insert(argv.end(), extra.begin(), extra.end());
		Playbook p{run(argv), {}};
		p.recap = recap_of(p.result.out);
		EXPECT_FALSE(p.recap.empty()) << "no PLAY RECAP:\n" << p.result.out << p.result.err;
		return p;
	}

      private:
	const Daemon &d_;
	fs::path policy_dir_;
	TempDir dir_;
};

TEST(Ansible, CopyWithValidateAndApplyHandlerIsIdempotentAndCheckModeChangesNothing)
{
	DAXPOLICY_REQUIRE_PROGRAM(kAnsiblePlaybook, "Debian's ansible-core drives the daemon");
	TempDir root;
	fs::path policy_dir = root / "policy.d";
	fs::create_directories(policy_dir);
	Daemon d("policy_dir = \"" + policy_dir.string() + "\"\n");
	make_file(d, "pool0:/db", "mkdir");
	make_file(d, "pool0:/db/000001.log");
	Ansible ansible(d, policy_dir);

	// --check --diff: Ansible says what it would change, and nothing changes.
	Playbook check = ansible.run_playbook("good.toml", "10-db.toml", {"--check", "--diff"});
	ASSERT_EQ(check.result.exit_code, 0) << check.result.out << check.result.err;
	EXPECT_EQ(check.recap["changed"], 1) << "the copy would change";
	EXPECT_FALSE(fs::exists(policy_dir / "10-db.toml"));
	EXPECT_TRUE(d.ok({"list-rules"}).empty());
	EXPECT_EQ(d.ok({"list", "pool0:/db/000001.log"})[0]["dax_flag"], false);

	// For real: the file is installed, the handler applies it and reports the change.
	Playbook real = ansible.run_playbook("good.toml", "10-db.toml");
	ASSERT_EQ(real.result.exit_code, 0) << real.result.out << real.result.err;
	EXPECT_EQ(real.recap["changed"], 2) << "the copy and the apply handler";
	EXPECT_EQ(real.recap["failed"], 0);
	EXPECT_TRUE(fs::exists(policy_dir / "10-db.toml"));
	json rules = d.ok({"list-rules"});
	ASSERT_EQ(rules.size(), 1u);
	EXPECT_EQ(rules[0]["name"], "db");
	json file = d.ok({"list", "pool0:/db/000001.log"})[0];
	EXPECT_EQ(file["dax_flag"], true);
	EXPECT_EQ(file["state"], "in-sync");

	// Again: nothing to do, and Ansible says so.
	Playbook again = ansible.run_playbook("good.toml", "10-db.toml");
	ASSERT_EQ(again.result.exit_code, 0) << again.result.out << again.result.err;
	EXPECT_EQ(again.recap["changed"], 0) << again.result.out;
	EXPECT_EQ(d.cli({"apply", "--detailed-exitcodes"}).exit_code, 0);

	// A bad drop-in: validate refuses it with check's reason, and it is not installed.
	Playbook bad = ansible.run_playbook("bad.toml", "20-db2.toml");
	EXPECT_NE(bad.result.exit_code, 0) << bad.result.out;
	EXPECT_EQ(bad.recap["failed"], 1);
	EXPECT_NE(bad.result.out.find(":5:7: dax: expected"), std::string::npos) << bad.result.out;
	EXPECT_FALSE(fs::exists(policy_dir / "20-db2.toml"));
	EXPECT_EQ(d.ok({"list-rules"}).size(), 1u);
}

} // namespace
