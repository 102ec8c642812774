// SPDX-License-Identifier: BSD-3-Clause
// A small sample pool and what "serves it correctly" means, for the tests and fuzz targets that
// damage pool images (tests/unit/corrupt_image_test.cpp, tests/fuzz/fuzz_pool.cpp). Header-only:
// each links only fscore.
#pragma once

#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/layout.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/embedded/session.hpp"

#include <cstddef>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace daxpolicy::test
{

using Image = std::vector<std::byte>;

// A file's bytes: `len` of a pattern that differs by `seed`, so no two files look alike.
inline std::vector<std::byte> pattern(size_t len, unsigned seed)
{
	std::vector<std::byte> out(len);
	for (size_t i = 0; i < len; i++)
		out[i] = std::byte((i * 131 + seed * 7 + i / 4096) & 0xff);
	return out;
}

// Blocks the chained file owns: written every other block, so each is its own extent and the
// list outgrows the inode's kInlineExtents into an extent block.
inline constexpr uint64_t kChainExtents = fscore::kInlineExtents + 8;

// The sample pool: kMinPoolSize, with directories, files with data, an empty file, a file
// whose extent list continues in a chain block, and DAX flags set on some.
inline void make_sample_pool(const std::filesystem::path &path)
{
	using namespace fscore;
	fscore::mkfs(path, kMinPoolSize);
	auto vol = EmbeddedVolume::mount(path, {});
	vol->mkdir("/dir");
	vol->mkdir("/dir/sub");
	vol->set_dax_flag("/dir", true);
	auto s = vol->open_session({});
	auto write = [&](const std::string &name, uint64_t off, size_t len, unsigned seed) {
		int fd = s->open(name, true);
		s->pwrite(fd, off, pattern(len, seed));
		s->fsync(fd);
		s->close(fd);
	};
	write("/data", 0, 10000, 1);
	write("/dir/sub/leaf", 0, 5000, 2);
	write("/dir/two", 0, kBlockSize, 3);
	for (uint64_t i = 0; i < kChainExtents; i++)
		write("/chain", 2 * i * kBlockSize, kBlockSize, 4 + unsigned(i));
	s->close(s->open("/empty", true));
	vol->set_dax_flag("/data", true);
}

// An open file descriptor, closed when it goes.
class FileDescriptor
{
      public:
	FileDescriptor(const std::filesystem::path &path, int flags)
	    : fd_(::open(path.c_str(), flags | O_CLOEXEC, 0600))
	{
		if (fd_ < 0)
			throw std::runtime_error(path.string() + ": cannot open");
	}
	~FileDescriptor() { ::close(fd_); }
	FileDescriptor(const FileDescriptor &) = delete;
	FileDescriptor &operator=(const FileDescriptor &) = delete;
	int get() const { return fd_; }

      private:
	int fd_;
};

inline Image read_image(const std::filesystem::path &path)
{
	FileDescriptor fd(path, O_RDONLY);
	struct stat st {
	};
	if (fstat(fd.get(), &st) != 0)
		throw std::runtime_error(path.string() + ": cannot stat");
	Image image(static_cast<size_t>(st.st_size));
	size_t done = 0;
	while (done < image.size()) {
		ssize_t n =
		    ::pread(fd.get(), image.data() + done, image.size() - done, off_t(done));
		if (n <= 0)
			throw std::runtime_error(path.string() + ": short read");
		done += size_t(n);
	}
	return image;
}

// Writes `image` over the file at `path` (made if missing): only its non-zero blocks, into a
// file first emptied, so a 16 MiB pool that is mostly holes costs only its metadata.
inline void write_image(const std::filesystem::path &path, const Image &image)
{
	FileDescriptor fd(path, O_RDWR | O_CREAT);
	if (ftruncate(fd.get(), 0) != 0 || ftruncate(fd.get(), off_t(image.size())) != 0)
		throw std::runtime_error(path.string() + ": cannot size the image");
	static const std::byte zero[fscore::kBlockSize] = {};
	for (size_t off = 0; off < image.size(); off += fscore::kBlockSize) {
		size_t len = std::min<size_t>(fscore::kBlockSize, image.size() - off);
		if (std::memcmp(image.data() + off, zero, len) == 0)
			continue;
		if (::pwrite(fd.get(), image.data() + off, len, off_t(off)) != ssize_t(len))
			throw std::runtime_error(path.string() + ": cannot write the image");
	}
}

// Typed access into an image, for the code that damages it.
template <class T> T &at(Image &image, uint64_t offset)
{
	if (offset + sizeof(T) > image.size())
		throw std::out_of_range("image offset " + std::to_string(offset));
	return *reinterpret_cast<T *>(image.data() + offset);
}
inline fscore::Superblock &superblock(Image &image)
{
	return at<fscore::Superblock>(image, 0);
}
inline fscore::DiskInode &inode(Image &image, uint64_t ino)
{
	return at<fscore::DiskInode>(image,
	                             superblock(image).inode_table_start * fscore::kBlockSize +
	                                 ino * fscore::kInodeSize);
}
inline fscore::JournalHeader &journal_header(Image &image)
{
	return at<fscore::JournalHeader>(image,
	                                 superblock(image).journal_start * fscore::kBlockSize);
}
inline uint64_t *bitmap(Image &image)
{
	return &at<uint64_t>(image, superblock(image).bitmap_start * fscore::kBlockSize);
}

// A region of the image where damage matters: metadata, directory data, extent chains.
struct Region {
	std::string name;
	uint64_t offset;
	uint64_t length;
};

// The regions of an image of the sample pool (or any pool whose superblock is intact): the
// superblock, the journal header and first records, the inodes in use, the bitmap's used
// words, and the blocks of every directory and extent chain.
inline std::vector<Region> regions_of(Image &image)
{
	using namespace fscore;
	const Superblock &sb = superblock(image);
	std::vector<Region> out;
	out.push_back({"superblock", 0, sizeof(Superblock)});
	out.push_back({"journal header", sb.journal_start * kBlockSize, sizeof(JournalHeader)});
	out.push_back(
	    {"journal records", sb.journal_start * kBlockSize + kBlockSize, 2 * kBlockSize});
	uint64_t last_used = 1;
	for (uint64_t ino = 1; ino < sb.inode_count; ino++)
		if (inode(image, ino).type != InodeType::free)
			last_used = ino;
	out.push_back({"inode table", sb.inode_table_start * kBlockSize + kInodeSize,
	               (last_used + 1) * kInodeSize});
	out.push_back({"bitmap", sb.bitmap_start * kBlockSize, (sb.total_blocks + 7) / 8});
	for (uint64_t ino = 1; ino <= last_used; ino++) {
		const DiskInode &di = inode(image, ino);
		if (di.type == InodeType::directory)
			for (size_t i = 0; i < std::min<size_t>(di.extent_count, kInlineExtents);
			     i++)
				out.push_back({"directory " + std::to_string(ino),
				               di.extents[i].pblk * kBlockSize,
				               di.extents[i].len * kBlockSize});
		if (di.extent_block)
			out.push_back({"extent chain of inode " + std::to_string(ino),
			               di.extent_block * kBlockSize, kBlockSize});
	}
	return out;
}

// What a mounted pool serves through the public interface: every path the walk gives, its
// stat, and (up to `max_read` bytes of) each regular file's data.
struct Served {
	std::map<std::string, fscore::FileInfo> files;
	std::map<std::string, std::vector<std::byte>> data;
};

inline Served read_served(fscore::EmbeddedVolume &vol, size_t max_read)
{
	Served out;
	vol.walk("/", [&](const fscore::FileInfo &f) { out.files[f.path] = f; });
	auto s = vol.open_session({});
	for (const auto &[path, f] : out.files) {
		if (f.type != fscore::FileType::regular)
			continue;
		int fd = s->open(path, false);
		auto &bytes = out.data[path];
		size_t want = size_t(std::min<uint64_t>(f.size, max_read));
		while (bytes.size() < want) {
			size_t chunk = std::min<size_t>(want - bytes.size(), 64 * 1024);
			auto got = s->pread(fd, bytes.size(), chunk);
			if (got.empty())
				break;
			bytes.insert(bytes.end(), got.begin(), got.end());
		}
		s->close(fd);
	}
	return out;
}

// Checks that a mounted pool serves itself consistently: names a path can carry, each file
// once, stat agreeing with the walk, and a new file that lands on nothing in use (every
// other file reads the same after it is written, and it reads back what was written).
// Returns what is wrong, empty when nothing is; Errors of the volume propagate.
inline std::string check_served(fscore::EmbeddedVolume &vol, size_t max_read = 1 << 20)
{
	std::string wrong;
	auto note = [&](const std::string &what) { wrong += (wrong.empty() ? "" : "; ") + what; };
	Served before = read_served(vol, max_read);
	std::set<uint64_t> inos;
	for (const auto &[path, f] : before.files) {
		std::string name = path.substr(path.rfind('/') + 1);
		if (path != "/" && (name.empty() || name.find_first_of(std::string("\0\n", 2)) !=
		                                        std::string::npos))
			note("served a name no path can carry: '" + path + "'");
		if (!inos.insert(f.ino).second)
			note("inode " + std::to_string(f.ino) + " served twice (again as '" + path +
			     "')");
		fscore::FileInfo st = vol.stat(path);
		if (st.ino != f.ino)
			note("'" + path + "' walks to inode " + std::to_string(f.ino) +
			     " but stats as " + std::to_string(st.ino));
	}
	const std::string probe = "/probe-new-file";
	if (!before.files.count(probe)) {
		auto data = pattern(3 * fscore::kBlockSize + 100, 99);
		auto s = vol.open_session({});
		int fd = s->open(probe, true);
		s->pwrite(fd, 0, data);
		s->fsync(fd);
		if (s->pread(fd, 0, data.size()) != data)
			note("a new file does not read back what was written");
		s->close(fd);
		fscore::FileInfo made = vol.stat(probe);
		if (inos.count(made.ino))
			note("a new file got inode " + std::to_string(made.ino) +
			     ", which is in use");
		Served after = read_served(vol, max_read);
		for (const auto &[path, bytes] : before.data)
			if (after.data[path] != bytes)
				note("'" + path +
				     "' reads differently after a new file was written");
		vol.remove(probe);
	}
	return wrong;
}

} // namespace daxpolicy::test
