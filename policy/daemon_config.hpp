// SPDX-License-Identifier: BSD-3-Clause
// daxpolicyd.toml: where the daemon keeps its state and socket, who may change things, and
// the volumes it serves. With no file, one embedded volume "pool0" (the embedded default).
// Read by the daemon and by the offline `daxpolicy check --config`: a parser of text that
// knows no kind of volume's code, no socket and no event loop.
#pragma once

#include "common/places.hpp"
#include "fscore/volume_spec.hpp"
#include "policy/rule_volumes.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace daxpolicy::policy
{

using VolumeConfig = fscore::VolumeSpec;

struct DaemonConfig {
	std::filesystem::path state_dir = kDefaultStateDir;
	std::filesystem::path socket = kDefaultSocket;
	unsigned socket_mode = 0660;
	// Root and members of admin_group change things. With reader_group, only its members
	// (and those) may connect at all, and the socket file is its group; without, anyone who
	// can open the socket reads, and the socket file is admin_group's.
	std::string admin_group = "daxpolicy";
	std::optional<std::string> reader_group;
	// Their gids: a group the file names must exist (else it is a config error); the default
	// admin_group need not (the package's sysusers makes it; without it only root changes
	// things), and then admin_gid is empty.
	std::optional<gid_t> admin_gid;
	std::optional<gid_t> reader_gid;
	std::filesystem::path policy_dir = kDefaultPolicyDir;
	// A drop-in rule naming a volume this config lacks: fatal to apply, or skipped.
	UnknownVolumes unknown_volumes = UnknownVolumes::error;
	std::chrono::milliseconds lease_break_timeout{45000};
	// Queued changes of volumes that hear their files released (use_events) are tried
	// again this often all the same, in case a notification went missing; those of other
	// volumes every second. At least 1s, at most 24h.
	std::chrono::milliseconds pending_recheck{30000};
	// Files a second a reconcile job may walk (0: no limit): a production machine's disks
	// serve their users first.
	uint64_t reconcile_rate = 0;
	// The event log keeps events this long (zero: whatever their age) and at most this many
	// (zero: no bound), the oldest going first; pruned in the background (EventPruner).
	std::chrono::milliseconds event_retention = std::chrono::hours(24 * 30);
	int64_t event_max = 1000000;
	// Connections served at once; more are refused with `busy` (each holds a descriptor
	// and buffers), but for root and admin_group.
	unsigned max_connections = 256;
	// A connection that sends no call and takes no reply for this long is closed (monitors,
	// io sessions and calls under way excepted). Fixed; tests shorten it in-process.
	std::chrono::milliseconds idle_timeout{60000};
	// Where GET /metrics is served over HTTP ("127.0.0.1:9478"), and the node_exporter
	// textfile rewritten with the same text; neither by default.
	std::optional<std::string> metrics_listen;
	std::optional<std::filesystem::path> metrics_textfile;
	std::vector<VolumeConfig> volumes; // empty in the file: the embedded default
	// Tests only: never in the file, read from the environment (read_test_switches).
	struct TestSwitches {
		bool host_force_ioctl = false;                // DAXPOLICY_TEST_HOST_SETATTR=ioctl
		std::chrono::milliseconds host_hold_lease{0}; // DAXPOLICY_TEST_HOST_HOLD_LEASE
	};
	TestSwitches test;
};

// "127.0.0.1:9478", "[::1]:9478": the address and port, or nothing when it is neither.
std::optional<std::pair<std::string, uint16_t>> parse_listen_address(std::string_view text);

// Reads a config file; throws Error(invalid_argument) with "file:line:col: message".
DaemonConfig load_daemon_config(const std::filesystem::path &file);
// The same from text already read; `file` names it in errors.
DaemonConfig parse_daemon_config(std::string_view text, const std::filesystem::path &file);
// After command-line overrides: fills in the embedded default volume and the pool paths
// that default to the state dir.
void finish_daemon_config(DaemonConfig &config);
// The names of its volumes.
std::set<std::string> volume_names(const DaemonConfig &config);
// The group the socket file gets: reader_group's when there is one, else admin_group's (none
// when that does not exist).
std::optional<gid_t> socket_gid(const DaemonConfig &config);

} // namespace daxpolicy::policy
