// SPDX-License-Identifier: BSD-3-Clause
// A reload (SIGHUP, `daxpolicy reload`): daxpolicyd.toml and the policy drop-ins read again.
// What a running daemon can take from a new config it takes (policy_dir, admin_group,
// reconcile_rate); what it cannot (the socket, the volumes, ...) it names, for a restart.
#pragma once

#include "policy/daemon_config.hpp"

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace daxpolicy::daemon
{

// Reads the config anew as the daemon's start did (the same file, the same command-line
// overrides); throws Error(invalid_argument) with "file:line:col: message".
using ConfigLoader = std::function<policy::DaemonConfig()>;

struct ReloadResult {
	std::optional<std::string> error;                // why it failed; then nothing changed
	nlohmann::json reply = nlohmann::json::object(); // Reload's reply when it did not
};

// The keys of daxpolicyd.toml that differ between `running` and `fresh` and that only a
// restart applies.
std::vector<std::string> restart_needed(const policy::DaemonConfig &running,
                                        const policy::DaemonConfig &fresh);

} // namespace daxpolicy::daemon
