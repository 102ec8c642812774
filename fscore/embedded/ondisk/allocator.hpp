// SPDX-License-Identifier: BSD-3-Clause
// The block allocator: a DRAM mirror of the on-pool bitmap. Changes are staged in the caller's
// transaction; the mirror is updated at once and restored if the transaction is abandoned.
#pragma once

#include "fscore/embedded/ondisk/journal.hpp"
#include "fscore/embedded/ondisk/layout.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace daxpolicy::fscore
{

class BlockAllocator
{
      public:
	BlockAllocator(const PmemPool &pool, const Superblock &sb);

	struct Run {
		uint64_t start;
		uint64_t len;
	};
	// Up to `want` free blocks in one contiguous run, the first free one at or after `goal`
	// (wrapping round); with no usable goal, after the previous allocation. With `align`,
	// a run starting at a multiple of it, `align` blocks long, is taken where one is free.
	// Throws `no_space` when the pool is full. Blocks reserved for cached writes are not
	// handed out, except to the write-back that the reservation was made for
	// (`use_reserved`).
	Run allocate(Transaction &txn, uint64_t want, uint64_t goal, uint64_t align = 1,
	             bool use_reserved = false);
	// Frees a run. With `quarantine` the pool's bitmap says free at once (so a crash leaks
	// nothing) but the run is not handed out again until end_quarantine.
	void release(Transaction &txn, uint64_t start, uint64_t len, bool quarantine = false);
	void end_quarantine(uint64_t start, uint64_t len);
	bool in_use(uint64_t block) const;

	// Delayed allocation, as the kernel's delalloc: a cached write that will need `blocks`
	// new blocks at write-back reserves them first, or fails with `no_space` having
	// changed nothing, so write-back can never find the pool full. A margin stays
	// unreserved for the metadata (extent blocks, directories) that write-back and
	// namespace changes need.
	void reserve(uint64_t blocks);
	void unreserve(uint64_t blocks);
	uint64_t free_blocks() const { return free_; }

      private:
	void set_range(Transaction &txn, uint64_t start, uint64_t len, bool used);
	Run take(Transaction &txn, uint64_t start, uint64_t want);
	std::optional<uint64_t> find_aligned(uint64_t align) const;
	// Applies `change` to each bitmap word of [start, start+len) with the mask of the
	// range's bits in it, then stages the words; undone if the transaction is abandoned.
	void change_range(Transaction &txn, uint64_t start, uint64_t len,
	                  const std::function<void(uint64_t word, uint64_t mask)> &change);
	void stage_words(Transaction &txn, uint64_t first, uint64_t last);

	uint64_t *disk_words_;
	std::vector<uint64_t> words_;       // allocatable view: 1 = in use or quarantined
	std::vector<uint64_t> quarantined_; // freed on the pool, not yet reusable
	uint64_t total_;
	uint64_t data_start_;
	// Where the last allocation ended: a search without a goal starts here, so filling
	// the pool does not rescan the full part for every block.
	uint64_t next_fit_;
	uint64_t free_ = 0;
	uint64_t reserved_ = 0;
};

} // namespace daxpolicy::fscore
