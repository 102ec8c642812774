// SPDX-License-Identifier: BSD-3-Clause
// Bad input gets the documented error and exit code, and changes nothing.
#include "tests/e2e/harness.hpp"

#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace daxpolicy::test;
using nlohmann::json;

namespace
{

// Everything a script can see of the daemon's state, to compare before and after.
json snapshot(const Daemon &d)
{
	return {d.ok({"list-rules"}), d.ok({"list-pending"}), d.ok({"list", "-r", "pool0:/"}),
	        d.ok({"status"})["events"]};
}

TEST(Errors, BadRequestsGetDocumentedErrorsAndChangeNothing)
{
	Daemon d;
	ASSERT_EQ(d.cli({"io", "-f", "-c", "mkdir", "pool0:/x"}).exit_code, 0);
	json before = snapshot(d);
	struct Case {
		std::vector<std::string> args;
		int exit_code;
		const char *error;
	};
	// invalid-argument is wrong usage (exit 2) wherever it is found: by the CLI's parser or
	// by the daemon, about the request.
	std::vector<Case> cases = {
	    {{"list", "nope:/x"}, 1, "not-found"},
	    {{"list", "pool0:/missing"}, 1, "not-found"},
	    {{"list", "no-volume-part"}, 2, "invalid-argument"},
	    {{"list", "pool0:/x/../etc"}, 2, "invalid-argument"},
	    {{"set-dax", "pool0:/x", "pool0:/missing"}, 1, "not-found"},
	    {{"add-rule", "--name", "Bad Name", "--subtree", "pool0:/x", "--dax", "on"},
	     2,
	     "invalid-argument"},
	    {{"add-rule", "--name", "r", "--subtree", "ghost:/x", "--dax", "on"},
	     2,
	     "invalid-argument"},
	    {{"add-rule", "--name", "r", "--subtree", "pool0:relative", "--dax", "on"},
	     2,
	     "invalid-argument"},
	    {{"add-rule", "--name", "r", "--subtree", "pool0:/x", "--dax", "on", "--include",
	      "a/b"},
	     2,
	     "invalid-argument"},
	    {{"add-rule", "--name", "r", "--subtree", "pool0:/x", "--dax", "maybe"},
	     2,
	     "invalid-argument"},
	    {{"remove-rule", "ghost"}, 1, "not-found"},
	    {{"cancel-pending", "pool0:/x"}, 1, "not-found"},
	    // Checked by the CLI, as usage: before any call, naming the option.
	    {{"list-events", "--type", "nonsense"}, 2, "invalid-argument"},
	    {{"list-events", "--since", "yesterday"}, 2, "invalid-argument"},
	    {{"list-events", "--until", "-5x"}, 2, "invalid-argument"},
	    {{"list-events", "--limit", "-3"}, 2, "invalid-argument"},
	    {{"io", "-c", "pread 0 4k", "pool0:/missing"}, 1, nullptr},
	    {{"no-such-command"}, 2, "invalid-argument"},
	    {{"list"}, 2, "invalid-argument"},
	};
	for (const auto &c : cases) {
		std::string line;
		for (const auto &a : c.args)
			line += a + " ";
		SCOPED_TRACE(line);
		Result r = d.cli(c.args);
		EXPECT_EQ(r.exit_code, c.exit_code) << r.out << r.err;
		if (c.error) {
			EXPECT_EQ(error_of(r)["error"], c.error);
		}
	}
	EXPECT_EQ(snapshot(d), before);
}

TEST(Errors, IoFailureEndsTheSessionWithTheErrorLine)
{
	Daemon d;
	Result r = d.cli(
	    {"io", "-f", "-c", "pwrite 0 4k", "-c", "frobnicate", "-c", "pwrite 0 8k", "pool0:/f"});
	EXPECT_EQ(r.exit_code, 1);
	std::vector<json> lines;
	std::istringstream in(r.out);
	for (std::string l; std::getline(in, l);)
		lines.push_back(json::parse(l));
	ASSERT_EQ(lines.size(), 2u) << "the session goes on after a failure";
	EXPECT_EQ(lines[1]["cmd"], "frobnicate");
	EXPECT_EQ(lines[1]["error"], "invalid-argument");
	EXPECT_EQ(d.ok({"list", "pool0:/f"})[0]["size"], 4096);
	Result ro = d.cli({"io", "-c", "mmap -r 0 4k", "-c", "mwrite 0 1", "pool0:/f"});
	EXPECT_EQ(ro.exit_code, 1);
	EXPECT_NE(ro.out.find("\"permission-denied\""), std::string::npos) << ro.out;
}

TEST(Errors, UnreachableDaemonIsExitCode3)
{
	Result r = run({DAXPOLICY_BIN, "--socket", "/nonexistent/daxpolicy.sock", "status"});
	EXPECT_EQ(r.exit_code, 3);
	Result human = run({DAXPOLICY_BIN, "-u", "--socket", "/nonexistent/x.sock", "status"});
	EXPECT_EQ(human.exit_code, 3);
	EXPECT_EQ(human.err.rfind("daxpolicy: ", 0), 0u) << human.err;
}

// A client that speaks garbage, or hangs up mid-message, does not hurt anyone else.
TEST(Errors, MalformedWireMessagesGetErrorsAndTheDaemonLives)
{
	Daemon d;
	auto exchange = [&](const std::string &bytes) { return exchange_raw(d.socket(), bytes); };
	auto reply_json = [](const std::string &reply) {
		return json::parse(reply.substr(0, reply.find('\0')));
	};
	EXPECT_EQ(reply_json(exchange(std::string("not json") + '\0'))["error"],
	          "io.daxpolicy.InvalidArgument");
	EXPECT_EQ(reply_json(exchange(std::string("[1,2]") + '\0'))["error"],
	          "io.daxpolicy.InvalidArgument");
	EXPECT_EQ(
	    reply_json(exchange(std::string(R"({"method":"io.daxpolicy.Nope"})") + '\0'))["error"],
	    "org.varlink.service.MethodNotFound");
	EXPECT_EQ(reply_json(exchange(
	              std::string(R"({"method":"io.daxpolicy.List","parameters":{"paths":7}})") +
	              '\0'))["error"],
	          "org.varlink.service.InvalidParameter");
	json info =
	    reply_json(exchange(std::string(R"({"method":"org.varlink.service.GetInfo"})") + '\0'));
	EXPECT_EQ(info["parameters"]["product"], "daxpolicyd");
	exchange(R"({"method":"io.daxpolicy.Sta)"); // cut short
	exchange(std::string(20 << 20, 'x'));       // larger than any message may be
	EXPECT_EQ(d.ok({"status"})["version"].is_string(), true) << "the daemon died";
}

TEST(Errors, NonAdminPeersMayOnlyRead)
{
	DAXPOLICY_REQUIRE_ROOT("running the CLI as another user");
	// Anyone may connect; only root and the admin group may change things.
	Daemon d("socket_mode = \"0666\"\n");
	// The socket's folder is the test's temp dir: let nobody through.
	std::filesystem::permissions(d.dir().path(), std::filesystem::perms::all);
	Result read = run({cli_for_any_user(), "--socket", d.socket(), "status"}, "", nobody());
	EXPECT_EQ(read.exit_code, 0) << read.err;
	Result write = run({cli_for_any_user(), "--socket", d.socket(), "add-rule", "--name", "r",
	                    "--subtree", "pool0:/", "--dax", "on"},
	                   "", nobody());
	EXPECT_EQ(write.exit_code, 1);
	EXPECT_EQ(error_of(write)["error"], "permission-denied");
	EXPECT_TRUE(d.ok({"list-rules"}).empty());
}

TEST(Errors, ASocketTheCallerMayNotOpenIsPermissionDeniedNotUnreachable)
{
	DAXPOLICY_REQUIRE_ROOT("running the CLI as another user");
	Daemon d("socket_mode = \"0600\"\n");
	std::filesystem::permissions(d.dir().path(), std::filesystem::perms::all);
	Result r = run({cli_for_any_user(), "--socket", d.socket(), "status"}, "", nobody());
	EXPECT_EQ(r.exit_code, 1) << r.err;
	EXPECT_EQ(error_of(r)["error"], "permission-denied") << r.err;
}

TEST(Errors, DaemonRefusesBadConfigAndSecondInstance)
{
	TempDir dir;
	auto config = dir / "bad.toml";
	std::ofstream(config)
	    << "state_dir = \"" << (dir / "s").string()
	    << "\"\n[[volume]]\nname = \"p\"\nkind = \"embedded\"\ndax = \"sometimes\"\n";
	Result r = run({DAXPOLICYD_BIN, "--foreground", "--config", config.string(), "--socket",
	                (dir / "s.sock").string()});
	EXPECT_EQ(r.exit_code, 1);
	EXPECT_NE(r.err.find("bad.toml:5:7: dax"), std::string::npos) << r.err;

	Daemon d;
	Result second = run({DAXPOLICYD_BIN, "--foreground", "--config", "/dev/null", "--socket",
	                     d.socket(), "--state-dir", (dir / "other").string()});
	EXPECT_EQ(second.exit_code, 1);
	EXPECT_NE(second.err.find("already serving"), std::string::npos) << second.err;
	EXPECT_EQ(d.ok({"status"})["volumes"].size(), 1u);
}

// Item 20 of issue 7: a dangling daxpolicy.db symlink in the state dir was followed, and the
// database made wherever it pointed.
TEST(Errors, DaemonRefusesADatabaseThatIsASymbolicLink)
{
	TempDir dir;
	auto state = dir / "state";
	std::filesystem::create_directories(state);
	auto target = dir / "elsewhere.db";
	std::filesystem::create_symlink(target, state / "daxpolicy.db");
	auto start = [&] {
		// Bounded: a daemon that follows the link starts serving and never exits.
		return run({"/usr/bin/timeout", "60", DAXPOLICYD_BIN, "--foreground", "--config",
		            "/dev/null", "--socket", (dir / "s.sock").string(), "--state-dir",
		            state.string()});
	};
	Result r = start();
	EXPECT_EQ(r.exit_code, 1);
	EXPECT_NE(r.err.find("daxpolicy.db: the database is a symbolic link"), std::string::npos)
	    << r.err;
	EXPECT_FALSE(std::filesystem::exists(target)) << "the link was followed";

	// A link to a real database is refused too: the writes would go wherever it points.
	{
		Daemon other;
		other.stop();
		std::filesystem::copy_file(
		    std::filesystem::path(other.state_dir()) / "daxpolicy.db", target);
	}
	r = start();
	EXPECT_EQ(r.exit_code, 1);
	EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << r.err;
}

// Item 20 of issue 7: chattr on a file this session holds open, after it was removed,
// answered `internal` (its path was looked up, and an orphan has none).
TEST(Errors, ChattrOnAnOpenFileAfterRmSetsTheFlagOfThatFile)
{
	Daemon d;
	Result r = d.cli({"io", "-f", "-c", "open", "-c", "rm", "-c", "chattr +x", "-c", "lsattr",
	                  "pool0:/gone"});
	ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
	std::vector<json> lines;
	std::istringstream out(r.out);
	for (std::string line; std::getline(out, line);)
		lines.push_back(json::parse(line));
	ASSERT_EQ(lines.size(), 4u) << r.out;
	EXPECT_EQ(lines[2]["cmd"], "chattr");
	EXPECT_FALSE(lines[2].contains("error")) << lines[2].dump();
	EXPECT_EQ(lines[3]["file"]["dax_flag"], true) << lines[3].dump();
	EXPECT_EQ(d.cli({"list", "pool0:/gone"}).exit_code, 1) << "removed";
	d.stop();
	EXPECT_EQ(run({DAXPOLICY_BIN, "fsck", d.pool()}).exit_code, 0);
}

} // namespace

// fsck of something that cannot be a pool says so (a user's mistake), not `internal`, and
// the same way as for a file with a foreign superblock.
TEST(Errors, FsckOfWhatIsNotAPoolSaysSo)
{
	TempDir dir;
	std::ofstream(dir / "empty");
	std::ofstream(dir / "zeros") << std::string(1 << 20, '\0');
	Result foreign = run({DAXPOLICY_BIN, "fsck", (dir / "zeros").string()});
	ASSERT_NE(foreign.exit_code, 0);
	ASSERT_EQ(error_of(foreign)["error"], "invalid-argument") << foreign.err;
	for (std::string path : {(dir / "empty").string(), std::string("/dev/null")}) {
		Result r = run({DAXPOLICY_BIN, "fsck", path});
		EXPECT_EQ(r.exit_code, foreign.exit_code) << path;
		json e = error_of(r);
		EXPECT_EQ(e["error"], "invalid-argument") << path << ": " << r.err;
		EXPECT_NE(e["message"].get<std::string>().find("not a usable daxpolicy pool"),
		          std::string::npos)
		    << path << ": " << r.err;
	}
}
