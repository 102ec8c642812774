// SPDX-License-Identifier: BSD-3-Clause
// The free inode numbers of an embedded volume, in DRAM, as runs: a pool mkfs made with
// hundreds of millions of inodes costs a few bytes here, not eight a free inode. A stack:
// the number given back last is taken first, and the lowest of a run before the rest.
#pragma once

#include <cstdint>
#include <vector>

namespace daxpolicy::fscore
{

class FreeInodes
{
      public:
	struct Run {
		uint64_t first;
		uint64_t count;
	};
	bool empty() const { return runs_.empty(); }
	uint64_t size() const { return size_; }
	// Onto the top of the stack: `ino` is what take() gives next.
	void give(uint64_t ino);
	// The top of the stack; the caller checked it is not empty.
	uint64_t take();
	const std::vector<Run> &runs() const { return runs_; }

      private:
	std::vector<Run> runs_; // the top of the stack is runs_.back().first
	uint64_t size_ = 0;
};

} // namespace daxpolicy::fscore
