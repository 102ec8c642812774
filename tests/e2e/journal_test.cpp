// SPDX-License-Identifier: BSD-3-Clause
// The daemon's log: plain lines on stderr, or, when stderr is the journal's stream (as under
// systemd), journal entries with a priority and DAXPOLICY_* fields. journald is stood in for
// by journal_wrapper.sh, which receives what sd_journal_send sends in a private /run, so this
// runs without systemd as PID 1 (it needs root for the mount namespace).
#include "tests/e2e/harness.hpp"

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

using namespace daxpolicy::test;
using nlohmann::json;

namespace
{

using Entry = std::map<std::string, std::string>;

std::string slurp(const std::filesystem::path &file)
{
	std::ifstream in(file, std::ios::binary);
	return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// One datagram of the journal's native protocol: KEY=value lines, or KEY, a newline, the
// value's 64-bit little-endian length and the value, for values with newlines.
Entry parse_entry(std::string_view d)
{
	Entry e;
	while (!d.empty()) {
		size_t nl = d.find('\n');
		size_t eq = d.find('=');
		if (eq < nl) {
			e[std::string(d.substr(0, eq))] =
			    std::string(d.substr(eq + 1, nl - eq - 1));
		} else {
			uint64_t n = 0;
			std::memcpy(&n, d.data() + nl + 1, sizeof(n));
			e[std::string(d.substr(0, nl))] = std::string(d.substr(nl + 9, n));
			nl += 9 + n;
		}
		d.remove_prefix(std::min(d.size(), nl + 1));
	}
	return e;
}

std::vector<Entry> entries(const std::filesystem::path &file)
{
	std::string all = slurp(file);
	std::vector<Entry> out;
	for (size_t at = 0; at + 4 <= all.size();) {
		uint32_t n = 0;
		std::memcpy(&n, all.data() + at, sizeof(n));
		out.push_back(parse_entry(std::string_view(all).substr(at + 4, n)));
		at += 4 + n;
	}
	return out;
}

// Polls (bounded) until `found` accepts what was logged.
template <typename Read, typename Found> bool logged(Read read, Found found)
{
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
	while (!found(read())) {
		if (std::chrono::steady_clock::now() > deadline)
			return false;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	return true;
}

std::string bad_policy(const TempDir &policy)
{
	std::ofstream(policy / "bad.toml")
	    << "[[rule]]\nname = \"x\"\nvolume = \"pool0\"\nsubtree = \"/\"\ndax = \"maybe\"\n";
	return "policy_dir = \"" + policy.path().string() + "\"\n";
}

TEST(Log, WithoutTheJournalEachLineGoesToStderrWithItsPriority)
{
	TempDir policy, logs;
	auto log = logs / "stderr";
	Daemon d(bad_policy(policy), std::filesystem::temp_directory_path(),
	         {"/bin/sh", "-c", "exec \"$@\" 2>>\"$0\"", log.string()});
	d.ok({"io", "-f", "-c", "pwrite 0 4k", "pool0:/f"});
	d.ok({"set-dax", "pool0:/f"});
	EXPECT_EQ(d.cli({"reload"}).exit_code, 1);
	auto has = [&](const std::string &text) {
		return logged(
		    [&] { return slurp(log); },
		    [&](const std::string &s) { return s.find(text) != std::string::npos; });
	};
	EXPECT_TRUE(has(", serving 1 volume on " + d.socket() + ": pool0 (embedded, "))
	    << slurp(log);
	// Events that need a look are there; the flood of flag changes stays in the event log.
	EXPECT_TRUE(has("\ndaxpolicyd: error: reload " + policy.path().string() + " {"))
	    << slurp(log);
	EXPECT_TRUE(has("\ndaxpolicyd: volume pool0:/ {\"action\":\"mounted\"")) << slurp(log);
	EXPECT_EQ(slurp(log).find("flag-change"), std::string::npos) << slurp(log);
	EXPECT_TRUE(has("\ndaxpolicyd: error: reload failed, the running config and policy stay: " +
	                (policy / "bad.toml").string() + ":5:"))
	    << slurp(log);
}

TEST(Log, UnderSystemdEachLineIsAJournalEntryWithFields)
{
	DAXPOLICY_REQUIRE_ROOT("a mount namespace with a stand-in journald");
	TempDir policy, logs;
	auto journal = logs / "journal", err = logs / "stderr";
	Daemon d(bad_policy(policy), std::filesystem::temp_directory_path(),
	         {"/usr/bin/unshare", "-m", "--propagation", "private", JOURNAL_WRAPPER,
	          journal.string(), err.string()});
	d.ok({"io", "-f", "-c", "pwrite 0 4k", "pool0:/f"});
	d.ok({"set-dax", "pool0:/f"});
	EXPECT_EQ(d.cli({"reload"}).exit_code, 1);
	auto has = [&](const std::function<bool(const Entry &)> &match) {
		return logged([&] { return entries(journal); },
		              [&](const std::vector<Entry> &all) {
			              return std::any_of(all.begin(), all.end(), match);
		              });
	};
	auto field = [](const Entry &e, const std::string &key) {
		auto it = e.find(key);
		return it == e.end() ? std::string("(none)") : it->second;
	};
	EXPECT_TRUE(has([&](const Entry &e) {
		return field(e, "MESSAGE").find("pool0 (embedded, ") != std::string::npos &&
		       field(e, "PRIORITY") == "6" && field(e, "SYSLOG_IDENTIFIER") == "daxpolicyd";
	}));
	EXPECT_TRUE(has([&](const Entry &e) {
		return field(e, "DAXPOLICY_EVENT") == "flag-change" &&
		       field(e, "DAXPOLICY_VOLUME") == "pool0" &&
		       field(e, "DAXPOLICY_PATH") == "/f" &&
		       field(e, "DAXPOLICY_CAUSE") == "request" &&
		       field(e, "DAXPOLICY_TO") == "true" && field(e, "PRIORITY") == "6";
	}));
	EXPECT_TRUE(has([&](const Entry &e) {
		return field(e, "DAXPOLICY_EVENT") == "reload" &&
		       field(e, "DAXPOLICY_OUTCOME") == "failed" && field(e, "PRIORITY") == "3";
	}));
	// Nothing of it on stderr as well: the journal would show every line twice.
	EXPECT_EQ(slurp(err).find("flag-change"), std::string::npos) << slurp(err);
}

TEST(Log, AJobOverManyFilesLogsABoundedNumberOfEntriesAndSaysHowManyItLeftOut)
{
	DAXPOLICY_REQUIRE_ROOT("a mount namespace with a stand-in journald");
	TempDir src, logs;
	constexpr int kFiles = 600; // three times the bound, kJournalFileEvents (daemon/log.hpp)
	for (int i = 0; i < kFiles; i++)
		std::ofstream(src / ("f" + std::to_string(i)));
	std::string pool = (logs / "p.pool").string();
	Result made =
	    run({DAXPOLICY_BIN, "mkfs", pool, "--size", "64m", "--populate", src.path().string()});
	ASSERT_EQ(made.exit_code, 0) << made.err;
	auto journal = logs / "journal", err = logs / "stderr";
	Daemon d("[[volume]]\nname = \"pool0\"\nkind = \"embedded\"\npath = \"" + pool + "\"\n",
	         std::filesystem::temp_directory_path(),
	         {"/usr/bin/unshare", "-m", "--propagation", "private", JOURNAL_WRAPPER,
	          journal.string(), err.string()});
	d.ok({"add-rule", "--name", "all", "--subtree", "pool0:/", "--dax", "on"});
	size_t changes = d.ok({"list-events", "--type", "flag-change"}).size();
	ASSERT_GT(changes, size_t(kFiles));

	// The job's summary comes last; what was left out is said before it.
	std::vector<Entry> all;
	ASSERT_TRUE(logged([&] { return all = entries(journal); },
	                   [](const std::vector<Entry> &es) {
		                   return std::any_of(es.begin(), es.end(), [](const Entry &e) {
			                   auto it = e.find("DAXPOLICY_EVENT");
			                   return it != e.end() && it->second == "reconcile";
		                   });
	                   }));
	size_t logged_changes = 0, left_out = 0;
	for (const auto &e : all) {
		if (auto it = e.find("DAXPOLICY_EVENT");
		    it != e.end() && it->second == "flag-change")
			logged_changes++;
		if (auto it = e.find("DAXPOLICY_SUPPRESSED"); it != e.end())
			left_out += std::stoul(it->second);
	}
	EXPECT_LT(logged_changes, changes);
	EXPECT_GT(left_out, 0u);
	// Every flag change is either in the journal or counted as left out.
	EXPECT_EQ(logged_changes + left_out, changes);
}

} // namespace
