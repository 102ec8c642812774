// SPDX-License-Identifier: BSD-3-Clause
#include "bench/daemon_process.hpp"

#include "bench/interrupt.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace daxpolicy::bench
{

namespace
{

// Starting includes mounting (and on a first start making) the pool and the start-up
// reconcile's walk, which the daemon serves alongside; a minute is far beyond both.
constexpr auto kStartTimeout = std::chrono::seconds(60);

bool accepts(const std::string &path)
{
	int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
	bool ok = ::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) == 0;
	::close(fd);
	return ok;
}

int reap(pid_t pid)
{
	int status = 0;
	while (::waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

} // namespace

DaemonProcess::DaemonProcess(const std::filesystem::path &dir, const std::string &config)
    : socket_((dir / "daxpolicy.sock").string())
{
	std::string config_path = (dir / "daxpolicyd.toml").string();
	std::ofstream(config_path) << config;
	std::vector<std::string> argv{
	    DAXPOLICYD_BIN, "--foreground", "--config",    config_path,
	    "--socket",     socket_,        "--state-dir", (dir / "state").string()};
	std::vector<char *> args;
	for (auto &a : argv)
		args.push_back(a.data());
	args.push_back(nullptr);
	// The daemon's log would interleave with the figures: it goes to a file beside them.
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&actions, 2, (dir / "daxpolicyd.log").c_str(),
	                                 O_WRONLY | O_CREAT | O_APPEND, 0600);
	int err = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
	posix_spawn_file_actions_destroy(&actions);
	if (err)
		throw std::runtime_error(std::string(DAXPOLICYD_BIN) + ": " + std::strerror(err));
	// A constructor that throws runs no destructor: a daemon that did not come up (or a
	// Ctrl-C meanwhile) is stopped here.
	try {
		wait_until_serving(dir);
	} catch (...) {
		stop();
		throw;
	}
}

void DaemonProcess::wait_until_serving(const std::filesystem::path &dir)
{
	auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
	while (!accepts(socket_)) {
		int status;
		if (::waitpid(pid_, &status, WNOHANG) == pid_) {
			pid_ = -1;
			throw std::runtime_error("daxpolicyd exited while starting; see " +
			                         (dir / "daxpolicyd.log").string());
		}
		if (std::chrono::steady_clock::now() > deadline)
			throw std::runtime_error("daxpolicyd did not start serving in time");
		check_interrupted();
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
}

DaemonProcess::~DaemonProcess()
{
	stop();
}

void DaemonProcess::stop()
{
	if (pid_ <= 0)
		return;
	::kill(pid_, SIGTERM);
	reap(pid_);
	pid_ = -1;
}

} // namespace daxpolicy::bench
