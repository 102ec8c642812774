// SPDX-License-Identifier: BSD-3-Clause
// Byte buffers for tests: `n` copies of one byte.
#pragma once

#include <cstddef>
#include <vector>

namespace daxpolicy::test
{

inline std::vector<std::byte> filled(size_t n, int c)
{
	return std::vector<std::byte>(n, std::byte(c));
}

} // namespace daxpolicy::test
