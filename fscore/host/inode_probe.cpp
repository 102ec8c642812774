// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/inode_probe.hpp"

#include "fscore/dax_model.hpp"
#include "fscore/host/host_error.hpp"
#include "fscore/host/kernel_calls.hpp"

#include <cerrno>
#include <fcntl.h>
#include <linux/fs.h>
#include <optional>
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
// for regular files), or nothing. `inline_data`: FS_INLINE_DATA_FL is set.
std::string refusal_reason(const struct statx &stx, bool inline_data)
{
	if (has_attribute(stx, STATX_ATTR_ENCRYPTED))
		return "encrypted (fscrypt): the kernel refuses the DAX flag on it";
	if (has_attribute(stx, STATX_ATTR_VERITY))
		return "fs-verity: the kernel refuses the DAX flag on it";
	if (inline_data)
		return "inline data (ext4 keeps its bytes in the inode): the kernel refuses the "
		       "DAX flag on it";
	return {};
}

// FS_XFLAG_DAX and FS_INLINE_DATA_FL (regular files only) of an open file, by the one ioctl
// `rules` names; nothing when the filesystem has no such ioctl for the file.
struct Flags {
	bool dax = false;
	bool inline_data = false;
};
std::optional<Flags> read_flags(int fd, FileType type, const ProbeRules &rules,
                                const std::string &what)
{
	if (rules.flags_in_getflags) {
		int flags = 0;
		if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
			if (errno != ENOTTY && errno != EOPNOTSUPP)
				throw host_error(what + ": FS_IOC_GETFLAGS", errno);
			return std::nullopt;
		}
		return Flags{(flags & FS_DAX_FL) != 0,
		             type == FileType::regular && (flags & FS_INLINE_DATA_FL)};
	}
	struct fsxattr fsx = {};
	if (::ioctl(fd, FS_IOC_FSGETXATTR, &fsx) != 0) {
		if (errno != ENOTTY && errno != EOPNOTSUPP)
			throw host_error(what + ": FS_IOC_FSGETXATTR", errno);
		return std::nullopt;
	}
	return Flags{(fsx.fsx_xflags & FS_XFLAG_DAX) != 0, false};
}

} // namespace

struct statx stat_inode(int path_fd, const std::string &what)
{
	struct statx stx = {};
	if (::statx(path_fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
	            STATX_TYPE | STATX_INO | STATX_SIZE | STATX_NLINK, &stx) != 0)
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

namespace
{

ProbedInode described(const struct statx &stx, std::string path)
{
	ProbedInode p;
	p.info.path = std::move(path);
	p.info.ino = stx.stx_ino;
	p.info.size = stx.stx_size;
	p.info.type = file_type_of(stx);
	p.id = {stx.stx_dev_major, stx.stx_dev_minor, stx.stx_ino};
	if (!can_carry_dax_flag(p.info.type))
		p.info.unsupported = other_kind_of(stx);
	return p;
}

} // namespace

ProbedInode probe_inode(int path_fd, const struct statx &stx, std::string path,
                        const ProbeRules &rules, const std::string &what)
{
	FileType type = file_type_of(stx);
	if (!can_carry_dax_flag(type))
		return described(stx, std::move(path));
	UniqueFd opened = reopen(path_fd, O_RDONLY | O_NONBLOCK |
	                                      (type == FileType::directory ? O_DIRECTORY : 0));
	if (!opened) {
		if (errno == EWOULDBLOCK)
			throw Error(Errc::busy,
			            what + ": held under a write lease by another process; "
			                   "try again once it lets go");
		// A file of an encrypted directory whose key is not loaded cannot be opened;
		// it could not carry the flag either.
		if (errno == ENOKEY) {
			ProbedInode p = described(stx, std::move(path));
			p.info.unsupported = "encrypted (fscrypt), and its key is not loaded";
			return p;
		}
		throw host_error(what + ": open", errno);
	}
	return probe_opened(std::move(opened), stx, std::move(path), rules, what);
}

ProbedInode probe_opened(UniqueFd opened, const struct statx &stx, std::string path,
                         const ProbeRules &rules, const std::string &what)
{
	ProbedInode p = described(stx, std::move(path));
	p.opened = std::move(opened);
	int fd = p.opened.get();

	// The generation is 32 bits in ext4 and xfs, which copy it out as an int.
	int generation = 0;
	if (::ioctl(fd, FS_IOC_GETVERSION, &generation) != 0)
		throw host_error(what + ": FS_IOC_GETVERSION", errno);
	p.info.generation = static_cast<uint32_t>(generation);

	if (auto flags = read_flags(fd, p.info.type, rules, what)) {
		p.info.dax_flag = flags->dax;
		p.info.unsupported = refusal_reason(stx, flags->inline_data);
	} else {
		p.info.unsupported = "the filesystem has no ioctl for its flags (FS_IOC_GETFLAGS, "
		                     "FS_IOC_FSGETXATTR)";
	}
	// S_DAX as the kernel has it now, where statx can say (Linux 5.8); else what the
	// mount mode and the flag give a file not in use.
	p.info.dax_effective =
	    (stx.stx_attributes_mask & STATX_ATTR_DAX)
	        ? has_attribute(stx, STATX_ATTR_DAX)
	        : effective_dax(rules.mode, rules.dax_capable, p.info.type, p.info.dax_flag);
	return p;
}

} // namespace daxpolicy::fscore::host
