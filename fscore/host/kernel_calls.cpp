// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/kernel_calls.hpp"

#include <cerrno>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

// Linux 6.17 numbers them 468 and 469 in the table every architecture but alpha, mips and
// ia64 shares (arch/x86/entry/syscalls/syscall_64.tbl, scripts/syscall.tbl); glibc 2.36's
// headers predate them.
#ifndef SYS_file_getattr
#if defined(__x86_64__) || defined(__aarch64__) || (defined(__riscv) && __riscv_xlen == 64)
#define SYS_file_getattr 468
#define SYS_file_setattr 469
#else
#error "give SYS_file_getattr and SYS_file_setattr for this architecture"
#endif
#endif

namespace daxpolicy::fscore::host
{

UniqueFd open_beneath(int dir_fd, const std::string &relative, int flags)
{
	open_how how{};
	how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV;
	return UniqueFd(
	    static_cast<int>(::syscall(SYS_openat2, dir_fd, relative.c_str(), &how, sizeof how)));
}

UniqueFd clone_mount_tree(int dir_fd)
{
	return UniqueFd(static_cast<int>(
	    ::syscall(SYS_open_tree, dir_fd, "",
	              OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH)));
}

std::string proc_fd_path(int fd)
{
	return "/proc/self/fd/" + std::to_string(fd);
}

UniqueFd reopen(int path_fd, int flags)
{
	return UniqueFd(::open(proc_fd_path(path_fd).c_str(), flags | O_CLOEXEC | O_NOCTTY));
}

namespace
{

int file_attr_call(long call, int dir_fd, const char *name, const FileAttr *attr, unsigned at_flags)
{
	if (::syscall(call, dir_fd, name, attr, sizeof *attr, at_flags) != 0)
		return errno;
	return 0;
}

} // namespace

int file_getattr(int path_fd, FileAttr &attr)
{
	// Following the magic link (no AT_SYMLINK_NOFOLLOW) is what reaches the file.
	return file_attr_call(SYS_file_getattr, AT_FDCWD, proc_fd_path(path_fd).c_str(), &attr, 0);
}

int file_setattr(int path_fd, const FileAttr &attr)
{
	return file_attr_call(SYS_file_setattr, AT_FDCWD, proc_fd_path(path_fd).c_str(), &attr, 0);
}

int file_getattr_fd(int open_fd, FileAttr &attr)
{
	return file_attr_call(SYS_file_getattr, open_fd, "", &attr, AT_EMPTY_PATH);
}

int file_setattr_fd(int open_fd, const FileAttr &attr)
{
	return file_attr_call(SYS_file_setattr, open_fd, "", &attr, AT_EMPTY_PATH);
}

} // namespace daxpolicy::fscore::host
