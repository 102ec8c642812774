// SPDX-License-Identifier: BSD-3-Clause
#include "tests/e2e/harness.hpp"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace daxpolicy::test
{

namespace
{

constexpr auto kStartTimeout = std::chrono::seconds(20);
constexpr auto kWaitTimeout = std::chrono::seconds(20);

std::string drain(int fd)
{
	std::string out;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		out.append(buf, static_cast<size_t>(n));
	return out;
}

struct Pipe {
	int fd[2];
	Pipe()
	{
		if (pipe2(fd, O_CLOEXEC) != 0)
			throw std::runtime_error("pipe2 failed");
	}
};

pid_t spawn(const std::vector<std::string> &argv, int in, int out, int err,
            const std::optional<User> &as)
{
	pid_t pid = fork();
	if (pid < 0)
		throw std::runtime_error("fork failed");
	if (pid == 0) {
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		if (as && (setgroups(as->groups.size(), as->groups.data()) != 0 ||
		           setgid(as->gid) != 0 || setuid(as->uid) != 0))
			_exit(126);
		std::vector<char *> args;
		for (const auto &a : argv)
			args.push_back(const_cast<char *>(a.c_str()));
		args.push_back(nullptr);
		execv(args[0], args.data());
		_exit(127);
	}
	return pid;
}

int wait_exit(pid_t pid)
{
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool can_connect(const std::string &path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
	bool ok = connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) == 0;
	close(fd);
	return ok;
}

} // namespace

nlohmann::json Result::json() const
{
	auto j = nlohmann::json::parse(out, nullptr, false);
	EXPECT_FALSE(j.is_discarded()) << "not JSON: " << out << "\nstderr: " << err;
	return j;
}

const std::string &cli_for_any_user()
{
	namespace fs = std::filesystem;
	static const TempDir dir;
	static const std::string copy = [] {
		fs::path to = dir / "daxpolicy";
		fs::copy_file(DAXPOLICY_BIN, to);
		fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read |
		                                fs::perms::group_exec | fs::perms::others_read |
		                                fs::perms::others_exec);
		return to.string();
	}();
	return copy;
}

std::string exchange_raw(const std::filesystem::path &socket_path, const std::string &bytes)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	std::strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
	EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)), 0);
	// The daemon may hang up before taking all of an oversized message.
	for (size_t sent = 0; sent < bytes.size();) {
		ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		sent += size_t(n);
	}
	shutdown(fd, SHUT_WR);
	std::string reply;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		reply.append(buf, size_t(n));
	close(fd);
	return reply;
}

User nobody(std::vector<gid_t> groups)
{
	const passwd *pw = getpwnam("nobody");
	if (!pw)
		throw std::runtime_error("no user nobody");
	return {pw->pw_uid, pw->pw_gid, std::move(groups)};
}

Result run(const std::vector<std::string> &argv, const std::string &input,
           const std::optional<User> &as)
{
	Pipe in, out, err;
	pid_t pid = spawn(argv, in.fd[0], out.fd[1], err.fd[1], as);
	close(in.fd[0]);
	close(out.fd[1]);
	close(err.fd[1]);
	// stderr is read on its own thread so neither pipe can fill and stall the child.
	std::string err_text;
	std::thread err_reader([&] { err_text = drain(err.fd[0]); });
	if (!input.empty() && write(in.fd[1], input.data(), input.size()) < 0)
		ADD_FAILURE() << "writing the child's stdin failed";
	close(in.fd[1]);
	Result r;
	r.out = drain(out.fd[0]);
	err_reader.join();
	close(out.fd[0]);
	close(err.fd[0]);
	r.err = err_text;
	r.exit_code = wait_exit(pid);
	return r;
}

nlohmann::json error_of(const Result &r)
{
	auto j = nlohmann::json::parse(r.err, nullptr, false);
	EXPECT_FALSE(j.is_discarded()) << "stderr is not a JSON error: " << r.err;
	return j;
}

IoProcess::IoProcess(const std::vector<std::string> &argv)
{
	Pipe in, out;
	pid_ = spawn(argv, in.fd[0], out.fd[1], 2, std::nullopt);
	close(in.fd[0]);
	close(out.fd[1]);
	in_ = in.fd[1];
	out_ = out.fd[0];
}

IoProcess::~IoProcess()
{
	if (pid_ > 0)
		finish();
}

void IoProcess::send(const std::string &line)
{
	std::string text = line + "\n";
	if (write(in_, text.data(), text.size()) < 0)
		ADD_FAILURE() << "io: cannot send '" << line << "'";
}

nlohmann::json IoProcess::command(const std::string &line)
{
	send(line);
	nlohmann::json reply = read_line();
	if (reply.is_null())
		ADD_FAILURE() << "io: no answer to '" << line << "'";
	return reply;
}

nlohmann::json IoProcess::read_line()
{
	auto deadline = std::chrono::steady_clock::now() + kWaitTimeout;
	while (buffered_.find('\n') == std::string::npos) {
		pollfd p{out_, POLLIN, 0};
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
		    deadline - std::chrono::steady_clock::now());
		if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0)
			return nullptr;
		char buf[4096];
		ssize_t n = read(out_, buf, sizeof(buf));
		if (n <= 0)
			return nullptr; // it exited
		buffered_.append(buf, static_cast<size_t>(n));
	}
	size_t nl = buffered_.find('\n');
	std::string reply = buffered_.substr(0, nl);
	buffered_.erase(0, nl + 1);
	return nlohmann::json::parse(reply);
}

int IoProcess::finish()
{
	close(in_);
	drain(out_);
	close(out_);
	int code = wait_exit(pid_);
	pid_ = -1;
	return code;
}

void make_file(const Daemon &d, const std::string &path, const std::string &cmd)
{
	Result r = d.cli({"io", "-f", "-c", cmd, path});
	ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
}

Daemon::Daemon(const std::string &config, const std::filesystem::path &root,
               std::vector<std::string> wrapper)
    : dir_(root), wrapper_(std::move(wrapper))
{
	config_path_ = (dir_ / "daxpolicyd.toml").string();
	std::ofstream(config_path_) << config;
	start();
}

Daemon::~Daemon()
{
	if (pid_ > 0)
		stop();
}

void Daemon::start()
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	std::vector<std::string> argv = wrapper_;
	argv.insert(argv.end(), {DAXPOLICYD_BIN, "--foreground", "--config", config_path_,
	                         "--socket", socket(), "--state-dir", state_dir()});
	pid_ = spawn(argv, devnull, devnull, 2, std::nullopt);
	close(devnull);
	auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
	while (!can_connect(socket())) {
		int status;
		if (waitpid(pid_, &status, WNOHANG) == pid_) {
			pid_ = -1;
			FAIL() << "daxpolicyd exited while starting";
		}
		if (std::chrono::steady_clock::now() > deadline)
			FAIL() << "daxpolicyd did not start serving";
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
}

void Daemon::stop()
{
	kill(pid_, SIGTERM);
	EXPECT_EQ(wait_exit(pid_), 0) << "daxpolicyd did not exit cleanly on SIGTERM";
	pid_ = -1;
}

void Daemon::kill_hard()
{
	kill(pid_, SIGKILL);
	wait_exit(pid_);
	pid_ = -1;
}

Result Daemon::cli(std::vector<std::string> args, const std::string &input) const
{
	args.insert(args.begin(), {DAXPOLICY_BIN, "--socket", socket()});
	return run(args, input);
}

nlohmann::json Daemon::ok(std::vector<std::string> args) const
{
	Result r = cli(args);
	std::string line;
	for (const auto &a : args)
		line += a + " ";
	EXPECT_EQ(r.exit_code, 0) << line << "\nstdout: " << r.out << "\nstderr: " << r.err;
	return r.json();
}

std::unique_ptr<IoProcess> Daemon::io(const std::string &path, bool create) const
{
	std::vector<std::string> argv = {DAXPOLICY_BIN, "--socket", socket(), "io"};
	if (create)
		argv.push_back("-f");
	argv.push_back(path);
	return std::make_unique<IoProcess>(argv);
}

nlohmann::json Daemon::wait_state(const std::string &path, const std::string &state) const
{
	auto deadline = std::chrono::steady_clock::now() + kWaitTimeout;
	nlohmann::json file;
	do {
		file = ok({"list", path})[0];
		if (file["state"] == state)
			return file;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	} while (std::chrono::steady_clock::now() < deadline);
	ADD_FAILURE() << path << " never reached state " << state << ": " << file.dump();
	return file;
}

namespace
{

// A test that cannot run here: a skip, but a failure where DAXPOLICY_REQUIRE_PRIVILEGED=1 says
// every test must run.
bool cannot_run(const std::string &what)
{
	const char *must = std::getenv("DAXPOLICY_REQUIRE_PRIVILEGED");
	if (must && std::string(must) == "1")
		ADD_FAILURE() << what << " but DAXPOLICY_REQUIRE_PRIVILEGED=1";
	return false;
}

} // namespace

bool have_root(const char *why)
{
	if (geteuid() == 0)
		return true;
	return cannot_run(std::string("needs root (") + why + ")");
}

bool have_program(const std::string &path, const char *why)
{
	if (access(path.c_str(), X_OK) == 0)
		return true;
	return cannot_run("needs " + path + " (" + why + ")");
}

} // namespace daxpolicy::test
