// SPDX-License-Identifier: BSD-3-Clause
// The fanotify group a host volume hears its filesystem through (fanotify(7)).
//
// fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME_TARGET):
// events carry file handles, never descriptors: the directory's handle and the entry's name
// (DFID_NAME), and the object's own handle (FID), for directory-entry events too
// (TARGET_FID, Linux 5.17). The queue keeps the kernel's bound (max_queued_events, 16384 by
// default): a listener too slow for it costs a FAN_Q_OVERFLOW, never unbounded memory.
//
// fanotify_mark(FAN_MARK_ADD | FAN_MARK_FILESYSTEM) of the mount's root, for
//   FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE  an open file description went: its last reference,
//                                        which a mapping holds too, so after the munmap
//   FAN_CREATE | FAN_DELETE              a directory entry came or went
//   FAN_RENAME                           one moved: old and new entry in one event (Linux
//                                        5.17; FAN_MOVED_FROM and FAN_MOVED_TO are two
//                                        events that fanotify gives no cookie to pair)
//   FAN_ONDIR                            the same for directories
// A filesystem mark, not a mount mark: FAN_MARK_MOUNT cannot carry directory-entry events
// (the kernel refuses FAN_CREATE, FAN_DELETE and FAN_RENAME on it with EINVAL), and without
// them new files go unseen and path_of cannot follow a rename. A filesystem mark hears every
// mount of the filesystem (bind mounts, other namespaces), so the volume keeps only what lies
// under its own mount's root. It needs CAP_SYS_ADMIN, and open_by_handle_at, which turns the
// handles into paths, CAP_DAC_READ_SEARCH: the daemon runs as root.
#pragma once

#include "fscore/host/unique_fd.hpp"

#include <string>

namespace daxpolicy::fscore::host
{

struct FanotifyGroup {
	UniqueFd fd;             // the group, marked; empty when fanotify cannot be had
	std::string unavailable; // why not ("fanotify_mark: EPERM ..."), empty when it can
};

// A group marked on the filesystem of `dir_fd` (a directory opened O_RDONLY: fanotify_mark
// refuses an O_PATH one).
FanotifyGroup open_fanotify_group(int dir_fd);

// A copy of the mount tree at `root_fd` (clone_mount_tree: detached, reached by nobody else)
// whose close events `group` ignores: the group's ignore mask on the copy's mount
// (FAN_MARK_MOUNT | FAN_MARK_IGNORED_MASK) drops them in the kernel, before they are queued,
// and the filesystem mark still hears every other mount's. So the volume's own opens (a walk
// opens every file it reports) cost the watcher nothing and cannot fill its queue, while a
// create or a rename made through the copy is still heard (those are not ignored). Its
// O_PATH descriptor, laid out as `root_fd` (the mounts below included, as they were when it
// was made); empty, with errno set, where it cannot be had (no CAP_SYS_ADMIN, a kernel
// before 5.2). Its close unmounts it.
UniqueFd quiet_mount_tree(int group, int root_fd);

} // namespace daxpolicy::fscore::host
