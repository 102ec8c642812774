// SPDX-License-Identifier: BSD-3-Clause
// Copies a host directory tree into an embedded volume, as `mke2fs -d` seeds an ext4 image:
// directories, regular files with their contents (holes stay holes, a MiB at a time), and
// FS_XFLAG_DAX where the source has it (FS_IOC_FSGETXATTR). Symbolic links, devices, fifos,
// sockets and names the pool cannot hold are skipped, each counted and noted.
#pragma once

#include "fscore/embedded/embedded_volume.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace daxpolicy::fscore
{

struct PopulateResult {
	uint64_t files = 0;       // regular files copied
	uint64_t directories = 0; // below the root
	uint64_t bytes = 0;       // of file contents
	uint64_t skipped = 0;
	// What was skipped and why, the first kMaxPopulateNotes of it (then how many more).
	std::vector<std::string> notes;
};
inline constexpr size_t kMaxPopulateNotes = 100;

// Into `vol`'s root, which takes the source directory's flag. The walk is iterative, holding
// one descriptor per level of the directory being copied, and opens each name relative to its
// parent without following symbolic links, so a tree of any shape is copied as it is, never
// what a link points to. Throws naming the host path on a read error, or the pool's error
// (no_space) when the tree does not fit.
PopulateResult populate(EmbeddedVolume &vol, const std::filesystem::path &source);

} // namespace daxpolicy::fscore
