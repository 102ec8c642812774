// SPDX-License-Identifier: BSD-3-Clause
// HostVolume::walk: a depth-first walk of a host directory tree on descriptors.
#include "fscore/host/dirent_reader.hpp"
#include "fscore/host/host_error.hpp"
#include "fscore/host/host_volume.hpp"
#include "fscore/host/inode_probe.hpp"
#include "fscore/host/kernel_calls.hpp"
#include "fscore/host/volume_path.hpp"

#include <cerrno>
#include <fcntl.h>

namespace daxpolicy::fscore
{

void HostVolume::walk(const std::string &path, const std::function<void(const FileInfo &)> &visit)
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
	// A regular file's descriptor is closed before the visitor sees it: a visitor that
	// changes the flag (set_dax_flag_if_unmapped) would otherwise find the file open by
	// this very process and its lease refused. Directories stay open; nobody leases them.
	auto visit_and_descend = [&](host::ProbedInode p) {
		if (p.info.type != FileType::directory || !p.opened) {
			p.opened.reset();
			visit(p.info);
			return;
		}
		visit(p.info);
		if (stack.size() == kMaxWalkDepth)
			throw Error(Errc::invalid_argument,
			            what(p.info.path) + ": more than " +
			                std::to_string(kMaxWalkDepth) +
			                " directories deep below the walk's start");
		int fd = p.opened.get();
		std::string w = what(p.info.path);
		stack.push_back({std::move(p.opened), std::move(p.info.path), {fd, std::move(w)}});
	};

	auto names = names_of(path);
	std::string start = host::volume_path_of_names(names);
	host::UniqueFd start_fd = resolve(names, start);
	visit_and_descend(probe(start_fd.get(), start));
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
		host::UniqueFd child_fd =
		    host::open_beneath(frame.dir.get(), name, O_PATH | O_NOFOLLOW);
		if (!child_fd) {
			// Removed since the directory was read, or the root of another mount
			// (RESOLVE_NO_XDEV refuses to step onto it): neither belongs to the walk.
			if (errno == ENOENT || errno == EXDEV)
				continue;
			throw host::host_error(what(child) + ": openat2", errno);
		}
		visit_and_descend(probe(child_fd.get(), std::move(child)));
	}
}

} // namespace daxpolicy::fscore
