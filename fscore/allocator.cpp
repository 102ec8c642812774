#include "fscore/allocator.hpp"

#include "fscore/error.hpp"

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

void BlockAllocator::stage_word(Transaction &txn, uint64_t word)
{
	txn.stage(&disk_words_[word], words_[word] & ~quarantined_[word]);
}

void BlockAllocator::set_range(Transaction &txn, uint64_t start, uint64_t len, bool used)
{
	for (uint64_t b = start; b < start + len; b++) {
		uint64_t mask = uint64_t{1} << (b % 64);
		if (used)
			words_[b / 64] |= mask;
		else
			words_[b / 64] &= ~mask;
	}
	for (uint64_t w = start / 64; w <= (start + len - 1) / 64; w++)
		stage_word(txn, w);
	free_ = used ? free_ - len : free_ + len;
	txn.on_abort([this, start, len, used] {
		for (uint64_t b = start; b < start + len; b++) {
			uint64_t mask = uint64_t{1} << (b % 64);
			if (used)
				words_[b / 64] &= ~mask;
			else
				words_[b / 64] |= mask;
		}
		free_ = used ? free_ + len : free_ - len;
	});
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

BlockAllocator::Run BlockAllocator::allocate(Transaction &txn, uint64_t want, uint64_t goal,
                                             uint64_t align)
{
	if (free_ == 0)
		throw Error(Errc::no_space, "no free blocks left in the pool");
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
	for (uint64_t b = start; b < start + len; b++)
		if (!in_use(b) || ((quarantined_[b / 64] >> (b % 64)) & 1))
			throw Error(Errc::internal,
			            "freeing block " + std::to_string(b) + " that is not in use");
	if (!quarantine) {
		set_range(txn, start, len, false);
		return;
	}
	for (uint64_t b = start; b < start + len; b++)
		quarantined_[b / 64] |= uint64_t{1} << (b % 64);
	for (uint64_t w = start / 64; w <= (start + len - 1) / 64; w++)
		stage_word(txn, w);
	txn.on_abort([this, start, len] {
		for (uint64_t b = start; b < start + len; b++)
			quarantined_[b / 64] &= ~(uint64_t{1} << (b % 64));
	});
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
