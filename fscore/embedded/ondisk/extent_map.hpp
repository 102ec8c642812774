// SPDX-License-Identifier: BSD-3-Clause
// A file's extent map in DRAM: loaded whole from the inode and its chain of extent blocks,
// changed with the operations below, and stored back within one journal transaction.
#pragma once

#include "fscore/embedded/ondisk/allocator.hpp"
#include "fscore/embedded/ondisk/journal.hpp"
#include "fscore/embedded/ondisk/layout.hpp"

#include <optional>
#include <vector>

namespace daxpolicy::fscore
{

class ExtentMap
{
      public:
	ExtentMap(const PmemPool &pool, const DiskInode &di);

	const std::vector<Extent> &extents() const & { return extents_; }
	// On a temporary map, the list itself: `for (e : ExtentMap(...).extents())` is safe.
	std::vector<Extent> extents() && { return std::move(extents_); }
	std::optional<uint64_t> pblk_of(uint64_t lblk) const;
	// The run of blocks from `lblk` on that is contiguous in the pool (pblk: its first
	// block), or that is hole (pblk empty) up to the next mapping. `blocks` >= 1.
	struct Run {
		std::optional<uint64_t> pblk;
		uint64_t blocks;
	};
	Run run_of(uint64_t lblk) const;
	// Whether every block in [first, last) is mapped.
	bool covers(uint64_t first, uint64_t last) const;
	// Adds a mapping for blocks that are holes now; merges with contiguous neighbours.
	void insert(Extent extent);
	// Unmaps [lblk, lblk+len) and returns the pool runs that held it, for the caller to free.
	std::vector<Extent> remove(uint64_t lblk, uint64_t len);
	// Moves every mapping at or after `lblk` by `delta` blocks (negative: down). The caller
	// makes sure nothing lands on a mapped block or below zero.
	void shift(uint64_t lblk, int64_t delta);
	uint64_t last_lblk() const; // one past the last mapped block, 0 for none

	// Writes the list back into `di` and its chain, allocating or freeing chain blocks in
	// `txn`. Chain blocks that change are staged whole; `di` is the caller's to stage. At
	// most once per file per transaction: it compares with the chain as committed.
	void store(Transaction &txn, BlockAllocator &alloc, DiskInode &di) const;
	// The chain blocks of `di`, for fsck and for freeing an inode.
	static std::vector<uint64_t> chain(const PmemPool &pool, const DiskInode &di);

      private:
	void merge_around(size_t index);

	const PmemPool &pool_;
	std::vector<Extent> extents_;
};

} // namespace daxpolicy::fscore
