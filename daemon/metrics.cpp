// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/metrics.hpp"

#include "common/error.hpp"
#include "daemon/daemon.hpp"
#include "wire/interface.hpp"

#include <algorithm>
#include <cmath>
#include <daxpolicy/version.hpp>
#include <sstream>

namespace daxpolicy::daemon
{

namespace
{

// Seconds: a request is answered in microseconds to seconds (a walk, a lease break).
const std::vector<double> kRequestBounds{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05,
                                         0.1,    0.5,    1,     5,     30};
// Seconds: a job over a subtree or a million files.
const std::vector<double> kReconcileBounds{0.01, 0.1, 1, 10, 60, 300, 1800, 7200};

std::string number(double v)
{
	if (std::isinf(v))
		return "+Inf";
	std::ostringstream out;
	out.precision(9);
	out << v;
	return out.str();
}

// A label value, escaped as the text format wants.
std::string quoted(const std::string &v)
{
	std::string out = "\"";
	for (char c : v) {
		if (c == '\\' || c == '"')
			out += '\\';
		if (c == '\n') {
			out += "\\n";
			continue;
		}
		out += c;
	}
	return out + "\"";
}

class Writer
{
      public:
	void family(const char *name, const char *type, const char *help)
	{
		out_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " +
		        type + "\n";
	}
	template <typename T> void sample(const std::string &name, const std::string &labels, T v)
	{
		out_ += name + (labels.empty() ? "" : "{" + labels + "}") + " " +
		        number(static_cast<double>(v)) + "\n";
	}
	template <typename T>
	void counter(const char *name, const char *help, const char *label,
	             const std::map<std::string, T> &values)
	{
		family(name, "counter", help);
		for (const auto &[k, v] : values)
			sample(name, std::string(label) + "=" + quoted(k), v);
	}
	void scalar(const char *name, const char *type, const char *help, double v)
	{
		family(name, type, help);
		sample(name, "", v);
	}
	std::string &text() { return out_; }

      private:
	std::string out_;
};

std::map<std::string, uint64_t> zeros(std::initializer_list<std::string> keys)
{
	std::map<std::string, uint64_t> m;
	for (const auto &k : keys)
		m[k] = 0;
	return m;
}

} // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0)
{
}

void Histogram::observe(double value)
{
	auto at = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
	counts_[static_cast<size_t>(at)]++;
	sum_ += value;
	count_++;
}

void Histogram::render(std::string &out, const std::string &name, const std::string &labels) const
{
	std::string sep = labels.empty() ? "" : labels + ",";
	uint64_t cumulative = 0;
	for (size_t i = 0; i <= bounds_.size(); i++) {
		cumulative += counts_[i];
		double le = i < bounds_.size() ? bounds_[i] : INFINITY;
		out += name + "_bucket{" + sep + "le=" + quoted(number(le)) + "} " +
		       std::to_string(cumulative) + "\n";
	}
	std::string braces = labels.empty() ? "" : "{" + labels + "}";
	out += name + "_sum" + braces + " " + number(sum_) + "\n";
	out += name + "_count" + braces + " " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : flag_changes(zeros({"rule", "drift", "request", "pending"})),
      lease_breaks(zeros({"released", "revoked", "notified", "busy"})),
      reconcile_jobs(zeros({"done", "superseded", "interrupted", "failed"})),
      reconcile_seconds(kReconcileBounds)
{
	for (const auto &spec : wire::kMethods) {
		requests[spec.name] = 0;
		if (!spec.streams)
			request_seconds.emplace(spec.name, Histogram(kRequestBounds));
	}
	for (const auto &[code, name] : kErrcNames)
		errors[name] = 0;
	for (const char *type : wire::kEventTypes)
		events[type] = 0;
}

void Metrics::count_event(const policy::Event &e)
{
	events[e.type]++;
	auto field = [&](const char *key) { return e.data.value(key, std::string()); };
	if (e.type == "flag-change")
		flag_changes[field("cause")]++;
	else if (e.type == "lease-break")
		lease_breaks[field("outcome")]++;
	else if (e.type == "reconcile") {
		reconcile_jobs[field("state")]++;
		reconcile_seconds.observe(e.data.value("duration_ms", int64_t{0}) / 1000.0);
	}
}

void Metrics::observe_request(const std::string &method, std::chrono::steady_clock::duration took)
{
	auto it = request_seconds.find(method);
	if (it != request_seconds.end())
		it->second.observe(std::chrono::duration<double>(took).count());
}

std::string render_metrics(Daemon &d)
{
	const Metrics &m = d.metrics();
	Writer w;
	w.family("daxpolicy_build_info", "gauge", "The daxpolicyd version; always 1.");
	w.sample("daxpolicy_build_info", "version=" + quoted(kVersion), 1);
	w.scalar("daxpolicy_uptime_seconds", "gauge", "Seconds since daxpolicyd started.",
	         d.uptime_s());
	w.counter("daxpolicy_requests_total", "Calls answered, by method.", "method", m.requests);
	w.counter("daxpolicy_request_errors_total", "Calls that failed, by error code.", "code",
	          m.errors);
	w.family("daxpolicy_request_duration_seconds", "histogram",
	         "Time from a call to its reply (the first part of a list), by method.");
	for (const auto &[method, h] : m.request_seconds)
		h.render(w.text(), "daxpolicy_request_duration_seconds",
		         "method=" + quoted(method));
	w.counter("daxpolicy_events_total", "Events logged since start, by type.", "type",
	          m.events);
	w.counter("daxpolicy_flag_changes_total", "DAX flag changes made, by cause.", "cause",
	          m.flag_changes);
	w.scalar("daxpolicy_deferrals_total", "counter",
	         "Flag changes queued until their file is unmapped or no longer in use.",
	         static_cast<double>(m.events.at("deferred")));
	w.counter("daxpolicy_lease_breaks_total", "Layout lease breaks, by outcome.", "outcome",
	          m.lease_breaks);
	w.scalar("daxpolicy_lease_revocations_total", "counter",
	         "Mappings revoked because their holder did not let go in time.",
	         static_cast<double>(m.events.at("lease-revoked")));
	w.counter("daxpolicy_reconcile_jobs_total",
	          "Reconcile jobs that changed or failed something, by how they ended.", "state",
	          m.reconcile_jobs);
	w.family("daxpolicy_reconcile_duration_seconds", "histogram",
	         "How long those reconcile jobs ran.");
	m.reconcile_seconds.render(w.text(), "daxpolicy_reconcile_duration_seconds", "");
	w.scalar("daxpolicy_connections", "gauge", "Open client connections.",
	         static_cast<double>(m.connections_open));
	w.scalar("daxpolicy_connections_rejected_total", "counter",
	         "Connections refused because max_connections were open.",
	         static_cast<double>(m.connections_rejected));
	w.scalar("daxpolicy_connections_idle_closed_total", "counter",
	         "Connections closed after idle_timeout without a call.",
	         static_cast<double>(m.connections_idle_closed));
	w.scalar("daxpolicy_monitors_dropped_total", "counter",
	         "Monitors dropped for leaving too many events unread.",
	         static_cast<double>(m.monitors_dropped));
	w.scalar("daxpolicy_reloads_total", "counter",
	         "Reloads (SIGHUP or daxpolicy reload), whatever their outcome.",
	         static_cast<double>(m.reloads));
	w.scalar("daxpolicy_reload_failures_total", "counter",
	         "Reloads that failed and changed nothing (a bad config or policy file).",
	         static_cast<double>(m.reload_failures));
	w.scalar("daxpolicy_metrics_scrapes_total", "counter",
	         "GET /metrics answered on metrics_listen.", static_cast<double>(m.http_requests));
	w.scalar("daxpolicy_rules", "gauge", "Rules in the store.",
	         static_cast<double>(d.store().count("rules")));
	w.scalar("daxpolicy_pending_changes", "gauge", "Flag changes waiting for unmap.",
	         static_cast<double>(d.store().count("pending")));
	std::vector<std::pair<std::string, fscore::VolumeInfo>> infos;
	for (const auto &[name, vol] : d.engine().volumes())
		infos.emplace_back(name, vol->info());
	w.family("daxpolicy_volume_files", "gauge", "Files and directories on each volume.");
	for (const auto &[name, info] : infos)
		w.sample("daxpolicy_volume_files", "volume=" + quoted(name), info.files);
	struct UsageGauge {
		const char *name, *help;
		uint64_t fscore::VolumeUsage::*value;
	};
	const UsageGauge gauges[] = {
	    {"daxpolicy_volume_size_bytes", "Size of each volume.",
	     &fscore::VolumeUsage::size_bytes},
	    {"daxpolicy_volume_used_bytes", "Bytes in use on each volume.",
	     &fscore::VolumeUsage::used_bytes},
	    {"daxpolicy_volume_inodes", "Inodes each volume has.", &fscore::VolumeUsage::inodes},
	    {"daxpolicy_volume_inodes_used", "Inodes in use on each volume.",
	     &fscore::VolumeUsage::inodes_used},
	};
	for (const auto &g : gauges) {
		w.family(g.name, "gauge", g.help);
		for (const auto &[name, info] : infos)
			if (info.usage) // a volume that cannot tell has no sample
				w.sample(g.name, "volume=" + quoted(name), (*info.usage).*g.value);
	}
	return std::move(w.text());
}

} // namespace daxpolicy::daemon
