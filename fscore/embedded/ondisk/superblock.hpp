// SPDX-License-Identifier: BSD-3-Clause
// The pool's geometry, derived from its size and inode count, and the checks a superblock
// must pass before anything in the pool is trusted.
#pragma once

#include "fscore/embedded/ondisk/layout.hpp"

#include <optional>
#include <string>

namespace daxpolicy::fscore
{

uint64_t blocks_for(uint64_t bytes);
// The blocks a pool of `size` bytes holds: whole blocks, at most kMaxPoolBlocks.
uint64_t pool_blocks(uint64_t size);
// The inode slots (ino 0 included) of a pool of `total_blocks` blocks: mkfs's default, one
// file or directory per 16 KiB as ext4 makes them, at least kMinInodes.
uint64_t default_inode_count(uint64_t total_blocks);
// The most inode slots such a pool may have: its inode table takes at most a quarter of it,
// so that as much again is left for the directory entries that name them, and data.
uint64_t max_inode_count(uint64_t total_blocks);
// What every version 1 pool has: its inode count was a function of the size alone.
uint64_t legacy_inode_count(uint64_t total_blocks);
// The inode slots mkfs makes for `files` files and directories (the root included): one more
// for the unused ino 0, rounded up to whole blocks of the table. Throws invalid_argument
// naming the pool's limit when `files` is 0 or too many for `total_blocks`.
uint64_t inode_count_for(uint64_t files, uint64_t total_blocks);
// The superblock mkfs writes for a pool of `size` bytes with `inode_count` inode slots (by
// default default_inode_count), uuid, times and magic left zero. The caller has checked the
// count against max_inode_count.
Superblock geometry(uint64_t size, std::optional<uint64_t> inode_count = std::nullopt);
// Throws naming `path` and what is wrong: invalid_argument for a file that is not a pool (bad
// magic), unsupported for another format version, corrupted for a damaged superblock. A
// damaged or foreign file is refused with a reason, never half-trusted.
void check_superblock(const Superblock &sb, uint64_t pool_size, const std::string &path);

} // namespace daxpolicy::fscore
