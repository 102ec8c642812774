// SPDX-License-Identifier: BSD-3-Clause
// The daemon's counters, rendered in the Prometheus text format by `daxpolicy metrics`.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace daxpolicy::daemon
{

struct Metrics {
	std::map<std::string, uint64_t> requests; // by method
	std::map<std::string, uint64_t> errors;   // by error code
	std::map<std::string, uint64_t> events;   // by event type, since start
	uint64_t connections_total = 0;
	uint64_t connections_open = 0;
	uint64_t connections_rejected = 0;    // beyond max_connections
	uint64_t connections_idle_closed = 0; // idle for idle_timeout
	uint64_t monitors_dropped = 0;        // too many events unread
	uint64_t reloads = 0;                 // SIGHUP or Reload, whatever their outcome
	uint64_t reload_failures = 0;         // of those, the ones that changed nothing
};

} // namespace daxpolicy::daemon
