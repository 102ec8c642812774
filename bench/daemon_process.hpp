// SPDX-License-Identifier: BSD-3-Clause
// The real daxpolicyd of this build, started on a config in the benchmark's directory and
// stopped (SIGTERM, then reaped) when this goes: the daemon benchmarks measure it as users
// meet it, through its socket.
#pragma once

#include <filesystem>
#include <string>
#include <sys/types.h>

namespace daxpolicy::bench
{

class DaemonProcess
{
      public:
	// Writes `config` to DIR/daxpolicyd.toml and starts daxpolicyd in the foreground with
	// DIR/daxpolicy.sock and DIR/state; returns once the socket accepts connections.
	DaemonProcess(const std::filesystem::path &dir, const std::string &config);
	~DaemonProcess();
	DaemonProcess(const DaemonProcess &) = delete;
	DaemonProcess &operator=(const DaemonProcess &) = delete;

	pid_t pid() const { return pid_; }
	const std::string &socket() const { return socket_; }

      private:
	void wait_until_serving(const std::filesystem::path &dir);
	void stop(); // SIGTERM and reap; nothing when not running

	pid_t pid_ = -1;
	std::string socket_;
};

} // namespace daxpolicy::bench
