// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/ondisk/superblock.hpp"

#include "common/error.hpp"

#include <algorithm>
#include <cstring>

namespace daxpolicy::fscore
{

uint64_t blocks_for(uint64_t bytes)
{
	return (bytes + kBlockSize - 1) / kBlockSize;
}

Superblock geometry(uint64_t size)
{
	Superblock sb{};
	sb.version = kFormatVersion;
	sb.block_size = kBlockSize;
	sb.total_blocks = size / kBlockSize;
	sb.journal_start = 1;
	sb.journal_blocks = 1 + 256; // header + 1 MiB of records
	sb.inode_count = std::clamp<uint64_t>(sb.total_blocks / 16, 1024, uint64_t{1} << 20);
	sb.inode_table_start = sb.journal_start + sb.journal_blocks;
	sb.inode_table_blocks = blocks_for(sb.inode_count * kInodeSize);
	sb.bitmap_start = sb.inode_table_start + sb.inode_table_blocks;
	sb.bitmap_blocks = blocks_for((sb.total_blocks + 7) / 8);
	sb.data_start = sb.bitmap_start + sb.bitmap_blocks;
	return sb;
}

void check_superblock(const Superblock &sb, uint64_t pool_size, const std::string &path)
{
	// A foreign file is refused as the wrong thing to name; a pool whose own description
	// of itself is damaged is `corrupted`, for fsck to look at.
	auto bad = [&](const std::string &why) {
		throw Error(Errc::corrupted,
		            path + ": damaged daxpolicy pool: " + why + "; run `daxpolicy fsck`");
	};
	if (std::memcmp(sb.magic, kMagic, sizeof(kMagic)) != 0)
		throw Error(Errc::invalid_argument, path + ": not a daxpolicy pool (bad magic)");
	if (sb.version != kFormatVersion)
		throw Error(Errc::unsupported, path + ": pool format version " +
		                                   std::to_string(sb.version) +
		                                   " is not supported");
	if (sb.block_size != kBlockSize)
		bad("block size " + std::to_string(sb.block_size));
	// Compared in blocks: total_blocks * kBlockSize could wrap.
	if (sb.total_blocks > pool_size / kBlockSize || sb.total_blocks < kMinPoolSize / kBlockSize)
		bad("superblock says " + std::to_string(sb.total_blocks) +
		    " blocks, which does not fit the pool");
	Superblock want = geometry(sb.total_blocks * kBlockSize);
	if (sb.journal_start != want.journal_start || sb.journal_blocks != want.journal_blocks ||
	    sb.inode_count != want.inode_count || sb.inode_table_start != want.inode_table_start ||
	    sb.bitmap_start != want.bitmap_start || sb.bitmap_blocks != want.bitmap_blocks ||
	    sb.data_start != want.data_start)
		bad("region geometry does not match its size");
}

} // namespace daxpolicy::fscore
