// SPDX-License-Identifier: BSD-3-Clause
// What the tests of the daemon under careless peers share: a raw varlink peer that reads only
// when told, and the daemon's memory as /proc shows it.
#pragma once

#include "tests/e2e/harness.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace daxpolicy::test
{

using nlohmann::json;

inline constexpr auto kPollTimeout = std::chrono::seconds(20);

// A varlink peer on a raw socket: it sends what it is told and reads only when asked.
class RawPeer
{
      public:
	explicit RawPeer(const std::string &path)
	{
		fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		sockaddr_un addr{};
		addr.sun_family = AF_UNIX;
		std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
		connected_ = connect(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) == 0;
	}
	~RawPeer() { close(fd_); }
	RawPeer(const RawPeer &) = delete;
	RawPeer &operator=(const RawPeer &) = delete;
	bool connected() const { return connected_; }
	int fd() const { return fd_; }

	// Sends what the socket takes now; returns how much that was.
	size_t send_some(std::string_view bytes)
	{
		ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
		return n > 0 ? size_t(n) : 0;
	}
	// Sends all of it, waiting while the daemon reads.
	void send_all(std::string_view bytes)
	{
		while (!bytes.empty()) {
			bytes.remove_prefix(send_some(bytes));
			if (!bytes.empty() && !wait_for(POLLOUT))
				return;
		}
	}
	void call(const json &message) { send_all(message.dump() + '\0'); }
	// The next message, or null if the daemon closed the connection first.
	json receive()
	{
		for (;;) {
			if (auto nul = in_.find('\0'); nul != std::string::npos) {
				json j = json::parse(in_.substr(0, nul));
				in_.erase(0, nul + 1);
				return j;
			}
			if (!read_some())
				return nullptr;
		}
	}
	// True once the daemon has closed the connection (what it sent before is skipped).
	bool closed_by_daemon()
	{
		while (read_some())
			in_.clear();
		return eof_;
	}

      private:
	bool wait_for(short events)
	{
		pollfd p{fd_, events, 0};
		return poll(&p, 1, int(std::chrono::milliseconds(kPollTimeout).count())) == 1;
	}
	bool read_some()
	{
		if (!wait_for(POLLIN))
			return false;
		char buf[65536];
		ssize_t n = read(fd_, buf, sizeof(buf));
		if (n <= 0) {
			eof_ = n == 0 || errno == ECONNRESET;
			return false;
		}
		in_.append(buf, size_t(n));
		return true;
	}

	int fd_ = -1;
	bool connected_ = false;
	bool eof_ = false;
	std::string in_;
};

inline json call(const std::string &method, json parameters)
{
	return {{"method", "io.daxpolicy." + method}, {"parameters", std::move(parameters)}};
}

// A line of /proc/PID/status, in kB.
inline long proc_status_kb(pid_t pid, const std::string &field)
{
	std::ifstream in("/proc/" + std::to_string(pid) + "/status");
	for (std::string line; std::getline(in, line);)
		if (line.rfind(field + ":", 0) == 0)
			return std::stol(line.substr(field.size() + 1));
	ADD_FAILURE() << "no " << field << " in /proc/" << pid << "/status";
	return 0;
}

// The anonymous memory of a process: its heap, what buffers grow in.
inline long rss_anon_mib(pid_t pid)
{
	return proc_status_kb(pid, "RssAnon") >> 10;
}

// Polls `status` (bounded) until the daemon answers it.
inline bool answers_status(const Daemon &d)
{
	auto deadline = std::chrono::steady_clock::now() + kPollTimeout;
	do {
		if (d.cli({"status"}).exit_code == 0)
			return true;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	} while (std::chrono::steady_clock::now() < deadline);
	return false;
}

} // namespace daxpolicy::test
