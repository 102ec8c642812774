// SPDX-License-Identifier: BSD-3-Clause
// File handles (name_to_handle_at(2), open_by_handle_at(2)) as fanotify reports them: the
// filesystem's own name of an inode, which outlives every path to it.
#pragma once

#include "fscore/host/unique_fd.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace daxpolicy::fscore::host
{

// The kernel's MAX_HANDLE_SZ (include/linux/exportfs.h, fcntl.h): no filesystem encodes a
// longer handle, and a record claiming one is garbled.
inline constexpr size_t kMaxHandleBytes = 128;

// struct file_handle without its header: handle_type and the f_handle bytes.
struct FileHandle {
	int32_t type = 0;
	std::vector<unsigned char> bytes; // at most kMaxHandleBytes
	bool operator==(const FileHandle &) const = default;
};

struct InodeIdentity {
	uint64_t ino = 0;
	uint64_t generation = 0;
	bool operator==(const InodeIdentity &) const = default;
};

// The inode number and generation a handle carries, for the handle types whose layout the
// kernel fixes (enum fid_type, include/linux/exportfs.h), in the byte order of this machine:
//   FILEID_INO32_GEN (1), FILEID_INO32_GEN_PARENT (2): u32 ino, u32 generation, ...
//     (ext4: generic_encode_ino32_fh; xfs on a filesystem with only 32-bit inode numbers)
//   FILEID_INO64_GEN (0x81), FILEID_INO64_GEN_PARENT (0x82): u64 ino, u32 generation, ...
//     packed (xfs: struct xfs_fid64; exportfs_encode_ino64_fid)
// and only when the handle is long enough for its type. Nothing for any other type: what
// another filesystem puts in its handle is its own business. The generation is what
// FS_IOC_GETVERSION reports (i_generation), so (ino, generation) is FileInfo's.
std::optional<InodeIdentity> identity_of_handle(const FileHandle &handle);

// The handle of (ino, generation) of the type `type`, laid out as identity_of_handle reads it,
// for the types that carry nothing else (FILEID_INO32_GEN, FILEID_INO64_GEN); nothing for any
// other type, or an inode number that does not fit FILEID_INO32_GEN. A filesystem decodes it
// as its own (ext4_fh_to_dentry, xfs_fs_fh_to_dentry): the caller checks, once, that a handle
// it made of a file's identity is the one the filesystem gives that file.
std::optional<FileHandle> handle_of_identity(int32_t type, const InodeIdentity &id);

// name_to_handle_at(2) of the file `fd` refers to (AT_EMPTY_PATH; an O_PATH descriptor will
// do), or nothing, with errno set.
std::optional<FileHandle> handle_of_fd(int fd);

// open_by_handle_at(2) of `handle` on the filesystem of `mount_fd`, with `flags` (O_CLOEXEC
// added). `mount_fd` must be opened for real (O_RDONLY): the kernel refuses an O_PATH one
// (EBADF). The file opened is reached through mount_fd's mount, which is what
// /proc/self/fd/N then names it by. Needs CAP_DAC_READ_SEARCH. Empty, with errno set, on
// failure (ESTALE: the inode is gone).
UniqueFd open_handle(int mount_fd, const FileHandle &handle, int flags);

} // namespace daxpolicy::fscore::host
