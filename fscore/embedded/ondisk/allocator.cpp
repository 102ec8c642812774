// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/ondisk/allocator.hpp"

#include "common/error.hpp"
#include "fscore/embedded/ondisk/fault.hpp"

#include <algorithm>
#include <string>

namespace daxpolicy::fscore
{

BlockAllocator::BlockAllocator(const PmemPool &pool, const Superblock &sb)
    : disk_words_(reinterpret_cast<uint64_t *>(pool.base() + sb.bitmap_start * kBlockSize)),
      words_(disk_words_, disk_words_ + (sb.total_blocks + 63) / 64),
      quarantined_(words_.size(), 0), total_(sb.total_blocks), data_start_(sb.data_start),
      next_fit_(sb.data_start)
{
	for (uint64_t b = 0; b < total_; b++)
		if (!in_use(b))
			free_++;
}

bool BlockAllocator::in_use(uint64_t block) const
{
	return (words_[block / 64] >> (block % 64)) & 1;
}

void BlockAllocator::stage_words(Transaction &txn, uint64_t first, uint64_t last)
{
	// Contiguous words go in one record: a large run costs one record, not one a word.
	std::vector<uint64_t> disk(last - first + 1);
	for (uint64_t w = first; w <= last; w++)
		disk[w - first] = words_[w] & ~quarantined_[w];
	txn.stage(&disk_words_[first], disk.data(), disk.size() * sizeof(uint64_t));
}

void BlockAllocator::change_range(Transaction &txn, uint64_t start, uint64_t len,
                                  const std::function<void(uint64_t word, uint64_t mask)> &change)
{
	uint64_t first = start / 64, last = (start + len - 1) / 64;
	// The undo is registered before anything changes and restores what was there, so an
	// exception at any point below (staging past the journal's capacity included) leaves
	// the DRAM view exactly as the pool has it.
	std::vector<uint64_t> words(words_.begin() + first, words_.begin() + last + 1);
	std::vector<uint64_t> quarantined(quarantined_.begin() + first,
	                                  quarantined_.begin() + last + 1);
	txn.on_abort([this, first, words = std::move(words), quarantined = std::move(quarantined),
	              free = free_] {
		std::copy(words.begin(), words.end(), words_.begin() + first);
		std::copy(quarantined.begin(), quarantined.end(), quarantined_.begin() + first);
		free_ = free;
	});
	for (uint64_t w = first; w <= last; w++) {
		uint64_t lo = w == first ? start % 64 : 0;
		uint64_t hi = w == last ? (start + len - 1) % 64 : 63;
		uint64_t mask = (hi == 63 ? ~uint64_t{0} : (uint64_t{1} << (hi + 1)) - 1) &
		                ~((uint64_t{1} << lo) - 1);
		change(w, mask);
	}
	stage_words(txn, first, last);
}

void BlockAllocator::set_range(Transaction &txn, uint64_t start, uint64_t len, bool used)
{
	change_range(txn, start, len, [&](uint64_t w, uint64_t mask) {
		if (used)
			words_[w] |= mask;
		else
			words_[w] &= ~mask;
	});
	free_ = used ? free_ - len : free_ + len;
}

BlockAllocator::Run BlockAllocator::take(Transaction &txn, uint64_t start, uint64_t want)
{
	uint64_t len = 1;
	while (len < want && start + len < total_ && !in_use(start + len))
		len++;
	set_range(txn, start, len, true);
	next_fit_ = start + len < total_ ? start + len : data_start_;
	return {start, len};
}

std::optional<uint64_t> BlockAllocator::find_aligned(uint64_t align) const
{
	// Whole free words first: a 2 MiB run is 8 words of the bitmap.
	uint64_t first = (data_start_ + align - 1) / align * align;
	for (uint64_t b = first; b + align <= total_; b += align) {
		bool free = true;
		for (uint64_t w = b / 64; free && w < (b + align) / 64; w++)
			free = words_[w] == 0;
		if (free)
			return b;
	}
	return std::nullopt;
}

void BlockAllocator::reserve(uint64_t blocks)
{
	// One block in 256 (at least 64) is kept for metadata.
	uint64_t margin = std::max<uint64_t>(64, (total_ - data_start_) / 256);
	if (free_ < reserved_ + margin || blocks > free_ - reserved_ - margin)
		throw Error(Errc::no_space, "no space left in the pool for cached data");
	reserved_ += blocks;
}

void BlockAllocator::unreserve(uint64_t blocks)
{
	reserved_ -= std::min(blocks, reserved_);
}

BlockAllocator::Run BlockAllocator::allocate(Transaction &txn, uint64_t want, uint64_t goal,
                                             uint64_t align, bool use_reserved)
{
	fault::hit(fault::Site::allocate);
	uint64_t available = use_reserved ? free_ : free_ > reserved_ ? free_ - reserved_ : 0;
	if (available == 0)
		throw Error(Errc::no_space, "no free blocks left in the pool");
	want = std::min(want, available);
	if (align > 1 && align % 64 == 0 && want >= align &&
	    (goal == 0 || goal % align != 0 || in_use(goal)))
		if (auto b = find_aligned(align))
			return take(txn, *b, want);
	if (goal < data_start_ || goal >= total_)
		goal = next_fit_;
	uint64_t span = total_ - data_start_;
	for (uint64_t i = 0; i < span; i++) {
		uint64_t b = data_start_ + (goal - data_start_ + i) % span;
		if (b % 64 == 0 && words_[b / 64] == ~uint64_t{0}) {
			i += 63; // a full word: skip it whole
			continue;
		}
		if (!in_use(b))
			return take(txn, b, want);
	}
	throw Error(Errc::no_space, "no free blocks left in the pool");
}

void BlockAllocator::release(Transaction &txn, uint64_t start, uint64_t len, bool quarantine)
{
	if (len == 0 || start < data_start_ || start >= total_ || len > total_ - start)
		throw Error(Errc::corrupted, "freeing blocks [" + std::to_string(start) + ", +" +
		                                 std::to_string(len) + ") outside the data area");
	for (uint64_t b = start; b < start + len; b++)
		if (!in_use(b) || ((quarantined_[b / 64] >> (b % 64)) & 1))
			throw Error(Errc::internal,
			            "freeing block " + std::to_string(b) + " that is not in use");
	if (!quarantine) {
		set_range(txn, start, len, false);
		return;
	}
	change_range(txn, start, len, [&](uint64_t w, uint64_t mask) { quarantined_[w] |= mask; });
}

void BlockAllocator::end_quarantine(uint64_t start, uint64_t len)
{
	// The pool already has these blocks free; only the allocatable view changes.
	for (uint64_t b = start; b < start + len; b++) {
		uint64_t mask = uint64_t{1} << (b % 64);
		quarantined_[b / 64] &= ~mask;
		words_[b / 64] &= ~mask;
	}
	free_ += len;
}

} // namespace daxpolicy::fscore
