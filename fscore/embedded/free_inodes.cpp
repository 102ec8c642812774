// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/free_inodes.hpp"

namespace daxpolicy::fscore
{

void FreeInodes::give(uint64_t ino)
{
	// Mount gives every free inode from the highest down: one run for a fresh pool.
	if (!runs_.empty() && runs_.back().first == ino + 1) {
		runs_.back().first = ino;
		runs_.back().count++;
	} else {
		runs_.push_back({ino, 1});
	}
	size_++;
}

uint64_t FreeInodes::take()
{
	Run &top = runs_.back();
	uint64_t ino = top.first++;
	if (--top.count == 0)
		runs_.pop_back();
	size_--;
	return ino;
}

} // namespace daxpolicy::fscore
