// SPDX-License-Identifier: BSD-3-Clause
// The clocks, in the units the stores keep: inode times in nanoseconds, event and lease times in
// milliseconds, both since the Unix epoch.
#pragma once

#include <chrono>
#include <cstdint>

namespace daxpolicy
{

inline int64_t unix_now_ms()
{
	return std::chrono::duration_cast<std::chrono::milliseconds>(
	           std::chrono::system_clock::now().time_since_epoch())
	    .count();
}

inline uint64_t unix_now_ns()
{
	return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
	                                 std::chrono::system_clock::now().time_since_epoch())
	                                 .count());
}

} // namespace daxpolicy
