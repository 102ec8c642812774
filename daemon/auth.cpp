// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/auth.hpp"

#include "common/error.hpp"

#include <cerrno>
#include <cstring>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <vector>

namespace daxpolicy::daemon
{

Peer peer_of(int socket_fd)
{
	ucred cred{};
	socklen_t len = sizeof(cred);
	if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		throw system_error("SO_PEERCRED", errno);
	return {cred.pid, cred.uid, cred.gid};
}

bool is_admin(const Peer &peer, const std::string &admin_group)
{
	if (peer.uid == 0)
		return true;
	std::vector<char> buf(16384);
	group grp{}, *gr = nullptr;
	if (getgrnam_r(admin_group.c_str(), &grp, buf.data(), buf.size(), &gr) != 0 || !gr)
		return false;
	if (peer.gid == gr->gr_gid)
		return true;
	passwd pw{}, *pwp = nullptr;
	std::vector<char> pbuf(16384);
	if (getpwuid_r(peer.uid, &pw, pbuf.data(), pbuf.size(), &pwp) != 0 || !pwp)
		return false;
	int n = 64;
	std::vector<gid_t> groups(static_cast<size_t>(n));
	if (getgrouplist(pwp->pw_name, pwp->pw_gid, groups.data(), &n) < 0) {
		groups.resize(static_cast<size_t>(n));
		if (getgrouplist(pwp->pw_name, pwp->pw_gid, groups.data(), &n) < 0)
			return false;
	}
	groups.resize(static_cast<size_t>(n));
	for (gid_t g : groups)
		if (g == gr->gr_gid)
			return true;
	return false;
}

} // namespace daxpolicy::daemon
