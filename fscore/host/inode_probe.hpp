// SPDX-License-Identifier: BSD-3-Clause
// What a host volume reports of one file: its FileInfo, read from the kernel through an
// O_PATH descriptor, which names the inode without opening it.
#pragma once

#include "fscore/host/proc_maps.hpp"
#include "fscore/host/unique_fd.hpp"
#include "fscore/volume.hpp"

#include <string>
#include <sys/stat.h>

namespace daxpolicy::fscore::host
{

struct ProbedInode {
	FileInfo info;
	FileId id;
	// Regular files and directories, opened O_RDONLY | O_NONBLOCK: what the ioctls took,
	// kept for the caller (a walk reads the directory from it, a flag change leases the
	// file). Empty for everything else, which is never opened: opening a device or a fifo
	// can have effects of its own.
	UniqueFd opened;
};

// statx(2) of the file an O_PATH descriptor names (type, inode, size, attributes), which opens
// nothing. Throws Error naming `what`.
struct statx stat_inode(int path_fd, const std::string &what);

// The type as FileInfo has it, and for FileType::other what the file is ("symbolic link",
// "fifo", "socket", "character device", "block device").
FileType file_type_of(const struct statx &stx);
const char *other_kind_of(const struct statx &stx);

// What a probe needs of the mount: `mode` and `dax_capable` for kernels whose statx does not
// report STATX_ATTR_DAX; and where the flag is read cheapest. ext4 reports FS_XFLAG_DAX in
// FS_IOC_GETFLAGS as FS_DAX_FL (EXT4_DAX_FL is user-visible since Linux 5.8, the release that
// brought the flag to ext4), beside FS_INLINE_DATA_FL, which it must read anyway: one ioctl for
// both. Elsewhere (xfs, which has no inline data) FS_IOC_FSGETXATTR.
struct ProbeRules {
	DaxMode mode = DaxMode::inode;
	bool dax_capable = false;
	bool flags_in_getflags = false;
};

// `path_fd` is an O_PATH | O_NOFOLLOW descriptor of the file and `stx` its stat_inode;
// `path` its volume path. `what` names the volume and path in errors ("volume 'pmem0':
// /db/x").
//
// Only a regular file or a directory can carry the flag; other files are FileType::other
// with `unsupported` saying what they are, and are never opened. Of those two, the kernel
// refuses the flag where ext4's dax_compatible() does: encrypted (fscrypt) or fs-verity files
// and directories, and regular files whose data is inline in the inode (EXT4_INLINE_DATA_FL);
// and where the filesystem has no ioctl for the flags. `unsupported` then gives that reason.
//
// Opening breaks a write lease another process holds (an SMB or NFS server's): the open
// fails with EWOULDBLOCK, which is Error(busy); the lease's holder has been told and the
// next attempt, once it lets go, succeeds.
ProbedInode probe_inode(int path_fd, const struct statx &stx, std::string path,
                        const ProbeRules &rules, const std::string &what);

// The same for a regular file or directory already opened O_RDONLY | O_NONBLOCK (kept in the
// result's `opened`), `stx` being its statx: the generation and the flags, two ioctls.
ProbedInode probe_opened(UniqueFd opened, const struct statx &stx, std::string path,
                         const ProbeRules &rules, const std::string &what);

} // namespace daxpolicy::fscore::host
