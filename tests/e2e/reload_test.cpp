// SPDX-License-Identifier: BSD-3-Clause
// `daxpolicy reload`, what ExecReload= runs: it waits for the daemon to read its config and
// policy again, and fails, naming the file and line, when either is wrong; the running policy
// then stays. systemd hears RELOADING=1 and READY=1 around it.
#include "tests/e2e/harness.hpp"

#include <cstdlib>
#include <fstream>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace daxpolicy::test;
using nlohmann::json;

namespace
{

std::string rule_file(const std::string &name, const std::string &dax = "on")
{
	return "[[rule]]\nname = \"" + name + "\"\nvolume = \"pool0\"\nsubtree = \"/\"\ndax = \"" +
	       dax + "\"\n";
}

std::vector<std::string> rule_names(const Daemon &d)
{
	std::vector<std::string> names;
	for (const auto &r : d.ok({"list-rules"}))
		names.push_back(r["name"]);
	return names;
}

// The value of a sample without labels in `daxpolicy metrics`.
std::string sample(const Daemon &d, const std::string &name)
{
	std::string text = d.cli({"metrics"}).out;
	auto at = text.find("\n" + name + " ");
	return at == std::string::npos
	           ? ""
	           : text.substr(at + name.size() + 2,
	                         text.find('\n', at + 1) - at - name.size() - 2);
}

TEST(Reload, BadPolicyFailsNamingFileAndLineAndTheRunningPolicyStays)
{
	TempDir policy;
	Daemon d("policy_dir = \"" + policy.path().string() + "\"\n");
	std::ofstream(policy / "rules.toml") << rule_file("first");
	Result r = d.cli({"reload"});
	ASSERT_EQ(r.exit_code, 0) << r.err;
	EXPECT_EQ(r.json()["rules"]["added"], json::array({"first"}));
	EXPECT_EQ(rule_names(d), std::vector<std::string>{"first"});

	std::ofstream(policy / "rules.toml") << rule_file("second", "maybe");
	r = d.cli({"reload"});
	EXPECT_EQ(r.exit_code, 1);
	std::string message = error_of(r)["message"];
	EXPECT_NE(message.find((policy / "rules.toml").string() + ":5:"), std::string::npos)
	    << message;
	EXPECT_EQ(rule_names(d), std::vector<std::string>{"first"});
	EXPECT_EQ(sample(d, "daxpolicy_reload_failures_total"), "1");

	std::ofstream(policy / "rules.toml") << rule_file("third");
	r = d.cli({"reload"});
	ASSERT_EQ(r.exit_code, 0) << r.err;
	EXPECT_EQ(rule_names(d), std::vector<std::string>{"third"});

	json events = d.ok({"list-events", "--type", "reload"});
	ASSERT_EQ(events.size(), 3u);
	EXPECT_EQ(events[0]["outcome"], "ok");
	EXPECT_EQ(events[1]["outcome"], "failed");
	EXPECT_NE(events[1]["error"].get<std::string>().find("rules.toml:5:"), std::string::npos);
	EXPECT_EQ(events[2]["outcome"], "ok");
}

TEST(Reload, BadConfigFailsNamingItsLineAndChangesNothing)
{
	TempDir first, second;
	std::ofstream(first / "a.toml") << rule_file("from-first");
	std::ofstream(second / "b.toml") << rule_file("from-second");
	Daemon d("policy_dir = \"" + first.path().string() + "\"\n");
	ASSERT_EQ(d.cli({"reload"}).exit_code, 0);

	std::string config = (d.dir() / "daxpolicyd.toml").string();
	std::ofstream(config) << "policy_dir = \"" << second.path().string()
	                      << "\"\nlease_break_timeout = 45\n";
	Result r = d.cli({"reload"});
	EXPECT_EQ(r.exit_code, 1);
	std::string message = error_of(r)["message"];
	EXPECT_NE(message.find(config + ":2:"), std::string::npos) << message;
	EXPECT_EQ(rule_names(d), std::vector<std::string>{"from-first"});

	// A good config: its policy_dir is read at once; a key only a restart applies is named.
	std::ofstream(config) << "policy_dir = \"" << second.path().string()
	                      << "\"\nevent_max = 10\n";
	r = d.cli({"reload"});
	ASSERT_EQ(r.exit_code, 0) << r.err;
	EXPECT_EQ(r.json()["restart_needed"], json::array({"event_max"}));
	EXPECT_EQ(rule_names(d), std::vector<std::string>{"from-second"});
}

// A stand-in for systemd's notification socket ($NOTIFY_SOCKET), as sd_notify(3) describes it.
class NotifySocket
{
      public:
	NotifySocket()
	{
		fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		sockaddr_un addr{};
		addr.sun_family = AF_UNIX;
		std::string path = (dir_ / "notify").string();
		std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
		EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)), 0);
		setenv("NOTIFY_SOCKET", path.c_str(), 1);
	}
	~NotifySocket()
	{
		unsetenv("NOTIFY_SOCKET");
		close(fd_);
	}
	// The next message (bounded wait); "" when none came.
	std::string next()
	{
		pollfd p{fd_, POLLIN, 0};
		if (poll(&p, 1, 30000) != 1)
			return "";
		char buf[4096];
		ssize_t n = recv(fd_, buf, sizeof(buf), 0);
		return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
	}

      private:
	TempDir dir_;
	int fd_ = -1;
};

TEST(Reload, TellsSystemdItReloadsAndWhetherItWorked)
{
	TempDir policy;
	std::ofstream(policy / "rules.toml") << rule_file("bad", "maybe");
	NotifySocket notify;
	Daemon d("policy_dir = \"" + policy.path().string() + "\"\n");
	std::string ready = notify.next();
	EXPECT_EQ(ready.rfind("READY=1\nSTATUS=serving 1 volume", 0), 0u) << ready;

	EXPECT_EQ(d.cli({"reload"}).exit_code, 1);
	std::string reloading = notify.next();
	EXPECT_EQ(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << reloading;
	EXPECT_NE(reloading.find("\nSTATUS="), std::string::npos) << reloading;
	std::string after = notify.next();
	EXPECT_EQ(after.rfind("READY=1\nSTATUS=reload failed: ", 0), 0u) << after;
	EXPECT_NE(after.find("rules.toml:5:"), std::string::npos) << after;
}

} // namespace
