// SPDX-License-Identifier: BSD-3-Clause
// HostVolume::walk: a depth-first walk of a host directory tree on descriptors.
#include "fscore/dax_model.hpp"
#include "fscore/host/dirent_reader.hpp"
#include "fscore/host/fanotify_group.hpp"
#include "fscore/host/host_error.hpp"
#include "fscore/host/host_volume.hpp"
#include "fscore/host/inode_probe.hpp"
#include "fscore/host/kernel_calls.hpp"
#include "fscore/host/volume_path.hpp"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <shared_mutex>

namespace daxpolicy::fscore
{

namespace
{

// How an entry is opened: a regular file or directory (as its d_type says) at once, for
// reading; anything else through O_PATH, which opens nothing.
int open_flags_of(unsigned char d_type)
{
	constexpr int kRead = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY;
	switch (d_type) {
	case DT_REG:
		return kRead;
	case DT_DIR:
		return kRead | O_DIRECTORY;
	default:
		return O_PATH | O_NOFOLLOW;
	}
}

} // namespace

void HostVolume::walk(const std::string &path, const std::function<void(const FileInfo &)> &visit)
{
	auto names = names_of(path);
	// A copy of the mount tree whose closes the watcher never hears, for a walk that opens
	// more than one file; one file is opened through the mount itself (the copy costs a
	// mount and an unmount), its one close left out by pid.
	host::UniqueFd quiet;
	if (watcher_ && !inotify_) {
		host::UniqueFd start = resolve(names, host::volume_path_of_names(names));
		struct statx stx = host::stat_inode(start.get(), what(path));
		if (host::file_type_of(stx) == FileType::directory)
			quiet = host::quiet_mount_tree(watcher_->fd(), root_.get());
	}
	walk_beneath(quiet ? quiet.get() : root_.get(), names, visit);
}

void HostVolume::walk_beneath(int base, const std::vector<std::string> &names,
                              const std::function<void(const FileInfo &)> &visit)
{
	// One frame per directory down the current branch: its descriptor, from which its
	// entries are read a buffer at a time and its children opened (openat2 beneath it, so
	// no path is looked up from the root again), and its volume path.
	struct Frame {
		host::UniqueFd dir;
		std::string path;
		host::DirentReader entries;
	};
	std::vector<Frame> stack;
	// A regular file is opened, probed and closed with its stripe of own_opens_ held shared
	// (`opening`),
	// which is let go before the visitor sees it: a flag change (set_dax_flag_if_unmapped,
	// on this thread or another) would otherwise find the file open by this very process
	// and its lease refused; and a visitor that waits (for the walk's consumer) must not
	// hold off a change. Directories stay open; nobody leases them.
	auto visit_and_descend = [&](host::ProbedInode p, std::shared_lock<RwLock> &opening) {
		if (p.info.type != FileType::directory || !p.opened) {
			p.opened.reset();
			if (opening.owns_lock())
				opening.unlock();
			visit(p.info);
			return;
		}
		if (opening.owns_lock())
			opening.unlock();
		// Watched before its entries are read: what is made after the read is heard,
		// what was made before is read.
		if (inotify_)
			inotify_->watch(p.opened.get(), p.info.path, p.info.ino);
		visit(p.info);
		if (stack.size() == kMaxWalkDepth)
			throw invalid_content(what(p.info.path) + ": more than " +
			                      std::to_string(kMaxWalkDepth) +
			                      " directories deep below the walk's start");
		int fd = p.opened.get();
		std::string w = what(p.info.path);
		stack.push_back({std::move(p.opened), std::move(p.info.path), {fd, std::move(w)}});
	};

	std::string start = host::volume_path_of_names(names);
	host::UniqueFd start_fd =
	    host::open_beneath(base, host::relative_of_names(names), O_PATH | O_NOFOLLOW);
	if (!start_fd)
		throw host::host_error(what(start) + ": openat2", errno);
	{
		std::shared_lock<RwLock> opening;
		visit_and_descend(probe(start_fd.get(), start, opening), opening);
	}
	while (!stack.empty()) {
		Frame &frame = stack.back();
		auto entry = frame.entries.next();
		if (!entry) {
			stack.pop_back();
			continue;
		}
		std::string name(entry->name);
		// The engine's paths are lines, so a name holding a newline cannot be named to
		// it (volume_path_names refuses one): such a file is left out.
		if (name.find('\n') != std::string::npos)
			continue;
		std::string child = (frame.path == "/" ? "" : frame.path) + "/" + name;
		int flags = open_flags_of(entry->type);
		// The stripe of the inode the entry names, before the open; checked below.
		std::shared_lock<RwLock> opening;
		if (!(flags & O_PATH))
			opening = std::shared_lock(opens_of(entry->ino));
		host::UniqueFd child_fd = host::open_beneath(frame.dir.get(), name, flags);
		// Replaced since the directory was read (by a symbolic link, or a directory by
		// a file), or not to be opened for reading here (a key not loaded, a lease):
		// looked at through O_PATH, as anything else is.
		if (!child_fd && !(flags & O_PATH) && errno != ENOENT && errno != EXDEV) {
			flags = O_PATH | O_NOFOLLOW;
			child_fd = host::open_beneath(frame.dir.get(), name, flags);
		}
		if (!child_fd) {
			// Removed since the directory was read, or the root of another mount
			// (RESOLVE_NO_XDEV refuses to step onto it): neither belongs to the walk.
			if (errno == ENOENT || errno == EXDEV)
				continue;
			throw host::host_error(what(child) + ": openat2", errno);
		}
		std::string w = what(child);
		struct statx stx = {};
		if (!(flags & O_PATH)) {
			stx = host::stat_inode(child_fd.get(), w);
			// Another inode than the entry named (replaced since the read): opened
			// under another's stripe, so let go at once and looked at again under its
			// own.
			if (stx.stx_ino != entry->ino) {
				child_fd =
				    host::open_beneath(frame.dir.get(), name, O_PATH | O_NOFOLLOW);
				flags = O_PATH;
				opening = {};
				if (!child_fd) {
					if (errno == ENOENT || errno == EXDEV)
						continue;
					throw host::host_error(w + ": openat2", errno);
				}
			}
		}
		if (flags & O_PATH) {
			opening = {}; // the probe takes the stripe of what it finds
			visit_and_descend(probe(child_fd.get(), std::move(child), opening),
			                  opening);
			continue;
		}
		// Anything but what its entry said is described without a further look; the
		// descriptor goes with the probe.
		if (!can_carry_dax_flag(host::file_type_of(stx)))
			visit_and_descend(
			    host::probe_inode(child_fd.get(), stx, std::move(child), rules_, w),
			    opening);
		else
			visit_and_descend(learned(host::probe_opened(std::move(child_fd), stx,
			                                             std::move(child), rules_, w)),
			                  opening);
	}
}

} // namespace daxpolicy::fscore
