// SPDX-License-Identifier: BSD-3-Clause
// The page cache of a file that is not DAX: DRAM copies of its blocks. Writes go here and
// reach the pool at fsync, at last close and before the effective mode can change (which is
// only after last close), so a mode switch never loses cached data.
#pragma once

#include "fscore/embedded/ondisk/layout.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>

namespace daxpolicy::fscore
{

// Bounds on what the page cache may hold, per file and in all on a volume: past a dirty
// bound a write writes its file back (as the kernel's balance_dirty_pages makes the writer
// do the work), and past a size bound clean pages are dropped. Write-back goes in
// transactions of at most kWritebackChunk bytes of data.
inline constexpr size_t kDirtyPagesMax = 16384;        // 64 MiB a file
inline constexpr size_t kCachedPagesMax = 32768;       // 128 MiB a file
inline constexpr size_t kVolumeDirtyPagesMax = 32768;  // 128 MiB a volume
inline constexpr size_t kVolumeCachedPagesMax = 65536; // 256 MiB a volume
inline constexpr uint64_t kWritebackChunk = 64ull << 20;

struct CachedPage {
	std::array<std::byte, kBlockSize> data;
};

// A volume's count of cached and of dirty pages over all its files. Atomic: files change
// their caches in parallel, each under its own ilock.
struct CacheTotals {
	std::atomic<uint64_t> pages{0};
	std::atomic<uint64_t> dirty{0};
};

class PageCache
{
      public:
	PageCache() = default;
	~PageCache();
	PageCache(const PageCache &) = delete;
	PageCache &operator=(const PageCache &) = delete;
	// Counts this cache in `totals` from now on (once, before the first page).
	void count_in(CacheTotals &totals) { totals_ = &totals; }

	// The page at `index`: found, or made (uninitialised) with `fresh` set.
	CachedPage &page(uint64_t index, bool &fresh);
	CachedPage *find(uint64_t index);
	const CachedPage &at(uint64_t index) const { return pages_.at(index); }
	size_t pages() const { return pages_.size(); }

	void mark_dirty(uint64_t index);
	void mark_clean(uint64_t index);
	const std::set<uint64_t> &dirty_pages() const { return dirty_; }
	// Forgets every page, dirty ones included (after write-back, or when they are cut off).
	void drop_all();
	// Forgets the clean pages: they can be read again from the pool.
	void drop_clean();

	// Dirty pages with no block behind them yet, whose block the allocator has reserved
	// (BlockAllocator::reserve): write-back cannot find the pool full.
	std::set<uint64_t> reserved;
	// The file's size as cached writes left it; the pool learns it at write-back.
	std::optional<uint64_t> size;

	bool dirty() const { return size || !dirty_.empty(); }

      private:
	std::map<uint64_t, CachedPage> pages_; // by page index
	// Indexes of the pages written since the last write-back: write-back and fsync cost
	// what is dirty, not what is cached.
	std::set<uint64_t> dirty_;
	CacheTotals *totals_ = nullptr;
};

inline PageCache::~PageCache()
{
	drop_all();
}

inline CachedPage &PageCache::page(uint64_t index, bool &fresh)
{
	auto [it, inserted] = pages_.try_emplace(index);
	fresh = inserted;
	if (inserted && totals_)
		totals_->pages++;
	return it->second;
}

inline CachedPage *PageCache::find(uint64_t index)
{
	auto it = pages_.find(index);
	return it == pages_.end() ? nullptr : &it->second;
}

inline void PageCache::mark_dirty(uint64_t index)
{
	if (dirty_.insert(index).second && totals_)
		totals_->dirty++;
}

inline void PageCache::mark_clean(uint64_t index)
{
	if (dirty_.erase(index) && totals_)
		totals_->dirty--;
}

inline void PageCache::drop_all()
{
	if (totals_) {
		totals_->pages -= pages_.size();
		totals_->dirty -= dirty_.size();
	}
	pages_.clear();
	dirty_.clear();
}

inline void PageCache::drop_clean()
{
	size_t before = pages_.size();
	std::erase_if(pages_, [&](const auto &p) { return !dirty_.count(p.first); });
	if (totals_)
		totals_->pages -= before - pages_.size();
}

} // namespace daxpolicy::fscore
