// SPDX-License-Identifier: BSD-3-Clause
// A directory's entries as getdents64(2) returns them, read from a descriptor a buffer at a
// time, so that a directory of any size is read in bounded memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace daxpolicy::fscore::host
{

struct Dirent {
	uint64_t ino = 0;
	unsigned char type = 0; // DT_*; DT_UNKNOWN where the filesystem does not say
	std::string_view name;  // valid until the next read of the buffer it came from
};

// The records of one getdents64 buffer (struct linux_dirent64: d_ino, d_off, d_reclen,
// d_type, d_name NUL-terminated within d_reclen), or nothing when one of them does not fit
// the buffer, is shorter than its header, or has no NUL: the kernel never returns such a
// buffer, and a walk must not read past one it did not expect. "." and ".." are left out.
std::optional<std::vector<Dirent>> parse_dirents(std::span<const std::byte> buffer);

class DirentReader
{
      public:
	// `dir_fd` stays owned by the caller and open while the reader is used; `what` names
	// the directory in errors ("volume 'pmem0': /db").
	DirentReader(int dir_fd, std::string what)
	    : fd_(dir_fd), what_(std::move(what)), buffer_(kBufferSize)
	{
	}
	// The next entry, or nothing at the end. Throws Error: getdents64's errno as
	// system_error gives it, internal for a buffer parse_dirents refuses.
	std::optional<Dirent> next();

      private:
	static constexpr size_t kBufferSize = 32 * 1024;
	int fd_;
	std::string what_;
	std::vector<std::byte> buffer_;
	std::vector<Dirent> entries_;
	size_t next_ = 0;
	bool end_ = false;
};

} // namespace daxpolicy::fscore::host
