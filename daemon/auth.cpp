// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/auth.hpp"

#include "common/error.hpp"

#include <algorithm>
#include <cerrno>
#include <sys/socket.h>

namespace daxpolicy::daemon
{

namespace
{

// The peer's supplementary groups. A kernel before 4.13 has no SO_PEERGROUPS: the peer then
// counts with its primary gid alone, the safe side of the question.
std::vector<gid_t> peer_groups(int socket_fd)
{
	std::vector<gid_t> groups(64);
	for (;;) {
		auto len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
		if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
			groups.resize(len / sizeof(gid_t));
			return groups;
		}
		if (errno == ENOPROTOOPT)
			return {};
		// ERANGE: `len` says how much it needs.
		if (errno != ERANGE || len / sizeof(gid_t) <= groups.size())
			throw system_error("SO_PEERGROUPS", errno);
		groups.resize(len / sizeof(gid_t));
	}
}

} // namespace

bool Peer::in_group(gid_t group) const
{
	return gid == group || std::find(groups.begin(), groups.end(), group) != groups.end();
}

Peer peer_of(int socket_fd)
{
	ucred cred{};
	socklen_t len = sizeof(cred);
	if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		throw system_error("SO_PEERCRED", errno);
	return {cred.pid, cred.uid, cred.gid, peer_groups(socket_fd)};
}

Role role_of(const Peer &peer, const Access &access)
{
	if (peer.uid == 0 || (access.admin_gid && peer.in_group(*access.admin_gid)))
		return Role::admin;
	if (!access.reader_gid || peer.in_group(*access.reader_gid))
		return Role::reader;
	return Role::none;
}

} // namespace daxpolicy::daemon
