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

namespace daxpolicy::fscore
{

struct CachedPage {
	std::array<std::byte, kBlockSize> data;
	bool dirty = false;
};

struct PageCache {
	std::map<uint64_t, CachedPage> pages; // by page index
	// The file's size as cached writes left it; the pool learns it at write-back.
	std::optional<uint64_t> size;

	bool dirty() const
	{
		if (size)
			return true;
		for (const auto &[i, p] : pages)
			if (p.dirty)
				return true;
		return false;
	}
};

} // namespace daxpolicy::fscore
