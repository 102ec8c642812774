// SPDX-License-Identifier: BSD-3-Clause
// daxpolicyd: serves DAX policy for its volumes over a Unix socket.
#include "common/error.hpp"
#include "daemon/daemon.hpp"
#include "daemon/log.hpp"
#include "daemon/notify.hpp"
#include "daemon/socket_access.hpp"
#include "daemon/test_switches.hpp"
#include "policy/daemon_config.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <cstring>
#include <daxpolicy/version.hpp>
#include <fcntl.h>
#include <iostream>
#include <optional>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

namespace asio = boost::asio;
using namespace daxpolicy;
using namespace daxpolicy::daemon;

namespace
{

using Acceptor = asio::local::stream_protocol::acceptor;

// The socket file of a listener we bound, removed when we exit, and only if it is still ours:
// a socket handed over by systemd stays (it serves the next start), and so does one that
// another daemon bound at the same path since.
class SocketFile
{
      public:
	explicit SocketFile(std::filesystem::path path) : path_(std::move(path))
	{
		struct stat st {
		};
		if (::lstat(path_.c_str(), &st) != 0)
			throw system_error(path_.string() + ": lstat", errno);
		dev_ = st.st_dev;
		ino_ = st.st_ino;
	}
	~SocketFile()
	{
		struct stat st {
		};
		if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
			::unlink(path_.c_str());
	}
	SocketFile(const SocketFile &) = delete;
	SocketFile &operator=(const SocketFile &) = delete;

      private:
	std::filesystem::path path_;
	dev_t dev_ = 0;
	ino_t ino_ = 0;
};

// The listening socket: systemd's (socket activation), or one we bind (then `bound` is set).
// A socket file left by a daemon that died is replaced; one that answers belongs to a running
// daemon and is not.
Acceptor listen_on(asio::io_context &io, const policy::DaemonConfig &config,
                   std::optional<SocketFile> &bound)
{
	int n = sd_listen_fds(1);
	if (n == 1)
		return Acceptor(io, asio::local::stream_protocol(), SD_LISTEN_FDS_START);
	if (n > 1)
		throw Error(Errc::invalid_argument, "systemd passed more than one socket");
	std::filesystem::create_directories(config.socket.parent_path());
	if (std::filesystem::exists(config.socket)) {
		asio::local::stream_protocol::socket probe(io);
		boost::system::error_code ec;
		probe.connect(config.socket.string(), ec);
		if (!ec)
			throw Error(Errc::busy, config.socket.string() +
			                            ": another daxpolicyd is already serving here");
		std::filesystem::remove(config.socket);
	}
	Acceptor acceptor(io, asio::local::stream_protocol::endpoint(config.socket.string()));
	bound.emplace(config.socket);
	set_socket_access(config);
	return acceptor;
}

// Without --foreground: the parent waits until the child serves (or says why it cannot),
// so `daxpolicyd && daxpolicy status` works.
class Backgrounder
{
      public:
	void detach()
	{
		int fds[2];
		if (pipe2(fds, O_CLOEXEC) != 0)
			throw system_error("pipe", errno);
		pid_t pid = fork();
		if (pid < 0)
			throw system_error("fork", errno);
		if (pid > 0) {
			close(fds[1]);
			std::string message;
			char buf[512];
			ssize_t n;
			while ((n = read(fds[0], buf, sizeof(buf))) > 0)
				message.append(buf, static_cast<size_t>(n));
			if (message == "ready")
				_exit(0);
			std::cerr << (message.empty() ? "daxpolicyd: died while starting\n"
			                              : message);
			_exit(1);
		}
		close(fds[0]);
		fd_ = fds[1];
		setsid();
	}
	void report(const std::string &message)
	{
		if (fd_ < 0)
			return;
		// The parent prints what it gets; if it is gone there is no one to tell.
		if (write(fd_, message.data(), message.size()) < 0)
			std::cerr << message;
		close(fd_);
		fd_ = -1;
		if (message == "ready") {
			int null = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (null >= 0) {
				dup2(null, STDIN_FILENO);
				dup2(null, STDOUT_FILENO);
				dup2(null, STDERR_FILENO);
				close(null);
			}
		}
	}

      private:
	int fd_ = -1;
};

// --check-config: the config read as a start would read it, and nothing made (no state dir,
// socket or pool). Errors on stderr as "file:line:col: message"; a note for what a start would
// accept but an operator may not expect.
int check_config_only(const ConfigLoader &read_config)
{
	policy::DaemonConfig config;
	try {
		config = read_config();
	} catch (const std::exception &e) {
		std::cerr << e.what() << "\n";
		return 1;
	}
	std::error_code ec;
	if (!std::filesystem::exists(config.policy_dir, ec) && !ec)
		std::cerr << "daxpolicyd: note: policy_dir " << config.policy_dir.string()
		          << " does not exist: apply reads it as empty\n";
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	CLI::App app("daxpolicyd: per-file DAX policy for persistent-memory filesystems");
	std::string config_path, socket, state_dir;
	bool foreground = false, check_config = false;
	app.add_option("--config", config_path,
	               "config file (default " + std::string(kDefaultConfig) + ")");
	app.add_flag("--foreground", foreground, "stay in the foreground (systemd, tests)");
	app.add_flag("--check-config", check_config,
	             "validate the config and exit (0 valid, 1 not), as sshd -t; starts nothing");
	app.add_option("--socket", socket, "socket path (overrides the config)");
	app.add_option("--state-dir", state_dir, "state folder (overrides the config)");
	app.set_version_flag("--version", std::string("daxpolicyd ") + kVersion);
	CLI11_PARSE(app, argc, argv);

	// At start and at each reload: the same file, the same overrides.
	ConfigLoader read_config = [=] {
		policy::DaemonConfig config;
		if (!config_path.empty())
			config = policy::load_daemon_config(config_path);
		else if (std::filesystem::exists(kDefaultConfig))
			config = policy::load_daemon_config(kDefaultConfig);
		if (!socket.empty())
			config.socket = socket;
		if (!state_dir.empty())
			config.state_dir = state_dir;
		policy::finish_daemon_config(config);
		read_test_switches(config);
		return config;
	};

	if (check_config)
		return check_config_only(read_config);

	Backgrounder background;
	try {
		policy::DaemonConfig config = read_config();
		if (!foreground)
			background.detach();

		asio::io_context io;
		Daemon daemon(io, config);
		daemon.set_config_loader(read_config);
		// Signals are caught before the socket listens: a client (or systemd) that sees it
		// and sends SIGTERM at once gets a clean stop, not the default action's exit 143.
		asio::signal_set stop_signals(io, SIGTERM, SIGINT);
		stop_signals.async_wait([&](boost::system::error_code ec, int) {
			if (ec)
				return;
			notify_stopping();
			daemon.stop();
			io.stop();
		});
		asio::signal_set hup(io, SIGHUP);
		std::function<void()> wait_hup = [&] {
			hup.async_wait([&](boost::system::error_code ec, int) {
				if (ec)
					return;
				daemon.reload([](const ReloadResult &) {}); // it logs its outcome
				wait_hup();
			});
		};
		wait_hup();
		signal(SIGPIPE, SIG_IGN);
		std::optional<SocketFile> socket_file;
		auto listener = listen_on(io, config, socket_file);
		daemon.serve(std::move(listener), socket_file.has_value());

		notify_ready(daemon.serving_status());
		background.report("ready");
		// The last line of defence: whatever escapes a completion is one failure, logged
		// and counted, and the daemon serves on.
		for (;;) {
			try {
				io.run();
				break;
			} catch (const std::exception &e) {
				daemon.metrics().errors[errc_name(Errc::internal)]++;
				log(Priority::err, e.what());
			}
		}
		return 0;
	} catch (const std::exception &e) {
		background.report(std::string("daxpolicyd: ") + e.what() + "\n");
		log(Priority::err, e.what());
		return 1;
	}
}
