// SPDX-License-Identifier: BSD-3-Clause
// EmbeddedVolume::check_invariants: the in-core state against the pool and against itself,
// as sqlite's assert_pager_state() checks the pager. The stress and crash tests call it
// between steps; a problem is named, so a failing test says what drifted.
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/session.hpp"

#include <set>

namespace daxpolicy::fscore
{

namespace
{

std::string ino_name(uint64_t ino)
{
	return "inode " + std::to_string(ino);
}

} // namespace

void EmbeddedVolume::check_directory_mirrors(std::vector<std::string> &problems) const
{
	size_t children = 0;
	for (uint64_t ino = 1; ino < sb_->inode_count; ino++) {
		const DiskInode &di = inode(ino);
		const DirIndex::Directory *dir = names_.find(ino);
		bool on_pool = di.type == InodeType::directory;
		if (on_pool != (dir != nullptr)) {
			problems.push_back(ino_name(ino) + (on_pool
			                                        ? ": a directory with no mirror"
			                                        : ": a mirror of no directory"));
			continue;
		}
		if (!on_pool)
			continue;
		const DirIndex::Directory &d = *dir;
		if (d.slots != di.size / kDirentSize)
			problems.push_back(ino_name(ino) + ": mirror has " +
			                   std::to_string(d.slots) + " slots, the pool " +
			                   std::to_string(di.size / kDirentSize));
		ExtentMap map(*pool_, di);
		bool blocks_match = d.blocks.size() == di.size / kBlockSize;
		for (uint64_t b = 0; blocks_match && b < d.blocks.size(); b++)
			blocks_match = map.pblk_of(b) == d.blocks[b];
		if (!blocks_match) {
			problems.push_back(ino_name(ino) +
			                   ": mirror's blocks differ from its extents");
			continue;
		}
		std::set<uint64_t> free_slots(d.free_slots.begin(), d.free_slots.end());
		if (free_slots.size() != d.free_slots.size())
			problems.push_back(ino_name(ino) + ": a free slot is listed twice");
		size_t used = 0;
		for (uint64_t slot = 0; slot < d.slots; slot++) {
			const Dirent *e = dirent_slot(d, slot);
			if (e->ino == 0) {
				if (!free_slots.count(slot))
					problems.push_back(ino_name(ino) + ": empty slot " +
					                   std::to_string(slot) + " is not free");
				continue;
			}
			used++;
			std::string name(e->name, e->name_len);
			auto entry = d.entries.find(name);
			if (entry == d.entries.end() || entry->second.ino != e->ino ||
			    entry->second.slot != slot)
				problems.push_back(ino_name(ino) + ": entry '" + name +
				                   "' differs from its mirror");
			auto parent = names_.parents().find(e->ino);
			if (parent == names_.parents().end() || parent->second.dir != ino ||
			    parent->second.name != name)
				problems.push_back(ino_name(e->ino) +
				                   ": parent link differs from '" + name + "' in " +
				                   ino_name(ino));
		}
		if (used != d.entries.size() || used + free_slots.size() != d.slots)
			problems.push_back(ino_name(ino) + ": mirror holds " +
			                   std::to_string(d.entries.size()) +
			                   " entries, the pool " + std::to_string(used));
		children += used;
	}
	if (names_.parents().size() != children)
		problems.push_back(std::to_string(names_.parents().size()) + " parent links for " +
		                   std::to_string(children) + " directory entries");
}

void EmbeddedVolume::check_free_inodes(std::vector<std::string> &problems) const
{
	std::set<uint64_t> listed;
	for (const FreeInodes::Run &run : free_inos_.runs())
		for (uint64_t ino = run.first; ino < run.first + run.count; ino++)
			listed.insert(ino);
	if (listed.size() != free_inos_.size())
		problems.push_back("an inode is on the free list twice");
	for (uint64_t ino = 1; ino < sb_->inode_count; ino++) {
		bool free = inode(ino).type == InodeType::free;
		if (free != (listed.count(ino) > 0))
			problems.push_back(ino_name(ino) + (free
			                                        ? ": free but not on the free list"
			                                        : ": in use but on the free list"));
	}
}

void EmbeddedVolume::check_uses(std::vector<std::string> &problems) const
{
	// Every live mapping holds a lease of kind mapping, so the mapping leases of a file
	// are its mappings, but for revoked ones, which stop counting when they are revoked
	// and keep their lease until unmapped. A file in use has its in-core state and a
	// linked or orphaned inode.
	std::map<uint64_t, uint32_t> mapping_leases;
	std::map<uint64_t, bool> revoked;
	for (const auto &[id, l] : leases_.all()) {
		if (l.kind == LeaseKind::mapping && l.state != LeaseState::revoked)
			mapping_leases[l.ino]++;
		if (l.state == LeaseState::revoked)
			revoked[l.ino] = true;
		if (!in_core_.count(l.ino))
			problems.push_back("lease " + std::to_string(id) + " of " +
			                   ino_name(l.ino) + ", which is not in use");
	}
	for (const auto &[ino, ic] : in_core_) {
		if (inode(ino).type == InodeType::free)
			problems.push_back(ino_name(ino) + ": in use but free");
		// Kept past its last user only for what write-back could not write yet.
		if (ic.opens + ic.maps + ic.refs == 0 && !ic.cache.dirty() && !ic.mtime_unflushed)
			problems.push_back(ino_name(ino) + ": in-core with no user and nothing to "
			                                   "write back");
		auto leases = mapping_leases.find(ino);
		uint32_t expected = leases == mapping_leases.end() ? 0 : leases->second;
		if (ic.maps != expected)
			problems.push_back(ino_name(ino) + ": " + std::to_string(ic.maps) +
			                   " mappings counted, " + std::to_string(expected) +
			                   " mapping leases");
	}
	// Freed runs stay out of reuse only while a revoked lease could still reach them.
	for (const auto &[ino, runs] : quarantine_)
		if (!runs.empty() && !revoked.count(ino))
			problems.push_back(ino_name(ino) +
			                   ": blocks quarantined with no revoked lease");
}

std::vector<std::string> EmbeddedVolume::check_invariants() const
{
	std::lock_guard lock(mutex_);
	std::vector<std::string> problems;
	// After a shutdown the pool in place lags the last committed transaction, which the
	// in-core state already reflects (and the next mount replays): only the in-core state
	// against itself can be checked.
	if (!journal_.shut_down()) {
		check_directory_mirrors(problems);
		check_free_inodes(problems);
	}
	check_uses(problems);
	return problems;
}

} // namespace daxpolicy::fscore
