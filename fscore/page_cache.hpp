// The page cache of a file that is not DAX: DRAM copies of its blocks. Writes go here and
// reach the pool at fsync, at last close and before the effective mode can change (which is
// only after last close), so a mode switch never loses cached data.
#pragma once

#include "fscore/layout.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>

namespace daxpolicy::fscore
{

// Bounds on what one file's cache may hold: past kDirtyPagesMax dirty pages a write writes
// the file back; past kCachedPagesMax pages, clean ones are dropped. Write-back goes in
// transactions of at most kWritebackChunk bytes of data.
inline constexpr size_t kDirtyPagesMax = 16384;  // 64 MiB
inline constexpr size_t kCachedPagesMax = 32768; // 128 MiB
inline constexpr uint64_t kWritebackChunk = 64ull << 20;

struct CachedPage {
	std::array<std::byte, kBlockSize> data;
};

struct PageCache {
	std::map<uint64_t, CachedPage> pages; // by page index
	// Indexes of the pages written since the last write-back: write-back and fsync cost
	// what is dirty, not what is cached.
	std::set<uint64_t> dirty_pages;
	// Dirty pages with no block behind them yet, whose block the allocator has reserved
	// (BlockAllocator::reserve): write-back cannot find the pool full.
	std::set<uint64_t> reserved;
	// The file's size as cached writes left it; the pool learns it at write-back.
	std::optional<uint64_t> size;

	bool dirty() const { return size || !dirty_pages.empty(); }
};

} // namespace daxpolicy::fscore
