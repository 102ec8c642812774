// SPDX-License-Identifier: BSD-3-Clause
// mkfs of an embedded pool: lays out an empty filesystem, the root directory its only file.
#include "fscore/embedded/ondisk/mkfs.hpp"

#include "common/clock.hpp"
#include "common/error.hpp"
#include "fscore/embedded/ondisk/journal.hpp"
#include "fscore/embedded/ondisk/layout.hpp"
#include "fscore/embedded/ondisk/pmem_pool.hpp"
#include "fscore/embedded/ondisk/superblock.hpp"

#include <algorithm>
#include <cstring>
#include <random>

namespace daxpolicy::fscore
{

MkfsResult mkfs(const std::filesystem::path &pool_path, uint64_t size, bool force,
                std::optional<uint64_t> inodes)
{
	if (size < kMinPoolSize)
		throw Error(Errc::invalid_argument, "pool size must be at least " +
		                                        std::to_string(kMinPoolSize >> 20) +
		                                        " MiB");
	// Checked against the size asked for before the pool file is made, and again against
	// a device's own size, which may be smaller, before anything is written to it.
	if (inodes)
		inode_count_for(*inodes, pool_blocks(size));
	auto pool = PmemPool::create(pool_path, size);
	// A new pool file is empty; a devdax device is not, and may hold a pool with data.
	if (!force && std::memcmp(pool->base(), kMagic, sizeof(kMagic)) == 0)
		throw Error(Errc::exists, pool_path.string() +
		                              ": holds a daxpolicy pool already (mkfs --force "
		                              "formats it anyway)");
	uint64_t made_size = std::min(size, pool->size());
	if (made_size < kMinPoolSize)
		throw Error(Errc::invalid_argument, pool_path.string() + ": " +
		                                        std::to_string(made_size) +
		                                        " bytes is too small for a pool");
	Superblock sb = geometry(
	    made_size, inodes ? std::optional(inode_count_for(*inodes, pool_blocks(made_size)))
	                      : std::nullopt);
	std::byte *base = pool->base();

	// A devdax device may hold anything: clear every metadata region. (A new pool file is
	// sparse and reads zero already; the memset then costs only the metadata blocks.)
	pool->memset_persist(base + kBlockSize, 0, (sb.data_start - 1) * kBlockSize);
	Journal(*pool, sb).format();

	auto *words = reinterpret_cast<uint64_t *>(base + sb.bitmap_start * kBlockSize);
	auto mark = [&](uint64_t b) { words[b / 64] |= uint64_t{1} << (b % 64); };
	for (uint64_t b = 0; b < sb.data_start; b++)
		mark(b);
	for (uint64_t b = sb.total_blocks; b % 64 != 0; b++) // bits past the end: never free
		mark(b);
	pool->persist(words, sb.bitmap_blocks * kBlockSize);

	auto *root = reinterpret_cast<DiskInode *>(base + sb.inode_table_start * kBlockSize +
	                                           kRootIno * kInodeSize);
	DiskInode di{};
	di.type = InodeType::directory;
	di.nlink = 1;
	di.generation = 1;
	di.mtime_ns = di.ctime_ns = unix_now_ns();
	pool->memcpy_persist(root, &di, sizeof(di));

	std::random_device rd;
	for (auto &b : sb.uuid)
		b = static_cast<uint8_t>(rd());
	sb.created_ns = unix_now_ns();
	sb.clean = 1;
	// Everything above is durable before the magic is written: a pool whose mkfs was cut
	// short has no magic and is refused, never half-trusted.
	auto *disk_sb = reinterpret_cast<Superblock *>(base);
	pool->memcpy_persist(disk_sb, &sb, sizeof(sb));
	pool->memcpy_persist(disk_sb->magic, kMagic, sizeof(kMagic));
	return {sb.total_blocks * kBlockSize, pool->granularity(), 1, sb.inode_count - 1};
}

} // namespace daxpolicy::fscore
