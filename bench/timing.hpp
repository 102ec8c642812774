// SPDX-License-Identifier: BSD-3-Clause
// Wall-clock timing of the measured loops.
#pragma once

#include <chrono>

namespace daxpolicy::bench
{

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start)
{
	return std::chrono::duration<double>(Clock::now() - start).count();
}

// A copy whose destination is never read again may be dropped by the optimiser; this makes
// the compiler assume the memory behind `p` is used.
inline void keep(const void *p)
{
	asm volatile("" : : "r"(p) : "memory");
}

} // namespace daxpolicy::bench
