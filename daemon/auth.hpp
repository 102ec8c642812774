// SPDX-License-Identifier: BSD-3-Clause
// Who is on the other end of a connection (SO_PEERCRED), and whether they may change things:
// root and members of admin_group may; everyone else may only read.
#pragma once

#include <string>
#include <sys/types.h>

namespace daxpolicy::daemon
{

struct Peer {
	pid_t pid = 0;
	uid_t uid = 0;
	gid_t gid = 0;
};

Peer peer_of(int socket_fd);
bool is_admin(const Peer &peer, const std::string &admin_group);

} // namespace daxpolicy::daemon
