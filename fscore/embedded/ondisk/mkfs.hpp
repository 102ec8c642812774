// SPDX-License-Identifier: BSD-3-Clause
// mkfs of an embedded pool, shared by the daemon (the embedded default's first start) and the
// CLI's offline `mkfs`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace daxpolicy::fscore
{

// Creates the pool file (sparse) and writes an empty filesystem: superblock, journal, inode
// table with the root directory, bitmap. A device that holds a pool already is refused with
// `exists` unless `force`. `inodes`: how many files and directories (the root included) the
// pool can hold, by default one per 16 KiB; too many for the pool is invalid_argument. Bad
// arguments are refused before anything is made.
struct MkfsResult {
	uint64_t size = 0;       // of the filesystem made: at most the size asked for
	std::string granularity; // what persisting costs on the medium (PmemPool::granularity)
	uint64_t files = 0;      // the root directory
	uint64_t inodes = 0;     // files and directories it can hold: at least those asked for
};
MkfsResult mkfs(const std::filesystem::path &pool_path, uint64_t size, bool force = false,
                std::optional<uint64_t> inodes = std::nullopt);

} // namespace daxpolicy::fscore
