// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/reload.hpp"

namespace daxpolicy::daemon
{

namespace
{

bool same_volumes(const std::vector<policy::VolumeConfig> &a,
                  const std::vector<policy::VolumeConfig> &b)
{
	return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto &x, const auto &y) {
		return x.name == y.name && x.kind == y.kind && x.path == y.path &&
		       x.size == y.size && x.dax == y.dax;
	});
}

} // namespace

std::vector<std::string> restart_needed(const policy::DaemonConfig &running,
                                        const policy::DaemonConfig &fresh)
{
	std::vector<std::string> keys;
	auto check = [&](bool same, const char *key) {
		if (!same)
			keys.emplace_back(key);
	};
	check(running.state_dir == fresh.state_dir, "state_dir");
	check(running.socket == fresh.socket, "socket");
	check(running.socket_mode == fresh.socket_mode, "socket_mode");
	check(running.lease_break_timeout == fresh.lease_break_timeout, "lease_break_timeout");
	check(running.pending_recheck == fresh.pending_recheck, "pending_recheck");
	check(running.event_retention == fresh.event_retention, "event_retention");
	check(running.event_max == fresh.event_max, "event_max");
	check(running.max_connections == fresh.max_connections, "max_connections");
	check(same_volumes(running.volumes, fresh.volumes), "volume");
	return keys;
}

} // namespace daxpolicy::daemon
