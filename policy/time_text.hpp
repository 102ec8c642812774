// SPDX-License-Identifier: BSD-3-Clause
// Times as the event log writes them (RFC 3339, UTC, milliseconds) and as users write them
// on command lines: RFC 3339 / ISO 8601, or a time ago ("-1h"), as journalctl takes them.
// Here rather than in the store so that the CLI, which links no store, checks its options
// with the very parser the daemon uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace daxpolicy::policy
{

// Unix milliseconds as RFC 3339 UTC with milliseconds ("2026-11-23T10:40:00.123Z").
std::string rfc3339_from_ms(int64_t unix_ms);
// Parses "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)" (or a bare date) into unix ms.
std::optional<int64_t> parse_rfc3339(const std::string &text);
// A time a user names: RFC 3339 as above, "now", or a duration ago ("-1h", "-5m", "-30d",
// "-500ms"), counted back from `now_ms`. Nothing when it is none of these.
std::optional<int64_t> parse_time_arg(const std::string &text, int64_t now_ms);
// What parse_time_arg takes, for error messages.
inline constexpr const char *kTimeArgForms =
    "an ISO 8601 time (2026-11-23T10:00:00Z), \"now\", or a time ago (-1h, -30m, -7d)";

} // namespace daxpolicy::policy
