// SPDX-License-Identifier: BSD-3-Clause
// The daemon's log. Under systemd (stderr is the journal stream $JOURNAL_STREAM names) each
// line goes to the journal with sd_journal_send: a priority, and fields of its own
// (DAXPOLICY_EVENT=, DAXPOLICY_VOLUME=, DAXPOLICY_PATH=, ...) that `journalctl
// DAXPOLICY_EVENT=lease-revoked` selects on. Elsewhere it is a plain line on stderr,
// "daxpolicyd: warning: ...".
#pragma once

#include "policy/store.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <syslog.h>
#include <utility>
#include <vector>

namespace daxpolicy::daemon
{

enum class Priority { err = LOG_ERR, warning = LOG_WARNING, notice = LOG_NOTICE, info = LOG_INFO };

// Journal fields beside MESSAGE= and PRIORITY=: names in [A-Z0-9_], as journald takes them.
using LogFields = std::vector<std::pair<std::string, std::string>>;

void log(Priority priority, const std::string &message, const LogFields &fields = {});

// An event of the event log, at the priority it deserves (on a plain stderr, only notices and
// worse; the journal gets every one): a revoked lease, a lease break that
// failed, a volume that went away or a failed reload need a look; the rest is information.
// Its fields are DAXPOLICY_EVENT=TYPE, DAXPOLICY_EVENT_ID=, DAXPOLICY_VOLUME=, DAXPOLICY_PATH=
// and one DAXPOLICY_KEY= for each field of its type that is a string, number or boolean.
//
// Per-file events of priority info (`flag-change`, `deferred`) are bounded in the journal: at
// most kJournalFileEvents of them every kJournalWindow. Beyond, they are counted and left out
// (each would be a write to journald on the event loop, and a reconcile of a million files
// would be a million, which journald's own rate limit would drop anyway); one line says how
// many were left out, before the next of them that is logged and before each job's summary. The
// event log keeps them all.
void log_event(const policy::Event &event);
Priority event_priority(const policy::Event &event);

inline constexpr int64_t kJournalFileEvents = 200;
inline constexpr std::chrono::seconds kJournalWindow{30};

} // namespace daxpolicy::daemon
