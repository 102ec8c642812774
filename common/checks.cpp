// SPDX-License-Identifier: BSD-3-Clause
#include "common/checks.hpp"

#include <cstdio>
#include <cstdlib>

namespace daxpolicy
{

void check_failed(const char *what, const char *file, int line)
{
	std::fprintf(stderr, "daxpolicy: %s:%d: check failed: %s\n", file, line, what);
	std::abort();
}

} // namespace daxpolicy
