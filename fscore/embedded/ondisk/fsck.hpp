// SPDX-License-Identifier: BSD-3-Clause
// Offline check of an embedded pool: every structural invariant of the on-pool format.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace daxpolicy::fscore
{

struct FsckReport {
	std::vector<std::string> problems; // each an invariant that does not hold
	std::vector<std::string> notes;    // states that mount repairs by design (orphans, ...)
	uint64_t files = 0;
	uint64_t directories = 0;
	uint64_t blocks_used = 0;
	uint64_t blocks_total = 0;
	bool clean() const { return problems.empty(); }
};

// Reads the pool without changing it. Throws only when the pool cannot be opened or its
// superblock is unusable; everything else is a problem in the report.
FsckReport fsck(const std::filesystem::path &pool_path);

} // namespace daxpolicy::fscore
