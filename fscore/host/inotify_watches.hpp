// SPDX-License-Identifier: BSD-3-Clause
// The inotify watches of a host volume that has no fanotify (a kernel before 5.17, or no
// CAP_SYS_ADMIN): one per directory its walks went through, which are the directories rules
// manage (a reconcile walks each rule's subtree), so that files created in or moved into
// them are heard. inotify names a directory by its watch descriptor only, so each watch keeps
// the volume path and inode the walk saw it at; a directory's move heard in a watched parent
// moves the paths below it, and one moved unheard is found out when its path no longer
// leads to it (the caller then drops its watch).
//
// Bounded: at most `limit` directories, and the kernel's own max_user_watches (ENOSPC).
// Directories beyond are not watched, and counted: what is created in them is seen by the
// next reconcile that walks them, not at once.
#pragma once

#include "fscore/host/unique_fd.hpp"

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace daxpolicy::fscore::host
{

class InotifyWatches
{
      public:
	struct Dir {
		std::string path;
		uint64_t ino = 0;
	};

	// An instance opened IN_NONBLOCK | IN_CLOEXEC, or empty with errno set.
	static UniqueFd open_instance();
	// `instance` stays owned by the caller (the watcher that reads it).
	InotifyWatches(int instance, size_t limit) : instance_(instance), limit_(limit) {}

	// Watches the directory `dir_fd` (opened O_RDONLY), at volume path `path`, for
	// entries that come, go or move. A directory watched already keeps its watch with
	// this path. False when it is not watched: the limit, the kernel's, or another error.
	bool watch(int dir_fd, const std::string &path, uint64_t ino);
	std::optional<Dir> dir_of(int wd) const;
	// The directory `from` moved to `to`: it and everything watched below it.
	void moved(const std::string &from, const std::string &to);
	// The kernel dropped the watch (IN_IGNORED: the directory went, or its filesystem).
	void forget(int wd);
	// The watch is wrong (its directory is no longer at its path): stops it.
	void drop(int wd);
	size_t watched() const;
	// How many times a directory was not watched.
	size_t refused() const;

      private:
	int instance_;
	size_t limit_;
	mutable std::mutex mutex_; // protects dirs_ and refused_
	std::unordered_map<int, Dir> dirs_;
	size_t refused_ = 0;
};

} // namespace daxpolicy::fscore::host
