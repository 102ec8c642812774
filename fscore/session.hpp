// SPDX-License-Identifier: BSD-3-Clause
// A session owns the open files, mappings and pins of one client (one connection), on a
// volume that serves io sessions (VolumeCapabilities::io_sessions). Everything it holds is
// released when it is destroyed, however the client went away. One thread uses a session at
// a time (cancel() excepted); sessions run in parallel.
#pragma once

#include "fscore/layout_op.hpp"
#include "fscore/lease_info.hpp"
#include "fscore/volume.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace daxpolicy::fscore
{

class Session
{
      public:
	virtual ~Session() = default;
	Session() = default;
	Session(const Session &) = delete;
	Session &operator=(const Session &) = delete;

	virtual const Holder &holder() const = 0;

	// Opens a file or directory; with `create`, makes a regular file if it is missing.
	virtual int open(const std::string &path, bool create) = 0;
	virtual void close(int fd) = 0;
	virtual FileInfo fstat(int fd) = 0;
	virtual std::vector<std::byte> pread(int fd, uint64_t off, size_t len) = 0;
	// Into the caller's buffer; returns the bytes read, fewer than asked at end-of-file.
	virtual size_t pread(int fd, uint64_t off, std::span<std::byte> out) = 0;
	virtual void pwrite(int fd, uint64_t off, std::span<const std::byte> data) = 0;
	// Writes cached data back to the medium (a no-op for DAX files: already durable).
	virtual void fsync(int fd) = 0;
	// ftruncate(2).
	virtual void truncate(int fd, uint64_t size) = 0;
	// fallocate(2): `op` is allocate, punch_hole, zero_range, collapse_range or
	// insert_range; keep_size as FALLOC_FL_KEEP_SIZE (allocate and zero_range).
	virtual void fallocate(int fd, LayoutOp op, uint64_t off, uint64_t len,
	                       bool keep_size = false) = 0;
	// FS_IOC_FSSETXATTR on the open file: the flag at once, the mode at last close.
	virtual void set_dax_flag(int fd, bool on) = 0;

	// A mapping holds a layout lease on its range. Offsets of mread/mwrite are within the
	// mapping, as xfs_io's are. A revoked mapping fails every access with `revoked`.
	virtual int mmap(int fd, uint64_t off, uint64_t len, bool writable) = 0;
	virtual std::vector<std::byte> mread(int map, uint64_t off, size_t len) = 0;
	virtual void mwrite(int map, uint64_t off, std::span<const std::byte> data) = 0;
	virtual void munmap(int map) = 0;

	// Holds blocks of [off, off+len) as in-flight DMA does: an operation that would remove
	// or move them waits for unpin, at most lease_break_timeout, then fails with `busy`.
	virtual void pin(int fd, uint64_t off, uint64_t len) = 0;
	virtual void unpin() = 0; // every pin of this session

	// What this session's holders were told since the last call (lease breaks).
	virtual std::vector<LeaseNotice> take_notices() = 0;
	// Makes any wait of this session's (a lease break it started) give up: its client is
	// going away.
	virtual void cancel() = 0;
};

} // namespace daxpolicy::fscore
