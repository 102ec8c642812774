// SPDX-License-Identifier: BSD-3-Clause
#include "bench/unix_client.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace daxpolicy::bench
{

namespace
{

[[noreturn]] void throw_errno(const std::string &what)
{
	throw std::runtime_error(what + ": " + std::strerror(errno));
}

} // namespace

UnixClient::UnixClient(const std::string &socket_path)
{
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	if (socket_path.size() >= sizeof(addr.sun_path))
		throw std::runtime_error(socket_path + ": socket path too long");
	std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
	fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd_ < 0)
		throw_errno("socket");
	if (::connect(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0) {
		::close(fd_);
		throw_errno("connect " + socket_path);
	}
}

UnixClient::~UnixClient()
{
	::close(fd_);
}

std::string UnixClient::call(std::string_view message)
{
	std::string out(message);
	out.push_back('\0');
	for (size_t sent = 0; sent < out.size();) {
		ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
		if (n < 0 && errno != EINTR)
			throw_errno("send");
		sent += n > 0 ? static_cast<size_t>(n) : 0;
	}
	for (;;) {
		if (auto end = buffer_.find('\0'); end != std::string::npos) {
			std::string reply = buffer_.substr(0, end);
			buffer_.erase(0, end + 1);
			return reply;
		}
		char chunk[16384];
		ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			throw_errno("recv");
		if (n == 0)
			throw std::runtime_error("the server closed the connection");
		buffer_.append(chunk, static_cast<size_t>(n));
	}
}

} // namespace daxpolicy::bench
