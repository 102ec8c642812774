// The data path of the embedded core: extents, direct (DAX) I/O into the pool, the page cache
// of non-DAX files, and the in-core state that fixes a file's effective mode while in use.
#include "fscore/clock.hpp"
#include "fscore/embedded_volume.hpp"
#include "fscore/error.hpp"
#include "fscore/extent_map.hpp"
#include "fscore/superblock.hpp"

#include <algorithm>
#include <cstring>

namespace daxpolicy::fscore
{

void EmbeddedVolume::read_blocks(const DiskInode &di, uint64_t off, std::span<std::byte> out) const
{
	ExtentMap map(*pool_, di);
	size_t done = 0;
	while (done < out.size()) {
		uint64_t pos = off + done;
		uint64_t in_block = pos % kBlockSize;
		size_t n = std::min<size_t>(kBlockSize - in_block, out.size() - done);
		if (auto pblk = map.pblk_of(pos / kBlockSize))
			std::memcpy(out.data() + done,
			            pool_->base() + *pblk * kBlockSize + in_block, n);
		else
			std::memset(out.data() + done, 0, n); // a hole reads as zeros
		done += n;
	}
}

void EmbeddedVolume::write_blocks(Transaction &txn, ExtentMap &map, DiskInode &di, uint64_t off,
                                  std::span<const std::byte> data)
{
	uint64_t end = off + data.size();
	uint64_t first = off / kBlockSize, last = (end + kBlockSize - 1) / kBlockSize;
	if (last > kMaxFileBlocks)
		throw Error(
		    Errc::invalid_argument,
		    "offset beyond the largest file"); // Past the old end-of-file the last block
		                                       // may hold bytes of the file as it once was
	// (a truncate keeps the block): they must read as zeros once the file covers them.
	if (off > di.size)
		zero_mapped(map, di.size, std::min(off, blocks_for(di.size) * kBlockSize));
	allocate_range(txn, map, first, last - first, off, end);
	// The data is durable before the caller commits the extents and size that expose it.
	size_t done = 0;
	while (done < data.size()) {
		uint64_t pos = off + done;
		uint64_t in_block = pos % kBlockSize;
		uint64_t pblk = *map.pblk_of(pos / kBlockSize);
		size_t n = std::min<size_t>(kBlockSize - in_block, data.size() - done);
		// Extend the copy over blocks that are contiguous in the pool.
		while (done + n < data.size()) {
			auto next = map.pblk_of((pos + n) / kBlockSize);
			if (!next || *next != pblk + (in_block + n) / kBlockSize)
				break;
			n = std::min<size_t>(n + kBlockSize, data.size() - done);
		}
		pool_->memcpy_persist(pool_->base() + pblk * kBlockSize + in_block,
		                      data.data() + done, n);
		done += n;
	}
	di.size = std::max(di.size, end);
	di.mtime_ns = now_ns();
}

void EmbeddedVolume::allocate_range(Transaction &txn, ExtentMap &map, uint64_t first,
                                    uint64_t count, uint64_t keep_from, uint64_t keep_to)
{
	// Allocate every hole first: if that fails, nothing has been written.
	for (uint64_t lblk = first; lblk < first + count;) {
		if (map.pblk_of(lblk)) {
			lblk++;
			continue;
		}
		uint64_t hole_end = lblk + 1;
		while (hole_end < first + count && !map.pblk_of(hole_end))
			hole_end++;
		uint64_t goal = 0;
		if (lblk > 0)
			if (auto prev = map.pblk_of(lblk - 1))
				goal = *prev + 1;
		// Where a whole 2 MiB of the file is being filled, place it 2 MiB-aligned in the
		// pool too, so that it can be mapped with one huge page.
		bool huge = lblk % kHugeBlocks == 0 && hole_end - lblk >= kHugeBlocks;
		auto run = alloc_->allocate(txn, hole_end - lblk, goal, huge ? kHugeBlocks : 1);
		// New blocks may hold old data of a freed file: zero what [keep_from, keep_to)
		// will not overwrite, durably, before the commit that makes them the file's.
		for (uint64_t b = 0; b < run.len; b++) {
			uint64_t block_start = (lblk + b) * kBlockSize;
			if (block_start < keep_from || block_start + kBlockSize > keep_to)
				pool_->memset_persist(pool_->base() + (run.start + b) * kBlockSize,
				                      0, kBlockSize);
		}
		map.insert(Extent{static_cast<uint32_t>(lblk), static_cast<uint32_t>(run.start),
		                  static_cast<uint32_t>(run.len)});
		lblk += run.len;
	}
}

CachedPage &EmbeddedVolume::cached_page(uint64_t ino, InCore &ic, uint64_t index)
{
	auto page = ic.cache.pages.find(index);
	if (page != ic.cache.pages.end())
		return page->second;
	CachedPage fresh;
	read_blocks(inode(ino), index * kBlockSize, fresh.data);
	// What lies past end-of-file in the last block is not the file's: a write past EOF
	// must not make it so.
	uint64_t size = file_size(ino);
	if (size < (index + 1) * kBlockSize) {
		size_t keep = size > index * kBlockSize ? size_t(size - index * kBlockSize) : 0;
		std::memset(fresh.data.data() + keep, 0, kBlockSize - keep);
	}
	return ic.cache.pages.emplace(index, fresh).first->second;
}

void EmbeddedVolume::zero_mapped(const ExtentMap &map, uint64_t from, uint64_t to)
{
	for (uint64_t pos = from; pos < to;) {
		uint64_t in_block = pos % kBlockSize;
		uint64_t n = std::min(kBlockSize - in_block, to - pos);
		if (auto pblk = map.pblk_of(pos / kBlockSize))
			pool_->memset_persist(pool_->base() + *pblk * kBlockSize + in_block, 0, n);
		pos += n;
	}
}

uint64_t EmbeddedVolume::file_size(uint64_t ino) const
{
	auto it = in_core_.find(ino);
	if (it != in_core_.end() && it->second.cache.size)
		return *it->second.cache.size;
	return inode(ino).size;
}

std::vector<std::byte> EmbeddedVolume::read_file(uint64_t ino, uint64_t off, size_t len)
{
	uint64_t size = file_size(ino);
	if (off >= size)
		return {};
	len = static_cast<size_t>(std::min<uint64_t>(len, size - off));
	std::vector<std::byte> out(len);
	InCore &ic = in_core_.at(ino);
	if (ic.effective_dax) {
		read_blocks(inode(ino), off, out);
		return out;
	}
	for (size_t done = 0; done < len;) {
		uint64_t pos = off + done;
		uint64_t in_page = pos % kBlockSize;
		size_t n = std::min<size_t>(kBlockSize - in_page, len - done);
		std::memcpy(out.data() + done,
		            cached_page(ino, ic, pos / kBlockSize).data.data() + in_page, n);
		done += n;
	}
	return out;
}

void EmbeddedVolume::write_file(uint64_t ino, uint64_t off, std::span<const std::byte> data)
{
	if (data.empty())
		return;
	InCore &ic = in_core_.at(ino);
	if (ic.effective_dax) {
		// DAX: straight to the pool, persistent when this returns.
		Transaction txn(journal_);
		DiskInode di = inode(ino);
		ExtentMap map(*pool_, di);
		write_blocks(txn, map, di, off, data);
		map.store(txn, *alloc_, di);
		stage_inode(txn, ino, di);
		txn.commit();
		return;
	}
	uint64_t size = file_size(ino);
	// Growing past a partial last page: that page, read in with zeros past end-of-file,
	// goes back dirty, so the zeros reach the pool over whatever the block held.
	if (off > size && size % kBlockSize)
		cached_page(ino, ic, size / kBlockSize).dirty = true;
	for (size_t done = 0; done < data.size();) {
		uint64_t pos = off + done;
		uint64_t index = pos / kBlockSize, in_page = pos % kBlockSize;
		size_t n = std::min<size_t>(kBlockSize - in_page, data.size() - done);
		CachedPage &page = cached_page(ino, ic, index);
		std::memcpy(page.data.data() + in_page, data.data() + done, n);
		page.dirty = true;
		done += n;
	}
	if (off + data.size() > size)
		ic.cache.size = off + data.size();
}

void EmbeddedVolume::writeback(uint64_t ino)
{
	PageCache &cache = in_core_.at(ino).cache;
	if (!cache.dirty())
		return;
	Transaction txn(journal_);
	DiskInode di = inode(ino);
	ExtentMap map(*pool_, di);
	uint64_t size = file_size(ino);
	for (const auto &[index, page] : cache.pages) {
		uint64_t start = index * kBlockSize;
		if (!page.dirty || start >= size)
			continue;
		size_t n = static_cast<size_t>(std::min<uint64_t>(kBlockSize, size - start));
		write_blocks(txn, map, di, start, std::span(page.data).first(n));
	}
	di.size = size;
	map.store(txn, *alloc_, di);
	stage_inode(txn, ino, di);
	txn.commit();
	for (auto &[index, page] : cache.pages)
		page.dirty = false;
	cache.size.reset();
}

EmbeddedVolume::InCore &EmbeddedVolume::get_in_core(uint64_t ino)
{
	auto [it, fresh] = in_core_.try_emplace(ino);
	if (fresh)
		it->second.effective_dax = effective_for(inode(ino));
	return it->second;
}

void EmbeddedVolume::put_in_core(uint64_t ino, bool was_map)
{
	InCore &ic = in_core_.at(ino);
	(was_map ? ic.maps : ic.opens)--;
	const DiskInode &di = inode(ino);
	if (was_map && ic.maps == 0)
		queued_events_.push_back({VolumeEvent::Kind::unmapped,
		                          ino,
		                          di.generation,
		                          di.nlink ? path_of_locked(ino) : std::string(),
		                          {},
		                          {}});
	if (ic.opens + ic.maps > 0)
		return;
	// Last user: cached data reaches the pool before the in-core state (and with it the
	// effective mode) can go. If write-back fails the state stays, and so does the mode.
	writeback(ino);
	in_core_.erase(ino);
	if (di.nlink == 0) {
		Transaction txn(journal_);
		free_inode(txn, ino);
		txn.commit();
		return;
	}
	queued_events_.push_back(
	    {VolumeEvent::Kind::released, ino, di.generation, path_of_locked(ino), {}, {}});
}

} // namespace daxpolicy::fscore
