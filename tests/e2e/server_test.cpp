// SPDX-License-Identifier: BSD-3-Clause
// The daemon under hostile or careless peers: each holds only a bounded share of it, a peer
// that goes away is noticed at once, and no request, however malformed, ends it.
#include "tests/e2e/harness.hpp"
#include "tests/e2e/peer.hpp"

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <set>
#include <sstream>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace daxpolicy::test;
using nlohmann::json;

namespace
{

// User and system CPU time of a process.
std::chrono::duration<double> cpu_time(pid_t pid)
{
	std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
	std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	std::istringstream fields(stat.substr(stat.rfind(')') + 2));
	std::vector<std::string> f;
	for (std::string x; fields >> x;)
		f.push_back(x);
	double ticks = std::stod(f.at(11)) + std::stod(f.at(12)); // utime, stime
	return std::chrono::duration<double>(ticks / double(sysconf(_SC_CLK_TCK)));
}

TEST(Server, ClientKilledDuringItsTruncateRevokesNobody)
{
	// Long enough that only the hang-up, not the timeout, can end the break in time.
	Daemon d("lease_break_timeout = \"10s\"\n");
	auto holder = d.io("pool0:/f");
	holder->command("pwrite 0 64k");
	holder->command("mmap 0 64k");
	auto truncater = d.io("pool0:/f", false);
	truncater->send("truncate 4k");
	auto breaking = [&] {
		for (const auto &l : d.ok({"list-leases", "pool0:/f"}))
			if (l["state"] == "breaking")
				return true;
		return false;
	};
	auto deadline = std::chrono::steady_clock::now() + kPollTimeout;
	while (!breaking() && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	ASSERT_TRUE(breaking()) << "the truncate did not wait for the holder";
	kill(truncater->pid(), SIGKILL);
	EXPECT_EQ(truncater->finish(), 128 + SIGKILL);
	// Once the break is over, whichever way it ended, the holder's mapping must be whole:
	// the truncate of a client that is gone must not run.
	deadline = std::chrono::steady_clock::now() + kPollTimeout;
	while (breaking() && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	EXPECT_FALSE(breaking());
	json read = holder->command("mread 0 4k");
	EXPECT_FALSE(read.contains("error")) << read.dump();
	EXPECT_EQ(d.ok({"list", "pool0:/f"})[0]["size"], 65536);
	json leases = d.ok({"list-leases", "pool0:/f"});
	ASSERT_EQ(leases.size(), 1u);
	EXPECT_EQ(leases[0]["state"], "active");
	EXPECT_EQ(holder->finish(), 0);
}

// systemd hands the daemon a listening socket as fd 3 (sd_listen_fds), and keeps it across
// restarts: the daemon must leave its file alone.
TEST(Server, SocketHandedOverBySystemdOutlivesTheDaemon)
{
	TempDir dir;
	std::string path = (dir / "activated.sock").string();
	int listener = socket(AF_UNIX, SOCK_STREAM, 0); // no CLOEXEC: the daemon inherits it
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
	ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)), 0);
	ASSERT_EQ(listen(listener, 16), 0);
	std::string state = (dir / "state").string();
	auto serve_once = [&] {
		pid_t pid = fork();
		if (pid == 0) {
			if (dup2(listener, 3) < 0)
				_exit(126);
			setenv("LISTEN_FDS", "1", 1);
			setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
			execl(DAXPOLICYD_BIN, DAXPOLICYD_BIN, "--foreground", "--config",
			      "/dev/null", "--state-dir", state.c_str(), "--socket", path.c_str(),
			      nullptr);
			_exit(127);
		}
		Result r = run({DAXPOLICY_BIN, "--socket", path, "status"});
		EXPECT_EQ(r.exit_code, 0) << r.err;
		kill(pid, SIGTERM);
		int status = 0;
		waitpid(pid, &status, 0);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	};
	serve_once();
	EXPECT_TRUE(std::filesystem::exists(path)) << "the daemon removed systemd's socket";
	serve_once(); // as after `systemctl restart`
	close(listener);
}

TEST(Server, PeerThatPipelinesCallsButNeverReadsHoldsBoundedMemory)
{
	DAXPOLICY_SKIP_UNDER_SANITIZER("its resident size");
	Daemon d;
	long before = rss_anon_mib(d.pid());
	RawPeer greedy(d.socket());
	ASSERT_TRUE(greedy.connected());
	std::string batch;
	for (int i = 0; i < 1000; i++)
		batch += call("Status", json::object()).dump() + '\0';
	// Without a bound, 300,000 unread Status replies are far over 100 MiB. With one, the
	// daemon stops reading this peer and the socket stops taking calls.
	for (int i = 0; i < 300; i++) {
		std::string_view rest = batch;
		while (!rest.empty()) {
			rest.remove_prefix(greedy.send_some(rest));
			pollfd p{greedy.fd(), POLLOUT, 0};
			if (!rest.empty() && poll(&p, 1, 2000) != 1)
				break; // the daemon takes no more
		}
		if (!rest.empty())
			break;
	}
	EXPECT_LT(rss_anon_mib(d.pid()) - before, 32) << "MiB grown for one peer";
	EXPECT_TRUE(answers_status(d)) << "another client is not served";
}

TEST(Server, MonitorThatNeverReadsIsDroppedWhileEventsKeepComing)
{
	Daemon d("", "/dev/shm");
	for (int i = 0; i < 500; i++)
		ASSERT_EQ(d.cli({"io", "-c", "open -c", "pool0:/f" + std::to_string(i)}).exit_code,
		          0);
	RawPeer monitor(d.socket());
	monitor.call(
	    {{"method", "io.daxpolicy.Monitor"}, {"parameters", json::object()}, {"more", true}});
	auto dropped = [&] {
		return d.cli({"metrics"}).out.find("daxpolicy_monitors_dropped_total 1\n") !=
		       std::string::npos;
	};
	// Each round is 1,000 flag-change events of some 160 bytes; a few megabytes of them
	// is more than a monitor may leave unread.
	for (int round = 0; round < 100 && !dropped(); round++) {
		d.ok({"set-dax", "-r", "pool0:/"});
		d.ok({"clear-dax", "-r", "pool0:/"});
	}
	EXPECT_TRUE(dropped());
	EXPECT_TRUE(monitor.closed_by_daemon());
	EXPECT_TRUE(answers_status(d));
}

TEST(Server, ConnectionsBeyondMaxConnectionsAreRefusedWithBusy)
{
	DAXPOLICY_REQUIRE_ROOT("running the CLI as another user");
	Daemon d("max_connections = 3\nsocket_mode = \"0666\"\n");
	std::filesystem::permissions(d.dir().path(), std::filesystem::perms::all);
	auto reader_status = [&] {
		return run({cli_for_any_user(), "--socket", d.socket(), "status"}, "", nobody());
	};
	std::vector<std::unique_ptr<RawPeer>> peers;
	for (int i = 0; i < 3; i++) {
		peers.push_back(std::make_unique<RawPeer>(d.socket()));
		peers.back()->call(call("Status", json::object()));
		ASSERT_TRUE(peers.back()->receive().contains("parameters")) << "not served";
	}
	Result refused = reader_status();
	EXPECT_EQ(refused.exit_code, 1) << refused.out;
	EXPECT_EQ(error_of(refused)["error"], "busy");
	EXPECT_NE(refused.err.find("max_connections"), std::string::npos) << refused.err;
	// Those it serves are served on, and root is not locked out by readers.
	peers[0]->call(call("Status", json::object()));
	EXPECT_TRUE(peers[0]->receive().contains("parameters"));
	EXPECT_EQ(d.cli({"status"}).exit_code, 0);
	std::string metrics = d.cli({"metrics"}).out;
	EXPECT_NE(metrics.find("daxpolicy_connections_rejected_total 1\n"), std::string::npos)
	    << metrics;
	peers.pop_back();
	auto deadline = std::chrono::steady_clock::now() + kPollTimeout;
	while (reader_status().exit_code != 0 && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	EXPECT_EQ(reader_status().exit_code, 0) << "a place that became free is not given out";
}

TEST(Server, OutOfDescriptorsTheDaemonWaitsRatherThanSpins)
{
	DAXPOLICY_REQUIRE_ROOT("lowering another process's RLIMIT_NOFILE");
	Daemon d;
	size_t open_fds = 0;
	for ([[maybe_unused]] const auto &e :
	     std::filesystem::directory_iterator("/proc/" + std::to_string(d.pid()) + "/fd"))
		open_fds++;
	rlimit few{open_fds + 2, open_fds + 2};
	ASSERT_EQ(prlimit(d.pid(), RLIMIT_NOFILE, &few, nullptr), 0);
	std::vector<std::unique_ptr<RawPeer>> peers;
	for (int i = 0; i < 10; i++)
		peers.push_back(std::make_unique<RawPeer>(d.socket()));
	// Two are served; the rest wait in the listen queue while accept fails with EMFILE.
	peers[0]->call(call("Status", json::object()));
	ASSERT_TRUE(peers[0]->receive().contains("parameters"));
	auto cpu_before = cpu_time(d.pid());
	auto wall_before = std::chrono::steady_clock::now();
	std::this_thread::sleep_for(std::chrono::seconds(2));
	auto cpu = cpu_time(d.pid()) - cpu_before;
	std::chrono::duration<double> wall = std::chrono::steady_clock::now() - wall_before;
	EXPECT_LT(cpu.count(), wall.count() / 2) << "the daemon spins while it cannot accept";
	peers[1]->call(call("Status", json::object()));
	EXPECT_TRUE(peers[1]->receive().contains("parameters")) << "a served peer is not served";
	peers.clear();
	EXPECT_TRUE(answers_status(d)) << "freed descriptors are not used for new connections";
}

TEST(Server, FifoAmongPolicyFilesIsRefusedByNameAndStallsNothing)
{
	Daemon d;
	auto dir = d.dir() / "policy.d";
	std::filesystem::create_directories(dir);
	std::ofstream(dir / "10-good.toml")
	    << "[[rule]]\nname = \"r\"\nvolume = \"pool0\"\nsubtree = \"/\"\ndax = \"on\"\n";
	auto fifo = dir / "20-fifo.toml";
	ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
	for (const auto &target : {dir, fifo}) {
		SCOPED_TRACE(target);
		Result r = d.cli({"apply", "--policy-dir", target.string()});
		EXPECT_NE(r.exit_code, 0) << r.out;
		EXPECT_EQ(error_of(r)["error"], "invalid-argument");
		EXPECT_NE(r.err.find(fifo.string()), std::string::npos) << r.err;
		EXPECT_NE(r.err.find("FIFO"), std::string::npos) << r.err;
	}
	EXPECT_TRUE(d.ok({"list-rules"}).empty());
	EXPECT_TRUE(answers_status(d));
}

TEST(Server, RequestThatExhaustsMemoryFailsAloneAsInternal)
{
	DAXPOLICY_REQUIRE_ROOT("lowering another process's RLIMIT_AS");
	DAXPOLICY_SKIP_UNDER_SANITIZER("running out of address space");
	Daemon d;
	RawPeer peer(d.socket());
	// A call whose parsing needs 12 MiB more; all of it but its NUL is sent first, so that
	// the daemon holds the text before memory runs short.
	std::string text =
	    call("List", {{"paths", {"pool0:/" + std::string(12 << 20, 'a')}}}).dump();
	long before = rss_anon_mib(d.pid());
	peer.send_all(text);
	auto deadline = std::chrono::steady_clock::now() + kPollTimeout;
	while (rss_anon_mib(d.pid()) - before < 12 && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
	rlimit tight{rlim_t(proc_status_kb(d.pid(), "VmSize") + 4096) << 10, RLIM_INFINITY};
	ASSERT_EQ(prlimit(d.pid(), RLIMIT_AS, &tight, nullptr), 0);
	peer.send_all(std::string(1, '\0'));
	json reply = peer.receive();
	ASSERT_EQ(prlimit(d.pid(), RLIMIT_AS, &unlimited, nullptr), 0);
	ASSERT_TRUE(reply.is_object()) << "no reply";
	EXPECT_EQ(reply["error"], "io.daxpolicy.Internal") << reply.dump();
	EXPECT_TRUE(answers_status(d));
	std::string metrics = d.cli({"metrics"}).out;
	EXPECT_NE(metrics.find("daxpolicy_request_errors_total{code=\"internal\"} 1"),
	          std::string::npos)
	    << metrics;
}

// An io command moves its data a chunk at a time: a 200 MiB pwrite or pread holds about a
// MiB of the daemon's memory, not 200 (before, each built a buffer of its whole length, so
// one client per connection could make the daemon hold 256 MiB).
TEST(Server, IoCommandsOfAnyLengthHoldBoundedMemory)
{
	DAXPOLICY_REQUIRE_ROOT("lowering another process's RLIMIT_AS");
	DAXPOLICY_SKIP_UNDER_SANITIZER("running out of address space");
	Daemon d;
	auto io = d.io("pool0:/big");
	ASSERT_EQ(io->command("pwrite 0 1m")["bytes"], 1 << 20); // the session's thread is up
	ASSERT_EQ(io->command("pread 0 1m")["bytes"], 1 << 20);
	rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
	rlimit tight{rlim_t(proc_status_kb(d.pid(), "VmSize") + (96 << 10)) << 10, RLIM_INFINITY};
	ASSERT_EQ(prlimit(d.pid(), RLIMIT_AS, &tight, nullptr), 0);
	json wrote = io->command("pwrite -S 0x5a 0 200m");
	json read = io->command("pread 0 200m");
	ASSERT_EQ(prlimit(d.pid(), RLIMIT_AS, &unlimited, nullptr), 0);
	EXPECT_EQ(wrote["bytes"], 200 << 20) << wrote.dump();
	EXPECT_EQ(read["bytes"], 200 << 20) << read.dump();
	EXPECT_EQ(io->finish(), 0);
	EXPECT_TRUE(answers_status(d));
}

TEST(Server, DeeplyNestedParametersAreRefusedAtParse)
{
	Daemon d;
	RawPeer peer(d.socket());
	std::string deep = R"({"method":"io.daxpolicy.List","parameters":{"paths":)" +
	                   std::string(120000, '[') + std::string(120000, ']') + "}}";
	peer.send_all(deep + '\0');
	json reply = peer.receive();
	ASSERT_TRUE(reply.is_object()) << "the daemon died";
	EXPECT_EQ(reply["error"], "io.daxpolicy.InvalidArgument");
	EXPECT_NE(reply["parameters"]["message"].get<std::string>().find("deeper than 64"),
	          std::string::npos)
	    << reply.dump();
	EXPECT_TRUE(answers_status(d));
}

TEST(Server, PriorityBeyondInt64IsRefusedNotWrapped)
{
	Daemon d;
	RawPeer peer(d.socket());
	peer.send_all(R"({"method":"io.daxpolicy.AddRule","parameters":{"name":"r",)"
	              R"("subtree":"pool0:/","dax":"on","priority":18446744073709551615}})" +
	              std::string(1, '\0'));
	json reply = peer.receive();
	EXPECT_EQ(reply["error"], "org.varlink.service.InvalidParameter") << reply.dump();
	EXPECT_EQ(reply["parameters"]["parameter"], "priority");
	EXPECT_NE(reply["parameters"]["message"].get<std::string>().find("'priority'"),
	          std::string::npos)
	    << reply.dump();
	EXPECT_TRUE(d.ok({"list-rules"}).empty());
}

// A pool seeded (mkfs --populate) with `dirs` directories of `per_dir` empty files.
std::filesystem::path seeded_pool(const TempDir &dir, int dirs, int per_dir)
{
	std::filesystem::path tree = dir / "tree", pool = dir / "big.pool";
	for (int d = 0; d < dirs; d++) {
		std::filesystem::create_directories(tree / ("d" + std::to_string(d)));
		for (int f = 0; f < per_dir; f++)
			std::ofstream(tree / ("d" + std::to_string(d)) / ("f" + std::to_string(f)));
	}
	Result made = run(
	    {DAXPOLICY_BIN, "mkfs", pool.string(), "--size", "2GiB", "--populate", tree.string()});
	EXPECT_EQ(made.exit_code, 0) << made.err;
	return pool;
}

TEST(Server, ListIsBoundedInPathsButNotInReplySize)
{
	// 100 directories of 1,000 files, the root and the directories: 100,101 entries, some
	// 19 MiB of JSON, more than one message may carry. With "more" it comes in parts, and
	// whole.
	TempDir seed("/dev/shm");
	auto pool = seeded_pool(seed, 100, 1000);
	Daemon d("[[volume]]\nname = \"pool0\"\nkind = \"embedded\"\npath = \"" + pool.string() +
	             "\"\n",
	         "/dev/shm");
	std::vector<std::string> paths(4097, "pool0:/");
	RawPeer peer(d.socket());
	peer.call(call("List", {{"paths", paths}, {"recursive", true}}));
	json reply = peer.receive();
	EXPECT_EQ(reply["error"], "io.daxpolicy.InvalidArgument");
	EXPECT_NE(reply["parameters"]["message"].get<std::string>().find("4096"), std::string::npos)
	    << reply.dump();

	Result r = d.cli({"list", "-r", "pool0:/", "pool0:/d3"});
	ASSERT_EQ(r.exit_code, 0) << r.err;
	json files = r.json();
	ASSERT_EQ(files.size(), 100101u) << "each file once, though pool0:/d3 is named again";
	EXPECT_EQ(files.front()["path"], "pool0:/");
	std::set<std::string> seen;
	for (const auto &f : files)
		EXPECT_TRUE(seen.insert(f["path"].get<std::string>()).second) << f["path"];
	// Without "more" (a client of before), the list is one reply, bounded as a message is.
	RawPeer old(d.socket());
	old.call(call("List", {{"paths", {"pool0:/"}}, {"recursive", true}}));
	json refused = old.receive();
	ASSERT_EQ(refused["error"], "io.daxpolicy.InvalidArgument")
	    << refused.dump().substr(0, 300);
	EXPECT_NE(refused["parameters"]["message"].get<std::string>().find("16 MiB"),
	          std::string::npos)
	    << refused.dump().substr(0, 300);
	EXPECT_TRUE(answers_status(d));
}

TEST(Server, HalfSentRequestsOfManyPeersShareABoundedBudget)
{
	DAXPOLICY_SKIP_UNDER_SANITIZER("its resident size");
	Daemon d;
	long before = rss_anon_mib(d.pid());
	// 40 peers each start a 15 MiB call and never finish it: 600 MiB if all were held, and
	// some 66 MiB (the 64 MiB budget and 64 KiB a connection) with the bound.
	std::string start = R"({"method":"io.daxpolicy.List","parameters":{"paths":[")";
	std::string body = start + std::string(15 << 20, 'a');
	std::vector<std::unique_ptr<RawPeer>> peers;
	std::vector<size_t> sent(40, 0);
	for (int i = 0; i < 40; i++)
		peers.push_back(std::make_unique<RawPeer>(d.socket()));
	for (;;) {
		std::vector<pollfd> writable;
		for (size_t i = 0; i < peers.size(); i++)
			if (sent[i] < body.size())
				writable.push_back({peers[i]->fd(), POLLOUT, 0});
		if (writable.empty() || poll(writable.data(), writable.size(), 2000) <= 0)
			break; // all sent, or the daemon takes no more of any
		for (size_t i = 0; i < peers.size(); i++)
			if (sent[i] < body.size())
				sent[i] +=
				    peers[i]->send_some(std::string_view(body).substr(sent[i]));
	}
	EXPECT_LT(rss_anon_mib(d.pid()) - before, 100) << "MiB held for half-sent calls";
	EXPECT_TRUE(answers_status(d)) << "a small call waits behind the large ones";
}

} // namespace

namespace
{

std::string rule_file(const std::string &name)
{
	return "[[rule]]\nname = \"" + name +
	       "\"\nvolume = \"pool0\"\nsubtree = \"/\"\ndax = \"on\"\n";
}

// Polls list-rules (bounded) until it names exactly `name`.
bool rules_become(const Daemon &d, const std::string &name)
{
	auto deadline = std::chrono::steady_clock::now() + kPollTimeout;
	do {
		json rules = d.ok({"list-rules"});
		if (rules.size() == 1 && rules[0]["name"] == name)
			return true;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	} while (std::chrono::steady_clock::now() < deadline);
	return false;
}

TEST(Server, ReloadRefusesAFifoAndChangesNothing)
{
	TempDir policy;
	Daemon d("policy_dir = \"" + policy.path().string() + "\"\n");
	std::ofstream(policy / "rules.toml") << rule_file("first");
	kill(d.pid(), SIGHUP);
	ASSERT_TRUE(rules_become(d, "first"));
	// A FIFO among the drop-ins fails the whole reload: the other file's change waits.
	ASSERT_EQ(mkfifo((policy / "fifo.toml").c_str(), 0600), 0);
	std::ofstream(policy / "rules.toml") << rule_file("second");
	kill(d.pid(), SIGHUP);
	EXPECT_TRUE(answers_status(d));
	std::filesystem::remove(policy / "fifo.toml");
	std::ofstream(policy / "rules.toml") << rule_file("third");
	kill(d.pid(), SIGHUP);
	ASSERT_TRUE(rules_become(d, "third"));
	// Reloads run in order: once the third is in, the second was refused.
	for (const auto &e : d.ok({"list-events", "--type", "rule-change"}))
		EXPECT_EQ(e.dump().find("\"second\""), std::string::npos) << e.dump();
}

} // namespace

namespace
{

TEST(Server, ClientThatHangsUpAfterShuttingDownItsSideIsNoticedToo)
{
	// Long enough that only the hang-up, not the timeout, can end the break in time.
	Daemon d("lease_break_timeout = \"10s\"\n");
	auto holder = d.io("pool0:/f");
	holder->command("pwrite 0 64k");
	holder->command("mmap 0 64k");
	auto breaking = [&] {
		for (const auto &l : d.ok({"list-leases", "pool0:/f"}))
			if (l["state"] == "breaking")
				return true;
		return false;
	};
	{
		RawPeer truncater(d.socket());
		truncater.call(call("Io", {{"path", "pool0:/f"}, {"argv", {"truncate", "4k"}}}));
		auto deadline = std::chrono::steady_clock::now() + kPollTimeout;
		while (!breaking() && std::chrono::steady_clock::now() < deadline)
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
		ASSERT_TRUE(breaking());
		// Done sending, still waiting for the answer: the truncate goes on...
		shutdown(truncater.fd(), SHUT_WR);
		// Time for the daemon to see the end of input on its own, before the hang-up.
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
	} // ...until the peer goes altogether, while it still waits.
	auto deadline = std::chrono::steady_clock::now() + kPollTimeout;
	while (breaking() && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	json read = holder->command("mread 0 4k");
	EXPECT_FALSE(read.contains("error")) << read.dump();
	EXPECT_EQ(d.ok({"list", "pool0:/f"})[0]["size"], 65536);
	EXPECT_EQ(holder->finish(), 0);
}

} // namespace
