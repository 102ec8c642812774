// SPDX-License-Identifier: BSD-3-Clause
// Who is breaking a lease, from /proc/locks (proc(5)): the kernel lists each lease, and under
// it, marked "->", the opens blocked on it, with their pids. It is the only place the kernel
// says whose open broke a lease.
#pragma once

#include "fscore/host/proc_maps.hpp"

#include <optional>
#include <string_view>
#include <sys/types.h>

namespace daxpolicy::fscore::host
{

// The pid of the first open waiting on the lease `holder` has on `file`, in `locks` (the
// text of /proc/locks), or nothing. A line that does not parse is skipped.
//   1: LEASE  BREAKING  READ 12158 fe:00:10952883 0 EOF
//   1: -> LEASE  BREAKER   READ 12199 <none>:0 0 EOF
std::optional<pid_t> lease_breaker_in(std::string_view locks, pid_t holder, const FileId &file);

// The same, reading /proc/locks.
std::optional<pid_t> lease_breaker(pid_t holder, const FileId &file);

} // namespace daxpolicy::fscore::host
