// SPDX-License-Identifier: BSD-3-Clause
// Space operations of the embedded core: truncate and fallocate's modes, with the kernel's
// rules for alignment and errors. Each is one journal transaction.
#include "fscore/embedded/space.hpp"

#include "common/clock.hpp"
#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/superblock.hpp"
#include "fscore/embedded/range.hpp"

#include <algorithm>

namespace daxpolicy::fscore
{

namespace
{

void check_aligned(const char *op, uint64_t off, uint64_t len)
{
	if (off % kBlockSize || len % kBlockSize)
		throw Error(Errc::invalid_argument,
		            std::string(op) + ": offset and length must be multiples of 4096");
}

} // namespace

void EmbeddedVolume::drop_cache(uint64_t ino)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	// The blocks under the cache are about to move or go: write back what is dirty, then
	// forget it all, as truncate_pagecache_range does.
	auto it = in_core_.find(ino);
	if (it == in_core_.end() || it->second.effective_dax)
		return;
	writeback(ino);
	it->second.cache.drop_all();
}

void EmbeddedVolume::commit_layout(Transaction &txn, uint64_t ino, DiskInode &di,
                                   const ExtentMap &map)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	if (map.last_lblk() > blocks_for(di.size))
		di.flags |= kInodeFlagEofBlocks;
	else
		di.flags &= ~kInodeFlagEofBlocks;
	di.mtime_ns = di.ctime_ns = unix_now_ns();
	map.store(txn, *alloc_, di);
	stage_inode(txn, ino, di);
	txn.commit();
}

void check_truncate(uint64_t size)
{
	if (size > kMaxFileSize)
		throw Error(Errc::invalid_argument, "truncate: size beyond the largest file");
}

void check_fallocate(LayoutOp op, uint64_t off, uint64_t len, uint64_t size)
{
	const char *name = layout_op_name(op);
	switch (op) {
	case LayoutOp::allocate:
	case LayoutOp::punch_hole:
	case LayoutOp::zero_range:
	case LayoutOp::collapse_range:
	case LayoutOp::insert_range:
		break;
	default:
		throw Error(Errc::invalid_argument, std::string(name) + ": not a fallocate mode");
	}
	if (len == 0)
		throw Error(Errc::invalid_argument,
		            std::string(name) + ": length must not be zero");
	uint64_t end = range_end(name, off, len);
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
}

bool EmbeddedVolume::free_blocks(uint64_t ino, uint64_t first, uint64_t last)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	// From the end of the range down, a bounded step at a time, each its own transaction,
	// as xfs frees extents through deferred frees and ext4 truncates in restartable steps:
	// a file of any size is freed however small the journal. Every step leaves a
	// consistent file (the range partly freed), so a crash between steps needs no repair.
	const uint64_t last_asked = last;
	for (;;) {
		DiskInode di = inode(ino);
		ExtentMap map(*pool_, di);
		const auto &extents = map.extents();
		uint64_t cut = last, blocks = 0;
		size_t taken = 0;
		for (auto e = extents.rbegin(); e != extents.rend(); ++e) {
			uint64_t start = std::max<uint64_t>(e->lblk, first);
			uint64_t end = std::min<uint64_t>(uint64_t{e->lblk} + e->len, last);
			if (end <= first)
				break;
			if (start >= end)
				continue;
			if (taken == options_.free_step_extents)
				break;
			uint64_t take = std::min(end - start, options_.free_step_blocks - blocks);
			cut = end - take;
			blocks += take;
			taken++;
			if (blocks == options_.free_step_blocks)
				break;
		}
		if (taken == 0)
			return last != last_asked;
		Transaction txn(journal_);
		release_or_quarantine(txn, ino, map.remove(cut, last - cut));
		commit_layout(txn, ino, di, map);
		last = cut;
	}
}

void EmbeddedVolume::truncate_locked(uint64_t ino, uint64_t size)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	check_truncate(size);
	drop_cache(ino);
	DiskInode di = inode(ino);
	ExtentMap map(*pool_, di);
	{
		// The size first: what lies past it is then blocks past end-of-file, which
		// commit_layout marks as such, and which the steps below free.
		Transaction txn(journal_);
		if (size > di.size)
			zero_mapped(map, di.size, std::min(size, blocks_for(di.size) * kBlockSize));
		di.size = size;
		commit_layout(txn, ino, di, map);
	}
	// Everything past the new end goes, preallocated blocks included, as in the kernel.
	free_blocks(ino, blocks_for(size), kMaxFileBlocks);
}

void EmbeddedVolume::fallocate_locked(uint64_t ino, LayoutOp op, uint64_t off, uint64_t len,
                                      bool keep_size)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	// Checked again: a break may have let the file change since the caller checked.
	check_fallocate(op, off, len, file_size(ino));
	uint64_t end = off + len;
	drop_cache(ino);
	uint64_t first_full = blocks_for(off), last_full = end / kBlockSize;
	auto punch_blocks = [&] {
		// Partial blocks at the edges keep their blocks and lose the bytes in range.
		ExtentMap map(*pool_, inode(ino));
		zero_mapped(map, off, std::min(end, first_full * kBlockSize));
		if (last_full >= first_full)
			zero_mapped(map, std::max(off, last_full * kBlockSize), end);
		return last_full > first_full && free_blocks(ino, first_full, last_full);
	};
	bool freed = false;
	if (op == LayoutOp::punch_hole || op == LayoutOp::zero_range)
		freed = punch_blocks();
	if (op == LayoutOp::punch_hole) {
		if (!freed) { // only edges or holes: the data and mtime still changed
			DiskInode di = inode(ino);
			Transaction txn(journal_);
			commit_layout(txn, ino, di, ExtentMap(*pool_, di));
		}
		return;
	}
	DiskInode di = inode(ino);
	ExtentMap map(*pool_, di);
	Transaction txn(journal_);
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
	case LayoutOp::zero_range:
		// Fresh zeroed blocks for the whole blocks in range, as xfs converts them to
		// unwritten extents: the extent map changes, not just the data.
		if (last_full > first_full)
			allocate_range(txn, map, first_full, last_full - first_full, 0, 0);
		grow_to(end);
		break;
	case LayoutOp::collapse_range:
		// One transaction: the range goes and what follows moves down together. One too
		// large for the journal fails with no-space, having changed nothing.
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
		throw Error(Errc::internal, std::string(layout_op_name(op)) + " is not handled");
	}
	commit_layout(txn, ino, di, map);
}

} // namespace daxpolicy::fscore
