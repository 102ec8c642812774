#include "fscore/allocator.hpp"

#include "fscore/error.hpp"

#include <string>

namespace daxpolicy::fscore
{

BlockAllocator::BlockAllocator(const PmemPool &pool, const Superblock &sb)
    : disk_words_(reinterpret_cast<uint64_t *>(pool.base() + sb.bitmap_start * kBlockSize)),
      words_(disk_words_, disk_words_ + (sb.total_blocks + 63) / 64), total_(sb.total_blocks),
      data_start_(sb.data_start), next_fit_(sb.data_start)
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
	txn.stage(&disk_words_[word], words_[word]);
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

BlockAllocator::Run BlockAllocator::allocate(Transaction &txn, uint64_t want, uint64_t goal)
{
	if (free_ == 0)
		throw Error(Errc::no_space, "no free blocks left in the pool");
	if (goal < data_start_ || goal >= total_)
		goal = next_fit_;
	uint64_t span = total_ - data_start_;
	for (uint64_t i = 0; i < span; i++) {
		uint64_t b = data_start_ + (goal - data_start_ + i) % span;
		if (b % 64 == 0 && words_[b / 64] == ~uint64_t{0}) {
			i += 63; // a full word: skip it whole
			continue;
		}
		if (in_use(b))
			continue;
		uint64_t len = 1;
		while (len < want && b + len < total_ && !in_use(b + len))
			len++;
		set_range(txn, b, len, true);
		next_fit_ = b + len < total_ ? b + len : data_start_;
		return {b, len};
	}
	throw Error(Errc::no_space, "no free blocks left in the pool");
}

void BlockAllocator::release(Transaction &txn, uint64_t start, uint64_t len)
{
	for (uint64_t b = start; b < start + len; b++)
		if (!in_use(b))
			throw Error(Errc::internal,
			            "freeing block " + std::to_string(b) + " that is not in use");
	set_range(txn, start, len, false);
}

} // namespace daxpolicy::fscore
