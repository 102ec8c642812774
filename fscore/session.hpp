// A session owns the open files, mappings and pins of one client (one connection).
// Everything it holds is released when it is destroyed, however the client went away.
// One thread uses a session at a time (cancel() excepted); sessions run in parallel.
#pragma once

#include "fscore/embedded_volume.hpp"
#include "fscore/lease.hpp"

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace daxpolicy::fscore
{

class Session
{
      public:
	~Session();
	Session(const Session &) = delete;
	Session &operator=(const Session &) = delete;

	const Holder &holder() const { return holder_; }
	EmbeddedVolume &volume() const { return vol_; }

	// Opens a file or directory; with `create`, makes a regular file if it is missing.
	int open(const std::string &path, bool create);
	void close(int fd);
	FileInfo fstat(int fd);
	std::vector<std::byte> pread(int fd, uint64_t off, size_t len);
	// Into the caller's buffer; returns the bytes read, fewer than asked at end-of-file.
	size_t pread(int fd, uint64_t off, std::span<std::byte> out);
	void pwrite(int fd, uint64_t off, std::span<const std::byte> data);
	// Writes cached data back to the pool (a no-op for DAX files: already durable).
	void fsync(int fd);
	// ftruncate(2).
	void truncate(int fd, uint64_t size);
	// fallocate(2): `op` is allocate, punch_hole, zero_range, collapse_range or
	// insert_range; keep_size as FALLOC_FL_KEEP_SIZE (allocate and zero_range).
	void fallocate(int fd, LayoutOp op, uint64_t off, uint64_t len, bool keep_size = false);
	// FS_IOC_FSSETXATTR on the open file: the flag at once, the mode at last close.
	void set_dax_flag(int fd, bool on);

	// A mapping holds a layout lease on its range. Offsets of mread/mwrite are within the
	// mapping, as xfs_io's are. A revoked mapping fails every access with `revoked`.
	int mmap(int fd, uint64_t off, uint64_t len, bool writable);
	std::vector<std::byte> mread(int map, uint64_t off, size_t len);
	void mwrite(int map, uint64_t off, std::span<const std::byte> data);
	void munmap(int map);

	// Holds blocks of [off, off+len) as in-flight DMA does: an operation that would remove
	// or move them waits for unpin, at most lease_break_timeout, then fails with `busy`.
	void pin(int fd, uint64_t off, uint64_t len);
	void unpin(); // every pin of this session

	// What this session's holders were told since the last call (lease breaks).
	std::vector<LeaseNotice> take_notices();
	// Makes any wait of this session's (a lease break it started) give up: its client is
	// going away.
	void cancel();

      private:
	friend class EmbeddedVolume;
	Session(EmbeddedVolume &vol, Holder holder) : vol_(vol), holder_(holder) {}

	struct OpenFile {
		uint64_t ino;
		std::string path; // as opened, for messages
	};
	struct Mapping {
		uint64_t ino = 0;
		uint64_t off = 0;
		uint64_t len = 0;
		bool writable = false;
		uint64_t lease = 0;
		bool revoked = false;
	};
	// These three: with the volume's mutex held.
	const OpenFile &file(int fd) const;
	Mapping &mapping(int map);
	uint64_t regular_file(int fd) const; // the ino, or invalid-argument for a directory
	void revoke_mapping(uint64_t lease);
	// A use of the file open as `fd` (a regular file), or mapped as `map`, for the length
	// of one operation. These take the volume's mutex themselves.
	EmbeddedVolume::InodeRef use_file(int fd) const;
	EmbeddedVolume::InodeRef use_mapping(int map, Mapping &out);
	// Checks an access through a mapping, with the file's invalidate lock shared held;
	// returns the file's size.
	uint64_t check_mapped_access(int map, uint64_t off, size_t len);
	// Runs `add_lease` with the volume's mutex held, once no break of the file's layout
	// is under way (new mappings and pins wait for a break, as faults do).
	template <class AddLease>
	void when_no_break(EmbeddedVolume::InodeRef &ref, AddLease add_lease);

	EmbeddedVolume &vol_;
	Holder holder_;
	std::map<int, OpenFile> files_;
	std::map<int, Mapping> maps_;
	std::vector<uint64_t> pins_;
	std::vector<LeaseNotice> notices_;
	bool cancelled_ = false;
	int next_id_ = 3;
};

} // namespace daxpolicy::fscore
