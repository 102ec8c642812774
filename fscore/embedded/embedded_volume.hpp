// SPDX-License-Identifier: BSD-3-Clause
// The embedded pmem filesystem core: a pool mapped with libpmem2, holding inodes, directories
// and extents, every metadata change made atomic by the redo journal.
//
// Locking (docs/ARCHITECTURE.md has the full table). Per file in use, in this order, each a
// writer-preferring RwLock:
//   io_lock          (the kernel's i_rwsem)         write, truncate, fallocate: exclusive;
//                                                  pread: shared
//   invalidate_lock  (mapping->invalidate_lock)    mapped access, mmap and pin: shared; an
//                                                  extent-map change: exclusive
//   ilock            (xfs's ILOCK)                 the on-pool inode, extent map, data and
//                                                  page cache: shared to read, exclusive to
//                                                  change
// and innermost the volume lock, mutex_: namespace, in-core table and use counts, leases,
// allocator, journal and every change of an on-pool inode but a DAX overwrite's mtime. Data
// copies run under the per-file locks alone, so files are read and written in parallel;
// allocating writes and every other metadata change hold mutex_ for their transaction. A
// lease break waits with all four let go (LayoutLocks).
#pragma once

#include "common/owned_mutex.hpp"
#include "fscore/embedded/dir_index.hpp"
#include "fscore/embedded/free_inodes.hpp"
#include "fscore/embedded/lease.hpp"
#include "fscore/embedded/lease_table.hpp"
#include "fscore/embedded/ondisk/allocator.hpp"
#include "fscore/embedded/ondisk/extent_map.hpp"
#include "fscore/embedded/ondisk/journal.hpp"
#include "fscore/embedded/ondisk/layout.hpp"
#include "fscore/embedded/ondisk/pmem_pool.hpp"
#include "fscore/embedded/page_cache.hpp"
#include "fscore/rw_lock.hpp"
#include "fscore/layout_op.hpp"
#include "fscore/listener_set.hpp"
#include "fscore/session.hpp"
#include "fscore/volume.hpp"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace daxpolicy::fscore
{

class EmbeddedSession;
class EmbeddedVolume;

// Delivers the volume's queued notifications when it goes out of scope. Declared before the
// lock in each public method, so it runs after the lock is released, even on an exception.
class EventFlush
{
      public:
	explicit EventFlush(EmbeddedVolume &vol) : vol_(vol) {}
	~EventFlush();
	EventFlush(const EventFlush &) = delete;
	EventFlush &operator=(const EventFlush &) = delete;

      private:
	EmbeddedVolume &vol_;
};

// What an operation that changes a file's extent map holds: the file's io lock, invalidate
// lock and ilock, exclusive, and the volume lock. A lease break waits with all of them let
// go (as xfs_break_leased_layouts drops the IOLOCK and xfs_break_dax_layouts the MMAPLOCK),
// so that holders can still read, write, access and unmap meanwhile; lock() takes them again
// in order, and the operation then works from the file as it is by then.
class LayoutLocks
{
      public:
	LayoutLocks(RwLock &io, RwLock &invalidate, RwLock &ilock, OwnedMutex &volume)
	    : io_(io), invalidate_(invalidate), ilock_(ilock), volume_(volume)
	{
		lock();
	}
	~LayoutLocks() { unlock(); }
	LayoutLocks(const LayoutLocks &) = delete;
	LayoutLocks &operator=(const LayoutLocks &) = delete;

	void lock()
	{
		// Should one throw (only on misuse), those already taken are let go again.
		std::unique_lock io(io_), invalidate(invalidate_), ilock(ilock_);
		std::unique_lock volume(volume_);
		io.release();
		invalidate.release();
		ilock.release();
		volume.release();
		held_ = true;
	}
	void unlock()
	{
		if (!std::exchange(held_, false))
			return;
		volume_.unlock();
		ilock_.unlock();
		invalidate_.unlock();
		io_.unlock();
	}

      private:
	RwLock &io_;
	RwLock &invalidate_;
	RwLock &ilock_;
	OwnedMutex &volume_;
	bool held_ = false;
};

class EmbeddedVolume final : public Volume
{
      public:
	struct Options {
		std::string name = "pool0";
		DaxMode dax_mode = DaxMode::inode;
		// How long a layout-lease holder (or a pin) has to let go before the breaking
		// operation revokes it (or, for a pin, fails with `busy`).
		std::chrono::milliseconds lease_break_timeout{45000};
		// Crash testing: sees every persistence primitive from mount on.
		PersistObserver *observer = nullptr;
		// A free (rm, truncate, punch) goes in steps of at most this many extents and
		// blocks, each its own transaction, so that it fits the journal whatever the
		// file. Tests make them small to cover the steps.
		size_t free_step_extents = 256;
		uint64_t free_step_blocks = uint64_t{1} << 20;
		// A batch of flag changes commits at most this many inodes a transaction (272
		// bytes of journal each, so 1024 take a quarter of it). Tests make it small to
		// cover several transactions in one batch.
		size_t flag_batch_files = 1024;
		// Testing: called, with the volume lock held, each time an operation starts to
		// wait for another's break of a file's layout to end, so that a test sees the
		// wait rather than guessing it from a sleep.
		std::function<void(std::string_view waiting)> waits_for_break = {};
	};

	// Maps the pool, checks the superblock, replays the journal, frees orphans.
	static std::unique_ptr<EmbeddedVolume> mount(const std::filesystem::path &pool_path,
	                                             Options options);
	// Clean unmount: writes back cached data and marks the superblock clean.
	~EmbeddedVolume() override;

	VolumeInfo info() const override;
	FileInfo stat(const std::string &path) override;
	void walk(const std::string &path,
	          const std::function<void(const FileInfo &)> &visit) override;
	void set_dax_flag(const std::string &path, bool on) override;
	SetFlagResult set_dax_flag_if_unmapped(uint64_t ino, uint64_t generation, bool on) override;
	// Files not in use: up to Options::flag_batch_files in one journal transaction. Files
	// in use (open or mapped, whose ilock the change needs) one by one, after.
	std::vector<SetFlagResult>
	set_dax_flags_if_unmapped(std::span<const FlagChange> changes) override;
	std::optional<std::string> path_of(uint64_t ino, uint64_t generation) override;
	Subscription subscribe(VolumeListener listener) override;

	FileInfo create(const std::string &path);
	FileInfo mkdir(const std::string &path) override;
	void remove(const std::string &path) override;
	void rename(const std::string &from, const std::string &to) override;
	std::unique_ptr<Session> open_session(Holder holder) override;
	std::vector<LeaseInfo> leases(const std::optional<std::string> &path) override;

	// Whether mount found the pool unclean (crash) and replayed its journal.
	bool was_unclean() const { return was_unclean_; }
	bool replayed_journal() const { return replayed_journal_; }

	// What of the in-core state disagrees with the pool or with itself (invariants.cpp):
	// directory mirrors, the free inode list, use counts against leases, quarantine
	// against revoked leases. Empty when all is well. For tests, between operations.
	std::vector<std::string> check_invariants() const;

	// The core's own interface to its sessions (EmbeddedSession), not part of Volume: what
	// an open file, mapping or pin needs of the volume. Each says what must be held.

	// The volume lock: see the top of this file.
	OwnedMutex &volume_lock() const { return mutex_; }
	// With the volume lock held.
	LeaseTable &lease_table() { return leases_; }

	// In-core state of a file in use, like the kernel's struct inode while it is cached. It
	// lives while the file is open, mapped or referenced (InodeRef), at a stable address.
	struct InCore {
		// Under mutex_.
		uint32_t opens = 0;
		uint32_t maps = 0;
		uint32_t refs = 0; // operations under way (InodeRef)
		// Decided when the file came into use; fixed until it is no longer in use, so
		// whoever holds a use may read it unlocked.
		bool effective_dax = false;
		// An overwrite stored mtime in place without flushing it (as lazytime does);
		// fsync or the last user flushes it. Under ilock.
		bool mtime_unflushed = false;
		RwLock io_lock;
		RwLock invalidate_lock;
		RwLock ilock;
		// Pages under ilock; `size` changes under ilock and mutex_ both.
		PageCache cache;
	};
	// A use of an in-core file for the length of one operation, as igrab/iput: the
	// in-core state (and its locks) cannot go while it is held. Made with mutex_ held;
	// released without it (it takes mutex_, and the last use ends as a close does).
	class InodeRef
	{
	      public:
		InodeRef(EmbeddedVolume &vol, uint64_t ino);
		~InodeRef();
		InodeRef(const InodeRef &) = delete;
		InodeRef &operator=(const InodeRef &) = delete;
		uint64_t ino() const { return ino_; }
		InCore &operator*() const { return *in_core_; }
		InCore *operator->() const { return in_core_; }

	      private:
		EmbeddedVolume &vol_;
		uint64_t ino_;
		InCore *in_core_;
	};
	// The ilock for reading file data: shared for DAX files; exclusive for page-cache
	// files, whose reads fill the cache.
	class DataReadLock
	{
	      public:
		explicit DataReadLock(InCore &ic);
		~DataReadLock();
		DataReadLock(const DataReadLock &) = delete;
		DataReadLock &operator=(const DataReadLock &) = delete;

	      private:
		InCore &ic_;
	};

	// All below: with the volume lock held, but where said otherwise.
	InodeType type_of(uint64_t ino) const { return inode(ino).type; }
	bool dax_flag_of(uint64_t ino) const { return inode(ino).flags & kInodeFlagDax; }
	// The file `path` names, made as an empty regular file if it is missing and `create`.
	uint64_t lookup_or_create(const std::string &path, bool create);
	// The file's FileInfo under its path now, or `opened_as` for an orphan (removed while
	// open), which has none.
	FileInfo info_of_open(uint64_t ino, const std::string &opened_as) const;
	// Use counting: the effective state is decided at first use and re-decided after last.
	InCore &get_in_core(uint64_t ino);
	void put_in_core(uint64_t ino, bool was_map);
	// With the file's ilock held as DataReadLock takes it (not the volume lock). Returns
	// the bytes read: fewer than asked at end-of-file.
	size_t read_file(uint64_t ino, InCore &ic, uint64_t off, std::span<std::byte> out);
	// With the file's ilock exclusive (not the volume lock); takes the volume lock for what
	// changes metadata. A write that allocates under someone else's mapping breaks their
	// lease (BREAK_WRITE).
	void write_file(EmbeddedSession *writer, uint64_t ino, InCore &ic, uint64_t off,
	                std::span<const std::byte> data);
	// fsync: cached data and an unflushed mtime reach the pool. With the ilock exclusive
	// and the volume lock held.
	void sync_file(uint64_t ino, InCore &ic);
	// The size as the file's users see it (cached writes included).
	uint64_t file_size(uint64_t ino) const;
	// With the file's LayoutLocks held.
	void truncate_locked(uint64_t ino, uint64_t size);
	void fallocate_locked(uint64_t ino, LayoutOp op, uint64_t off, uint64_t len,
	                      bool keep_size);
	// Sets or clears the file's DAX flag in one transaction; false when it was so already.
	// With the file's ilock exclusive too if it is in use.
	bool change_dax_flag(uint64_t ino, bool on);
	// The inode with its DAX flag `on` and ctime now, or nothing when the flag is so
	// already. Only the flag: the effective state of a file in use stays what it was
	// decided to be (in_core_), which is what keeps a mapped file's fault path from
	// changing under it.
	std::optional<DiskInode> with_dax_flag(uint64_t ino, bool on) const;
	// Whether (ino, generation) names a linked file now: not free, not reused, not an
	// orphan.
	bool is_live(uint64_t ino, uint64_t generation) const;

	// Layout leases (lease.cpp). break_layout may let go of `locks` while it waits for
	// holders.
	void break_layout(LayoutLocks &locks, EmbeddedSession *breaker, uint64_t ino, uint64_t off,
	                  uint64_t len, LayoutOp op, BreakKind kind);
	void break_layout_write(EmbeddedSession *breaker, uint64_t ino, uint64_t off, uint64_t len,
	                        LayoutOp op);
	// BREAK_WRITE for an allocation in [off, off+len), if it allocates anything: against
	// `map`, the file's extent map as the caller has loaded it, or as the pool has it.
	void break_for_allocation(EmbeddedSession *breaker, uint64_t ino, const ExtentMap &map,
	                          uint64_t off, uint64_t len, LayoutOp op);
	void break_for_allocation(EmbeddedSession *breaker, uint64_t ino, uint64_t off,
	                          uint64_t len, LayoutOp op);
	// The holder lets go: a munmap, an unpin, or its session ending.
	void drop_lease(uint64_t id);
	// Before `waiting` (mmap, pin, or a layout op) waits for a break of `ino`'s layout to
	// end.
	void note_wait_for_break(uint64_t ino, std::string_view waiting);

      private:
	friend class EventFlush;

	EmbeddedVolume(std::unique_ptr<PmemPool> pool, Options options);
	void load();
	void free_orphans();

	// All below: called with mutex_ held.
	DiskInode &inode(uint64_t ino) const;
	FileInfo info_of(uint64_t ino, std::string path) const;
	bool effective_for(const DiskInode &di) const;
	uint64_t make_node(const std::string &path, InodeType type);
	void add_dirent(Transaction &txn, uint64_t dir, const std::string &name, uint64_t ino);
	void remove_dirent(Transaction &txn, uint64_t dir, const std::string &name);
	Dirent *dirent_slot(const DirIndex::Directory &dir, uint64_t slot) const;
	// Adds zeroed blocks to directory `dir`, in `txn`: a few at first, then an eighth of
	// its size at a time, so that a directory of a million entries grows a few hundred
	// times, in as many extents, rather than once a block.
	void grow_directory(Transaction &txn, uint64_t dir);
	// Frees an orphan (nlink 0, no longer in use): its blocks in steps (free_blocks), then
	// its extent chain and the inode. Restartable: mount finishes one a crash cut short.
	void free_orphan(uint64_t ino);
	// After an unlink committed: frees the orphan now unless the file is in use.
	void free_if_unused(uint64_t ino);
	// Returns the `removed` event, for the caller to queue once the transaction commits.
	VolumeEvent unlink_locked(Transaction &txn, uint64_t dir, const std::string &name);
	void stage_inode(Transaction &txn, uint64_t ino, const DiskInode &di);
	// Data path (data.cpp). Reads of a file's blocks and data run under its ilock (shared
	// or exclusive as said), or under mutex_ for a directory.
	void read_blocks(const ExtentMap &map, uint64_t off, std::span<std::byte> out) const;
	// Allocates what [off, off+len) lacks into `map` (staging the bitmap in `txn`), stores
	// the data durably and updates di's size and mtime. The caller stores `map` into `di`,
	// stages `di` and commits. One map per file per transaction: chain blocks a store has
	// staged are not in the pool until commit, so a second load would read stale ones.
	// With mutex_ held (and, for a regular file, its ilock exclusive).
	// With `reserved`, the blocks come from those reserved for the file's cached writes.
	void write_blocks(Transaction &txn, ExtentMap &map, DiskInode &di, uint64_t off,
	                  std::span<const std::byte> data, bool reserved = false);
	// Copies `data` durably over file blocks that are all mapped, run by contiguous run.
	void store_data(const ExtentMap &map, uint64_t off, std::span<const std::byte> data);
	// Maps every hole of file blocks [first, first+count) to fresh blocks, zeroing what
	// the byte range [keep_from, keep_to) is not about to overwrite. With mutex_ held.
	void allocate_range(Transaction &txn, ExtentMap &map, uint64_t first, uint64_t count,
	                    uint64_t keep_from, uint64_t keep_to, bool reserved = false);
	// Reserves blocks for the cached `pages` that have none (delayed allocation), or throws
	// no-space having changed nothing. With the ilock exclusive; takes mutex_.
	void reserve_cached(uint64_t ino, InCore &ic, std::optional<ExtentMap> &map,
	                    const std::vector<uint64_t> &pages);
	// Drops clean pages of a cache grown past kCachedPagesMax. With the ilock exclusive.
	void trim_cache(InCore &ic);
	// With mutex_ held, and the ilock exclusive or the file otherwise unused.
	void writeback(uint64_t ino);
	// The page at `index` of a cached file, read in if it is not there yet, through `map`,
	// which is loaded at the first page that must be read in (one load per operation).
	// With `whole` the caller overwrites all of it, so a missing page is not read in.
	CachedPage &cached_page(uint64_t ino, InCore &ic, uint64_t index,
	                        std::optional<ExtentMap> &map, bool whole = false);
	// Zeroes, durably, what of bytes [from, to) has blocks behind it.
	void zero_mapped(const ExtentMap &map, uint64_t from, uint64_t to);

	// Space operations (space.cpp).
	// Frees file blocks [first, last) from the end down in bounded steps, each a
	// transaction. Returns whether it freed anything. With mutex_ held.
	bool free_blocks(uint64_t ino, uint64_t first, uint64_t last);
	void drop_cache(uint64_t ino);
	// Stores `map` into `di` and commits both, with mtime and the past-EOF flag updated.
	void commit_layout(Transaction &txn, uint64_t ino, DiskInode &di, const ExtentMap &map);
	// The size as the file's users see it (cached writes included), with the file's
	// ilock or mutex_ held.
	uint64_t size_of(uint64_t ino, const InCore &ic) const;

	void queue_lease_event(const Lease &lease, LayoutOp op, int64_t waited_ms,
	                       const char *outcome);
	// Frees extents now, or, while a revoked lease on the file may still reach them,
	// once no such lease is left.
	void release_or_quarantine(Transaction &txn, uint64_t ino, const std::vector<Extent> &runs);
	void flush_events();

	// The parts of check_invariants (invariants.cpp), with mutex_ held.
	void check_directory_mirrors(std::vector<std::string> &problems) const;
	void check_free_inodes(std::vector<std::string> &problems) const;
	void check_uses(std::vector<std::string> &problems) const;

	// The file's last use went: write back, forget the in-core state, free an orphan.
	void release_if_unused(uint64_t ino);
	// Runs `change` with mutex_ held and, if `find` names a file in use, that file's
	// ilock exclusive (taken first, as the lock order says): for changes of an inode by
	// path, which lock-free readers of the file must not see half done.
	template <class Find, class Change> auto with_inode_locked(Find find, Change change);

	std::unique_ptr<PmemPool> pool_;
	Options options_;
	Superblock *sb_;
	Journal journal_;
	std::unique_ptr<BlockAllocator> alloc_;
	bool was_unclean_ = false;
	bool replayed_journal_ = false;

	// The volume lock: see the top of this file.
	mutable OwnedMutex mutex_;
	DirIndex names_{mutex_};
	FreeInodes free_inos_;
	// The page caches of all files in use, counted against the volume's bounds. Before
	// in_core_, whose caches count themselves out of it as they go.
	CacheTotals cache_totals_;
	std::unordered_map<uint64_t, InCore> in_core_;
	LeaseTable leases_{mutex_};
	// Freed runs that a revoked lease could still reach, by inode.
	std::unordered_map<uint64_t, std::vector<Extent>> quarantine_;
	// Notifications raised under mutex_, delivered by EventFlush once it is released.
	std::vector<VolumeEvent> queued_events_;
	ListenerSet listeners_;
};

template <class Find, class Change> auto EmbeddedVolume::with_inode_locked(Find find, Change change)
{
	for (;;) {
		// Declared in this order so that they go in reverse: mutex_, the ilock, then the
		// reference, whose release takes mutex_ again.
		std::optional<InodeRef> ref;
		std::unique_lock<RwLock> ilock;
		std::unique_lock lock(mutex_);
		std::optional<uint64_t> ino = find();
		if (ino && in_core_.count(*ino)) {
			ref.emplace(*this, *ino);
			lock.unlock();
			ilock = std::unique_lock((*ref)->ilock);
			lock.lock();
			if (find() != ino)
				continue; // renamed or removed meanwhile: look again
		}
		return change(ino);
	}
}

} // namespace daxpolicy::fscore
