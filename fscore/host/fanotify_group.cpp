// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/fanotify_group.hpp"

#include "fscore/host/kernel_calls.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/fanotify.h>

namespace daxpolicy::fscore::host
{

namespace
{

std::string why(const char *call, int err)
{
	const char *name = strerrorname_np(err);
	std::string text = std::string(call) + ": " +
	                   (name ? name : "errno " + std::to_string(err)) + " (" +
	                   std::strerror(err) + ")";
	switch (err) {
	case EPERM:
		return text + ": a filesystem mark needs CAP_SYS_ADMIN";
	case EINVAL:
		return text + ": FAN_REPORT_TARGET_FID and FAN_RENAME need Linux 5.17";
	case ENOSYS:
		return text + ": the kernel has no fanotify (CONFIG_FANOTIFY)";
	case ENODEV:
	case EOPNOTSUPP:
	case EXDEV:
		return text + ": the filesystem cannot report file handles of its own";
	default:
		return text;
	}
}

} // namespace

FanotifyGroup open_fanotify_group(int dir_fd)
{
	FanotifyGroup group;
	// event_f_flags is unused: a group that reports file handles opens no files.
	group.fd = UniqueFd(::fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK |
	                                        FAN_REPORT_DFID_NAME_TARGET,
	                                    O_RDONLY | O_CLOEXEC));
	if (!group.fd) {
		group.unavailable = why("fanotify_init", errno);
		return group;
	}
	uint64_t mask =
	    FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE | FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_ONDIR;
	if (::fanotify_mark(group.fd.get(), FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, dir_fd,
	                    nullptr) != 0) {
		group.unavailable = why("fanotify_mark", errno);
		group.fd.reset();
	}
	return group;
}

UniqueFd quiet_mount_tree(int group, int root_fd)
{
	UniqueFd tree = clone_mount_tree(root_fd);
	// "." beneath the O_PATH descriptor: with no path, fanotify_mark takes the descriptor
	// itself, and refuses an O_PATH one.
	if (tree && ::fanotify_mark(group,
	                            FAN_MARK_ADD | FAN_MARK_MOUNT | FAN_MARK_IGNORED_MASK |
	                                FAN_MARK_IGNORED_SURV_MODIFY,
	                            FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE, tree.get(), ".") != 0)
		tree.reset();
	return tree;
}

} // namespace daxpolicy::fscore::host
