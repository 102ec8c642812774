// The embedded pmem filesystem core: a pool mapped with libpmem2, holding inodes, directories
// and extents, every metadata change made atomic by the redo journal.
//
// Locking (see docs/ARCHITECTURE.md): one volume mutex, mutex_, serialises every operation
// on the volume: namespace, inodes, extents, bitmap, journal, in-core inode state and page
// cache. Listeners are called after it is released. Sessions own open files and mappings and
// call in through the volume, so they take the same mutex.
#pragma once

#include "fscore/allocator.hpp"
#include "fscore/extent_map.hpp"
#include "fscore/journal.hpp"
#include "fscore/layout.hpp"
#include "fscore/layout_op.hpp"
#include "fscore/lease.hpp"
#include "fscore/listener_set.hpp"
#include "fscore/page_cache.hpp"
#include "fscore/pmem_pool.hpp"
#include "fscore/volume.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>
#include <vector>

namespace daxpolicy::fscore
{

class Session;
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

// Who holds a session's files and mappings: the peer process of a client connection.
struct Holder {
	int pid = 0;
	unsigned uid = 0;
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
	};

	// Creates the pool file (sparse) and writes an empty filesystem: superblock, journal,
	// inode table with the root directory, bitmap.
	static void mkfs(const std::filesystem::path &pool_path, uint64_t size);
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
	std::optional<std::string> path_of(uint64_t ino, uint64_t generation) override;
	Subscription subscribe(VolumeListener listener) override;

	FileInfo create(const std::string &path);
	FileInfo mkdir(const std::string &path);
	// Removes a file or an empty directory. A file still in use keeps its blocks until
	// its last user goes.
	void remove(const std::string &path);
	// Renames within the volume; replaces a file with a file, or an empty directory with a
	// directory. The flag goes with the file.
	void rename(const std::string &from, const std::string &to);

	std::unique_ptr<Session> open_session(Holder holder);
	// Live layout leases and pins, of one file or of all.
	std::vector<LeaseInfo> leases(const std::optional<std::string> &path = std::nullopt);

	// Whether mount found the pool unclean (crash) and replayed its journal.
	bool was_unclean() const { return was_unclean_; }
	bool replayed_journal() const { return replayed_journal_; }

      private:
	friend class Session;
	friend class EventFlush;

	// In-core state of a file in use, like the kernel's struct inode while it is cached.
	struct InCore {
		uint32_t opens = 0;
		uint32_t maps = 0;
		// Decided when the file came into use; fixed until it is no longer in use.
		bool effective_dax = false;
		PageCache cache;
	};
	struct DirEntry {
		uint64_t ino;
		uint64_t slot;
	};
	struct Directory {
		std::map<std::string, DirEntry> entries;
		std::vector<uint64_t> free_slots;
		uint64_t slots = 0;
	};
	struct Parent {
		uint64_t dir;
		std::string name;
	};

	EmbeddedVolume(std::unique_ptr<PmemPool> pool, Options options);
	void load();
	void free_orphans();

	// All below: called with mutex_ held.
	DiskInode &inode(uint64_t ino) const;
	uint64_t resolve(const std::string &path) const;
	std::pair<uint64_t, std::string> resolve_parent(const std::string &path) const;
	std::string path_of_locked(uint64_t ino) const;
	FileInfo info_of(uint64_t ino, std::string path) const;
	bool effective_for(const DiskInode &di) const;
	void walk_locked(uint64_t ino, const std::string &path,
	                 const std::function<void(const FileInfo &)> &visit) const;
	uint64_t make_node(const std::string &path, InodeType type);
	void add_dirent(Transaction &txn, uint64_t dir, const std::string &name, uint64_t ino);
	void remove_dirent(Transaction &txn, uint64_t dir, const std::string &name);
	Dirent *dirent_slot(const ExtentMap &dir, uint64_t slot) const;
	void free_inode(Transaction &txn, uint64_t ino);
	// Returns the `removed` event, for the caller to queue once the transaction commits.
	VolumeEvent unlink_locked(Transaction &txn, uint64_t dir, const std::string &name);
	void stage_inode(Transaction &txn, uint64_t ino, const DiskInode &di);

	// Data path (data.cpp).
	void
	read_blocks(const DiskInode &di, uint64_t off,
	            std::span<std::byte> out) const; // Allocates what [off, off+len) lacks into
	                                             // `map` (staging the bitmap in `txn`), stores
	// the data durably and updates di's size and mtime. The caller stores `map` into `di`,
	// stages `di` and commits. One map per file per transaction: chain blocks a store has
	// staged are not in the pool until commit, so a second load would read stale ones.
	void write_blocks(Transaction &txn, ExtentMap &map, DiskInode &di, uint64_t off,
	                  std::span<const std::byte> data);
	// Maps every hole of file blocks [first, first+count) to fresh blocks, zeroing what
	// the byte range [keep_from, keep_to) is not about to overwrite.
	void allocate_range(Transaction &txn, ExtentMap &map, uint64_t first, uint64_t count,
	                    uint64_t keep_from, uint64_t keep_to);
	std::vector<std::byte> read_file(uint64_t ino, uint64_t off, size_t len);
	void write_file(uint64_t ino, uint64_t off, std::span<const std::byte> data);
	void writeback(uint64_t ino);
	// The page at `index` of a cached file, read in if it is not there yet.
	CachedPage &cached_page(uint64_t ino, InCore &ic, uint64_t index);
	// Zeroes, durably, what of bytes [from, to) has blocks behind it.
	void zero_mapped(const ExtentMap &map, uint64_t from, uint64_t to);

	// Space operations (space.cpp).
	void truncate_locked(uint64_t ino, uint64_t size);
	void fallocate_locked(uint64_t ino, LayoutOp op, uint64_t off, uint64_t len,
	                      bool keep_size);
	void drop_cache(uint64_t ino);
	// Stores `map` into `di` and commits both, with mtime and the past-EOF flag updated.
	void commit_layout(Transaction &txn, uint64_t ino, DiskInode &di, const ExtentMap &map);
	uint64_t file_size(uint64_t ino) const;

	// Layout leases (lease.cpp). May release `lock` while it waits for holders.
	void break_layout(std::unique_lock<std::mutex> &lock, Session *breaker, uint64_t ino,
	                  uint64_t off, uint64_t len, LayoutOp op, BreakKind kind);
	void break_layout_write(Session *breaker, uint64_t ino, uint64_t off, uint64_t len,
	                        LayoutOp op);
	// BREAK_WRITE for an allocation in [off, off+len), if it allocates anything.
	void break_for_allocation(Session *breaker, uint64_t ino, const ExtentMap &map,
	                          uint64_t off, uint64_t len, LayoutOp op);
	uint64_t add_lease(Session &session, uint64_t ino, uint64_t off, uint64_t len,
	                   LeaseKind kind);
	// The holder lets go: a munmap, an unpin, or its session ending.
	void drop_lease(uint64_t id);
	void queue_lease_event(const Lease &lease, LayoutOp op, int64_t waited_ms,
	                       const char *outcome);
	// Frees extents now, or, while a revoked lease on the file may still reach them,
	// once no such lease is left.
	void release_or_quarantine(Transaction &txn, uint64_t ino, const std::vector<Extent> &runs);
	void flush_events();

	// Use counting: the effective state is decided at first use and re-decided after last.
	InCore &get_in_core(uint64_t ino);
	void put_in_core(uint64_t ino, bool was_map);

	std::unique_ptr<PmemPool> pool_;
	Options options_;
	Superblock *sb_;
	Journal journal_;
	std::unique_ptr<BlockAllocator> alloc_;
	bool was_unclean_ = false;
	bool replayed_journal_ = false;

	mutable std::mutex mutex_;
	std::unordered_map<uint64_t, Directory> dirs_;
	std::unordered_map<uint64_t, Parent> parents_;
	std::vector<uint64_t> free_inos_;
	std::unordered_map<uint64_t, InCore> in_core_;
	std::map<uint64_t, Lease> leases_;
	uint64_t next_lease_id_ = 1;
	// Breaks in progress, by inode: new mappings of the file wait until they are over, as
	// page faults wait on the kernel's invalidate lock.
	std::unordered_map<uint64_t, unsigned> layout_breaking_;
	// Signalled (with mutex_) whenever a lease goes or changes state, or a break ends.
	std::condition_variable_any leases_changed_;
	// Freed runs that a revoked lease could still reach, by inode.
	std::unordered_map<uint64_t, std::vector<Extent>> quarantine_;
	// Notifications raised under mutex_, delivered by EventFlush once it is released.
	std::vector<VolumeEvent> queued_events_;
	ListenerSet listeners_;
};

} // namespace daxpolicy::fscore
