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
                                  std::span<const std::byte> data)
{
	uint64_t end = off + data.size();
	uint64_t first = off / kBlockSize, last = (end + kBlockSize - 1) / kBlockSize;
	if (last > kMaxFileBlocks)
		throw Error(Errc::invalid_argument, "offset beyond the largest file");
	// Past the old end-of-file the last block may hold bytes of the file as it once was
	// (a truncate keeps the block): they must read as zeros once the file covers them.
	if (off > di.size)
		zero_mapped(map, di.size, std::min(off, blocks_for(di.size) * kBlockSize));
	allocate_range(txn, map, first, last - first, off, end);
	// The data is durable before the caller commits the extents and size that expose it.
	store_data(map, off, data);
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

CachedPage &EmbeddedVolume::cached_page(uint64_t ino, InCore &ic, uint64_t index,
                                        std::optional<ExtentMap> &map, bool whole)
{
	if (auto page = ic.cache.pages.find(index); page != ic.cache.pages.end())
		return page->second;
	if (whole)
		return ic.cache.pages[index]; // about to be overwritten: nothing to read in
	if (!map)
		map.emplace(*pool_, inode(ino));
	CachedPage &filled = ic.cache.pages[index];
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
	return out.size();
}

void EmbeddedVolume::write_file(Session *writer, uint64_t ino, InCore &ic, uint64_t off,
                                std::span<const std::byte> data)
{
	if (data.empty())
		return;
	if (ic.effective_dax) {
		// DAX: straight to the pool, persistent when this returns.
		const DiskInode &now = inode(ino);
		ExtentMap map(*pool_, now);
		uint64_t end = off + data.size();
		if (end <= now.size && map.covers(off / kBlockSize, blocks_for(end))) {
			// An overwrite changes no metadata but mtime, so it needs no transaction:
			// the data is durable when store_data returns. mtime is stored in place
			// (one aligned word) and flushed lazily, as lazytime does.
			store_data(map, off, data);
			inode(ino).mtime_ns = now_ns();
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
	// Growing past a partial last page: that page, read in with zeros past end-of-file,
	// goes back dirty, so the zeros reach the pool over whatever the block held.
	std::optional<ExtentMap> map;
	if (off > size && size % kBlockSize) {
		cached_page(ino, ic, size / kBlockSize, map);
		ic.cache.dirty_pages.insert(size / kBlockSize);
	}
	for (size_t done = 0; done < data.size();) {
		uint64_t pos = off + done;
		uint64_t index = pos / kBlockSize, in_page = pos % kBlockSize;
		size_t n = std::min<size_t>(kBlockSize - in_page, data.size() - done);
		CachedPage &page = cached_page(ino, ic, index, map, n == kBlockSize);
		std::memcpy(page.data.data() + in_page, data.data() + done, n);
		ic.cache.dirty_pages.insert(index);
		done += n;
	}
	if (off + data.size() > size) {
		std::lock_guard lock(mutex_);
		ic.cache.size = off + data.size();
	}
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
	// Each run of consecutive dirty pages goes back in one write (of at most 1 MiB, through
	// one reused buffer), so contiguous blocks are allocated together and persisted with
	// one flush.
	constexpr size_t kRunMax = 1 << 20;
	std::vector<std::byte> run;
	run.reserve(kRunMax);
	uint64_t run_start = 0;
	auto write_run = [&] {
		if (!run.empty())
			write_blocks(txn, map, di, run_start, run);
		run.clear();
	};
	for (uint64_t index : cache.dirty_pages) {
		uint64_t start = index * kBlockSize;
		if (start >= size)
			break;
		if (!run.empty() && (run_start + run.size() != start || run.size() == kRunMax))
			write_run();
		if (run.empty())
			run_start = start;
		const CachedPage &page = cache.pages.at(index);
		size_t n = static_cast<size_t>(std::min<uint64_t>(kBlockSize, size - start));
		run.insert(run.end(), page.data.begin(), page.data.begin() + n);
	}
	write_run();
	di.size = size;
	map.store(txn, *alloc_, di);
	stage_inode(txn, ino, di);
	txn.commit();
	cache.dirty_pages.clear();
	cache.size.reset();
	in_core_.at(ino).mtime_unflushed = false;
}

void EmbeddedVolume::sync_file(uint64_t ino, InCore &ic)
{
	writeback(ino);
	if (std::exchange(ic.mtime_unflushed, false))
		pool_->persist(&inode(ino).mtime_ns, sizeof(uint64_t));
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
	release_if_unused(ino);
}

void EmbeddedVolume::release_if_unused(uint64_t ino)
{
	InCore &ic = in_core_.at(ino);
	if (ic.opens + ic.maps + ic.refs > 0)
		return;
	// Last user: cached data reaches the pool before the in-core state (and with it the
	// effective mode) can go. If write-back fails the state stays, and so does the mode.
	sync_file(ino, ic);
	in_core_.erase(ino);
	const DiskInode &di = inode(ino);
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
