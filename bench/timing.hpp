// SPDX-License-Identifier: BSD-3-Clause
// Wall-clock timing of the measured loops.
#pragma once

#include <chrono>
#include <sys/resource.h>

namespace daxpolicy::bench
{

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start)
{
	return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU seconds the whole process (every thread) has used: beside the wall clock, what a
// figure cost where other work shares the cores.
inline double process_cpu_seconds()
{
	rusage u{};
	getrusage(RUSAGE_SELF, &u);
	auto s = [](const timeval &t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
	return s(u.ru_utime) + s(u.ru_stime);
}

// A copy whose destination is never read again may be dropped by the optimiser; this makes
// the compiler assume the memory behind `p` is used.
inline void keep(const void *p)
{
	asm volatile("" : : "r"(p) : "memory");
}

} // namespace daxpolicy::bench
