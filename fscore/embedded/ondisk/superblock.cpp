// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/ondisk/superblock.hpp"

#include "common/error.hpp"

#include <algorithm>
#include <cstring>

namespace daxpolicy::fscore
{

namespace
{

constexpr uint64_t kMinInodes = 1024;
constexpr uint64_t kInodesPerBlock = kBlockSize / kInodeSize;
constexpr uint64_t kBytesPerInode = 16 << 10; // ext4's default inode ratio

} // namespace

uint64_t blocks_for(uint64_t bytes)
{
	return bytes / kBlockSize + (bytes % kBlockSize != 0); // no wrap near UINT64_MAX
}

uint64_t pool_blocks(uint64_t size)
{
	return std::min(size / kBlockSize, kMaxPoolBlocks);
}

uint64_t default_inode_count(uint64_t total_blocks)
{
	return std::max(total_blocks * kBlockSize / kBytesPerInode, kMinInodes);
}

uint64_t max_inode_count(uint64_t total_blocks)
{
	// At most 2^32 blocks, so this cannot wrap.
	return total_blocks / 4 * kInodesPerBlock;
}

uint64_t legacy_inode_count(uint64_t total_blocks)
{
	return std::clamp<uint64_t>(total_blocks / 16, 1024, uint64_t{1} << 20);
}

uint64_t inode_count_for(uint64_t files, uint64_t total_blocks)
{
	uint64_t most = max_inode_count(total_blocks) - 1;
	if (files == 0 || files > most)
		throw Error(
		    Errc::invalid_argument,
		    "--inodes " + std::to_string(files) + ": a pool of " +
		        std::to_string(total_blocks * kBlockSize >> 20) + " MiB holds from 1 to " +
		        std::to_string(most) +
		        " files and directories (its inode table may take a quarter of it)");
	// files <= most < max_inode_count: adding one and rounding up stays within it.
	uint64_t slots = files + 1;
	return (slots + kInodesPerBlock - 1) / kInodesPerBlock * kInodesPerBlock;
}

Superblock geometry(uint64_t size, std::optional<uint64_t> inode_count)
{
	Superblock sb{};
	sb.version = kFormatVersion;
	sb.block_size = kBlockSize;
	sb.total_blocks = pool_blocks(size);
	sb.journal_start = 1;
	sb.journal_blocks = 1 + 256; // header + 1 MiB of records
	sb.inode_count = inode_count.value_or(default_inode_count(sb.total_blocks));
	sb.inode_table_start = sb.journal_start + sb.journal_blocks;
	// Within max_inode_count (at most 2^34 slots of 256 bytes): no product here wraps.
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
	if (sb.version < kOldestFormatVersion || sb.version > kFormatVersion)
		throw Error(Errc::unsupported, path + ": pool format version " +
		                                   std::to_string(sb.version) +
		                                   " is not supported");
	if (sb.block_size != kBlockSize)
		bad("block size " + std::to_string(sb.block_size));
	// Compared in blocks: total_blocks * kBlockSize could wrap.
	if (sb.total_blocks > pool_blocks(pool_size) || sb.total_blocks < kMinPoolSize / kBlockSize)
		bad("superblock says " + std::to_string(sb.total_blocks) +
		    " blocks, which does not fit the pool");
	// Checked before the geometry is computed from it, so that no product can wrap.
	bool count_ok = sb.version == 1 ? sb.inode_count == legacy_inode_count(sb.total_blocks)
	                                : sb.inode_count >= 2 &&
	                                      sb.inode_count <= max_inode_count(sb.total_blocks);
	if (!count_ok)
		bad("inode count " + std::to_string(sb.inode_count) + " does not fit its size");
	Superblock want = geometry(sb.total_blocks * kBlockSize, sb.inode_count);
	if (sb.journal_start != want.journal_start || sb.journal_blocks != want.journal_blocks ||
	    sb.inode_table_start != want.inode_table_start ||
	    sb.inode_table_blocks != want.inode_table_blocks ||
	    sb.bitmap_start != want.bitmap_start || sb.bitmap_blocks != want.bitmap_blocks ||
	    sb.data_start != want.data_start)
		bad("region geometry does not match its size");
}

} // namespace daxpolicy::fscore
