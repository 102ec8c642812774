#pragma once

#include <chrono>
#include <cstdint>

namespace daxpolicy::fscore
{

// Wall-clock time as stored in inodes (mtime, ctime).
inline uint64_t now_ns()
{
	return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
	                                 std::chrono::system_clock::now().time_since_epoch())
	                                 .count());
}

} // namespace daxpolicy::fscore
