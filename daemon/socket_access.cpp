// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/socket_access.hpp"

#include "common/error.hpp"

#include <cerrno>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

namespace daxpolicy::daemon
{

namespace
{

// "reader_group 'monitoring'": the key that names the socket's group, and its value.
std::string group_key(const policy::DaemonConfig &config)
{
	return config.reader_group ? "reader_group '" + *config.reader_group + "'"
	                           : "admin_group '" + config.admin_group + "'";
}

} // namespace

void set_socket_access(const policy::DaemonConfig &config)
{
	const auto &path = config.socket;
	if (chmod(path.c_str(), config.socket_mode) != 0)
		throw system_error(path.string() + ": chmod", errno);
	auto gid = socket_gid(config);
	if (gid && geteuid() == 0 && chown(path.c_str(), 0, *gid) != 0)
		throw system_error(path.string() + ": chown", errno);
}

std::optional<std::string> socket_access_mismatch(const policy::DaemonConfig &config)
{
	auto gid = socket_gid(config);
	struct stat st {
	};
	if (!gid || ::stat(config.socket.c_str(), &st) != 0)
		return std::nullopt; // nothing to compare with: no such group, or not that path
	bool others_may_connect = (st.st_mode & S_IWOTH) != 0;
	if (st.st_gid == *gid || others_may_connect)
		return std::nullopt;
	const group *gr = getgrgid(st.st_gid);
	std::string name = gr ? gr->gr_name : std::to_string(st.st_gid);
	return config.socket.string() + " is group '" + name + "', so members of " +
	       group_key(config) +
	       " cannot open it: set SocketGroup= of daxpolicyd.socket to that group "
	       "(systemctl edit daxpolicyd.socket) and restart it";
}

} // namespace daxpolicy::daemon
