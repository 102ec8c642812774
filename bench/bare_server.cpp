// SPDX-License-Identifier: BSD-3-Clause
#include "bench/bare_server.hpp"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <unordered_map>

namespace daxpolicy::bench
{

namespace
{

[[noreturn]] void throw_errno(const std::string &what)
{
	throw std::runtime_error("bare server: " + what + ": " + std::strerror(errno));
}

struct Connection {
	explicit Connection(int fd_) : fd(fd_) {}
	Connection(const Connection &) = delete;
	Connection &operator=(const Connection &) = delete;
	int fd;
	std::string in;         // bytes of a request not yet whole
	std::string out;        // reply bytes the socket did not take yet
	bool polls_out = false; // EPOLLOUT is on: out was left over
	~Connection() { ::close(fd); }
};

void watch(int epoll_fd, int fd, uint32_t events, int op = EPOLL_CTL_ADD)
{
	epoll_event ev{};
	ev.events = events;
	ev.data.fd = fd;
	if (::epoll_ctl(epoll_fd, op, fd, &ev) != 0)
		throw_errno("epoll_ctl");
}

// Writes what it can of c.out; false when the peer is gone.
bool flush(Connection &c)
{
	while (!c.out.empty()) {
		ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c.out.erase(0, static_cast<size_t>(n));
	}
	return true;
}

} // namespace

BareServer::BareServer(const std::filesystem::path &socket_path,
                       std::map<std::string, std::string> replies)
    : replies_(std::move(replies))
{
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	std::string path = socket_path.string();
	if (path.size() >= sizeof(addr.sun_path))
		throw std::runtime_error(path + ": socket path too long");
	std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
	listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
	stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
	if (listen_fd_ < 0 || epoll_fd_ < 0 || stop_fd_ < 0 ||
	    ::bind(listen_fd_, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0 ||
	    ::listen(listen_fd_, SOMAXCONN) != 0) {
		int saved = errno;
		::close(listen_fd_);
		::close(epoll_fd_);
		::close(stop_fd_);
		errno = saved;
		throw_errno("listen on " + path);
	}
	watch(epoll_fd_, listen_fd_, EPOLLIN);
	watch(epoll_fd_, stop_fd_, EPOLLIN);
	thread_ = std::thread([this] {
		try {
			serve();
		} catch (const std::exception &e) {
			// Its clients see the connection close and fail the run with that.
			std::cerr << e.what() << "\n";
		}
	});
}

BareServer::~BareServer()
{
	uint64_t one = 1;
	[[maybe_unused]] ssize_t n = ::write(stop_fd_, &one, sizeof(one));
	thread_.join();
	::close(listen_fd_);
	::close(epoll_fd_);
	::close(stop_fd_);
}

void BareServer::serve()
{
	std::unordered_map<int, std::unique_ptr<Connection>> connections;
	epoll_event events[64];
	for (;;) {
		int ready = ::epoll_wait(epoll_fd_, events, 64, -1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			return;
		for (int i = 0; i < ready; ++i) {
			int fd = events[i].data.fd;
			if (fd == stop_fd_)
				return;
			if (fd == listen_fd_) {
				int client;
				while ((client = ::accept4(listen_fd_, nullptr, nullptr,
				                           SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					connections[client] = std::make_unique<Connection>(client);
					watch(epoll_fd_, client, EPOLLIN);
				}
				continue;
			}
			auto it = connections.find(fd);
			if (it == connections.end())
				continue;
			Connection &c = *it->second;
			bool alive = true;
			char chunk[16384];
			ssize_t n;
			while ((n = ::recv(fd, chunk, sizeof(chunk), 0)) > 0)
				c.in.append(chunk, static_cast<size_t>(n));
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				alive = false;
			for (size_t end; alive && (end = c.in.find('\0')) != std::string::npos;) {
				auto reply = replies_.find(c.in.substr(0, end));
				c.in.erase(0, end + 1);
				if (reply == replies_.end()) {
					alive = false; // not a request this run makes
					break;
				}
				c.out += reply->second;
				c.out.push_back('\0');
			}
			alive = alive && flush(c);
			if (!alive) {
				connections.erase(it); // closing the fd also removes it from epoll
				continue;
			}
			// epoll_ctl only when that changes: a reply that fits the socket
			// (all of them, here) costs no syscall but its send.
			if (c.polls_out == c.out.empty()) {
				c.polls_out = !c.out.empty();
				watch(epoll_fd_, fd, c.polls_out ? EPOLLIN | EPOLLOUT : EPOLLIN,
				      EPOLL_CTL_MOD);
			}
		}
	}
}

} // namespace daxpolicy::bench
