#include "fscore/fsck.hpp"

#include "fscore/error.hpp"
#include "fscore/extent_map.hpp"
#include "fscore/layout.hpp"
#include "fscore/pmem_pool.hpp"
#include "fscore/superblock.hpp"

#include <map>
#include <optional>
#include <set>

namespace daxpolicy::fscore
{

namespace
{

class Checker
{
      public:
	Checker(const PmemPool &pool, FsckReport &report)
	    : pool_(pool), sb_(*reinterpret_cast<const Superblock *>(pool.base())), report_(report),
	      owner_(sb_.total_blocks, 0), links_(sb_.inode_count, 0)
	{
	}

	void run()
	{
		report_.blocks_total = sb_.total_blocks;
		if (!sb_.clean)
			report_.notes.push_back("pool is mounted, or was not unmounted cleanly");
		check_journal();
		for (uint64_t ino = 1; ino < sb_.inode_count; ino++)
			check_inode(ino);
		check_tree();
		check_bitmap();
	}

      private:
	const DiskInode &inode(uint64_t ino) const
	{
		return *reinterpret_cast<const DiskInode *>(
		    pool_.base() + sb_.inode_table_start * kBlockSize + ino * kInodeSize);
	}
	void problem(const std::string &what) { report_.problems.push_back(what); }

	void check_journal()
	{
		const auto &h = *reinterpret_cast<const JournalHeader *>(
		    pool_.base() + sb_.journal_start * kBlockSize);
		if (h.magic != kJournalMagic)
			problem("journal: bad magic");
		else if (h.committed)
			problem("journal: holds a committed transaction not yet replayed (mount "
			        "the pool to recover)");
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
		(di.type == InodeType::directory ? report_.directories : report_.files)++;
		if (di.nlink == 0)
			report_.notes.push_back(name +
			                        ": orphan (removed while in use); freed at mount");
		std::optional<ExtentMap> map;
		try {
			map.emplace(pool_, di);
			for (uint64_t b : ExtentMap::chain(pool_, di))
				own(b, ino);
		} catch (const Error &e) {
			problem(name + ": extent list: " + e.what());
			return;
		}
		uint64_t size_blocks = blocks_for(di.size);
		const auto &extents = map->extents();
		for (size_t i = 0; i < extents.size(); i++) {
			const Extent &e = extents[i];
			std::string ext = name + ": extent " + std::to_string(i);
			if (e.len == 0)
				problem(ext + ": empty");
			if (i > 0 && extents[i - 1].lblk + extents[i - 1].len > e.lblk)
				problem(ext + ": overlaps or is out of order");
			if (uint64_t{e.lblk} + e.len > size_blocks &&
			    !(di.flags & kInodeFlagEofBlocks))
				problem(ext + ": lies beyond the file size " +
				        std::to_string(di.size));
			if (e.pblk < sb_.data_start ||
			    uint64_t{e.pblk} + e.len > sb_.total_blocks) {
				problem(ext + ": outside the data area");
				continue;
			}
			for (uint64_t b = e.pblk; b < uint64_t{e.pblk} + e.len; b++)
				own(b, ino);
		}
		if (di.type == InodeType::directory)
			check_directory(ino, di);
	}

	void own(uint64_t block, uint64_t ino)
	{
		if (block < sb_.data_start || block >= sb_.total_blocks) {
			problem("inode " + std::to_string(ino) + ": block " +
			        std::to_string(block) + " outside the data area");
			return;
		}
		if (owner_[block])
			problem("block " + std::to_string(block) + " owned by inode " +
			        std::to_string(owner_[block]) + " and inode " +
			        std::to_string(ino));
		owner_[block] = ino;
	}

	void check_directory(uint64_t ino, const DiskInode &di)
	{
		std::string name = "directory " + std::to_string(ino);
		if (di.size % kBlockSize)
			problem(name + ": size " + std::to_string(di.size) +
			        " is not whole blocks");
		std::set<std::string> names;
		for (uint64_t slot = 0; slot < di.size / kDirentSize; slot++) {
			const Dirent *d = dirent(di, slot);
			if (!d) {
				problem(name + ": slot " + std::to_string(slot) + " is in a hole");
				return;
			}
			if (d->ino == 0)
				continue;
			std::string entry = name + ": entry " + std::to_string(slot);
			if (d->ino >= sb_.inode_count || d->name_len == 0 ||
			    d->name_len > kNameMax) {
				problem(entry + ": bad inode number or name length");
				continue;
			}
			std::string child(d->name, d->name_len);
			if (child.find('/') != std::string::npos || child == "." || child == "..")
				problem(entry + ": bad name '" + child + "'");
			if (!names.insert(child).second)
				problem(entry + ": duplicate name '" + child + "'");
			if (inode(d->ino).type == InodeType::free)
				problem(entry + ": '" + child + "' names free inode " +
				        std::to_string(d->ino));
			links_[d->ino]++;
			children_[ino].push_back(d->ino);
		}
	}

	const Dirent *dirent(const DiskInode &dir, uint64_t slot) const
	{
		auto pblk = ExtentMap(pool_, dir).pblk_of(slot / kDirentsPerBlock);
		if (!pblk || *pblk >= sb_.total_blocks)
			return nullptr;
		return reinterpret_cast<const Dirent *>(pool_.base() + *pblk * kBlockSize +
		                                        (slot % kDirentsPerBlock) * kDirentSize);
	}

	void check_tree()
	{
		if (inode(kRootIno).type != InodeType::directory) {
			problem("root inode is not a directory");
			return;
		}
		// Every linked inode must be reached from the root exactly once.
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
		}
	}

	void check_bitmap()
	{
		const auto *words = reinterpret_cast<const uint64_t *>(
		    pool_.base() + sb_.bitmap_start * kBlockSize);
		for (uint64_t b = 0; b < sb_.total_blocks; b++) {
			bool marked = (words[b / 64] >> (b % 64)) & 1;
			bool used = b < sb_.data_start || owner_[b] != 0;
			if (marked)
				report_.blocks_used++;
			if (marked && !used)
				problem("block " + std::to_string(b) +
				        " is marked in use but no file owns it");
			else if (!marked && used)
				problem("block " + std::to_string(b) + " is owned by inode " +
				        std::to_string(owner_[b]) + " but marked free");
		}
	}

	const PmemPool &pool_;
	const Superblock &sb_;
	FsckReport &report_;
	std::vector<uint64_t> owner_; // by block: the inode owning it, 0 for none
	std::vector<uint32_t> links_; // by inode: directory entries naming it
	std::map<uint64_t, std::vector<uint64_t>> children_;
};

} // namespace

FsckReport fsck(const std::filesystem::path &pool_path)
{
	auto pool = PmemPool::open(pool_path);
	if (pool->size() < sizeof(Superblock))
		check_superblock(Superblock{}, pool->size(), pool_path.string());
	check_superblock(*reinterpret_cast<const Superblock *>(pool->base()), pool->size(),
	                 pool_path.string());
	FsckReport report;
	Checker(*pool, report).run();
	return report;
}

} // namespace daxpolicy::fscore
