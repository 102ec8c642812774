// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/log.hpp"

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <utility>

namespace daxpolicy::daemon
{

namespace
{

// systemd sets $JOURNAL_STREAM to the device and inode of the stream it connected stdout and
// stderr to; if stderr is still that stream, the journal is listening (systemd.exec(5)).
bool stderr_is_journal()
{
	const char *stream = std::getenv("JOURNAL_STREAM");
	if (!stream)
		return false;
	struct stat st {
	};
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return std::string(stream) == std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

const char *prefix(Priority priority)
{
	switch (priority) {
	case Priority::err:
		return "error: ";
	case Priority::warning:
		return "warning: ";
	default:
		return "";
	}
}

void send_to_journal(Priority priority, const std::string &message, const LogFields &fields)
{
	std::vector<std::string> lines{"MESSAGE=" + message,
	                               "PRIORITY=" + std::to_string(static_cast<int>(priority)),
	                               "SYSLOG_IDENTIFIER=daxpolicyd"};
	for (const auto &[name, value] : fields)
		lines.push_back(name + "=" + value);
	std::vector<iovec> iov;
	for (auto &line : lines)
		iov.push_back({line.data(), line.size()});
	if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) < 0)
		std::cerr << "daxpolicyd: " << prefix(priority) << message << "\n";
}

// "lease-break" -> "LEASE_BREAK": a journal field name.
std::string field_name(const std::string &key)
{
	std::string name = "DAXPOLICY_";
	for (char c : key)
		name += std::isalnum(static_cast<unsigned char>(c))
		            ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
		            : '_';
	return name;
}

bool to_journal()
{
	static const bool journal = stderr_is_journal();
	return journal;
}

// The bound on per-file info events in the journal (log.hpp).
class JournalBudget
{
      public:
	// Whether `event` may go to the journal now; an event that may not is counted.
	bool admit(const policy::Event &event, Priority priority)
	{
		bool per_file = event.type == "flag-change" || event.type == "deferred";
		if (!per_file || priority != Priority::info)
			return true;
		auto now = std::chrono::steady_clock::now();
		if (now - window_start_ >= kJournalWindow) {
			window_start_ = now;
			used_ = 0;
		}
		if (used_ < kJournalFileEvents) {
			used_++;
			return true;
		}
		left_out_++;
		return false;
	}
	// Before the next line that is logged, or a job's summary: how many were left out.
	void report()
	{
		if (left_out_ == 0)
			return;
		std::string n = std::to_string(std::exchange(left_out_, 0));
		log(Priority::notice,
		    "left " + n + " flag-change and deferred events out of the journal (at most " +
		        std::to_string(kJournalFileEvents) + " every " +
		        std::to_string(kJournalWindow.count()) +
		        " s); the event log has them all: daxpolicy list-events",
		    {{"DAXPOLICY_SUPPRESSED", n}});
	}

      private:
	std::chrono::steady_clock::time_point window_start_{};
	int64_t used_ = 0;
	int64_t left_out_ = 0;
};

} // namespace

void log(Priority priority, const std::string &message, const LogFields &fields)
{
	if (to_journal())
		send_to_journal(priority, message, fields);
	else
		std::cerr << "daxpolicyd: " << prefix(priority) << message << "\n";
}

Priority event_priority(const policy::Event &e)
{
	auto data = [&](const char *key) { return e.data.value(key, std::string()); };
	if (e.type == "lease-revoked")
		return Priority::warning;
	if (e.type == "lease-break" && (data("outcome") == "revoked" || data("outcome") == "busy"))
		return Priority::warning;
	if (e.type == "reload" && data("outcome") == "failed")
		return Priority::err;
	if (e.type == "volume") {
		std::string action = data("action");
		if (action == "unavailable" || action == "events-lost" ||
		    action == "device-remove" || e.data.contains("error"))
			return Priority::warning;
		return Priority::notice;
	}
	return Priority::info;
}

void log_event(const policy::Event &e)
{
	// On a plain stderr (a terminal, a test) what needs no look stays in the event log: a
	// reconcile of a million files would print a million lines, each a write that holds up
	// the loop. The journal takes every event, as entries that can be selected on.
	Priority priority = event_priority(e);
	if (!to_journal() && priority > Priority::notice)
		return;
	static JournalBudget budget; // the loop's: events are logged there alone
	bool admitted = budget.admit(e, priority);
	if (admitted || e.type == "reconcile")
		budget.report();
	if (!admitted)
		return;
	LogFields fields{{"DAXPOLICY_EVENT", e.type},
	                 {"DAXPOLICY_EVENT_ID", std::to_string(e.id)},
	                 {"DAXPOLICY_VOLUME", e.volume},
	                 {"DAXPOLICY_PATH", e.path}};
	for (const auto &[key, value] : e.data.items())
		if (value.is_primitive() && !value.is_null())
			fields.emplace_back(field_name(key), value.is_string()
			                                         ? value.get<std::string>()
			                                         : value.dump());
	std::string where = e.volume.empty() ? e.path : e.volume + ":" + e.path;
	log(priority, e.type + " " + where + " " + e.data.dump(), fields);
}

} // namespace daxpolicy::daemon
