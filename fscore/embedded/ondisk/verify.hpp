// SPDX-License-Identifier: BSD-3-Clause
// The structural checks of the on-pool format, shared by mount and fsck as xfs's libxfs
// verifiers serve both the kernel and xfs_repair: a pool that mount accepts is one that fsck
// calls clean, and the other way round. Mount refuses a pool that fails them with `corrupted`.
#pragma once

#include "fscore/embedded/ondisk/fsck.hpp"

#include <cstddef>
#include <span>

namespace daxpolicy::fscore
{

// Checks every inode, extent list and chain, directory, the tree, link counts and the block
// bitmap of `pool` (its superblock already checked by check_superblock, its journal already
// replayed). Reads only within `pool`, recurses nowhere, and stops collecting problems after
// kMaxReportedProblems (saying how many more there were).
FsckReport verify_pool(std::span<const std::byte> pool);

inline constexpr size_t kMaxReportedProblems = 1000;

} // namespace daxpolicy::fscore
