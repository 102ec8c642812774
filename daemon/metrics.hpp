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
};

} // namespace daxpolicy::daemon
