// SPDX-License-Identifier: BSD-3-Clause
// Who is on the other end of a connection, and what they may do. The kernel says who: the
// peer's uid and gid (SO_PEERCRED) and its supplementary groups (SO_PEERGROUPS), as they were
// when it connected. No user database is asked, so a peer's rights are those of the process
// that connected (a `newgrp`, a `sg`, a dropped group count), and deciding them never waits
// on NSS (LDAP, sssd) on the event loop.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace daxpolicy::daemon
{

struct Peer {
	pid_t pid = 0;
	uid_t uid = 0;
	gid_t gid = 0;             // primary (effective) gid
	std::vector<gid_t> groups; // supplementary groups
	bool in_group(gid_t group) const;
};

// What a peer may do: `admin` change things, `reader` only read, `none` not even connect.
enum class Role { none, reader, admin };

// The groups that decide roles, as resolved from daxpolicyd.toml (Config::admin_gid,
// reader_gid). No admin gid: only root changes things. No reader gid: anyone who can open the
// socket reads.
struct Access {
	std::optional<gid_t> admin_gid;
	std::optional<gid_t> reader_gid;
};

Peer peer_of(int socket_fd);
// Root and members of the admin group: admin. Members of the reader group, or anyone when
// there is none: reader. Everyone else: none.
Role role_of(const Peer &peer, const Access &access);

} // namespace daxpolicy::daemon
