// SPDX-License-Identifier: BSD-3-Clause
// A pool: a file or devdax device mapped with libpmem2, and the persistence primitives of that
// mapping. Every durable store in the embedded core goes through these functions, so the
// ordering the journal relies on is visible in one place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

struct pmem2_map;
struct pmem2_source;
struct pmem2_config;

namespace daxpolicy::fscore
{

// Sees every persistence primitive of a pool, in order: the crash-image harness builds the
// images a power loss could leave from it.
class PersistObserver
{
      public:
	virtual ~PersistObserver() = default;
	// `bytes`, at `offset` in the pool, are on their way to the medium.
	virtual void flushed(uint64_t offset, std::span<const std::byte> bytes) = 0;
	// A fence: everything flushed before is durable.
	virtual void drained() = 0;
};

class PmemPool
{
      public:
	// Creates a sparse pool file of `size` bytes; fails with `exists` if the file is there.
	// A devdax character device is used as it is (its size is the device's).
	static std::unique_ptr<PmemPool> create(const std::filesystem::path &path, uint64_t size);
	static std::unique_ptr<PmemPool> open(const std::filesystem::path &path);
	~PmemPool();
	PmemPool(const PmemPool &) = delete;
	PmemPool &operator=(const PmemPool &) = delete;

	std::byte *base() const { return base_; }
	uint64_t size() const { return size_; }
	// "byte", "cache-line" or "page": the smallest unit libpmem2 says survives power loss
	// once persisted. "page" on ordinary files, where persist means msync.
	const char *granularity() const;
	const std::filesystem::path &path() const { return path_; }

	// flush + drain: [addr, addr+len) is durable when this returns.
	void persist(const void *addr, size_t len) const;
	// Starts write-back of a range; only drain() makes it durable. Used to batch ranges.
	void flush(const void *addr, size_t len) const;
	void drain() const;
	// Copies and persists. Large copies bypass the CPU cache (non-temporal stores).
	void memcpy_persist(void *dst, const void *src, size_t len) const;
	void memset_persist(void *dst, int byte, size_t len) const;
	// For crash testing only: nullptr (the default) observes nothing.
	void set_observer(PersistObserver *observer) { observer_ = observer; }

      private:
	PmemPool(std::filesystem::path path, int fd);
	void refuse_what_cannot_be_a_pool() const;
	void map();
	uint64_t offset_of(const void *addr) const;

	std::filesystem::path path_;
	int fd_ = -1;
	pmem2_source *source_ = nullptr;
	pmem2_config *config_ = nullptr;
	pmem2_map *map_ = nullptr;
	std::byte *base_ = nullptr;
	uint64_t size_ = 0;
	using persist_fn = void (*)(const void *, size_t);
	using drain_fn = void (*)(void);
	using memcpy_fn = void *(*)(void *, const void *, size_t, unsigned);
	using memset_fn = void *(*)(void *, int, size_t, unsigned);
	persist_fn persist_ = nullptr;
	persist_fn flush_ = nullptr;
	drain_fn drain_ = nullptr;
	memcpy_fn memcpy_ = nullptr;
	memset_fn memset_ = nullptr;
	PersistObserver *observer_ = nullptr;
};

} // namespace daxpolicy::fscore
