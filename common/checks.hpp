// SPDX-License-Identifier: BSD-3-Clause
// Rules that comments would otherwise state ("called with mutex_ held", "the in-core counts
// match the sessions") are checked in debug and sanitizer builds, as xfs's ASSERT and sqlite's
// assert() are: a broken rule stops the program where it was broken, with what and where.
// Release builds compile the checks out.
#pragma once

namespace daxpolicy
{

#if !defined(NDEBUG) || defined(DAXPOLICY_CHECKS)
inline constexpr bool kChecks = true;
#else
inline constexpr bool kChecks = false;
#endif

[[noreturn]] void check_failed(const char *what, const char *file, int line);

} // namespace daxpolicy

// Stops the program, naming `what`, when `cond` is false, in checked builds only (`cond` is
// not evaluated otherwise, so it may be costly).
#define DAXPOLICY_CHECK(cond, what)                                                                \
	do {                                                                                       \
		if constexpr (::daxpolicy::kChecks)                                                \
			if (!(cond))                                                               \
				::daxpolicy::check_failed(what, __FILE__, __LINE__);               \
	} while (0)
