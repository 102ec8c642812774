// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/inode_probe.hpp"

#include "fscore/dax_model.hpp"
#include "fscore/host/host_error.hpp"
#include "fscore/host/kernel_calls.hpp"

#include <cerrno>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

namespace daxpolicy::fscore::host
{

namespace
{

bool has_attribute(const struct statx &stx, uint64_t attribute)
{
	return (stx.stx_attributes_mask & attribute) && (stx.stx_attributes & attribute);
}

// Why ext4 refuses FS_XFLAG_DAX on this file (dax_compatible() in fs/ext4/ioctl.c: the
// flag excludes EXT4_DAX_MUT_EXCL, which is verity, encrypt and inline data, the last only
// for regular files), or nothing.
std::string refusal_reason(const struct statx &stx, FileType type, int fd)
{
	if (has_attribute(stx, STATX_ATTR_ENCRYPTED))
		return "encrypted (fscrypt): the kernel refuses the DAX flag on it";
	if (has_attribute(stx, STATX_ATTR_VERITY))
		return "fs-verity: the kernel refuses the DAX flag on it";
	int flags = 0;
	if (type == FileType::regular && ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
	    (flags & FS_INLINE_DATA_FL))
		return "inline data (ext4 keeps its bytes in the inode): the kernel refuses the "
		       "DAX flag on it";
	return {};
}

} // namespace

struct statx stat_inode(int path_fd, const std::string &what)
{
	struct statx stx = {};
	if (::statx(path_fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
	            STATX_TYPE | STATX_INO | STATX_SIZE, &stx) != 0)
		throw host_error(what + ": statx", errno);
	return stx;
}

FileType file_type_of(const struct statx &stx)
{
	switch (stx.stx_mode & S_IFMT) {
	case S_IFREG:
		return FileType::regular;
	case S_IFDIR:
		return FileType::directory;
	default:
		return FileType::other;
	}
}

const char *other_kind_of(const struct statx &stx)
{
	switch (stx.stx_mode & S_IFMT) {
	case S_IFLNK:
		return "symbolic link";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	case S_IFCHR:
		return "character device";
	case S_IFBLK:
		return "block device";
	default:
		return "not a regular file or directory";
	}
}

ProbedInode probe_inode(int path_fd, const struct statx &stx, std::string path, DaxMode mode,
                        bool dax_capable, const std::string &what)
{
	ProbedInode p;
	p.info.path = std::move(path);
	p.info.ino = stx.stx_ino;
	p.info.size = stx.stx_size;
	p.info.type = file_type_of(stx);
	p.id = {stx.stx_dev_major, stx.stx_dev_minor, stx.stx_ino};
	if (!can_carry_dax_flag(p.info.type)) {
		p.info.unsupported = other_kind_of(stx);
		return p;
	}

	int flags = O_RDONLY | O_NONBLOCK | (p.info.type == FileType::directory ? O_DIRECTORY : 0);
	p.opened = reopen(path_fd, flags);
	if (!p.opened) {
		if (errno == EWOULDBLOCK)
			throw Error(Errc::busy,
			            what + ": held under a write lease by another process; "
			                   "try again once it lets go");
		// A file of an encrypted directory whose key is not loaded cannot be opened;
		// it could not carry the flag either.
		if (errno == ENOKEY) {
			p.info.unsupported = "encrypted (fscrypt), and its key is not loaded";
			return p;
		}
		throw host_error(what + ": open", errno);
	}
	int fd = p.opened.get();

	// The generation is 32 bits in ext4 and xfs, which copy it out as an int.
	int generation = 0;
	if (::ioctl(fd, FS_IOC_GETVERSION, &generation) != 0)
		throw host_error(what + ": FS_IOC_GETVERSION", errno);
	p.info.generation = static_cast<uint32_t>(generation);

	struct fsxattr fsx = {};
	if (::ioctl(fd, FS_IOC_FSGETXATTR, &fsx) != 0) {
		if (errno != ENOTTY && errno != EOPNOTSUPP)
			throw host_error(what + ": FS_IOC_FSGETXATTR", errno);
		p.info.unsupported = "the filesystem has no FS_IOC_FSGETXATTR for it";
	} else {
		p.info.dax_flag = fsx.fsx_xflags & FS_XFLAG_DAX;
		p.info.unsupported = refusal_reason(stx, p.info.type, fd);
	}
	// S_DAX as the kernel has it now, where statx can say (Linux 5.8); else what the
	// mount mode and the flag give a file not in use.
	p.info.dax_effective = (stx.stx_attributes_mask & STATX_ATTR_DAX)
	                           ? has_attribute(stx, STATX_ATTR_DAX)
	                           : effective_dax(mode, dax_capable, p.info.type, p.info.dax_flag);
	return p;
}

} // namespace daxpolicy::fscore::host
