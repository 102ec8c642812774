// SPDX-License-Identifier: BSD-3-Clause
// The server library in-process, for what would take too long through the binaries: the idle
// timeout, shortened here (daxpolicyd's is a minute).
#include "daemon/daemon.hpp"
#include "policy/daemon_config.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstring>
#include <gtest/gtest.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

using namespace daxpolicy;
namespace asio = boost::asio;

namespace
{

int connect_to(const std::filesystem::path &path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
	EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)), 0);
	return fd;
}

void send_text(int fd, const std::string &text)
{
	EXPECT_EQ(send(fd, text.data(), text.size(), MSG_NOSIGNAL), ssize_t(text.size()));
}

// True once the daemon closed the connection (what it sent before is skipped), within 20 s.
bool closed_by_daemon(int fd)
{
	char buf[4096];
	for (;;) {
		pollfd p{fd, POLLIN, 0};
		if (poll(&p, 1, 20000) != 1)
			return false;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return true;
	}
}

bool open_now(int fd)
{
	pollfd p{fd, POLLIN, 0};
	return poll(&p, 1, 0) == 0;
}

TEST(Server, IdleConnectionsAreClosedButMonitorsAreNot)
{
	test::TempDir dir;
	policy::DaemonConfig config;
	config.state_dir = dir / "state";
	config.socket = dir / "daxpolicy.sock";
	config.idle_timeout = std::chrono::milliseconds(200);
	config.volumes.push_back(
	    {"pool0", fscore::VolumeKind::embedded, {}, 64 << 20, fscore::DaxMode::inode});
	policy::finish_daemon_config(config);
	asio::io_context io;
	auto server = std::make_unique<daemon::Daemon>(io, config);
	server->serve(asio::local::stream_protocol::acceptor(
	                  io, asio::local::stream_protocol::endpoint(config.socket.string())),
	              true);
	std::thread loop([&] { io.run(); });

	int idle = connect_to(config.socket);
	int half_sent = connect_to(config.socket);
	int monitor = connect_to(config.socket);
	send_text(half_sent, R"({"method":"io.daxpolicy.St)");
	send_text(monitor, std::string(R"({"method":"io.daxpolicy.Monitor","more":true})") + '\0');
	EXPECT_TRUE(closed_by_daemon(idle));
	EXPECT_TRUE(closed_by_daemon(half_sent));
	// Idle as long as they were, and longer: a monitor waits for events, and stays.
	std::this_thread::sleep_for(3 * config.idle_timeout);
	EXPECT_TRUE(open_now(monitor));

	asio::post(io, [&] {
		server->stop();
		io.stop();
	});
	loop.join();
	EXPECT_EQ(server->metrics().connections_idle_closed, 2u);
	server.reset();
	for (int fd : {idle, half_sent, monitor})
		close(fd);
}

} // namespace
