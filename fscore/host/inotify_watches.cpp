// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/inotify_watches.hpp"

#include "fscore/host/kernel_calls.hpp"
#include "fscore/host/volume_path.hpp"

#include <sys/inotify.h>

namespace daxpolicy::fscore::host
{

namespace
{

// Entries made, removed or moved in the directory. No closes: inotify does not say who
// closed, so the volume's own opens could not be told from anyone's. IN_ONLYDIR: the
// descriptor's magic link is followed to what it refers to, which must be a directory.
constexpr uint32_t kMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR;

} // namespace

UniqueFd InotifyWatches::open_instance()
{
	return UniqueFd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
}

bool InotifyWatches::watch(int dir_fd, const std::string &path, uint64_t ino)
{
	std::lock_guard lock(mutex_);
	int wd = ::inotify_add_watch(instance_, proc_fd_path(dir_fd).c_str(), kMask);
	if (wd < 0) {
		refused_++;
		return false;
	}
	auto it = dirs_.find(wd);
	if (it != dirs_.end()) {
		it->second = Dir{path, ino}; // watched already: the kernel gave its descriptor back
		return true;
	}
	// The kernel cannot be asked whether a directory is watched without adding a watch:
	// one past the limit is taken back at once.
	if (dirs_.size() >= limit_) {
		::inotify_rm_watch(instance_, wd);
		refused_++;
		return false;
	}
	dirs_.emplace(wd, Dir{path, ino});
	return true;
}

std::optional<InotifyWatches::Dir> InotifyWatches::dir_of(int wd) const
{
	std::lock_guard lock(mutex_);
	auto it = dirs_.find(wd);
	if (it == dirs_.end())
		return std::nullopt;
	return it->second;
}

void InotifyWatches::moved(const std::string &from, const std::string &to)
{
	std::lock_guard lock(mutex_);
	for (auto &[wd, dir] : dirs_) {
		if (dir.path == from)
			dir.path = to;
		else if (auto below = path_below_moved(dir.path, from, to))
			dir.path = std::move(*below);
	}
}

void InotifyWatches::forget(int wd)
{
	std::lock_guard lock(mutex_);
	dirs_.erase(wd);
}

void InotifyWatches::drop(int wd)
{
	std::lock_guard lock(mutex_);
	if (dirs_.erase(wd))
		::inotify_rm_watch(instance_, wd);
}

size_t InotifyWatches::watched() const
{
	std::lock_guard lock(mutex_);
	return dirs_.size();
}

size_t InotifyWatches::refused() const
{
	std::lock_guard lock(mutex_);
	return refused_;
}

} // namespace daxpolicy::fscore::host
