// SPDX-License-Identifier: BSD-3-Clause
// Memory figures of a process from /proc: this benchmark's own, or the daemon's it started.
#pragma once

#include <string>
#include <sys/types.h>

namespace daxpolicy::bench
{

// A line of /proc/PID/status ("VmHWM:   1234 kB") in MiB; pid 0 is this process.
double status_mib(const std::string &key, pid_t pid = 0);

// The peak RSS of `pid` (0: this process) starts again from its current RSS (Linux 4.0), so
// that VmHWM afterwards is the peak of what follows, not of what came before.
void reset_peak_rss(pid_t pid = 0);

} // namespace daxpolicy::bench
