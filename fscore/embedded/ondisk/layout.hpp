// SPDX-License-Identifier: BSD-3-Clause
// The on-pool format of the embedded core. Every structure here is stored as-is in the pool
// (little-endian, naturally aligned), so its size and field order are part of the format:
// change them only with a new kFormatVersion.
//
//   block 0                      superblock
//   [journal_start, +blocks)     redo journal: header, then records
//   [inode_table_start, +blocks) inode table, kInodeSize bytes each; ino 0 is never used
//   [bitmap_start, +blocks)      block bitmap, bit set = block in use (metadata included)
//   [data_start, total_blocks)   file and directory data, in extents
#pragma once

#include <cstddef>
#include <cstdint>

namespace daxpolicy::fscore
{

inline constexpr uint64_t kBlockSize = 4096;
inline constexpr char kMagic[8] = {'D', 'A', 'X', 'P', 'O', 'O', 'L', '1'};
// Version 2: the inode count is chosen at mkfs (`--inodes`) and recorded in the superblock,
// and the geometry follows from the size and it. Version 1 pools, whose inode count was a
// function of the size alone (`legacy_inode_count`), have the same layout and still mount.
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr uint32_t kOldestFormatVersion = 1;
inline constexpr uint64_t kRootIno = 1;
inline constexpr uint64_t kMinPoolSize = 16ull << 20;
// The smallest file that can hold a superblock: anything shorter is not a pool at all.
inline constexpr uint64_t kMinPoolFileSize = 4096;
inline constexpr uint64_t kHugeBlocks = (2ull << 20) / kBlockSize; // one 2 MiB page
inline constexpr uint64_t kMaxFileBlocks = UINT32_MAX;             // lblk is 32 bits
// pblk is 32 bits too: a pool holds at most this many blocks (16 TiB); mkfs of a larger
// device uses its first 16 TiB.
inline constexpr uint64_t kMaxPoolBlocks = uint64_t{1} << 32;

struct Superblock {
	char magic[8];
	uint32_t version;
	uint32_t block_size;
	uint8_t uuid[16];
	uint64_t total_blocks;
	uint64_t inode_count;
	uint64_t journal_start;
	uint64_t journal_blocks;
	uint64_t inode_table_start;
	uint64_t inode_table_blocks;
	uint64_t bitmap_start;
	uint64_t bitmap_blocks;
	uint64_t data_start;
	uint64_t created_ns;
	// 1 while the pool is not mounted read-write; cleared at mount, set at clean unmount.
	// A pool found mounted-unclean has its journal replayed (it always is) and says so.
	uint64_t clean;
	uint64_t mount_count;
};
static_assert(sizeof(Superblock) == 128);

enum class InodeType : uint32_t { free = 0, regular = 1, directory = 2 };

inline constexpr uint32_t kInodeFlagDax = 1u << 0; // FS_XFLAG_DAX
// The file has blocks past end-of-file (fallocate with keep-size), as ext4's EOFBLOCKS_FL:
// without it, an extent past EOF is damage.
inline constexpr uint32_t kInodeFlagEofBlocks = 1u << 1;
inline constexpr uint32_t kInodeFlagsKnown = kInodeFlagDax | kInodeFlagEofBlocks;

// A run of blocks: file blocks [lblk, lblk+len) live at pool blocks [pblk, pblk+len).
struct Extent {
	uint32_t lblk;
	uint32_t pblk;
	uint32_t len;
};
static_assert(sizeof(Extent) == 12);

inline constexpr size_t kInodeSize = 256;
inline constexpr size_t kInlineExtents = 16;

// A file's extent map is one list sorted by lblk: the first kInlineExtents entries in the
// inode, the rest in a chain of extent blocks.
struct DiskInode {
	InodeType type;
	uint32_t flags;
	uint32_t nlink;
	uint32_t extent_count; // entries in the whole list, inline and chained
	uint64_t size;
	// Bumped each time the slot is reused, so (ino, generation) names one file for ever.
	uint64_t generation;
	uint64_t mtime_ns;
	uint64_t ctime_ns;
	uint64_t extent_block; // first block of the chain, 0 for none
	Extent extents[kInlineExtents];
	uint8_t reserved[kInodeSize - 56 - sizeof(Extent) * kInlineExtents];
};
static_assert(sizeof(DiskInode) == kInodeSize);

inline constexpr size_t kExtentsPerBlock = (kBlockSize - 16) / sizeof(Extent);

struct ExtentBlock {
	uint64_t next; // the next block of the chain, 0 for the last
	uint32_t count;
	uint32_t reserved;
	Extent extents[kExtentsPerBlock];
};
static_assert(sizeof(ExtentBlock) <= kBlockSize);

// Directory data is an array of fixed-size entries; a slot with ino 0 is free. The ino is the
// last field written when an entry is made and the first cleared when it is removed, but the
// journal makes either order atomic anyway.
inline constexpr size_t kDirentSize = 256;
inline constexpr size_t kNameMax = kDirentSize - 16;

struct Dirent {
	uint64_t ino;
	uint16_t name_len;
	uint16_t reserved[3];
	char name[kNameMax];
};
static_assert(sizeof(Dirent) == kDirentSize);
inline constexpr size_t kDirentsPerBlock = kBlockSize / kDirentSize;

// The journal's header occupies its first block. `committed` is written alone, as one aligned
// 8-byte store, after everything it covers is durable: it is the commit point.
inline constexpr uint64_t kJournalMagic = 0x4c4e524a58414431ull; // "1DAXJRNL"

struct JournalHeader {
	uint64_t magic;
	uint64_t sequence;
	uint64_t record_count;
	uint64_t payload_bytes;
	uint64_t checksum; // of the payload, so a torn payload is never replayed
	uint64_t committed;
};

// A record in the payload: `len` bytes follow, padded to 8.
struct JournalRecord {
	uint64_t pool_offset;
	uint64_t len;
};

} // namespace daxpolicy::fscore
