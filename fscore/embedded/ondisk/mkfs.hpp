// SPDX-License-Identifier: BSD-3-Clause
// mkfs of an embedded pool, shared by the daemon (the embedded default's first start) and the
// CLI's offline `mkfs`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace daxpolicy::fscore
{

// Creates the pool file (sparse) and writes an empty filesystem: superblock, journal, inode
// table with the root directory, bitmap. A device that holds a pool already is refused with
// `exists` unless `force`.
struct MkfsResult {
	uint64_t size = 0;       // of the filesystem made: at most the size asked for
	std::string granularity; // what persisting costs on the medium (PmemPool::granularity)
	uint64_t files = 0;      // the root directory
};
MkfsResult mkfs(const std::filesystem::path &pool_path, uint64_t size, bool force = false);

} // namespace daxpolicy::fscore
