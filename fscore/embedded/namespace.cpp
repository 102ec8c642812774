// SPDX-License-Identifier: BSD-3-Clause
// Path lookup and the namespace operations of the embedded core: create, mkdir, remove,
// rename. Each is one journal transaction.
#include "common/clock.hpp"
#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"

#include <cstring>
#include <string_view>

namespace daxpolicy::fscore
{

namespace
{

std::vector<std::string> components(const std::string &path)
{
	if (path.empty() || path[0] != '/')
		throw Error(Errc::invalid_argument, "path '" + path + "' is not absolute");
	std::vector<std::string> parts;
	size_t pos = 1;
	while (pos <= path.size()) {
		size_t end = path.find('/', pos);
		if (end == std::string::npos)
			end = path.size();
		std::string part = path.substr(pos, end - pos);
		if (part == "." || part == "..")
			throw Error(Errc::invalid_argument,
			            "path '" + path + "' must not contain '.' or '..'");
		if (part.find_first_of(std::string_view("\0\n", 2)) != std::string::npos)
			throw Error(Errc::invalid_argument,
			            "path '" + path + "': names must not hold a NUL or a newline");
		if (part.size() > kNameMax)
			throw Error(Errc::invalid_argument, "name '" + part + "' is longer than " +
			                                        std::to_string(kNameMax) +
			                                        " bytes");
		if (!part.empty())
			parts.push_back(std::move(part));
		pos = end + 1;
	}
	return parts;
}

} // namespace

uint64_t EmbeddedVolume::resolve(const std::string &path) const
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	uint64_t ino = kRootIno;
	for (const auto &part : components(path)) {
		auto dir = dirs_.find(ino);
		if (dir == dirs_.end())
			throw Error(Errc::not_found, path + ": a component is not a directory");
		auto it = dir->second.entries.find(part);
		if (it == dir->second.entries.end())
			throw Error(Errc::not_found, path + ": no such file or directory");
		ino = it->second.ino;
	}
	return ino;
}

std::pair<uint64_t, std::string> EmbeddedVolume::resolve_parent(const std::string &path) const
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	auto parts = components(path);
	if (parts.empty())
		throw Error(Errc::invalid_argument, "the root directory cannot be named here");
	std::string name = parts.back();
	std::string parent = "/";
	for (size_t i = 0; i + 1 < parts.size(); i++)
		parent += (i ? "/" : "") + parts[i];
	uint64_t dir = resolve(parent);
	if (!dirs_.count(dir))
		throw Error(Errc::not_found, parent + ": not a directory");
	return {dir, name};
}

std::string EmbeddedVolume::path_of_locked(uint64_t ino) const
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	std::string path;
	while (ino != kRootIno) {
		const Parent &p = parents_.at(ino);
		path = "/" + p.name + path;
		ino = p.dir;
	}
	return path.empty() ? "/" : path;
}

Dirent *EmbeddedVolume::dirent_slot(const ExtentMap &dir, uint64_t slot) const
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	auto pblk = dir.pblk_of(slot / kDirentsPerBlock);
	if (!pblk)
		throw Error(Errc::internal,
		            "directory slot " + std::to_string(slot) + " is in a hole");
	return reinterpret_cast<Dirent *>(pool_->base() + *pblk * kBlockSize +
	                                  (slot % kDirentsPerBlock) * kDirentSize);
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
	Directory &d = dirs_.at(dir);
	DiskInode dir_inode = inode(dir);
	ExtentMap map(*pool_, dir_inode);
	uint64_t slot;
	bool grow = d.free_slots.empty();
	if (grow) {
		// Grow the directory by one zeroed block, in this transaction: the zeroes are
		// durable before the commit that makes the block part of the directory.
		std::vector<std::byte> zero(kBlockSize);
		write_blocks(txn, map, dir_inode, dir_inode.size, zero);
		map.store(txn, *alloc_, dir_inode);
		stage_inode(txn, dir, dir_inode);
		slot = d.slots;
		for (uint64_t s = slot + kDirentsPerBlock; s-- > slot + 1;)
			d.free_slots.push_back(s);
		d.slots += kDirentsPerBlock;
		txn.on_abort([this, dir] {
			Directory &dd = dirs_.at(dir);
			dd.slots -= kDirentsPerBlock;
			std::erase_if(dd.free_slots, [&](uint64_t s) { return s >= dd.slots; });
		});
	} else {
		slot = d.free_slots.back();
	}
	Dirent de{};
	de.ino = ino;
	de.name_len = static_cast<uint16_t>(name.size());
	std::memcpy(de.name, name.data(), name.size());
	// Staged before the mirror changes: a stage that fails (the journal full) leaves the
	// slot free, and the mirror as the pool has it.
	txn.stage(dirent_slot(map, slot), de);
	if (!grow)
		d.free_slots.pop_back();
	d.entries.emplace(name, DirEntry{ino, slot});
	parents_[ino] = Parent{dir, name};
	txn.on_abort([this, dir, name, ino, slot] {
		Directory &dd = dirs_.at(dir);
		dd.entries.erase(name);
		dd.free_slots.push_back(slot);
		parents_.erase(ino);
	});
}

void EmbeddedVolume::remove_dirent(Transaction &txn, uint64_t dir, const std::string &name)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	Directory &d = dirs_.at(dir);
	DirEntry entry = d.entries.at(name);
	Dirent empty{};
	txn.stage(dirent_slot(ExtentMap(*pool_, inode(dir)), entry.slot), empty);
	d.entries.erase(name);
	d.free_slots.push_back(entry.slot);
	Parent old_parent = parents_.at(entry.ino);
	parents_.erase(entry.ino);
	txn.on_abort([this, dir, name, entry, old_parent] {
		Directory &dd = dirs_.at(dir);
		dd.entries.emplace(name, entry);
		std::erase(dd.free_slots, entry.slot);
		parents_[entry.ino] = old_parent;
	});
}

uint64_t EmbeddedVolume::make_node(const std::string &path, InodeType type)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	auto [dir, name] = resolve_parent(path);
	if (dirs_.at(dir).entries.count(name))
		throw Error(Errc::exists, path + ": file exists");
	if (free_inos_.empty())
		throw Error(Errc::no_space, "no free inodes left in the pool");
	Transaction txn(journal_);
	uint64_t ino = free_inos_.back();
	free_inos_.pop_back();
	txn.on_abort([this, ino] { free_inos_.push_back(ino); });

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
		dirs_[ino] = Directory{};
	queued_events_.push_back({VolumeEvent::Kind::created, ino, di.generation, path, {}, {}});
	return ino;
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
	free_inos_.push_back(ino);
	txn.on_abort([this] { free_inos_.pop_back(); });
	txn.commit();
	dirs_.erase(ino);
}

VolumeEvent EmbeddedVolume::unlink_locked(Transaction &txn, uint64_t dir, const std::string &name)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	uint64_t ino = dirs_.at(dir).entries.at(name).ino;
	auto sub = dirs_.find(ino);
	if (sub != dirs_.end() && !sub->second.entries.empty())
		throw Error(Errc::invalid_argument, name + ": directory not empty");
	std::string path = path_of_locked(ino);
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
	with_inode_locked([&] { return std::optional(resolve(path)); },
	                  [&](std::optional<uint64_t>) {
		                  auto [dir, name] = resolve_parent(path);
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
		auto [dir, name] = resolve_parent(to);
		auto dst = dirs_.at(dir).entries.find(name);
		if (dst == dirs_.at(dir).entries.end())
			return std::nullopt;
		return dst->second.ino;
	};
	with_inode_locked(replaced_ino, [&](std::optional<uint64_t>) {
		auto [src_dir, src_name] = resolve_parent(from);
		auto [dst_dir, dst_name] = resolve_parent(to);
		auto src = dirs_.at(src_dir).entries.find(src_name);
		if (src == dirs_.at(src_dir).entries.end())
			throw Error(Errc::not_found, from + ": no such file or directory");
		uint64_t ino = src->second.ino;
		for (uint64_t d = dst_dir; d != kRootIno; d = parents_.at(d).dir)
			if (d == ino)
				throw Error(Errc::invalid_argument,
				            to + ": cannot move a directory into itself");
		Transaction txn(journal_);
		std::optional<VolumeEvent> replaced;
		auto dst = dirs_.at(dst_dir).entries.find(dst_name);
		if (dst != dirs_.at(dst_dir).entries.end()) {
			if (dst->second.ino == ino)
				return;
			bool src_is_dir = dirs_.count(ino);
			bool dst_is_dir = dirs_.count(dst->second.ino);
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
