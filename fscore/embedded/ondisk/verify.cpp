// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/ondisk/verify.hpp"

#include "common/error.hpp"
#include "fscore/embedded/ondisk/extent_map.hpp"
#include "fscore/embedded/ondisk/layout.hpp"
#include "fscore/embedded/ondisk/superblock.hpp"

#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace daxpolicy::fscore
{

namespace
{

class Verifier
{
      public:
	Verifier(std::span<const std::byte> pool, FsckReport &report)
	    : pool_(pool), sb_(*reinterpret_cast<const Superblock *>(pool.data())), report_(report),
	      owned_(sb_.total_blocks, false), links_(sb_.inode_count, 0)
	{
	}

	void run()
	{
		report_.blocks_total = sb_.total_blocks;
		if (!sb_.clean)
			report_.notes.push_back("pool is mounted, or was not unmounted cleanly");
		for (uint64_t ino = 1; ino < sb_.inode_count; ino++)
			check_inode(ino);
		check_tree();
		check_bitmap();
		if (dropped_)
			report_.problems.push_back("... and " + std::to_string(dropped_) +
			                           " more problems");
	}

      private:
	const DiskInode &inode(uint64_t ino) const
	{
		return *reinterpret_cast<const DiskInode *>(
		    pool_.data() + sb_.inode_table_start * kBlockSize + ino * kInodeSize);
	}
	const std::byte *block(uint64_t pblk) const { return pool_.data() + pblk * kBlockSize; }
	void problem(const std::string &what)
	{
		if (report_.problems.size() < kMaxReportedProblems)
			report_.problems.push_back(what);
		else
			dropped_++;
	}
	bool in_data_area(uint64_t pblk, uint64_t len) const
	{
		return pblk >= sb_.data_start && pblk < sb_.total_blocks &&
		       len <= sb_.total_blocks - pblk;
	}

	// The inode's extent list, or nothing (and a problem) when its chain cannot be read.
	std::optional<std::vector<Extent>> extents_of(uint64_t ino, const DiskInode &di)
	{
		std::string name = "inode " + std::to_string(ino);
		// Every chain block must be a data block owned by nobody else before it is read,
		// so a chain into metadata, out of the pool, or round in a loop stops here.
		std::vector<uint64_t> chain;
		for (uint64_t b = di.extent_block; b != 0;
		     b = reinterpret_cast<const ExtentBlock *>(block(b))->next) {
			if (!in_data_area(b, 1)) {
				problem(name + ": extent block " + std::to_string(b) +
				        " outside the data area");
				return std::nullopt;
			}
			if (owned_[b]) {
				problem(name + ": extent block " + std::to_string(b) +
				        " is owned twice (a loop, or shared with another file)");
				return std::nullopt;
			}
			own(b, ino);
			chain.push_back(b);
		}
		std::vector<Extent> extents(
		    di.extents, di.extents + std::min<uint64_t>(di.extent_count, kInlineExtents));
		for (uint64_t b : chain) {
			const auto *eb = reinterpret_cast<const ExtentBlock *>(block(b));
			if (eb->count == 0 || eb->count > kExtentsPerBlock) {
				problem(name + ": extent block " + std::to_string(b) + " holds " +
				        std::to_string(eb->count) + " extents");
				return std::nullopt;
			}
			extents.insert(extents.end(), eb->extents, eb->extents + eb->count);
		}
		if (extents.size() != di.extent_count ||
		    (di.extent_count <= kInlineExtents) != chain.empty()) {
			problem(name + ": extent count " + std::to_string(di.extent_count) +
			        " does not match its extent list");
			return std::nullopt;
		}
		return extents;
	}

	void check_inode(uint64_t ino)
	{
		const DiskInode &di = inode(ino);
		std::string name = "inode " + std::to_string(ino);
		if (di.type == InodeType::free)
			return;
		if (di.type != InodeType::regular && di.type != InodeType::directory) {
			problem(name + ": unknown type " + std::to_string(uint32_t(di.type)));
			return;
		}
		if (di.flags & ~kInodeFlagsKnown)
			problem(name + ": unknown flag bits " + std::to_string(di.flags));
		if (ino == kRootIno && di.type != InodeType::directory)
			return; // check_tree reports it
		(di.type == InodeType::directory ? report_.directories : report_.files)++;
		if (di.nlink == 0)
			report_.notes.push_back(name +
			                        ": orphan (removed while in use); freed at mount");
		if (di.size > kMaxFileBlocks * kBlockSize)
			problem(name + ": size " + std::to_string(di.size) +
			        " is beyond the largest file");
		auto extents = extents_of(ino, di);
		if (!extents)
			return;
		uint64_t size_blocks = blocks_for(std::min(di.size, kMaxFileBlocks * kBlockSize));
		bool sound = true;
		for (size_t i = 0; i < extents->size(); i++) {
			const Extent &e = (*extents)[i];
			std::string ext = name + ": extent " + std::to_string(i);
			if (e.len == 0)
				problem(ext + ": empty"), sound = false;
			if (i > 0 &&
			    uint64_t{(*extents)[i - 1].lblk} + (*extents)[i - 1].len > e.lblk)
				problem(ext + ": overlaps or is out of order"), sound = false;
			if (uint64_t{e.lblk} + e.len > kMaxFileBlocks)
				problem(ext + ": beyond the largest file"), sound = false;
			if (uint64_t{e.lblk} + e.len > size_blocks &&
			    !(di.flags & kInodeFlagEofBlocks))
				problem(ext + ": lies beyond the file size " +
				        std::to_string(di.size));
			if (!in_data_area(e.pblk, e.len)) {
				problem(ext + ": outside the data area");
				sound = false;
				continue;
			}
			for (uint64_t b = e.pblk; b < uint64_t{e.pblk} + e.len; b++) {
				if (owned_[b])
					problem("block " + std::to_string(b) +
					        " is owned twice (inode " + std::to_string(ino) +
					        " and another)");
				own(b, ino);
			}
		}
		if (di.type == InodeType::directory && sound)
			check_directory(ino, di, *extents);
	}

	bool marked(uint64_t pblk) const
	{
		const auto *words = reinterpret_cast<const uint64_t *>(block(sb_.bitmap_start));
		return (words[pblk / 64] >> (pblk % 64)) & 1;
	}
	// A block a file uses: the bitmap must say so (else the allocator would hand it out
	// again), and check_bitmap later finds the marked blocks nobody owns.
	void own(uint64_t pblk, uint64_t ino)
	{
		owned_[pblk] = true;
		if (!marked(pblk))
			problem("block " + std::to_string(pblk) + " is owned by inode " +
			        std::to_string(ino) + " but marked free");
	}

	static std::optional<std::string> bad_name(const std::string &name)
	{
		if (name == "." || name == "..")
			return "is '" + name + "'";
		for (char c : name)
			if (c == '/' || c == '\0' || c == '\n')
				return "holds a '/', NUL or newline";
		return std::nullopt;
	}

	void check_directory(uint64_t ino, const DiskInode &di, const std::vector<Extent> &extents)
	{
		std::string name = "directory " + std::to_string(ino);
		if (di.size % kBlockSize) {
			problem(name + ": size " + std::to_string(di.size) +
			        " is not whole blocks");
			return;
		}
		std::set<std::string> names;
		size_t e = 0;
		for (uint64_t lblk = 0; lblk < di.size / kBlockSize; lblk++) {
			while (e < extents.size() &&
			       uint64_t{extents[e].lblk} + extents[e].len <= lblk)
				e++;
			if (e == extents.size() || extents[e].lblk > lblk) {
				problem(name + ": block " + std::to_string(lblk) + " is a hole");
				return;
			}
			const auto *dirents = reinterpret_cast<const Dirent *>(
			    block(extents[e].pblk + (lblk - extents[e].lblk)));
			for (uint64_t i = 0; i < kDirentsPerBlock; i++)
				check_dirent(ino, name, lblk * kDirentsPerBlock + i, dirents[i],
				             names);
		}
	}

	void check_dirent(uint64_t dir, const std::string &name, uint64_t slot, const Dirent &d,
	                  std::set<std::string> &names)
	{
		if (d.ino == 0)
			return;
		std::string entry = name + ": entry " + std::to_string(slot);
		if (d.ino < 2 || d.ino >= sb_.inode_count || d.name_len == 0 ||
		    d.name_len > kNameMax) {
			problem(entry + ": bad inode number or name length");
			return;
		}
		std::string child(d.name, d.name_len);
		if (auto why = bad_name(child))
			problem(entry + ": bad name: " + *why);
		if (!names.insert(child).second)
			problem(entry + ": duplicate name '" + child + "'");
		if (inode(d.ino).type == InodeType::free) {
			problem(entry + ": '" + child + "' names free inode " +
			        std::to_string(d.ino));
			return;
		}
		links_[d.ino]++;
		children_[dir].push_back(d.ino);
	}

	void check_tree()
	{
		if (inode(kRootIno).type != InodeType::directory) {
			problem("root inode is not a directory");
			return;
		}
		// Every linked inode must be reached from the root exactly once: no cycles, no
		// hard links. Iterative, so a deep or cyclic tree cannot exhaust the stack.
		std::vector<uint8_t> seen(sb_.inode_count, 0);
		std::vector<uint64_t> stack{kRootIno};
		seen[kRootIno] = 1;
		while (!stack.empty()) {
			uint64_t dir = stack.back();
			stack.pop_back();
			for (uint64_t child : children_[dir]) {
				if (seen[child]) {
					problem("inode " + std::to_string(child) +
					        " is reached twice (directory cycle or hard link)");
					continue;
				}
				seen[child] = 1;
				if (inode(child).type == InodeType::directory)
					stack.push_back(child);
			}
		}
		for (uint64_t ino = 2; ino < sb_.inode_count; ino++) {
			const DiskInode &di = inode(ino);
			if (di.type == InodeType::free)
				continue;
			if (di.nlink != links_[ino])
				problem("inode " + std::to_string(ino) + ": link count " +
				        std::to_string(di.nlink) + " but " +
				        std::to_string(links_[ino]) + " directory entries");
			else if (di.nlink && !seen[ino])
				problem("inode " + std::to_string(ino) +
				        " is not reachable from the root");
			if (di.nlink == 0 && children_.count(ino))
				problem("inode " + std::to_string(ino) +
				        ": removed directory still has entries");
		}
		if (inode(kRootIno).nlink != 1)
			problem("root inode: link count " + std::to_string(inode(kRootIno).nlink));
	}

	void check_bitmap()
	{
		for (uint64_t b = 0; b < sb_.total_blocks; b++) {
			if (!marked(b)) {
				if (b < sb_.data_start)
					problem("metadata block " + std::to_string(b) +
					        " is marked free");
				continue;
			}
			report_.blocks_used++;
			if (b >= sb_.data_start && !owned_[b])
				problem("block " + std::to_string(b) +
				        " is marked in use but no file owns it");
		}
		const auto *words = reinterpret_cast<const uint64_t *>(block(sb_.bitmap_start));
		// Bits past the last block are set at mkfs and never cleared: the allocator
		// relies on them to never hand those blocks out.
		for (uint64_t b = sb_.total_blocks; b % 64 != 0; b++)
			if (!((words[b / 64] >> (b % 64)) & 1))
				problem("bitmap: bit " + std::to_string(b) +
				        " past the last block is clear");
	}

	std::span<const std::byte> pool_;
	const Superblock &sb_;
	FsckReport &report_;
	std::vector<bool> owned_;     // by block
	std::vector<uint32_t> links_; // by inode: directory entries naming it
	std::unordered_map<uint64_t, std::vector<uint64_t>> children_;
	uint64_t dropped_ = 0;
};

} // namespace

FsckReport verify_pool(std::span<const std::byte> pool)
{
	FsckReport report;
	Verifier(pool, report).run();
	return report;
}

} // namespace daxpolicy::fscore
