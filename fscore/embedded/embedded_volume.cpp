// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/embedded_volume.hpp"

#include "common/clock.hpp"
#include "common/error.hpp"
#include "fscore/dax_model.hpp"
#include "fscore/embedded/ondisk/superblock.hpp"
#include "fscore/embedded/ondisk/verify.hpp"
#include "fscore/embedded/session.hpp"

#include <algorithm>
#include <cstring>
#include <random>
#include <set>

namespace daxpolicy::fscore
{

EmbeddedVolume::EmbeddedVolume(std::unique_ptr<PmemPool> pool, Options options)
    : pool_(std::move(pool)), options_(std::move(options)),
      sb_(reinterpret_cast<Superblock *>(pool_->base())), journal_(*pool_, *sb_)
{
}

std::unique_ptr<EmbeddedVolume> EmbeddedVolume::mount(const std::filesystem::path &pool_path,
                                                      Options options)
{
	// Locked exclusively before anything is read (PmemPool::open): a second daemon must not
	// replay the journal or free the orphans of the first.
	auto pool = PmemPool::open(pool_path);
	check_superblock(*reinterpret_cast<const Superblock *>(pool->base()), pool->size(),
	                 pool_path.string());
	pool->set_observer(options.observer);
	std::unique_ptr<EmbeddedVolume> vol(
	    new EmbeddedVolume(std::move(pool), std::move(options)));
	try {
		vol->replayed_journal_ = vol->journal_.recover(*vol->sb_);
	} catch (const Error &e) {
		throw Error(e.code(),
		            pool_path.string() + ": " + e.what() + "; run `daxpolicy fsck`");
	}
	// The same checks as fsck's, before anything in the pool is trusted: a pool fsck would
	// reject is refused, never served.
	FsckReport report = verify_pool({vol->pool_->base(), vol->pool_->size()});
	if (!report.clean())
		throw Error(
		    Errc::corrupted,
		    pool_path.string() + ": pool is damaged: " + report.problems.front() +
		        (report.problems.size() > 1
		             ? " (and " + std::to_string(report.problems.size() - 1) + " more)"
		             : "") +
		        "; run `daxpolicy fsck`");
	vol->was_unclean_ = vol->sb_->clean == 0;
	// Cleared before anything changes, so a crash from here on is seen at the next mount.
	vol->sb_->clean = 0;
	vol->sb_->mount_count++;
	vol->pool_->persist(&vol->sb_->clean, 2 * sizeof(uint64_t));
	vol->alloc_ = std::make_unique<BlockAllocator>(*vol->pool_, *vol->sb_);
	vol->load();
	vol->free_orphans();
	return vol;
}

EmbeddedVolume::~EmbeddedVolume()
{
	std::lock_guard lock(mutex_);
	try {
		for (auto &[ino, ic] : in_core_)
			sync_file(ino, ic);
		sb_->clean = 1;
		pool_->persist(&sb_->clean, sizeof(sb_->clean));
	} catch (const Error &) {
		// Write-back or the pool failed: the pool stays marked unclean (the clean mark is
		// the last store, and only a durable one counts), so the next mount replays and
		// says so. Cached data that could not be written is lost, as at a crash.
	}
}

DiskInode &EmbeddedVolume::inode(uint64_t ino) const
{
	return *reinterpret_cast<DiskInode *>(pool_->base() + sb_->inode_table_start * kBlockSize +
	                                      ino * kInodeSize);
}

void EmbeddedVolume::load()
{
	// Nobody else can see the volume yet; the lock is for the rules of what it guards.
	std::lock_guard lock(mutex_);
	// The pool passed verify_pool: every entry, extent and chain here is sound.
	for (uint64_t ino = sb_->inode_count - 1; ino >= 1; ino--) {
		const DiskInode &di = inode(ino);
		if (di.type == InodeType::free) {
			free_inos_.give(ino);
			continue;
		}
		if (di.type != InodeType::directory)
			continue;
		DirIndex::Directory &dir = names_.add_directory(ino);
		dir.slots = di.size / kDirentSize;
		ExtentMap map(*pool_, di);
		for (uint64_t b = 0; b < di.size / kBlockSize; b++)
			dir.blocks.push_back(*map.pblk_of(b)); // verify_pool found no hole
		for (uint64_t slot = dir.slots; slot-- > 0;) {
			const Dirent *d = dirent_slot(dir, slot);
			if (d->ino == 0) {
				dir.free_slots.push_back(slot);
				continue;
			}
			names_.link(ino, std::string(d->name, d->name_len), d->ino, slot);
		}
	}
}

void EmbeddedVolume::free_orphans()
{
	// Files removed while in use keep nlink 0 until last close; a crash leaves them here.
	std::lock_guard lock(mutex_);
	for (uint64_t ino = 2; ino < sb_->inode_count; ino++) {
		if (inode(ino).type == InodeType::free || inode(ino).nlink != 0)
			continue;
		free_orphan(ino);
	}
}

VolumeInfo EmbeddedVolume::info() const
{
	std::lock_guard lock(mutex_);
	VolumeInfo vi;
	vi.name = options_.name;
	vi.kind = "embedded";
	vi.can = {.reports_mappings = true,
	          .use_events = true,
	          .layout_leases = true,
	          .io_sessions = true};
	vi.path = pool_->path().string();
	vi.dax_mode = options_.dax_mode;
	// Loads and stores reach the pool mapping directly whatever the medium; `granularity`
	// says what persisting costs on it.
	vi.dax_capable = true;
	vi.granularity = pool_->granularity();
	vi.files = sb_->inode_count - 1 - free_inos_.size();
	vi.fstype = "daxpolicy";
	vi.usage = VolumeUsage{.size_bytes = pool_->size(),
	                       .used_bytes = pool_->size() - alloc_->free_blocks() * kBlockSize,
	                       .inodes = sb_->inode_count - 1,
	                       .inodes_used = vi.files};
	return vi;
}

bool EmbeddedVolume::effective_for(const DiskInode &di) const
{
	// Loads and stores reach the pool mapping whatever the medium: always capable.
	return effective_dax(options_.dax_mode, true,
	                     di.type == InodeType::regular ? FileType::regular
	                                                   : FileType::directory,
	                     di.flags & kInodeFlagDax);
}

FileInfo EmbeddedVolume::info_of(uint64_t ino, std::string path) const
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	const DiskInode &di = inode(ino);
	FileInfo fi;
	fi.path = std::move(path);
	fi.ino = ino;
	fi.generation = di.generation;
	fi.type = di.type == InodeType::directory ? FileType::directory : FileType::regular;
	fi.size = file_size(ino);
	fi.dax_flag = di.flags & kInodeFlagDax;
	auto it = in_core_.find(ino);
	if (it != in_core_.end()) {
		fi.dax_effective = it->second.effective_dax;
		fi.mapped = it->second.maps;
		fi.in_use = true;
	} else {
		fi.dax_effective = effective_for(di);
	}
	return fi;
}

FileInfo EmbeddedVolume::info_of_open(uint64_t ino, const std::string &opened_as) const
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	return info_of(ino, inode(ino).nlink ? names_.path_of(ino) : opened_as);
}

FileInfo EmbeddedVolume::stat(const std::string &path)
{
	std::lock_guard lock(mutex_);
	return info_of(names_.resolve(path), path);
}

void EmbeddedVolume::walk(const std::string &path,
                          const std::function<void(const FileInfo &)> &visit)
{
	// Depth first, parents before children, kWalkBatch files per hold of the volume lock:
	// a walk of any tree neither holds the lock for long nor recurses. Visited without
	// the lock, so the visitor may call back into the volume. The tree may change between
	// batches; each directory is resumed after the last name taken from it, so a file is
	// never reported twice by one walk, though one renamed meanwhile may be missed.
	constexpr size_t kWalkBatch = 1024;
	struct Frame {
		uint64_t dir;
		std::string path;
		std::optional<std::string> after; // the last name taken from it
	};
	std::vector<Frame> stack;
	std::vector<FileInfo> batch;
	{
		std::lock_guard lock(mutex_);
		uint64_t ino = names_.resolve(path);
		batch.push_back(info_of(ino, path));
		if (names_.is_directory(ino))
			stack.push_back({ino, path, std::nullopt});
	}
	for (;;) {
		for (const auto &fi : batch)
			visit(fi);
		batch.clear();
		if (stack.empty())
			return;
		std::lock_guard lock(mutex_);
		while (!stack.empty() && batch.size() < kWalkBatch) {
			Frame &top = stack.back();
			const DirIndex::Directory *dir = names_.find(top.dir);
			if (!dir) { // removed meanwhile
				stack.pop_back();
				continue;
			}
			const auto &entries = dir->entries;
			auto it = top.after ? entries.upper_bound(*top.after) : entries.begin();
			if (it == entries.end()) {
				stack.pop_back();
				continue;
			}
			top.after = it->first;
			std::string child = (top.path == "/" ? "/" : top.path + "/") + it->first;
			batch.push_back(info_of(it->second.ino, child));
			if (names_.is_directory(it->second.ino))
				stack.push_back({it->second.ino, std::move(child), std::nullopt});
		}
	}
}

std::optional<DiskInode> EmbeddedVolume::with_dax_flag(uint64_t ino, bool on) const
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	DiskInode di = inode(ino);
	uint32_t flags = on ? di.flags | kInodeFlagDax : di.flags & ~kInodeFlagDax;
	if (flags == di.flags)
		return std::nullopt;
	di.flags = flags;
	di.ctime_ns = unix_now_ns();
	return di;
}

bool EmbeddedVolume::change_dax_flag(uint64_t ino, bool on)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	std::optional<DiskInode> di = with_dax_flag(ino, on);
	if (!di)
		return false;
	Transaction txn(journal_);
	stage_inode(txn, ino, *di);
	txn.commit();
	return true;
}

bool EmbeddedVolume::is_live(uint64_t ino, uint64_t generation) const
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	if (ino == 0 || ino >= sb_->inode_count)
		return false;
	const DiskInode &di = inode(ino);
	return di.type != InodeType::free && di.generation == generation && di.nlink != 0;
}

void EmbeddedVolume::set_dax_flag(const std::string &path, bool on)
{
	EventFlush flush(*this);
	with_inode_locked([&] { return std::optional(names_.resolve(path)); },
	                  [&](std::optional<uint64_t> ino) { change_dax_flag(*ino, on); });
}

SetFlagResult EmbeddedVolume::set_dax_flag_if_unmapped(uint64_t ino, uint64_t generation, bool on)
{
	using Status = SetFlagResult::Status;
	EventFlush flush(*this);
	// By identity, not by path: a rename since the caller looked cannot send the flag to
	// another file. A removed file (an orphan until its last user goes) is gone too.
	auto find = [&]() -> std::optional<uint64_t> {
		return is_live(ino, generation) ? std::optional(ino) : std::nullopt;
	};
	return with_inode_locked(find, [&](std::optional<uint64_t> found) -> SetFlagResult {
		if (!found)
			return {Status::gone, 0};
		// Mappings are made and counted under mutex_, which is held from here to the
		// commit: none can appear between this check and the change.
		auto ic = in_core_.find(ino);
		if (ic != in_core_.end() && ic->second.maps > 0)
			return {Status::mapped, ic->second.maps};
		return {change_dax_flag(ino, on) ? Status::applied : Status::unchanged, 0};
	});
}

std::vector<SetFlagResult>
EmbeddedVolume::set_dax_flags_if_unmapped(std::span<const FlagChange> changes)
{
	using Status = SetFlagResult::Status;
	EventFlush flush(*this);
	std::vector<SetFlagResult> results(changes.size());
	std::vector<size_t> in_use; // by index into `changes`
	for (size_t next = 0; next < changes.size();) {
		// One transaction for up to flag_batch_files inodes, under one hold of the volume
		// lock: its commit point makes every flag it stages durable at once, or, should
		// power fail before it, none (Journal::commit), so after a crash each file has
		// its old flag or its new one. A file named twice ends the transaction before
		// its second change, which must see the first.
		std::lock_guard lock(mutex_);
		Transaction txn(journal_);
		std::set<uint64_t> staged;
		size_t most = std::max<size_t>(options_.flag_batch_files, 1);
		for (; next < changes.size() && staged.size() < most; next++) {
			const FlagChange &c = changes[next];
			if (staged.count(c.ino))
				break;
			if (!is_live(c.ino, c.generation)) {
				results[next] = {Status::gone, 0};
				continue;
			}
			// Readers of a file in use may look at its inode under its ilock alone,
			// which is taken before the volume lock: such files go one by one below.
			if (in_core_.count(c.ino)) {
				in_use.push_back(next);
				continue;
			}
			std::optional<DiskInode> di = with_dax_flag(c.ino, c.on);
			if (di) {
				stage_inode(txn, c.ino, *di);
				staged.insert(c.ino);
			}
			results[next] = {di ? Status::applied : Status::unchanged, 0};
		}
		txn.commit();
	}
	for (size_t i : in_use)
		results[i] =
		    set_dax_flag_if_unmapped(changes[i].ino, changes[i].generation, changes[i].on);
	return results;
}

std::optional<std::string> EmbeddedVolume::path_of(uint64_t ino, uint64_t generation)
{
	std::lock_guard lock(mutex_);
	if (!is_live(ino, generation))
		return std::nullopt;
	return names_.path_of(ino);
}

Subscription EmbeddedVolume::subscribe(VolumeListener listener)
{
	return listeners_.add(std::move(listener));
}

std::unique_ptr<Session> EmbeddedVolume::open_session(Holder holder)
{
	return std::unique_ptr<Session>(new EmbeddedSession(*this, holder));
}

} // namespace daxpolicy::fscore
