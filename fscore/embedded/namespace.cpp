// SPDX-License-Identifier: BSD-3-Clause
// The namespace operations of the embedded core: create, mkdir, remove, rename, each one
// journal transaction, over the directory blocks and their mirror (DirIndex).
#include "common/clock.hpp"
#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"

#include <algorithm>
#include <cstring>

namespace daxpolicy::fscore
{

Dirent *EmbeddedVolume::dirent_slot(const DirIndex::Directory &dir, uint64_t slot) const
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	if (slot >= dir.slots)
		throw Error(Errc::internal,
		            "directory slot " + std::to_string(slot) + " is past its end");
	return reinterpret_cast<Dirent *>(pool_->base() +
	                                  dir.blocks[slot / kDirentsPerBlock] * kBlockSize +
	                                  (slot % kDirentsPerBlock) * kDirentSize);
}

void EmbeddedVolume::grow_directory(Transaction &txn, uint64_t dir)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	constexpr uint64_t kMaxGrowBlocks = 256; // 1 MiB, 4096 entries
	DirIndex::Directory &d = names_.at(dir);
	uint64_t old_blocks = d.blocks.size();
	uint64_t grow = std::clamp<uint64_t>(old_blocks / 8, 1, kMaxGrowBlocks);
	if (old_blocks + grow > kMaxFileBlocks)
		throw Error(Errc::no_space, names_.path_of(dir) + ": directory is full");
	// The zeroes are durable before the commit that makes the blocks the directory's.
	DiskInode di = inode(dir);
	ExtentMap map(*pool_, di);
	std::vector<std::byte> zero(grow * kBlockSize);
	write_blocks(txn, map, di, di.size, zero);
	map.store(txn, *alloc_, di);
	stage_inode(txn, dir, di);
	// Undone before the bitmap's own undo runs: nothing below throws once it is set.
	txn.on_abort([this, dir, old_blocks] {
		DirIndex::Directory &dd = names_.at(dir);
		dd.blocks.resize(old_blocks);
		dd.slots = old_blocks * kDirentsPerBlock;
		std::erase_if(dd.free_slots, [&](uint64_t s) { return s >= dd.slots; });
	});
	for (uint64_t b = old_blocks; b < old_blocks + grow; b++)
		d.blocks.push_back(*map.pblk_of(b));
	uint64_t first = d.slots;
	d.slots += grow * kDirentsPerBlock;
	// Lowest slot on top, so entries fill the new blocks in order.
	for (uint64_t s = d.slots; s-- > first;)
		d.free_slots.push_back(s);
}

void EmbeddedVolume::stage_inode(Transaction &txn, uint64_t ino, const DiskInode &di)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	txn.stage(&inode(ino), di);
}

void EmbeddedVolume::add_dirent(Transaction &txn, uint64_t dir, const std::string &name,
                                uint64_t ino)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	DirIndex::Directory &d = names_.at(dir);
	if (d.free_slots.empty())
		grow_directory(txn, dir);
	uint64_t slot = d.free_slots.back();
	Dirent de{};
	de.ino = ino;
	de.name_len = static_cast<uint16_t>(name.size());
	std::memcpy(de.name, name.data(), name.size());
	// Staged before the mirror changes: a stage that fails (the journal full) leaves the
	// slot free, and the mirror as the pool has it.
	txn.stage(dirent_slot(d, slot), de);
	d.free_slots.pop_back();
	names_.link(dir, name, ino, slot);
	txn.on_abort([this, dir, name, slot] {
		names_.unlink(dir, name);
		names_.at(dir).free_slots.push_back(slot);
	});
}

void EmbeddedVolume::remove_dirent(Transaction &txn, uint64_t dir, const std::string &name)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	DirIndex::Directory &d = names_.at(dir);
	auto found = d.entries.find(name);
	if (found == d.entries.end())
		throw Error(Errc::internal, "removing '" + name + "', which is not there");
	Dirent empty{};
	txn.stage(dirent_slot(d, found->second.slot), empty);
	DirIndex::Entry entry = names_.unlink(dir, name);
	d.free_slots.push_back(entry.slot);
	txn.on_abort([this, dir, name, entry] {
		std::erase(names_.at(dir).free_slots, entry.slot);
		names_.link(dir, name, entry.ino, entry.slot);
	});
}

uint64_t EmbeddedVolume::make_node(const std::string &path, InodeType type)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	auto [dir, name] = names_.resolve_parent(path);
	if (names_.at(dir).entries.count(name))
		throw Error(Errc::exists, path + ": file exists");
	if (free_inos_.empty())
		throw Error(Errc::no_space, "no free inodes left in the pool");
	Transaction txn(journal_);
	uint64_t ino = free_inos_.take();
	txn.on_abort([this, ino] { free_inos_.give(ino); });

	const DiskInode &parent = inode(dir);
	DiskInode di{};
	di.type = type;
	// The DAX flag is inherited from the parent at create time only (dax.rst).
	di.flags = parent.flags & kInodeFlagDax;
	di.nlink = 1;
	di.generation = inode(ino).generation + 1;
	di.mtime_ns = di.ctime_ns = unix_now_ns();
	stage_inode(txn, ino, di);
	add_dirent(txn, dir, name, ino);
	txn.commit();
	if (type == InodeType::directory)
		names_.add_directory(ino);
	queued_events_.push_back({VolumeEvent::Kind::created, ino, di.generation, path, {}, {}});
	return ino;
}

uint64_t EmbeddedVolume::lookup_or_create(const std::string &path, bool create)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	try {
		return names_.resolve(path);
	} catch (const Error &e) {
		if (!create || e.code() != Errc::not_found)
			throw;
	}
	return make_node(path, InodeType::regular);
}

FileInfo EmbeddedVolume::create(const std::string &path)
{
	EventFlush flush(*this);
	std::lock_guard lock(mutex_);
	return info_of(make_node(path, InodeType::regular), path);
}

FileInfo EmbeddedVolume::mkdir(const std::string &path)
{
	EventFlush flush(*this);
	std::lock_guard lock(mutex_);
	return info_of(make_node(path, InodeType::directory), path);
}

void EmbeddedVolume::free_orphan(uint64_t ino)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	free_blocks(ino, 0, kMaxFileBlocks);
	Transaction txn(journal_);
	DiskInode di = inode(ino);
	for (uint64_t b : ExtentMap::chain(*pool_, di)) // none left after free_blocks
		alloc_->release(txn, b, 1);
	DiskInode freed{};
	freed.generation = di.generation; // the next user bumps it
	stage_inode(txn, ino, freed);
	free_inos_.give(ino);
	txn.on_abort([this] { free_inos_.take(); });
	txn.commit();
	names_.remove_directory(ino);
}

VolumeEvent EmbeddedVolume::unlink_locked(Transaction &txn, uint64_t dir, const std::string &name)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	uint64_t ino = names_.at(dir).entries.at(name).ino;
	const DirIndex::Directory *sub = names_.find(ino);
	if (sub && !sub->entries.empty())
		throw Error(Errc::invalid_argument, name + ": directory not empty");
	std::string path = names_.path_of(ino);
	remove_dirent(txn, dir, name);
	// An orphan: freed by the caller after this transaction commits, in steps that need
	// not fit in it, or, while the file is in use, when its last user goes (put_in_core).
	// A crash before the frees finish leaves an orphan, which mount frees.
	DiskInode di = inode(ino);
	di.nlink = 0;
	stage_inode(txn, ino, di);
	return {VolumeEvent::Kind::removed, ino, di.generation, path, {}, {}};
}

void EmbeddedVolume::free_if_unused(uint64_t ino)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	if (!in_core_.count(ino))
		free_orphan(ino);
}

void EmbeddedVolume::remove(const std::string &path)
{
	EventFlush flush(*this);
	// A file in use is lock-free readable: its ilock keeps them off the inode's nlink.
	with_inode_locked([&] { return std::optional(names_.resolve(path)); },
	                  [&](std::optional<uint64_t>) {
		                  auto [dir, name] = names_.resolve_parent(path);
		                  Transaction txn(journal_);
		                  VolumeEvent removed = unlink_locked(txn, dir, name);
		                  txn.commit();
		                  queued_events_.push_back(removed);
		                  free_if_unused(removed.ino);
	                  });
}

void EmbeddedVolume::rename(const std::string &from, const std::string &to)
{
	EventFlush flush(*this);
	// The file a rename replaces is unlinked: it is locked as remove locks it.
	auto replaced_ino = [&]() -> std::optional<uint64_t> {
		auto [dir, name] = names_.resolve_parent(to);
		auto dst = names_.at(dir).entries.find(name);
		if (dst == names_.at(dir).entries.end())
			return std::nullopt;
		return dst->second.ino;
	};
	with_inode_locked(replaced_ino, [&](std::optional<uint64_t>) {
		auto [src_dir, src_name] = names_.resolve_parent(from);
		auto [dst_dir, dst_name] = names_.resolve_parent(to);
		auto src = names_.at(src_dir).entries.find(src_name);
		if (src == names_.at(src_dir).entries.end())
			throw Error(Errc::not_found, from + ": no such file or directory");
		uint64_t ino = src->second.ino;
		for (uint64_t d = dst_dir; d != kRootIno; d = names_.parent(d).dir)
			if (d == ino)
				throw Error(Errc::invalid_argument,
				            to + ": cannot move a directory into itself");
		Transaction txn(journal_);
		std::optional<VolumeEvent> replaced;
		auto dst = names_.at(dst_dir).entries.find(dst_name);
		if (dst != names_.at(dst_dir).entries.end()) {
			if (dst->second.ino == ino)
				return;
			bool src_is_dir = names_.is_directory(ino);
			bool dst_is_dir = names_.is_directory(dst->second.ino);
			if (src_is_dir != dst_is_dir)
				throw Error(Errc::exists,
				            to + ": exists and is " +
				                (dst_is_dir ? "a directory" : "not a directory"));
			replaced = unlink_locked(txn, dst_dir, dst_name);
		}
		// The inode is not touched: its flag goes with it (generic/607).
		remove_dirent(txn, src_dir, src_name);
		add_dirent(txn, dst_dir, dst_name, ino);
		txn.commit();
		if (replaced) {
			queued_events_.push_back(*replaced);
			free_if_unused(replaced->ino);
		}
		queued_events_.push_back(
		    {VolumeEvent::Kind::renamed, ino, inode(ino).generation, to, from, {}});
	});
}

} // namespace daxpolicy::fscore
