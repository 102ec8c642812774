// SPDX-License-Identifier: BSD-3-Clause
// End-to-end harness: the real daxpolicyd on a pool in a temporary folder, driven by the
// real daxpolicy binary, as an administrator would.
#pragma once

#include "tests/support/temp_dir.hpp"

#include <chrono>
#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace daxpolicy::test
{

struct Result {
	int exit_code = -1;
	std::string out;
	std::string err;
	nlohmann::json json() const; // stdout parsed; fails the test if it is not JSON
};

// A failed command's stderr as the JSON error it must be; fails the test if it is not JSON.
nlohmann::json error_of(const Result &r);

// Sends `bytes` as they are on a new connection to `socket`, half-closes it and returns all the
// daemon sent back: for messages the CLI would never send.
std::string exchange_raw(const std::filesystem::path &socket, const std::string &bytes);

// The CLI binary where any user can run it: a copy in a folder under the temp dir, made once.
// The build tree may sit in a folder other users cannot enter (a root clone in /root, a
// `mktemp -d` checkout), and a test that runs the CLI as nobody must not depend on where.
const std::string &cli_for_any_user();

// Whom a program runs as: its uid, gid and supplementary groups (what SO_PEERCRED and
// SO_PEERGROUPS show the daemon), whatever the user database says of that uid.
struct User {
	uid_t uid = 0;
	gid_t gid = 0;
	std::vector<gid_t> groups;
};
// User nobody, in `groups` and no others.
User nobody(std::vector<gid_t> groups = {});

// Runs a program to completion, with optional stdin text and user.
Result run(const std::vector<std::string> &argv, const std::string &input = "",
           const std::optional<User> &as = std::nullopt);

// A running `daxpolicy io PATH` reading commands from a pipe: the test decides when each
// command runs and when the session (with its mappings) ends. Any CLI command that prints
// JSON lines as it goes (`monitor`) runs in one too.
class IoProcess
{
      public:
	IoProcess(const std::vector<std::string> &argv);
	~IoProcess();
	// Sends one command and returns its JSON line.
	nlohmann::json command(const std::string &line);
	// Sends one command without waiting for its answer.
	void send(const std::string &line);
	// The next line it prints, parsed; null if none comes within a bounded wait (or it exited).
	nlohmann::json read_line();
	pid_t pid() const { return pid_; }
	// Closes stdin: the CLI ends the session and exits. Returns its exit code.
	int finish();

      private:
	pid_t pid_ = -1;
	int in_ = -1, out_ = -1;
	std::string buffered_;
};

class Daemon
{
      public:
	// `config` is the daxpolicyd.toml text ("" for the embedded default). Pool and state go
	// in a folder under `root`: tests that need thousands of events put it on tmpfs, where
	// the store's fsyncs cost nothing.
	// `wrapper`, if given, runs the daemon: its argv comes before the daemon's (a script
	// that sets up what the daemon runs in, then execs it).
	explicit Daemon(const std::string &config = "",
	                const std::filesystem::path &root = std::filesystem::temp_directory_path(),
	                std::vector<std::string> wrapper = {});
	~Daemon();
	void start();
	void stop();      // SIGTERM, and wait
	void kill_hard(); // SIGKILL, as a crash
	bool running() const { return pid_ > 0; }
	pid_t pid() const { return pid_; }

	// The CLI against this daemon.
	Result cli(std::vector<std::string> args, const std::string &input = "") const;
	nlohmann::json ok(std::vector<std::string> args) const; // exit 0 and JSON, or fail
	std::unique_ptr<IoProcess> io(const std::string &path, bool create = true) const;
	// Polls `list PATH` until its state is `state` (bounded), and returns the file object.
	nlohmann::json wait_state(const std::string &path, const std::string &state) const;

	const TempDir &dir() const { return dir_; }
	std::string socket() const { return (dir_ / "daxpolicy.sock").string(); }
	std::string state_dir() const { return (dir_ / "state").string(); }
	std::string pool() const { return (dir_ / "state" / "pool0.pool").string(); }

      private:
	TempDir dir_;
	std::string config_path_;
	std::vector<std::string> wrapper_;
	pid_t pid_ = -1;
};

// Makes the file `path` through `daxpolicy io -f` and runs `cmd` on it (by default opens and
// closes it: a touch); fails the test if that fails.
void make_file(const Daemon &d, const std::string &path, const std::string &cmd = "open -c");

// True when running as root. Otherwise false, and where DAXPOLICY_REQUIRE_PRIVILEGED=1 (CI)
// says such tests must run, the test is failed too.
bool have_root(const char *why);
// True when the program `path` is installed. Otherwise false, and failed where
// DAXPOLICY_REQUIRE_PRIVILEGED=1, as have_root: CI installs everything install-deps.sh lists.
bool have_program(const std::string &path, const char *why);

} // namespace daxpolicy::test

// Tests that need root skip with the reason, or fail in CI (see have_root).
#define DAXPOLICY_REQUIRE_ROOT(why)                                                                \
	do {                                                                                       \
		if (!::daxpolicy::test::have_root(why))                                            \
			GTEST_SKIP() << "needs root: " << (why);                                   \
	} while (0)

// Tests that run a program of another package skip without it, with the reason, or fail in CI.
#define DAXPOLICY_REQUIRE_PROGRAM(path, why)                                                       \
	do {                                                                                       \
		if (!::daxpolicy::test::have_program(path, why))                                   \
			GTEST_SKIP() << (path)                                                     \
			             << " is missing (scripts/install-deps.sh installs "           \
			                "it): "                                                    \
			             << (why);                                                     \
	} while (0)

// Tests of how much memory the daemon holds measure its own allocator: under a sanitizer, the
// quarantine, redzones and shadow hold memory by design, and ASan's allocator aborts where
// ours would throw bad_alloc. They run in the uninstrumented build (the one CI runs).
#define DAXPOLICY_SKIP_UNDER_SANITIZER(why)                                                        \
	do {                                                                                       \
		if (*DAXPOLICY_SANITIZER)                                                          \
			GTEST_SKIP() << "measures the daemon's memory, which " DAXPOLICY_SANITIZER \
			                " instrumentation changes: "                               \
			             << (why);                                                     \
	} while (0)
