// SPDX-License-Identifier: BSD-3-Clause
// Corrupted pool images: the sample pool (tests/pool_image.hpp) with targeted damage to each
// region (superblock, journal, inode table, bitmap, directories, extent chains) and random
// damage to the fields of each. For every image: fsck reports the damage (targeted cases; a
// random one it cannot see must then mount and serve correctly), and mount either refuses it
// with `corrupted`, naming the reason, or serves it correctly (check_served) and leaves it
// clean by fsck after unmount. Each case runs in a forked child under an alarm, so a signal or
// a hang is a failure of that case alone.
#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/fsck.hpp"
#include "fscore/embedded/ondisk/journal.hpp"
#include "fscore/embedded/ondisk/layout.hpp"
#include "tests/support/pool_image.hpp"
#include "tests/support/temp_dir.hpp"

#include <csignal>
#include <cstring>
#include <functional>
#include <gtest/gtest.h>
#include <random>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace daxpolicy;
using namespace daxpolicy::fscore;

namespace
{

constexpr unsigned kCaseSeconds = 10; // a case still running then has hung
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
// A case that allocates without bound fails at this, not by taking the machine's memory.
// (Sanitizers reserve far more address space than this, so there the alarm must do.)
constexpr rlim_t kCaseAddressSpace = rlim_t{4} << 30;
#endif

// How a damaged image may be refused: `corrupted`, but a superblock that is not a daxpolicy
// pool's at all is "not a daxpolicy pool" (invalid-argument), one of a later format version
// `unsupported`.
const std::set<Errc> kCorrupted{Errc::corrupted};
const std::set<Errc> kNotAPool{Errc::invalid_argument, Errc::corrupted};
const std::set<Errc> kUnsupported{Errc::unsupported};

struct Case {
	std::string name;
	std::function<void(test::Image &)> damage;
	// Targeted damage is always visible to fsck; random damage may hit bytes nothing checks.
	bool fsck_must_see = true;
	std::set<Errc> refusals = kCorrupted;
};

// The sample pool, made once; cases damage copies of its image.
struct Sample {
	test::Image image;
	std::map<std::string, uint64_t> ino; // path -> inode
};

Sample &sample()
{
	static Sample *s = [] {
		auto *s = new Sample;
		test::TempDir dir;
		auto pool = dir / "sample.pool";
		test::make_sample_pool(pool);
		{
			auto vol = EmbeddedVolume::mount(pool, {});
			vol->walk("/", [&](const FileInfo &f) { s->ino[f.path] = f.ino; });
		}
		s->image = test::read_image(pool);
		return s;
	}();
	return *s;
}

uint64_t ino(const std::string &path)
{
	return sample().ino.at(path);
}

// The dirent of `name` in directory `dir` (both of the sample; one block each).
Dirent &dirent(test::Image &image, const std::string &dir, const std::string &name)
{
	DiskInode &di = test::inode(image, ino(dir));
	for (uint64_t slot = 0; slot < di.size / kDirentSize; slot++) {
		auto &d =
		    test::at<Dirent>(image, di.extents[0].pblk * kBlockSize + slot * kDirentSize);
		if (d.ino && std::string(d.name, d.name_len) == name)
			return d;
	}
	throw std::out_of_range(dir + " has no entry " + name);
}

// A new entry `name` -> `target` in a free slot of `dir`, as if a link had been made.
void add_dirent(test::Image &image, const std::string &dir, std::string_view name, uint64_t target)
{
	DiskInode &di = test::inode(image, ino(dir));
	for (uint64_t slot = 0; slot < kDirentsPerBlock; slot++) {
		auto &d =
		    test::at<Dirent>(image, di.extents[0].pblk * kBlockSize + slot * kDirentSize);
		if (d.ino)
			continue;
		d = Dirent{};
		d.name_len = uint16_t(name.size());
		std::memcpy(d.name, name.data(), name.size());
		d.ino = target;
		di.size = std::max<uint64_t>(di.size, (slot + 1) * kDirentSize);
		return;
	}
	throw std::out_of_range(dir + " has no free slot");
}

void rename_dirent(test::Image &image, const std::string &dir, const std::string &name,
                   std::string_view to)
{
	Dirent &d = dirent(image, dir, name);
	std::memset(d.name, 0, kNameMax);
	std::memcpy(d.name, to.data(), std::min(to.size(), kNameMax));
	d.name_len = uint16_t(to.size());
}

void set_bit(test::Image &image, uint64_t block, bool on)
{
	uint64_t &word = test::bitmap(image)[block / 64];
	word = on ? word | (uint64_t{1} << (block % 64)) : word & ~(uint64_t{1} << (block % 64));
}

uint64_t journal_payload(test::Image &image)
{
	return (test::superblock(image).journal_start + 1) * kBlockSize;
}

// The journal's checksum, made to match its header and payload again, so that damage inside
// them is judged on what it says (the bounds of each record) rather than refused as torn.
void seal_journal(test::Image &image)
{
	JournalHeader &h = test::journal_header(image);
	h.checksum = Journal::checksum(h, image.data() + journal_payload(image));
}

// A committed journal transaction of the given records (offset, bytes), with a checksum
// that matches, as a crash just after commit leaves it.
void commit_records(test::Image &image,
                    const std::vector<std::pair<uint64_t, std::vector<std::byte>>> &records)
{
	JournalHeader &h = test::journal_header(image);
	uint64_t payload = journal_payload(image);
	size_t pos = 0;
	for (const auto &[offset, bytes] : records) {
		test::at<JournalRecord>(image, payload + pos) = {offset, bytes.size()};
		pos += sizeof(JournalRecord);
		std::memcpy(image.data() + payload + pos, bytes.data(), bytes.size());
		pos += (bytes.size() + 7) & ~size_t{7};
	}
	h.record_count = records.size();
	h.payload_bytes = pos;
	h.committed = 1;
	seal_journal(image);
}

// The pool block of file block `lblk` of the sample file `path` (inline extents).
uint64_t block_of(test::Image &image, const std::string &path, uint32_t lblk = 0)
{
	const DiskInode &di = test::inode(image, ino(path));
	for (size_t i = 0; i < std::min<size_t>(di.extent_count, kInlineExtents); i++)
		if (di.extents[i].lblk <= lblk && lblk < di.extents[i].lblk + di.extents[i].len)
			return di.extents[i].pblk + (lblk - di.extents[i].lblk);
	throw std::out_of_range(path + " has no block " + std::to_string(lblk));
}

ExtentBlock &chain_block(test::Image &image)
{
	return test::at<ExtentBlock>(image,
	                             test::inode(image, ino("/chain")).extent_block * kBlockSize);
}

template <class F> Case inode_case(std::string name, std::string path, F change)
{
	return {std::move(name),
	        [path, change](test::Image &im) { change(test::inode(im, ino(path)), im); }};
}

// gtest prints a case by its name, not its bytes.
void PrintTo(const Case &c, std::ostream *os)
{
	*os << c.name;
}

std::vector<Case> targeted_cases()
{
	using Im = test::Image;
	auto sb = [](Im &im) -> Superblock & { return test::superblock(im); };
	auto jh = [](Im &im) -> JournalHeader & { return test::journal_header(im); };
	auto bytes = [](size_t n, int v) { return std::vector<std::byte>(n, std::byte(v)); };
	std::vector<Case> c;
	// Superblock.
	c.push_back({"SbBadMagic", [&](Im &im) { sb(im).magic[0] ^= 0xff; }, true, kNotAPool});
	c.push_back({"SbNextVersion", [&](Im &im) { sb(im).version++; }, true, kUnsupported});
	c.push_back({"SbBlockSize", [&](Im &im) { sb(im).block_size = 8192; }});
	c.push_back({"SbTotalBlocksTooMany", [&](Im &im) { sb(im).total_blocks *= 2; }});
	c.push_back({"SbTotalBlocksTooFew", [&](Im &im) { sb(im).total_blocks = 16; }});
	// * 4096 wraps to the pool's real size: every size check passes unless it checks overflow.
	c.push_back({"SbTotalBlocksTimesBlockSizeOverflows",
	             [&](Im &im) { sb(im).total_blocks += uint64_t{1} << 52; }});
	c.push_back({"SbJournalStart", [&](Im &im) { sb(im).journal_start = 0; }});
	c.push_back({"SbJournalBlocks", [&](Im &im) { sb(im).journal_blocks = 1u << 30; }});
	c.push_back({"SbInodeCount", [&](Im &im) { sb(im).inode_count = uint64_t{1} << 40; }});
	c.push_back({"SbInodeTableStart", [&](Im &im) { sb(im).inode_table_start++; }});
	c.push_back({"SbBitmapStart", [&](Im &im) { sb(im).bitmap_start = 0; }});
	c.push_back({"SbDataStart", [&](Im &im) { sb(im).data_start = 1; }});
	// Journal.
	c.push_back({"JournalBadMagic", [&](Im &im) { jh(im).magic ^= 1; }});
	c.push_back({"JournalCommittedBadChecksum", [&](Im &im) {
		             commit_records(im, {{0, bytes(8, 0)}});
		             jh(im).checksum ^= 1;
	             }});
	// A damaged record_count: torn (the checksum covers it), and, sealed again, a count that
	// walks past the payload.
	c.push_back({"JournalRecordCountHuge", [&](Im &im) {
		             commit_records(
		                 im, {{test::superblock(im).data_start * kBlockSize, bytes(8, 0)}});
		             jh(im).record_count = uint64_t{1} << 40;
	             }});
	c.push_back({"JournalRecordCountHugeSealed", [&](Im &im) {
		             commit_records(
		                 im, {{test::superblock(im).data_start * kBlockSize, bytes(8, 0)}});
		             jh(im).record_count = uint64_t{1} << 40;
		             seal_journal(im);
	             }});
	c.push_back({"JournalPayloadBytesPastTheJournalSealed", [&](Im &im) {
		             commit_records(im, {{0, bytes(8, 0)}});
		             jh(im).payload_bytes =
		                 test::superblock(im).journal_blocks * kBlockSize;
		             seal_journal(im);
	             }});
	c.push_back({"JournalPayloadBytesHuge", [&](Im &im) {
		             commit_records(im, {{0, bytes(8, 0)}});
		             jh(im).payload_bytes = ~uint64_t{0} - 7;
	             }});
	c.push_back({"JournalRecordIntoTheJournal", [&](Im &im) {
		             commit_records(im,
		                            {{test::superblock(im).journal_start * kBlockSize + 8,
		                              bytes(64, 0x5a)}});
	             }});
	c.push_back({"JournalRecordOutsidePool", [&](Im &im) {
		             commit_records(im, {{im.size() + kBlockSize, bytes(8, 0x5a)}});
	             }});
	c.push_back({"JournalRecordOffsetWraps", [&](Im &im) {
		             commit_records(im, {{~uint64_t{0} - 3, bytes(8, 0x5a)}});
	             }});
	c.push_back({"JournalRecordCrossesPoolEnd", [&](Im &im) {
		             commit_records(im, {{im.size() - 4, bytes(8, 0x5a)}});
	             }});
	c.push_back({"JournalRecordLenPastPayload", [&](Im &im) {
		             commit_records(im, {{kBlockSize * 4000, bytes(8, 0)}});
		             test::at<JournalRecord>(im, journal_payload(im)).len = 8u << 20;
		             seal_journal(im);
	             }});
	// Inodes.
	c.push_back(inode_case("InodeUnknownType", "/data",
	                       [](DiskInode &di, Im &) { di.type = InodeType(7); }));
	c.push_back(inode_case("InodeNamedButFree", "/data",
	                       [](DiskInode &di, Im &) { di = DiskInode{}; }));
	c.push_back(inode_case("InodeFileBecomesDirectory", "/data",
	                       [](DiskInode &di, Im &) { di.type = InodeType::directory; }));
	c.push_back(inode_case("InodeDirectoryBecomesFile", "/dir",
	                       [](DiskInode &di, Im &) { di.type = InodeType::regular; }));
	c.push_back(inode_case("RootNotADirectory", "/",
	                       [](DiskInode &di, Im &) { di.type = InodeType::regular; }));
	c.push_back(inode_case("RootFree", "/", [](DiskInode &di, Im &) { di = DiskInode{}; }));
	// The next create must not reuse the inode of a file that still has a name.
	c.push_back(inode_case("InodeNlinkZeroButNamed", "/data",
	                       [](DiskInode &di, Im &) { di.nlink = 0; }));
	c.push_back(
	    inode_case("InodeNlinkTooHigh", "/data", [](DiskInode &di, Im &) { di.nlink = 2; }));
	c.push_back(inode_case("InodeSizeBelowExtents", "/chain",
	                       [](DiskInode &di, Im &) { di.size = 1; }));
	c.push_back(inode_case("InodeSizeMax", "/data",
	                       [](DiskInode &di, Im &) { di.size = ~uint64_t{0}; }));
	c.push_back(inode_case("InodeUnknownFlagBits", "/data",
	                       [](DiskInode &di, Im &) { di.flags |= 0x80000000u; }));
	c.push_back(inode_case("DirectorySizeNotWholeBlocks", "/dir",
	                       [](DiskInode &di, Im &) { di.size = 100; }));
	c.push_back(inode_case("DirectorySlotsInAHole", "/dir",
	                       [](DiskInode &di, Im &) { di.size = 3 * kBlockSize; }));
	c.push_back(inode_case("ExtentCountHugeWithoutChain", "/data",
	                       [](DiskInode &di, Im &) { di.extent_count = 100000; }));
	c.push_back(inode_case("ExtentCountZeroLeaksBlocks", "/chain", [](DiskInode &di, Im &) {
		di.extent_count = 0;
		di.extent_block = 0;
	}));
	c.push_back(inode_case("ExtentIntoSuperblock", "/data",
	                       [](DiskInode &di, Im &) { di.extents[0].pblk = 0; }));
	c.push_back(inode_case("ExtentIntoJournal", "/data", [](DiskInode &di, Im &im) {
		di.extents[0].pblk = uint32_t(test::superblock(im).journal_start);
	}));
	c.push_back(inode_case("ExtentIntoInodeTable", "/dir/two", [](DiskInode &di, Im &im) {
		di.extents[0].pblk = uint32_t(test::superblock(im).inode_table_start);
	}));
	c.push_back(inode_case("ExtentPastPoolEnd", "/data", [](DiskInode &di, Im &im) {
		di.extents[0].pblk = uint32_t(test::superblock(im).total_blocks - 1);
	}));
	c.push_back(inode_case("ExtentLenWrapsU32", "/data",
	                       [](DiskInode &di, Im &) { di.extents[0].len = ~uint32_t{0}; }));
	c.push_back(inode_case("ExtentEmpty", "/dir/two",
	                       [](DiskInode &di, Im &) { di.extents[0].len = 0; }));
	c.push_back(inode_case("ExtentsOverlap", "/chain", [](DiskInode &di, Im &) {
		di.extents[1].lblk = di.extents[0].lblk;
	}));
	c.push_back(inode_case("ExtentsOutOfOrder", "/chain", [](DiskInode &di, Im &) {
		std::swap(di.extents[0], di.extents[1]);
	}));
	c.push_back(inode_case("ExtentLblkPastMaxFile", "/chain", [](DiskInode &di, Im &) {
		di.extents[kInlineExtents - 1].lblk = ~uint32_t{0} - 1;
	}));
	c.push_back({"TwoFilesShareABlock", [](Im &im) {
		             test::inode(im, ino("/data")).extents[0].pblk =
		                 uint32_t(block_of(im, "/dir/two"));
	             }});
	c.push_back({"FileSharesADirectoryBlock", [](Im &im) {
		             test::inode(im, ino("/dir/two")).extents[0].pblk =
		                 uint32_t(block_of(im, "/"));
	             }});
	// Extent chains.
	c.push_back(inode_case("ChainBlockIntoMetadata", "/chain", [](DiskInode &di, Im &im) {
		di.extent_block = test::superblock(im).inode_table_start;
	}));
	c.push_back(inode_case("ChainBlockPastPoolEnd", "/chain", [](DiskInode &di, Im &im) {
		di.extent_block = test::superblock(im).total_blocks + 5;
	}));
	c.push_back(inode_case("ChainBlockOffsetOverflows", "/chain",
	                       [](DiskInode &di, Im &) { di.extent_block = uint64_t{1} << 60; }));
	c.push_back(inode_case("ChainMissingButCounted", "/chain",
	                       [](DiskInode &di, Im &) { di.extent_block = 0; }));
	c.push_back({"ChainLoopsToItself", [](Im &im) {
		             chain_block(im).next = test::inode(im, ino("/chain")).extent_block;
		             test::inode(im, ino("/chain")).extent_count = 1u << 30;
	             }});
	c.push_back({"ChainNextIntoMetadata", [](Im &im) {
		             chain_block(im).next = test::superblock(im).journal_start;
		             test::inode(im, ino("/chain")).extent_count += 10;
	             }});
	c.push_back(
	    {"ChainCountTooLarge", [](Im &im) { chain_block(im).count = kExtentsPerBlock + 100; }});
	c.push_back(
	    {"ChainExtentIntoMetadata", [](Im &im) { chain_block(im).extents[0].pblk = 2; }});
	c.push_back({"ChainExtentPastPoolEnd",
	             [](Im &im) { chain_block(im).extents[0].pblk = ~uint32_t{0} - 2; }});
	// Bitmap.
	c.push_back({"BitmapRootDirectoryBlockFree",
	             [](Im &im) { set_bit(im, block_of(im, "/"), false); }});
	c.push_back(
	    {"BitmapFileBlockFree", [](Im &im) { set_bit(im, block_of(im, "/data"), false); }});
	c.push_back({"BitmapChainBlockFree", [](Im &im) {
		             set_bit(im, test::inode(im, ino("/chain")).extent_block, false);
	             }});
	c.push_back({"BitmapJournalBlockFree", [](Im &im) { set_bit(im, 1, false); }});
	c.push_back({"BitmapBitmapBlockFree",
	             [](Im &im) { set_bit(im, test::superblock(im).bitmap_start, false); }});
	c.push_back({"BitmapUnownedBlockUsed",
	             [](Im &im) { set_bit(im, test::superblock(im).total_blocks - 3, true); }});
	c.push_back({"BitmapAllFree", [](Im &im) {
		             const Superblock &s = test::superblock(im);
		             std::memset(test::bitmap(im), 0, (s.total_blocks + 7) / 8);
	             }});
	c.push_back({"BitmapAllUsed", [](Im &im) {
		             const Superblock &s = test::superblock(im);
		             std::memset(test::bitmap(im), 0xff, (s.total_blocks + 7) / 8);
	             }});
	// Directories.
	c.push_back({"DirectoryCycle", [](Im &im) {
		             add_dirent(im, "/dir/sub", "up", ino("/dir"));
		             test::inode(im, ino("/dir")).nlink = 2;
	             }});
	c.push_back({"DirectoryContainsItself", [](Im &im) {
		             add_dirent(im, "/dir", "self", ino("/dir"));
		             test::inode(im, ino("/dir")).nlink = 2;
	             }});
	c.push_back(
	    {"DirectoryNamesRoot", [](Im &im) { add_dirent(im, "/dir/sub", "root", kRootIno); }});
	c.push_back({"HardLinkToFile", [](Im &im) {
		             add_dirent(im, "/", "alias", ino("/data"));
		             test::inode(im, ino("/data")).nlink = 2;
	             }});
	c.push_back({"HardLinkToDirectory", [](Im &im) {
		             add_dirent(im, "/", "alias", ino("/dir/sub"));
		             test::inode(im, ino("/dir/sub")).nlink = 2;
	             }});
	c.push_back({"SameInodeTwiceInOneDirectory", [](Im &im) {
		             add_dirent(im, "/dir", "again", ino("/dir/two"));
		             test::inode(im, ino("/dir/two")).nlink = 2;
	             }});
	c.push_back({"NameWithSlash", [](Im &im) { rename_dirent(im, "/", "data", "da/ta"); }});
	c.push_back({"NameWithNul", [](Im &im) {
		             rename_dirent(im, "/", "data", std::string_view("da\0ta", 5));
	             }});
	c.push_back({"NameWithNewline", [](Im &im) { rename_dirent(im, "/", "data", "da\nta"); }});
	c.push_back({"NameDot", [](Im &im) { rename_dirent(im, "/", "data", "."); }});
	c.push_back({"NameDotDot", [](Im &im) { rename_dirent(im, "/dir", "two", ".."); }});
	c.push_back({"NameLenZero", [](Im &im) { dirent(im, "/", "data").name_len = 0; }});
	c.push_back({"NameLenPastSlot", [](Im &im) { dirent(im, "/", "data").name_len = 1000; }});
	c.push_back({"DuplicateName", [](Im &im) { rename_dirent(im, "/dir", "sub", "two"); }});
	c.push_back({"EntryInodeOutOfRange", [](Im &im) {
		             dirent(im, "/", "data").ino = test::superblock(im).inode_count + 5;
	             }});
	c.push_back({"EntryInodeHuge", [](Im &im) { dirent(im, "/", "data").ino = ~uint64_t{0}; }});
	c.push_back({"EntryNamesFreeInode", [](Im &im) { add_dirent(im, "/", "ghost", 900); }});
	return c;
}

// A field of an on-pool structure that random damage may hit: (offset in the image, size).
using Field = std::pair<uint64_t, size_t>;

// The fields every region's checks depend on (not uuids, times or reserved bytes, which
// nothing can check), of the sample image.
std::map<std::string, std::vector<Field>> damageable_fields(test::Image &im)
{
	std::map<std::string, std::vector<Field>> out;
	const Superblock &s = test::superblock(im);
	for (auto off : {offsetof(Superblock, version), offsetof(Superblock, block_size)})
		out["Superblock"].push_back({off, 4});
	for (auto off :
	     {offsetof(Superblock, total_blocks), offsetof(Superblock, inode_count),
	      offsetof(Superblock, journal_start), offsetof(Superblock, journal_blocks),
	      offsetof(Superblock, inode_table_start), offsetof(Superblock, inode_table_blocks),
	      offsetof(Superblock, bitmap_start), offsetof(Superblock, bitmap_blocks),
	      offsetof(Superblock, data_start)})
		out["Superblock"].push_back({off, 8});
	uint64_t j = s.journal_start * kBlockSize;
	for (size_t off = 0; off < sizeof(JournalHeader); off += 8)
		if (off != offsetof(JournalHeader, sequence))
			out["Journal"].push_back({j + off, 8});
	for (const auto &[path, n] : sample().ino) {
		uint64_t base = s.inode_table_start * kBlockSize + n * kInodeSize;
		const DiskInode &di = test::inode(im, n);
		for (auto off : {offsetof(DiskInode, type), offsetof(DiskInode, flags),
		                 offsetof(DiskInode, nlink), offsetof(DiskInode, extent_count)})
			out["Inode"].push_back({base + off, 4});
		for (auto off : {offsetof(DiskInode, size), offsetof(DiskInode, extent_block)})
			out["Inode"].push_back({base + off, 8});
		for (size_t i = 0; i < std::min<size_t>(di.extent_count, kInlineExtents); i++)
			for (size_t f = 0; f < sizeof(Extent); f += 4)
				out["Inode"].push_back(
				    {base + offsetof(DiskInode, extents) + i * sizeof(Extent) + f,
				     4});
		if (di.type == InodeType::directory)
			for (uint64_t slot = 0; slot < di.size / kDirentSize; slot++) {
				uint64_t d = di.extents[0].pblk * kBlockSize + slot * kDirentSize;
				if (!test::at<Dirent>(im, d).ino)
					continue;
				out["Directory"].push_back({d, 8});
				out["Directory"].push_back({d + offsetof(Dirent, name_len), 2});
				out["Directory"].push_back({d + offsetof(Dirent, name), 1});
			}
		if (di.extent_block) {
			uint64_t b = di.extent_block * kBlockSize;
			out["ExtentChain"].push_back({b, 8});
			out["ExtentChain"].push_back({b + offsetof(ExtentBlock, count), 4});
			for (size_t f = 0; f < 4 * sizeof(Extent); f += 4)
				out["ExtentChain"].push_back(
				    {b + offsetof(ExtentBlock, extents) + f, 4});
		}
	}
	// The bitmap words that cover blocks in use (metadata and the sample's files).
	for (uint64_t w = 0; w * 64 < s.total_blocks; w++)
		if (test::bitmap(im)[w])
			out["Bitmap"].push_back({s.bitmap_start * kBlockSize + w * 8, 8});
	return out;
}

constexpr int kRandomCasesPerRegion = 40;

// Random damage: one to three fields of a region get a random value, a bit flip, zero, all
// ones, or one off, from a fixed seed so every run tries the same images.
std::vector<Case> random_cases()
{
	std::vector<Case> c;
	auto fields = damageable_fields(sample().image);
	for (const auto &[region, list] : fields) {
		std::mt19937_64 rng(std::hash<std::string>{}(region));
		for (int n = 0; n < kRandomCasesPerRegion; n++) {
			std::vector<std::pair<Field, uint64_t>> edits;
			int count = 1 + int(rng() % 3);
			std::set<Field> chosen; // two edits of one field could undo each other
			for (int k = 0; k < count; k++) {
				Field f = list[rng() % list.size()];
				if (!chosen.insert(f).second)
					continue;
				uint64_t mode = rng() % 5, value = rng();
				edits.push_back(
				    {f, mode << 62 | (value & ((uint64_t{1} << 62) - 1))});
			}
			auto damage = [edits](test::Image &im) {
				for (const auto &[f, code] : edits) {
					auto [off, size] = f;
					uint64_t old = 0;
					std::memcpy(&old, im.data() + off, size);
					uint64_t v = code & ((uint64_t{1} << 62) - 1);
					switch (code >> 62) {
					case 0:
						v = old ^ (uint64_t{1} << (v % (8 * size)));
						break;
					case 1:
						v = v % 2 ? 0 : ~uint64_t{0};
						break;
					case 2:
						v = v % 2 ? old + 1 : old - 1;
						break;
					default:
						break; // the random value itself
					}
					if (std::memcmp(&v, &old, size) == 0)
						v ^= 1; // damage must change something
					std::memcpy(im.data() + off, &v, size);
				}
			};
			// The version is one of the superblock's fields.
			c.push_back({"Random" + region + std::to_string(n), damage, false,
			             region == "Superblock"
			                 ? std::set{Errc::corrupted, Errc::unsupported}
			                 : kCorrupted});
		}
	}
	return c;
}

std::vector<Case> all_cases()
{
	auto cases = targeted_cases();
	for (auto &r : random_cases())
		cases.push_back(std::move(r));
	return cases;
}

// What the child finds, as one line for the parent; empty when the case holds.
std::string run_case(const Case &c, const std::filesystem::path &pool)
{
	std::string problem;
	bool fsck_sees = false;
	std::string fsck_said;
	try {
		FsckReport r = fsck(pool);
		fsck_sees = !r.clean();
		if (fsck_sees)
			fsck_said = r.problems.front();
	} catch (const Error &e) {
		fsck_sees = true;
		fsck_said = std::string("refused: ") + e.what();
	}
	if (c.fsck_must_see && !fsck_sees)
		problem += "fsck finds nothing wrong; ";

	std::unique_ptr<EmbeddedVolume> vol;
	try {
		vol = EmbeddedVolume::mount(pool, {});
	} catch (const Error &e) {
		if (!c.refusals.count(e.code())) {
			std::string expected;
			for (Errc code : c.refusals)
				expected +=
				    (expected.empty() ? "" : " or ") + std::string(errc_name(code));
			problem += std::string("mount refuses with ") + errc_name(e.code()) +
			           ", not " + expected + ": " + e.what() + "; ";
		}
		if (!fsck_sees)
			problem += "mount refuses what fsck finds clean; ";
		return problem;
	}
	try {
		std::string wrong = test::check_served(*vol);
		if (!wrong.empty())
			problem += "mounted and served wrongly: " + wrong + "; ";
	} catch (const Error &e) {
		problem += std::string("mounted, then failed with ") + errc_name(e.code()) + ": " +
		           e.what() + "; ";
	}
	vol.reset();
	FsckReport after = fsck(pool);
	if (!after.clean())
		problem += "mounted, and fsck after unmount says: " + after.problems.front() +
		           (fsck_sees ? " (before mount: " + fsck_said + ")" : "") + "; ";
	return problem;
}

class CorruptImageTest : public ::testing::TestWithParam<Case>
{
      protected:
	test::TempDir dir_;
};

TEST_P(CorruptImageTest, FsckReportsItAndMountRefusesOrServesCorrectly)
{
	const Case &c = GetParam();
	test::Image image = sample().image;
	c.damage(image);
	ASSERT_NE(image, sample().image) << "the damage changed nothing";
	auto pool = dir_ / "damaged.pool";
	test::write_image(pool, image);

	int out[2];
	ASSERT_EQ(pipe(out), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(out[0]);
		alarm(kCaseSeconds);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
		rlimit limit{kCaseAddressSpace, kCaseAddressSpace};
		setrlimit(RLIMIT_AS, &limit);
#endif
		std::string problem;
		try {
			problem = run_case(c, pool);
		} catch (const std::exception &e) {
			problem = std::string("threw something other than Error: ") + e.what();
		}
		(void)!write(out[1], problem.data(), problem.size());
		_exit(problem.empty() ? 0 : 1);
	}
	close(out[1]);
	std::string problem;
	char buf[4096];
	ssize_t n;
	while ((n = read(out[0], buf, sizeof buf)) > 0)
		problem.append(buf, size_t(n));
	close(out[0]);
	int status = 0;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		FAIL() << (WTERMSIG(status) == SIGALRM
		               ? "hung (no answer in " + std::to_string(kCaseSeconds) + " s)"
		               : std::string("killed by signal ") + strsignal(WTERMSIG(status)))
		       << "; " << problem;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << problem;
}

INSTANTIATE_TEST_SUITE_P(Damage, CorruptImageTest, ::testing::ValuesIn(all_cases()),
                         [](const auto &info) { return info.param.name; });

// The sample pool itself is clean and served correctly: every failure above is the damage's.
TEST(CorruptImageSample, UndamagedPoolIsCleanAndServedCorrectly)
{
	test::TempDir dir;
	auto pool = dir / "sample.pool";
	test::write_image(pool, sample().image);
	EXPECT_TRUE(fsck(pool).clean());
	auto vol = EmbeddedVolume::mount(pool, {});
	EXPECT_EQ(test::check_served(*vol), "");
	vol.reset();
	EXPECT_TRUE(fsck(pool).clean());
}

} // namespace
