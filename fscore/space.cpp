// Space operations of the embedded core: truncate and fallocate's modes, with the kernel's
// rules for alignment and errors. Each is one journal transaction.
#include "fscore/clock.hpp"
#include "fscore/embedded_volume.hpp"
#include "fscore/error.hpp"
#include "fscore/superblock.hpp"

namespace daxpolicy::fscore
{

namespace
{

constexpr uint64_t kMaxFileSize = kMaxFileBlocks * kBlockSize;

void check_aligned(const char *op, uint64_t off, uint64_t len)
{
	if (off % kBlockSize || len % kBlockSize)
		throw Error(Errc::invalid_argument,
		            std::string(op) + ": offset and length must be multiples of 4096");
}

} // namespace

const char *layout_op_name(LayoutOp op)
{
	switch (op) {
	case LayoutOp::truncate:
		return "truncate";
	case LayoutOp::punch_hole:
		return "punch-hole";
	case LayoutOp::zero_range:
		return "zero-range";
	case LayoutOp::collapse_range:
		return "collapse-range";
	case LayoutOp::insert_range:
		return "insert-range";
	case LayoutOp::allocate:
		return "allocate";
	case LayoutOp::write:
		return "write";
	case LayoutOp::flag_change:
		return "flag-change";
	}
	return "write";
}

void EmbeddedVolume::drop_cache(uint64_t ino)
{
	// The blocks under the cache are about to move or go: write back what is dirty, then
	// forget it all, as truncate_pagecache_range does.
	auto it = in_core_.find(ino);
	if (it == in_core_.end() || it->second.effective_dax)
		return;
	writeback(ino);
	it->second.cache.pages.clear();
}

void EmbeddedVolume::commit_layout(Transaction &txn, uint64_t ino, DiskInode &di,
                                   const ExtentMap &map)
{
	if (map.last_lblk() > blocks_for(di.size))
		di.flags |= kInodeFlagEofBlocks;
	else
		di.flags &= ~kInodeFlagEofBlocks;
	di.mtime_ns = di.ctime_ns = now_ns();
	map.store(txn, *alloc_, di);
	stage_inode(txn, ino, di);
	txn.commit();
}

void EmbeddedVolume::truncate_locked(uint64_t ino, uint64_t size)
{
	if (size > kMaxFileSize)
		throw Error(Errc::invalid_argument, "truncate: size beyond the largest file");
	drop_cache(ino);
	DiskInode di = inode(ino);
	ExtentMap map(*pool_, di);
	Transaction txn(journal_);
	// Everything past the new end goes, preallocated blocks included, as in the kernel.
	uint64_t keep = blocks_for(size);
	release_or_quarantine(txn, ino, map.remove(keep, kMaxFileBlocks - keep));
	if (size > di.size)
		zero_mapped(map, di.size, std::min(size, blocks_for(di.size) * kBlockSize));
	di.size = size;
	commit_layout(txn, ino, di, map);
}

void EmbeddedVolume::fallocate_locked(uint64_t ino, LayoutOp op, uint64_t off, uint64_t len,
                                      bool keep_size)
{
	const char *name = layout_op_name(op);
	if (len == 0)
		throw Error(Errc::invalid_argument,
		            std::string(name) + ": length must not be zero");
	if (off > kMaxFileSize || len > kMaxFileSize - off)
		throw Error(Errc::invalid_argument,
		            std::string(name) + ": range beyond the largest file");
	uint64_t end = off + len;
	uint64_t size = file_size(ino);
	if (op == LayoutOp::collapse_range || op == LayoutOp::insert_range) {
		check_aligned(name, off, len);
		if (op == LayoutOp::collapse_range && end >= size)
			throw Error(Errc::invalid_argument,
			            "collapse-range: the range must end before end-of-file");
		if (op == LayoutOp::insert_range && off >= size)
			throw Error(Errc::invalid_argument,
			            "insert-range: the offset must be before end-of-file");
		if (op == LayoutOp::insert_range && len > kMaxFileSize - size)
			throw Error(Errc::invalid_argument,
			            "insert-range: the file would be too large");
	}
	drop_cache(ino);
	DiskInode di = inode(ino);
	ExtentMap map(*pool_, di);
	Transaction txn(journal_);
	uint64_t first_full = blocks_for(off), last_full = end / kBlockSize;
	auto punch_blocks = [&] {
		// Partial blocks at the edges keep their blocks and lose the bytes in range.
		zero_mapped(map, off, std::min(end, first_full * kBlockSize));
		if (last_full >= first_full)
			zero_mapped(map, std::max(off, last_full * kBlockSize), end);
		if (last_full > first_full)
			release_or_quarantine(txn, ino,
			                      map.remove(first_full, last_full - first_full));
	};
	auto grow_to = [&](uint64_t new_size) {
		if (keep_size || new_size <= di.size)
			return;
		zero_mapped(map, di.size, std::min(new_size, blocks_for(di.size) * kBlockSize));
		di.size = new_size;
	};
	switch (op) {
	case LayoutOp::allocate:
		allocate_range(txn, map, off / kBlockSize, blocks_for(end) - off / kBlockSize, 0,
		               0);
		grow_to(end);
		break;
	case LayoutOp::punch_hole:
		punch_blocks();
		break;
	case LayoutOp::zero_range:
		// Fresh zeroed blocks for the whole blocks in range, as xfs converts them to
		// unwritten extents: the extent map changes, not just the data.
		punch_blocks();
		if (last_full > first_full)
			allocate_range(txn, map, first_full, last_full - first_full, 0, 0);
		grow_to(end);
		break;
	case LayoutOp::collapse_range:
		release_or_quarantine(txn, ino, map.remove(off / kBlockSize, len / kBlockSize));
		map.shift(end / kBlockSize, -int64_t(len / kBlockSize));
		di.size -= len;
		break;
	case LayoutOp::insert_range:
		if (map.last_lblk() + len / kBlockSize > kMaxFileBlocks)
			throw Error(Errc::invalid_argument,
			            "insert-range: the file would be too large");
		map.shift(off / kBlockSize, int64_t(len / kBlockSize));
		di.size += len;
		break;
	default:
		throw Error(Errc::internal, std::string(name) + " is not a fallocate mode");
	}
	commit_layout(txn, ino, di, map);
}

} // namespace daxpolicy::fscore
