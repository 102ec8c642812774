// SPDX-License-Identifier: BSD-3-Clause
// The daemon's counters, gauges and histograms, in the Prometheus text format for `daxpolicy
// metrics`, GET /metrics (metrics_listen) and the textfile (metrics_textfile). Every label
// value a counter can have is there from the start, at 0, so that rate() and absent() work
// before the first occurrence.
#pragma once

#include "policy/store.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace daxpolicy::daemon
{

class Daemon;

// Observations in cumulative buckets, as Prometheus histograms are.
class Histogram
{
      public:
	explicit Histogram(std::vector<double> bounds);
	void observe(double value);
	// The _bucket, _sum and _count lines of `name`, with `labels` ("method=\"List\"" or "").
	void render(std::string &out, const std::string &name, const std::string &labels) const;

      private:
	std::vector<double> bounds_;
	std::vector<uint64_t> counts_; // per bound, not cumulative; the last is +Inf
	double sum_ = 0;
	uint64_t count_ = 0;
};

struct Metrics {
	Metrics();
	// Counts an event the daemon logged (by type, flag changes by cause, lease breaks by
	// outcome, reconcile jobs and their duration).
	void count_event(const policy::Event &event);
	void observe_request(const std::string &method, std::chrono::steady_clock::duration took);

	std::map<std::string, uint64_t> requests;         // by method
	std::map<std::string, uint64_t> errors;           // by error code
	std::map<std::string, uint64_t> events;           // by event type, since start
	std::map<std::string, uint64_t> flag_changes;     // by cause
	std::map<std::string, uint64_t> lease_breaks;     // by outcome
	std::map<std::string, uint64_t> reconcile_jobs;   // by how they ended
	std::map<std::string, Histogram> request_seconds; // by method
	Histogram reconcile_seconds;
	uint64_t connections_total = 0;
	uint64_t connections_open = 0;
	uint64_t connections_rejected = 0;    // beyond max_connections
	uint64_t connections_idle_closed = 0; // idle for idle_timeout
	uint64_t monitors_dropped = 0;        // too many events unread
	uint64_t reloads = 0;                 // SIGHUP or Reload, whatever their outcome
	uint64_t reload_failures = 0;         // of those, the ones that changed nothing
	uint64_t http_requests = 0;           // served on metrics_listen
};

// All of it, and the gauges the daemon reads now (rules, queue, volumes' space), as text.
std::string render_metrics(Daemon &daemon);

} // namespace daxpolicy::daemon
