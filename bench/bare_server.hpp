// SPDX-License-Identifier: BSD-3-Clause
// The baseline for the daemon's throughput: the least a server on a Unix socket can do to
// answer varlink calls. One thread and epoll (as the daemon has one event-loop thread),
// NUL-framed messages, and for each request the reply bytes the daemon gave to the same
// request, looked up rather than computed: what is left is the kernel's and the loop's cost.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <thread>

namespace daxpolicy::bench
{

class BareServer
{
      public:
	// Listens on `socket_path` and answers each request in `replies` with its reply.
	BareServer(const std::filesystem::path &socket_path,
	           std::map<std::string, std::string> replies);
	~BareServer(); // stops the thread and closes every descriptor
	BareServer(const BareServer &) = delete;
	BareServer &operator=(const BareServer &) = delete;

      private:
	void serve();

	std::map<std::string, std::string> replies_;
	int listen_fd_ = -1;
	int epoll_fd_ = -1;
	int stop_fd_ = -1; // an eventfd: written once to end serve()
	std::thread thread_;
};

} // namespace daxpolicy::bench
