// SPDX-License-Identifier: BSD-3-Clause
// The system calls of a host volume that glibc 2.36 does not wrap (openat2, file_getattr,
// file_setattr), and reopening an O_PATH descriptor. Each returns as the kernel does: a
// descriptor (empty, with errno set, on failure) or 0 / an errno value; the volume turns
// failures into Errors naming itself and the path.
#pragma once

#include "fscore/host/unique_fd.hpp"

#include <cstdint>
#include <string>

namespace daxpolicy::fscore::host
{

// openat2(2) of `relative` (no "..", checked by the caller) beneath `dir_fd` with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV: nothing outside the directory,
// no symbolic link followed (ELOOP; with O_PATH | O_NOFOLLOW a trailing one is opened as
// itself), no mount crossed (EXDEV, a mount point included). O_CLOEXEC is added.
UniqueFd open_beneath(int dir_fd, const std::string &relative, int flags);

// A copy of the mount tree at `dir_fd` (open_tree(2) OPEN_TREE_CLONE | AT_RECURSIVE): the
// same filesystem, and a copy of every mount below it as it is now, detached from every
// namespace, so that nobody but the holder of the returned O_PATH descriptor reaches a file
// through it. Unmounted when that descriptor goes. Needs CAP_SYS_ADMIN (EPERM) and Linux 5.2.
UniqueFd clone_mount_tree(int dir_fd);

// /proc/self/fd/N: a "magic link" that the kernel resolves to exactly the file descriptor
// N refers to, not by its name. So an O_PATH descriptor's file can be opened, or named to
// file_setattr, without looking any name up again.
std::string proc_fd_path(int fd);

// Opens the file an O_PATH descriptor refers to, with `flags` (O_CLOEXEC and O_NOCTTY
// added): that inode and no other, whatever was renamed or mounted since.
UniqueFd reopen(int path_fd, int flags);

// struct file_attr of include/uapi/linux/fs.h (Linux 6.17), FILE_ATTR_SIZE_VER0 = 24 bytes.
struct FileAttr {
	uint64_t fa_xflags = 0;
	uint32_t fa_extsize = 0;
	uint32_t fa_nextents = 0;
	uint32_t fa_projid = 0;
	uint32_t fa_cowextsize = 0;
};
static_assert(sizeof(FileAttr) == 24, "struct file_attr, FILE_ATTR_SIZE_VER0");

// file_getattr(2) / file_setattr(2) of the file `path_fd` refers to, through proc_fd_path:
// the file is not opened, so nobody's lease is broken and no fanotify open or close is seen.
// AT_EMPTY_PATH cannot be used instead: both calls take the descriptor with fdget(), which
// refuses O_PATH ones (EBADF). ENOSYS before Linux 6.17. Return 0 or an errno value.
int file_getattr(int path_fd, FileAttr &attr);
int file_setattr(int path_fd, const FileAttr &attr);
// The same on a descriptor opened for reading (not O_PATH), with AT_EMPTY_PATH: no name is
// looked up, and nothing is opened beside it (a lease held on it stays unbroken).
int file_getattr_fd(int open_fd, FileAttr &attr);
int file_setattr_fd(int open_fd, const FileAttr &attr);

} // namespace daxpolicy::fscore::host
