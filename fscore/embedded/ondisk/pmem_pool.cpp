// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/ondisk/pmem_pool.hpp"

#include "common/error.hpp"
#include "fscore/embedded/ondisk/fault.hpp"
#include "fscore/embedded/ondisk/file_lock.hpp"
#include "fscore/embedded/ondisk/layout.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <libpmem2.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace daxpolicy::fscore
{

namespace
{

// Copies at least this large bypass the cache: they would evict the working set for data
// that is not read back soon, and non-temporal stores need no separate flush.
constexpr size_t kNonTemporalThreshold = 256 * 1024;

[[noreturn]] void throw_pmem2(const std::filesystem::path &path, const char *what)
{
	throw Error(Errc::internal,
	            path.string() + ": " + what + ": " + std::string(pmem2_errormsg()));
}

bool is_char_device(int fd)
{
	struct stat st {
	};
	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode);
}

} // namespace

PmemPool::PmemPool(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}

PmemPool::~PmemPool()
{
	if (map_)
		pmem2_map_delete(&map_);
	if (config_)
		pmem2_config_delete(&config_);
	if (source_)
		pmem2_source_delete(&source_);
	if (fd_ >= 0)
		close(fd_);
}

std::unique_ptr<PmemPool> PmemPool::create(const std::filesystem::path &path, uint64_t size)
{
	int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
		if (fd >= 0 && !is_char_device(fd)) {
			close(fd);
			throw Error(Errc::exists, path.string() + ": pool file already exists");
		}
	}
	if (fd < 0)
		throw system_error(path.string() + ": create", errno);
	std::unique_ptr<PmemPool> pool(new PmemPool(path, fd));
	lock_file(fd, LockMode::exclusive, path.string());
	// A regular file is made sparse: blocks are only used where the core writes.
	if (!is_char_device(fd) && ftruncate(fd, static_cast<off_t>(size)) != 0) {
		int err = errno;
		unlink(path.c_str());
		throw system_error(path.string() + ": set size", err);
	}
	pool->map();
	return pool;
}

std::unique_ptr<PmemPool> PmemPool::open(const std::filesystem::path &path)
{
	int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
	if (fd < 0)
		throw system_error(path.string() + ": open", errno);
	std::unique_ptr<PmemPool> pool(new PmemPool(path, fd));
	// Before anything is read: a second daemon, or mkfs, must not get as far as replaying
	// the journal or freeing orphans that the first one's sessions still hold.
	lock_file(fd, LockMode::exclusive, path.string());
	pool->refuse_what_cannot_be_a_pool();
	pool->map();
	return pool;
}

// libpmem2 cannot map an empty file nor a character device other than devdax, and says only
// that it failed: what the user gave is not a pool, which is theirs to fix, not `internal`.
void PmemPool::refuse_what_cannot_be_a_pool() const
{
	struct stat st {
	};
	if (fstat(fd_, &st) != 0)
		throw system_error(path_.string() + ": stat", errno);
	auto refuse = [&](const std::string &why) {
		throw Error(Errc::invalid_argument,
		            path_.string() + ": not a usable daxpolicy pool: " + why);
	};
	if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) < kBlockSize)
		refuse("the file is only " + std::to_string(st.st_size) + " bytes");
	if (S_ISCHR(st.st_mode)) {
		// libpmem2 takes only devdax character devices as a source.
		pmem2_source *source = nullptr;
		bool devdax = pmem2_source_from_fd(&source, fd_) == 0;
		if (source)
			pmem2_source_delete(&source);
		if (!devdax)
			refuse("a character device that is not devdax");
	} else if (!S_ISREG(st.st_mode)) {
		refuse("neither a regular file nor a devdax device");
	}
}

void PmemPool::map()
{
	if (pmem2_source_from_fd(&source_, fd_))
		throw_pmem2(path_, "pmem2 source");
	if (pmem2_config_new(&config_))
		throw_pmem2(path_, "pmem2 config");
	// PAGE is the weakest granularity: accepting it lets the pool live on an ordinary file
	// (libpmem2 then persists with msync). libpmem2 itself honours PMEM2_FORCE_GRANULARITY.
	if (pmem2_config_set_required_store_granularity(config_, PMEM2_GRANULARITY_PAGE))
		throw_pmem2(path_, "pmem2 granularity");
	if (pmem2_map_new(&map_, config_, source_))
		throw_pmem2(path_, "pmem2 map");
	base_ = static_cast<std::byte *>(pmem2_map_get_address(map_));
	size_ = pmem2_map_get_size(map_);
	persist_ = pmem2_get_persist_fn(map_);
	flush_ = pmem2_get_flush_fn(map_);
	drain_ = pmem2_get_drain_fn(map_);
	memcpy_ = pmem2_get_memcpy_fn(map_);
	memset_ = pmem2_get_memset_fn(map_);
}

const char *PmemPool::granularity() const
{
	switch (pmem2_map_get_store_granularity(map_)) {
	case PMEM2_GRANULARITY_BYTE:
		return "byte";
	case PMEM2_GRANULARITY_CACHE_LINE:
		return "cache-line";
	default:
		return "page";
	}
}

void PmemPool::persist(const void *addr, size_t len) const
{
	fault::hit(fault::Site::persist);
	persist_(addr, len);
	if (observer_) {
		observer_->flushed(offset_of(addr), {static_cast<const std::byte *>(addr), len});
		observer_->drained();
	}
}

void PmemPool::flush(const void *addr, size_t len) const
{
	fault::hit(fault::Site::persist);
	flush_(addr, len);
	if (observer_)
		observer_->flushed(offset_of(addr), {static_cast<const std::byte *>(addr), len});
}

void PmemPool::drain() const
{
	fault::hit(fault::Site::persist);
	drain_();
	if (observer_)
		observer_->drained();
}

uint64_t PmemPool::offset_of(const void *addr) const
{
	return static_cast<uint64_t>(static_cast<const std::byte *>(addr) - base_);
}

void PmemPool::memcpy_persist(void *dst, const void *src, size_t len) const
{
	fault::hit(fault::Site::persist);
	unsigned flags = len >= kNonTemporalThreshold ? PMEM2_F_MEM_NONTEMPORAL : 0;
	memcpy_(dst, src, len, flags); // without PMEM2_F_MEM_NODRAIN: flushed and drained
	if (observer_) {
		observer_->flushed(offset_of(dst), {static_cast<const std::byte *>(dst), len});
		observer_->drained();
	}
}

void PmemPool::memset_persist(void *dst, int byte, size_t len) const
{
	fault::hit(fault::Site::persist);
	unsigned flags = len >= kNonTemporalThreshold ? PMEM2_F_MEM_NONTEMPORAL : 0;
	memset_(dst, byte, len, flags);
	if (observer_) {
		observer_->flushed(offset_of(dst), {static_cast<const std::byte *>(dst), len});
		observer_->drained();
	}
}

} // namespace daxpolicy::fscore
