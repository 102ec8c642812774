// SPDX-License-Identifier: BSD-3-Clause
// Who may open the control socket file: its mode and group follow daxpolicyd.toml
// (socket_mode; the group of reader_group, or of admin_group without one). The daemon's own
// check at connect (auth.hpp) stands behind it: the file keeps out whom the kernel can.
#pragma once

#include "policy/daemon_config.hpp"

#include <optional>
#include <string>

namespace daxpolicy::daemon
{

// Gives the socket file the daemon bound at `config.socket` its mode and group (the group only
// when running as root, and when the group exists). At start, and again at each reload.
void set_socket_access(const policy::DaemonConfig &config);

// A socket file systemd made (daxpolicyd.socket's SocketMode=, SocketGroup=) is not ours to
// change: what in it keeps out the group the config lets in, for a warning, or nothing.
std::optional<std::string> socket_access_mismatch(const policy::DaemonConfig &config);

} // namespace daxpolicy::daemon
