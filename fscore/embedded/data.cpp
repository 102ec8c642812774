// SPDX-License-Identifier: BSD-3-Clause
// The data path of the embedded core: extents, direct (DAX) I/O into the pool, the page cache
// of non-DAX files, and the in-core state that fixes a file's effective mode while in use.
#include "common/clock.hpp"
#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/extent_map.hpp"
#include "fscore/embedded/ondisk/superblock.hpp"
#include "fscore/embedded/range.hpp"

#include <algorithm>
#include <cstring>

namespace daxpolicy::fscore
{

EmbeddedVolume::InodeRef::InodeRef(EmbeddedVolume &vol, uint64_t ino)
    : vol_(vol), ino_(ino), in_core_(&vol.in_core_.at(ino))
{
	in_core_->refs++;
}

EmbeddedVolume::InodeRef::~InodeRef()
{
	std::lock_guard lock(vol_.mutex_);
	in_core_->refs--;
	try {
		vol_.release_if_unused(ino_);
	} catch (const Error &) {
		// Write-back failed (the pool is full): the in-core state, and with it the cached
		// data and the effective mode, stay until it can be written.
	}
}

EmbeddedVolume::DataReadLock::DataReadLock(InCore &ic) : ic_(ic)
{
	if (ic_.effective_dax)
		ic_.ilock.lock_shared();
	else
		ic_.ilock.lock();
}

EmbeddedVolume::DataReadLock::~DataReadLock()
{
	if (ic_.effective_dax)
		ic_.ilock.unlock_shared();
	else
		ic_.ilock.unlock();
}

void EmbeddedVolume::read_blocks(const ExtentMap &map, uint64_t off, std::span<std::byte> out) const
{
	for (size_t done = 0; done < out.size();) {
		uint64_t pos = off + done;
		uint64_t lblk = pos / kBlockSize, in_block = pos % kBlockSize;
		auto [pblk, blocks] = map.run_of(lblk);
		// One copy for the whole run of blocks contiguous in the pool (or of hole).
		size_t n = static_cast<size_t>(
		    std::min<uint64_t>(blocks * kBlockSize - in_block, out.size() - done));
		if (pblk)
			std::memcpy(out.data() + done,
			            pool_->base() + *pblk * kBlockSize + in_block, n);
		else
			std::memset(out.data() + done, 0, n); // a hole reads as zeros
		done += n;
	}
}

void EmbeddedVolume::store_data(const ExtentMap &map, uint64_t off, std::span<const std::byte> data)
{
	for (size_t done = 0; done < data.size();) {
		uint64_t pos = off + done;
		uint64_t in_block = pos % kBlockSize;
		auto [pblk, blocks] = map.run_of(pos / kBlockSize);
		if (!pblk)
			throw Error(Errc::internal, "store_data: a block in range has no storage");
		size_t n = static_cast<size_t>(
		    std::min<uint64_t>(blocks * kBlockSize - in_block, data.size() - done));
		pool_->memcpy_persist(pool_->base() + *pblk * kBlockSize + in_block,
		                      data.data() + done, n);
		done += n;
	}
}

void EmbeddedVolume::write_blocks(Transaction &txn, ExtentMap &map, DiskInode &di, uint64_t off,
                                  std::span<const std::byte> data, bool reserved)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	uint64_t end = range_end("write", off, data.size());
	uint64_t first = off / kBlockSize, last = (end + kBlockSize - 1) / kBlockSize;
	// Past the old end-of-file the last block may hold bytes of the file as it once was
	// (a truncate keeps the block): they must read as zeros once the file covers them.
	if (off > di.size)
		zero_mapped(map, di.size, std::min(off, blocks_for(di.size) * kBlockSize));
	allocate_range(txn, map, first, last - first, off, end, reserved);
	// The data is durable before the caller commits the extents and size that expose it.
	store_data(map, off, data);
	di.size = std::max(di.size, end);
	di.mtime_ns = unix_now_ns();
}

void EmbeddedVolume::allocate_range(Transaction &txn, ExtentMap &map, uint64_t first,
                                    uint64_t count, uint64_t keep_from, uint64_t keep_to,
                                    bool reserved)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	// Allocate every hole first: if that fails, nothing has been written.
	for (uint64_t lblk = first; lblk < first + count;) {
		auto [pblk, blocks] = map.run_of(lblk); // run by run: a huge range is no slower
		if (pblk) {
			lblk += blocks;
			continue;
		}
		uint64_t hole_end = std::min(first + count, lblk + blocks);
		uint64_t goal = 0;
		if (lblk > 0)
			if (auto prev = map.pblk_of(lblk - 1))
				goal = *prev + 1;
		// Where a whole 2 MiB of the file is being filled, place it 2 MiB-aligned in the
		// pool too, so that it can be mapped with one huge page.
		bool huge = lblk % kHugeBlocks == 0 && hole_end - lblk >= kHugeBlocks;
		auto run =
		    alloc_->allocate(txn, hole_end - lblk, goal, huge ? kHugeBlocks : 1, reserved);
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

CachedPage &EmbeddedVolume::cached_page(uint64_t ino, InCore &ic, uint64_t index,
                                        std::optional<ExtentMap> &map, bool whole)
{
	bool fresh = false;
	CachedPage &filled = ic.cache.page(index, fresh);
	if (!fresh || whole) // found, or about to be overwritten: nothing to read in
		return filled;
	if (!map)
		map.emplace(*pool_, inode(ino));
	read_blocks(*map, index * kBlockSize, filled.data);
	// What lies past end-of-file in the last block is not the file's: a write past EOF
	// must not make it so.
	uint64_t size = size_of(ino, ic);
	if (size < (index + 1) * kBlockSize) {
		size_t keep = size > index * kBlockSize ? size_t(size - index * kBlockSize) : 0;
		std::memset(filled.data.data() + keep, 0, kBlockSize - keep);
	}
	return filled;
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

uint64_t EmbeddedVolume::size_of(uint64_t ino, const InCore &ic) const
{
	return ic.cache.size ? *ic.cache.size : inode(ino).size;
}

uint64_t EmbeddedVolume::file_size(uint64_t ino) const
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	auto it = in_core_.find(ino);
	return it != in_core_.end() ? size_of(ino, it->second) : inode(ino).size;
}

size_t EmbeddedVolume::read_file(uint64_t ino, InCore &ic, uint64_t off, std::span<std::byte> out)
{
	uint64_t size = size_of(ino, ic);
	if (off >= size)
		return 0;
	out = out.first(static_cast<size_t>(std::min<uint64_t>(out.size(), size - off)));
	if (ic.effective_dax) {
		read_blocks(ExtentMap(*pool_, inode(ino)), off, out);
		return out.size();
	}
	std::optional<ExtentMap> map;
	for (size_t done = 0; done < out.size();) {
		uint64_t pos = off + done;
		uint64_t in_page = pos % kBlockSize;
		size_t n = std::min<size_t>(kBlockSize - in_page, out.size() - done);
		std::memcpy(out.data() + done,
		            cached_page(ino, ic, pos / kBlockSize, map).data.data() + in_page, n);
		done += n;
	}
	trim_cache(ic);
	return out.size();
}

void EmbeddedVolume::write_file(EmbeddedSession *writer, uint64_t ino, InCore &ic, uint64_t off,
                                std::span<const std::byte> data)
{
	DAXPOLICY_ASSERT_EXCLUSIVE(ic.ilock);
	if (data.empty())
		return;
	uint64_t end = range_end("write", off, data.size());
	if (ic.effective_dax) {
		// DAX: straight to the pool, persistent when this returns.
		const DiskInode &now = inode(ino);
		ExtentMap map(*pool_, now);
		if (end <= now.size && map.covers(off / kBlockSize, blocks_for(end))) {
			// An overwrite changes no metadata but mtime, so it needs no transaction:
			// the data is durable when store_data returns. mtime is stored in place
			// (one aligned word) and flushed lazily, as lazytime does.
			store_data(map, off, data);
			inode(ino).mtime_ns = unix_now_ns();
			ic.mtime_unflushed = true;
			return;
		}
		std::lock_guard lock(mutex_);
		break_for_allocation(writer, ino, map, off, data.size(), LayoutOp::write);
		Transaction txn(journal_);
		DiskInode di = now;
		write_blocks(txn, map, di, off, data);
		map.store(txn, *alloc_, di);
		stage_inode(txn, ino, di);
		txn.commit();
		ic.mtime_unflushed = false; // the commit made the new mtime durable
		return;
	}
	uint64_t size = size_of(ino, ic);
	std::vector<uint64_t> pages;
	if (off > size && size % kBlockSize)
		pages.push_back(size / kBlockSize);
	for (uint64_t index = off / kBlockSize; index < blocks_for(end); index++)
		pages.push_back(index);
	std::optional<ExtentMap> map;
	reserve_cached(ino, ic, map, pages);
	// Growing past a partial last page: that page, read in with zeros past end-of-file,
	// goes back dirty, so the zeros reach the pool over whatever the block held.
	if (off > size && size % kBlockSize) {
		cached_page(ino, ic, size / kBlockSize, map);
		ic.cache.mark_dirty(size / kBlockSize);
	}
	for (size_t done = 0; done < data.size();) {
		uint64_t pos = off + done;
		uint64_t index = pos / kBlockSize, in_page = pos % kBlockSize;
		size_t n = std::min<size_t>(kBlockSize - in_page, data.size() - done);
		CachedPage &page = cached_page(ino, ic, index, map, n == kBlockSize);
		std::memcpy(page.data.data() + in_page, data.data() + done, n);
		ic.cache.mark_dirty(index);
		done += n;
	}
	std::lock_guard lock(mutex_);
	if (end > size)
		ic.cache.size = end;
	// A bounded cache: past kDirtyPagesMax the file is written back now, as the kernel's
	// dirty throttling does, so no client can make the daemon hold unbounded DRAM.
	if (ic.cache.dirty_pages().size() > kDirtyPagesMax ||
	    cache_totals_.dirty > kVolumeDirtyPagesMax) {
		try {
			writeback(ino);
		} catch (const Error &) {
			// The write itself is in the cache, its blocks reserved; fsync reports
			// what keeps it from the pool.
		}
	}
	trim_cache(ic);
}

void EmbeddedVolume::reserve_cached(uint64_t ino, InCore &ic, std::optional<ExtentMap> &map,
                                    const std::vector<uint64_t> &pages)
{
	DAXPOLICY_ASSERT_EXCLUSIVE(ic.ilock);
	// The pages about to be dirtied that no block backs yet will need one at write-back:
	// reserve them now, or refuse the write with nothing changed.
	if (!map)
		map.emplace(*pool_, inode(ino));
	std::vector<uint64_t> unbacked;
	for (uint64_t index : pages)
		if (!ic.cache.reserved.count(index) && !map->pblk_of(index))
			unbacked.push_back(index);
	if (unbacked.empty())
		return;
	{
		std::lock_guard lock(mutex_);
		alloc_->reserve(unbacked.size());
	}
	ic.cache.reserved.insert(unbacked.begin(), unbacked.end());
}

void EmbeddedVolume::trim_cache(InCore &ic)
{
	DAXPOLICY_ASSERT_EXCLUSIVE(ic.ilock);
	// Clean pages can be read again from the pool; dirty ones stay until written back.
	if (ic.cache.pages() > kCachedPagesMax || cache_totals_.pages > kVolumeCachedPagesMax)
		ic.cache.drop_clean();
}

void EmbeddedVolume::writeback(uint64_t ino)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	InCore &ic = in_core_.at(ino);
	PageCache &cache = ic.cache;
	if (!cache.dirty())
		return;
	uint64_t size = file_size(ino);
	std::vector<uint64_t> dirty;
	for (uint64_t index : cache.dirty_pages())
		if (index * kBlockSize < size) // pages past end-of-file were cut off: dropped
			dirty.push_back(index);
	// In bounded transactions of at most kWritebackChunk bytes, each advancing the size on
	// the pool no further than what it wrote, as ext4 advances i_disksize: a crash part-way
	// leaves a consistent file holding a prefix of the write-back. Each run of consecutive
	// dirty pages goes back in one write (of at most 1 MiB, through one reused buffer), so
	// contiguous blocks are allocated together and persisted with one flush.
	constexpr size_t kRunMax = 1 << 20;
	std::vector<std::byte> run;
	run.reserve(kRunMax);
	size_t next = 0;
	do {
		Transaction txn(journal_);
		DiskInode di = inode(ino);
		ExtentMap map(*pool_, di);
		uint64_t run_start = 0, chunk_bytes = 0, written_end = di.size;
		auto write_run = [&] {
			if (run.empty())
				return;
			write_blocks(txn, map, di, run_start, run, true);
			written_end = std::max(written_end, run_start + run.size());
			chunk_bytes += run.size();
			run.clear();
		};
		size_t first = next;
		for (; next < dirty.size() && chunk_bytes + run.size() < kWritebackChunk; next++) {
			uint64_t start = dirty[next] * kBlockSize;
			if (!run.empty() &&
			    (run_start + run.size() != start || run.size() == kRunMax))
				write_run();
			if (run.empty())
				run_start = start;
			const CachedPage &page = cache.at(dirty[next]);
			size_t n =
			    static_cast<size_t>(std::min<uint64_t>(kBlockSize, size - start));
			run.insert(run.end(), page.data.begin(), page.data.begin() + n);
		}
		write_run();
		di.size = next == dirty.size() ? size : std::min(size, written_end);
		map.store(txn, *alloc_, di);
		stage_inode(txn, ino, di);
		txn.commit();
		for (size_t i = first; i < next; i++) {
			cache.mark_clean(dirty[i]);
			if (cache.reserved.erase(dirty[i]))
				alloc_->unreserve(1);
		}
	} while (next < dirty.size());
	alloc_->unreserve(cache.reserved.size()); // pages past end-of-file: nothing to write
	cache.reserved.clear();
	for (uint64_t index : std::vector(cache.dirty_pages().begin(), cache.dirty_pages().end()))
		cache.mark_clean(index); // past end-of-file: cut off, nothing to write
	cache.size.reset();
	ic.mtime_unflushed = false;
}

void EmbeddedVolume::sync_file(uint64_t ino, InCore &ic)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	writeback(ino);
	// Cleared once durable: a failed flush leaves it owed, for the next fsync or last user.
	if (ic.mtime_unflushed) {
		pool_->persist(&inode(ino).mtime_ns, sizeof(uint64_t));
		ic.mtime_unflushed = false;
	}
}

EmbeddedVolume::InCore &EmbeddedVolume::get_in_core(uint64_t ino)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	auto [it, fresh] = in_core_.try_emplace(ino);
	if (fresh) {
		it->second.effective_dax = effective_for(inode(ino));
		it->second.cache.count_in(cache_totals_);
	}
	return it->second;
}

void EmbeddedVolume::put_in_core(uint64_t ino, bool was_map)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	InCore &ic = in_core_.at(ino);
	(was_map ? ic.maps : ic.opens)--;
	const DiskInode &di = inode(ino);
	if (was_map && ic.maps == 0)
		queued_events_.push_back({VolumeEvent::Kind::unmapped,
		                          ino,
		                          di.generation,
		                          di.nlink ? names_.path_of(ino) : std::string(),
		                          {},
		                          {}});
	release_if_unused(ino);
}

void EmbeddedVolume::release_if_unused(uint64_t ino)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	InCore &ic = in_core_.at(ino);
	if (ic.opens + ic.maps + ic.refs > 0)
		return;
	// Last user: cached data reaches the pool before the in-core state (and with it the
	// effective mode) can go. If write-back fails the state stays, and so does the mode.
	sync_file(ino, ic);
	in_core_.erase(ino);
	const DiskInode &di = inode(ino);
	if (di.nlink == 0) {
		free_orphan(ino);
		return;
	}
	queued_events_.push_back(
	    {VolumeEvent::Kind::released, ino, di.generation, names_.path_of(ino), {}, {}});
}

} // namespace daxpolicy::fscore
