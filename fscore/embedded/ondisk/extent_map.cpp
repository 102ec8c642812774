// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/ondisk/extent_map.hpp"

#include "common/error.hpp"

#include <algorithm>
#include <cstring>

namespace daxpolicy::fscore
{

namespace
{

const ExtentBlock *block_at(const PmemPool &pool, uint64_t pblk)
{
	return reinterpret_cast<const ExtentBlock *>(pool.base() + pblk * kBlockSize);
}

bool by_lblk(const Extent &a, const Extent &b)
{
	return a.lblk < b.lblk;
}

} // namespace

std::vector<uint64_t> ExtentMap::chain(const PmemPool &pool, const DiskInode &di)
{
	std::vector<uint64_t> blocks;
	for (uint64_t b = di.extent_block; b != 0; b = block_at(pool, b)->next) {
		if (b >= pool.size() / kBlockSize || blocks.size() > pool.size() / kBlockSize)
			throw Error(Errc::internal, "extent chain leaves the pool or loops");
		blocks.push_back(b);
	}
	return blocks;
}

ExtentMap::ExtentMap(const PmemPool &pool, const DiskInode &di) : pool_(pool)
{
	size_t inline_count = std::min<size_t>(di.extent_count, kInlineExtents);
	extents_.assign(di.extents, di.extents + inline_count);
	for (uint64_t b : chain(pool, di)) {
		const ExtentBlock *eb = block_at(pool, b);
		size_t n = std::min<size_t>(eb->count, kExtentsPerBlock);
		extents_.insert(extents_.end(), eb->extents, eb->extents + n);
	}
	if (extents_.size() != di.extent_count)
		throw Error(Errc::internal, "extent count does not match the extent list");
}

std::optional<uint64_t> ExtentMap::pblk_of(uint64_t lblk) const
{
	auto it = std::upper_bound(extents_.begin(), extents_.end(), Extent{uint32_t(lblk), 0, 0},
	                           by_lblk);
	if (it == extents_.begin())
		return std::nullopt;
	--it;
	if (lblk < uint64_t{it->lblk} + it->len)
		return it->pblk + (lblk - it->lblk);
	return std::nullopt;
}

ExtentMap::Run ExtentMap::run_of(uint64_t lblk) const
{
	auto it = std::upper_bound(extents_.begin(), extents_.end(), Extent{uint32_t(lblk), 0, 0},
	                           by_lblk);
	// `it` is the first extent after lblk; the one before may hold it.
	if (it != extents_.begin()) {
		const Extent &e = *std::prev(it);
		if (lblk < uint64_t{e.lblk} + e.len)
			return {e.pblk + (lblk - e.lblk), uint64_t{e.lblk} + e.len - lblk};
	}
	return {std::nullopt, it == extents_.end()
	                          ? kMaxFileBlocks - std::min(lblk, kMaxFileBlocks - 1)
	                          : it->lblk - lblk};
}

bool ExtentMap::covers(uint64_t first, uint64_t last) const
{
	for (uint64_t lblk = first; lblk < last;) {
		auto [pblk, blocks] = run_of(lblk);
		if (!pblk)
			return false;
		lblk += blocks;
	}
	return true;
}

uint64_t ExtentMap::last_lblk() const
{
	return extents_.empty() ? 0 : uint64_t{extents_.back().lblk} + extents_.back().len;
}

void ExtentMap::merge_around(size_t i)
{
	auto contiguous = [](const Extent &a, const Extent &b) {
		return a.lblk + a.len == b.lblk && a.pblk + a.len == b.pblk;
	};
	if (i + 1 < extents_.size() && contiguous(extents_[i], extents_[i + 1])) {
		extents_[i].len += extents_[i + 1].len;
		extents_.erase(extents_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
	}
	if (i > 0 && contiguous(extents_[i - 1], extents_[i])) {
		extents_[i - 1].len += extents_[i].len;
		extents_.erase(extents_.begin() + static_cast<std::ptrdiff_t>(i));
	}
}

void ExtentMap::insert(Extent e)
{
	auto it = std::lower_bound(extents_.begin(), extents_.end(), e, by_lblk);
	size_t i = static_cast<size_t>(it - extents_.begin());
	extents_.insert(it, e);
	merge_around(i);
}

std::vector<Extent> ExtentMap::remove(uint64_t lblk, uint64_t len)
{
	uint64_t end = lblk + len;
	std::vector<Extent> freed, kept;
	for (const Extent &e : extents_) {
		uint64_t s = e.lblk, t = uint64_t{e.lblk} + e.len;
		if (t <= lblk || s >= end) {
			kept.push_back(e);
			continue;
		}
		if (s < lblk) // the part before the range stays
			kept.push_back({e.lblk, e.pblk, uint32_t(lblk - s)});
		uint64_t cut_s = std::max(s, lblk), cut_t = std::min(t, end);
		freed.push_back(
		    {uint32_t(cut_s), uint32_t(e.pblk + (cut_s - s)), uint32_t(cut_t - cut_s)});
		if (t > end) // and the part after it
			kept.push_back(
			    {uint32_t(end), uint32_t(e.pblk + (end - s)), uint32_t(t - end)});
	}
	extents_ = std::move(kept);
	return freed;
}

void ExtentMap::shift(uint64_t lblk, int64_t delta)
{
	// An extent across `lblk` is split there first: its two halves move apart.
	for (size_t i = 0; i < extents_.size(); i++) {
		Extent e = extents_[i];
		if (e.lblk < lblk && lblk < uint64_t{e.lblk} + e.len) {
			uint32_t head = uint32_t(lblk - e.lblk);
			extents_[i].len = head;
			extents_.insert(extents_.begin() + static_cast<std::ptrdiff_t>(i) + 1,
			                Extent{uint32_t(lblk), e.pblk + head, e.len - head});
			break;
		}
	}
	for (Extent &e : extents_)
		if (e.lblk >= lblk)
			e.lblk = static_cast<uint32_t>(int64_t{e.lblk} + delta);
	for (size_t i = 0; i + 1 < extents_.size();)
		if (extents_[i].lblk + extents_[i].len == extents_[i + 1].lblk &&
		    extents_[i].pblk + extents_[i].len == extents_[i + 1].pblk)
			merge_around(i);
		else
			i++;
}

void ExtentMap::store(Transaction &txn, BlockAllocator &alloc, DiskInode &di) const
{
	std::vector<uint64_t> old_chain = chain(pool_, di);
	size_t inline_count = std::min(extents_.size(), kInlineExtents);
	std::memset(di.extents, 0, sizeof(di.extents));
	std::copy_n(extents_.begin(), inline_count, di.extents);
	di.extent_count = static_cast<uint32_t>(extents_.size());

	size_t rest = extents_.size() - inline_count;
	size_t needed = (rest + kExtentsPerBlock - 1) / kExtentsPerBlock;
	std::vector<uint64_t> blocks(old_chain.begin(),
	                             old_chain.begin() + std::min(needed, old_chain.size()));
	while (blocks.size() < needed) {
		uint64_t goal = blocks.empty() ? 0 : blocks.back() + 1;
		blocks.push_back(alloc.allocate(txn, 1, goal).start);
	}
	for (size_t i = needed; i < old_chain.size(); i++)
		alloc.release(txn, old_chain[i], 1);
	// Each chain block is staged whole: a new one may hold anything from a freed file. One
	// that already holds what it should is not staged at all, so a change near the end of
	// a long chain (an append, a truncate's step) costs a block or two, not the chain.
	for (size_t i = 0; i < blocks.size(); i++) {
		ExtentBlock eb{};
		eb.next = i + 1 < blocks.size() ? blocks[i + 1] : 0;
		size_t first = inline_count + i * kExtentsPerBlock;
		eb.count =
		    static_cast<uint32_t>(std::min(kExtentsPerBlock, extents_.size() - first));
		std::copy_n(extents_.begin() + static_cast<std::ptrdiff_t>(first), eb.count,
		            eb.extents);
		std::byte *at = pool_.base() + blocks[i] * kBlockSize;
		if (i < old_chain.size() && std::memcmp(at, &eb, sizeof(eb)) == 0)
			continue;
		txn.stage(at, &eb, sizeof(eb));
	}
	di.extent_block = blocks.empty() ? 0 : blocks[0];
}

} // namespace daxpolicy::fscore
