// SPDX-License-Identifier: BSD-3-Clause
// The kernel's rules for the arguments of ftruncate and fallocate on the embedded core: a zero
// length, a range that wraps or passes the largest file, a misaligned collapse or insert, or
// one past end-of-file is invalid-argument. Checked before any lease is broken, so a call that
// is bound to fail disturbs no holder. (The operations themselves are EmbeddedVolume's.)
#pragma once

#include "fscore/layout_op.hpp"

#include <cstdint>

namespace daxpolicy::fscore
{

void check_truncate(uint64_t size);
void check_fallocate(LayoutOp op, uint64_t off, uint64_t len, uint64_t size);

} // namespace daxpolicy::fscore
