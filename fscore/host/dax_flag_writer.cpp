// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/dax_flag_writer.hpp"

#include "fscore/host/host_error.hpp"
#include "fscore/host/kernel_calls.hpp"

#include <cerrno>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

namespace daxpolicy::fscore::host
{

namespace
{

// The xflags with FS_XFLAG_DAX set or cleared, and whether that is a change.
template <class T> bool with_dax(T &xflags, bool on)
{
	T want = on ? (xflags | FS_XFLAG_DAX) : (xflags & ~T{FS_XFLAG_DAX});
	bool changed = want != xflags;
	xflags = want;
	return changed;
}

} // namespace

void DaxFlagWriter::probe(int path_fd)
{
	FileAttr attr;
	if (file_getattr(path_fd, attr) == ENOSYS)
		use_ioctl_.store(true, std::memory_order_relaxed);
}

const char *DaxFlagWriter::interface() const
{
	return use_ioctl_.load(std::memory_order_relaxed) ? "FS_IOC_FSSETXATTR" : "file_setattr";
}

std::optional<bool> DaxFlagWriter::set_by_file_setattr(int path_fd, int open_fd, bool on,
                                                       const std::string &what)
{
	FileAttr attr;
	int err = open_fd >= 0 ? file_getattr_fd(open_fd, attr) : file_getattr(path_fd, attr);
	if (err == ENOSYS) {
		use_ioctl_.store(true, std::memory_order_relaxed);
		return std::nullopt;
	}
	if (err)
		throw host_error(what + ": file_getattr", err);
	if (!with_dax(attr.fa_xflags, on))
		return false;
	err = open_fd >= 0 ? file_setattr_fd(open_fd, attr) : file_setattr(path_fd, attr);
	if (err)
		throw host_error(what + ": file_setattr", err);
	return true;
}

bool DaxFlagWriter::set(int path_fd, int open_fd, bool is_directory, bool on,
                        const std::string &what)
{
	if (!use_ioctl_.load(std::memory_order_relaxed))
		if (auto changed = set_by_file_setattr(path_fd, open_fd, on, what))
			return *changed;
	UniqueFd opened;
	if (open_fd < 0) {
		opened = reopen(path_fd, O_RDONLY | O_NONBLOCK | (is_directory ? O_DIRECTORY : 0));
		if (!opened)
			throw host_error(what + ": open", errno);
		open_fd = opened.get();
	}
	struct fsxattr fsx = {};
	if (::ioctl(open_fd, FS_IOC_FSGETXATTR, &fsx) != 0)
		throw host_error(what + ": FS_IOC_FSGETXATTR", errno);
	if (!with_dax(fsx.fsx_xflags, on))
		return false;
	if (::ioctl(open_fd, FS_IOC_FSSETXATTR, &fsx) != 0)
		throw host_error(what + ": FS_IOC_FSSETXATTR", errno);
	return true;
}

} // namespace daxpolicy::fscore::host
