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

struct CachedPage {
	std::array<std::byte, kBlockSize> data;
};

struct PageCache {
	std::map<uint64_t, CachedPage> pages; // by page index
	// Indexes of the pages written since the last write-back: write-back and fsync cost
	// what is dirty, not what is cached.
	std::set<uint64_t> dirty_pages;
	// The file's size as cached writes left it; the pool learns it at write-back.
	std::optional<uint64_t> size;

	bool dirty() const { return size || !dirty_pages.empty(); }
};

} // namespace daxpolicy::fscore
