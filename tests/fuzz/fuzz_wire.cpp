// SPDX-License-Identifier: BSD-3-Clause
// The wire decoder and request parameters (daemon/connection.cpp, params.cpp, methods.cpp):
// the input is what a peer sends on its connection, NUL-separated varlink calls. A real Daemon,
// made once per process on a small embedded pool in /dev/shm, serves it through a real
// Connection on one end of a socketpair, exactly as it serves a client of its socket, until the
// peer's end is shut and the connection closes.
//
// The oracle, besides sanitizers and libFuzzer's -timeout: nothing escapes the event loop (an
// exception there ends the daemon), and everything the daemon sends is a well-formed varlink
// reply or error. The peer is this process, so root: mutating methods run too.
#include "daemon/connection.hpp"
#include "daemon/daemon.hpp"
#include "policy/daemon_config.hpp"
#include "tests/fuzz/oracle.hpp"
#include "tests/support/pool_image.hpp"
#include "wire/varlink.hpp"

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

using namespace daxpolicy;
namespace asio = boost::asio;

namespace
{

struct World {
	std::filesystem::path dir;
	asio::io_context io;
	std::unique_ptr<daemon::Daemon> daemon;
};

World *world;

void remove_dir()
{
	std::error_code ec;
	std::filesystem::remove_all(world->dir, ec);
}

// A config as an administrator would write it, on the sample pool, with one policy file.
policy::DaemonConfig make_config(const std::filesystem::path &dir)
{
	std::filesystem::create_directories(dir / "policy.d");
	std::ofstream(dir / "policy.d" / "10-data.toml")
	    << "[[rule]]\nname = \"data\"\nvolume = \"pool0\"\nsubtree = \"/dir\"\n"
	       "dax = \"on\"\ninclude = [\"*.log\"]\npriority = 5\n";
	test::make_sample_pool(dir / "pool0.pool");
	policy::DaemonConfig c;
	c.state_dir = dir / "state";
	c.socket = dir / "unused.sock";
	c.policy_dir = dir / "policy.d";
	c.lease_break_timeout = std::chrono::milliseconds(200);
	c.volumes.push_back({"pool0", fscore::VolumeKind::embedded, dir / "pool0.pool",
	                     fscore::kMinPoolSize, fscore::DaxMode::inode});
	return c;
}

// Every complete message in `out` is a varlink reply or error; the rest (a message still
// being written) stays in `out`.
void check_replies(std::string &out)
{
	size_t end;
	while ((end = out.find('\0')) != std::string::npos) {
		auto j = nlohmann::json::parse(out.begin(), out.begin() + std::ptrdiff_t(end),
		                               nullptr, false);
		out.erase(0, end + 1);
		fuzz::check(j.is_object(), "the daemon sent something that is not a JSON object");
		if (j.contains("error")) {
			fuzz::check(j["error"].is_string() &&
			                wire::errc_from_error_name(j["error"].get<std::string>()),
			            "an error reply without a known error name");
			fuzz::check(
			    j.contains("parameters") && j["parameters"].is_object() &&
			        j["parameters"].value("message", nlohmann::json()).is_string(),
			    "an error reply without a message");
		} else {
			fuzz::check(j.contains("parameters") && j["parameters"].is_object(),
			            "a reply without parameters");
		}
	}
}

// Runs the event loop as the daemon's main does: an exception out of it would end the daemon.
template <class Run> void run_loop(Run run)
{
	try {
		if (run() == 0 && world->io.stopped())
			world->io.restart();
	} catch (const std::exception &e) {
		fuzz::fail("an exception escaped the event loop (the daemon would exit):",
		           e.what());
	}
}

void drain(int fd, std::string &out)
{
	char buf[65536];
	ssize_t n;
	while ((n = ::read(fd, buf, sizeof buf)) > 0)
		out.append(buf, size_t(n));
	check_replies(out);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
	world = new World;
	std::string tmpl = "/dev/shm/daxpolicy-fuzz-wire-XXXXXX";
	if (!mkdtemp(tmpl.data()))
		fuzz::fail("mkdtemp in /dev/shm failed");
	world->dir = tmpl;
	std::atexit(remove_dir);
	policy::DaemonConfig config = make_config(world->dir);
	policy::finish_daemon_config(config);
	world->daemon = std::make_unique<daemon::Daemon>(world->io, std::move(config));
	return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fds[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
		fuzz::fail("socketpair failed");
	std::weak_ptr<daemon::Connection> alive;
	{
		asio::local::stream_protocol::socket socket(world->io);
		socket.assign(asio::local::stream_protocol(), fds[0]);
		// The peer is this process, decided as the daemon's accept decides it.
		daemon::Peer peer = daemon::peer_of(fds[0]);
		daemon::Role role = daemon::role_of(peer, world->daemon->access());
		auto conn = std::make_shared<daemon::Connection>(*world->daemon, std::move(socket),
		                                                 std::move(peer), role);
		conn->start();
		alive = conn;
	}
	// The peer sends everything at once (a pipelining client), then shuts its side.
	std::string in(reinterpret_cast<const char *>(data), size);
	if (in.empty() || in.back() != '\0')
		in.push_back('\0');
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	size_t sent = 0;
	std::string out;
	bool shut = false;
	while (!alive.expired()) {
		while (sent < in.size()) {
			ssize_t n = ::write(fds[1], in.data() + sent, in.size() - sent);
			if (n <= 0)
				break;
			sent += size_t(n);
		}
		if (sent == in.size() && !shut)
			shut = ::shutdown(fds[1], SHUT_WR) == 0;
		run_loop([] { return world->io.run_one_for(std::chrono::milliseconds(100)); });
		drain(fds[1], out);
	}
	// Work the call left behind (events to deliver, ...) runs before the next input.
	run_loop([] { return world->io.poll(); });
	::close(fds[1]);
	return 0;
}
