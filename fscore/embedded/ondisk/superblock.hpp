// SPDX-License-Identifier: BSD-3-Clause
// The pool's geometry, derived from its size alone, and the checks a superblock must pass
// before anything in the pool is trusted.
#pragma once

#include "fscore/embedded/ondisk/layout.hpp"

#include <string>

namespace daxpolicy::fscore
{

uint64_t blocks_for(uint64_t bytes);
// The superblock mkfs writes for a pool of `size` bytes (uuid, times and magic left zero).
Superblock geometry(uint64_t size);
// Throws naming `path` and what is wrong: invalid_argument for a file that is not a pool (bad
// magic), unsupported for another format version, corrupted for a damaged superblock. A
// damaged or foreign file is refused with a reason, never half-trusted.
void check_superblock(const Superblock &sb, uint64_t pool_size, const std::string &path);

} // namespace daxpolicy::fscore
