// The operations that change a file's extent map, named as lease-break events name them.
#pragma once

#include <cstdint>

namespace daxpolicy::fscore
{

enum class LayoutOp {
	truncate,
	punch_hole,
	zero_range,
	collapse_range,
	insert_range,
	allocate,
	write,
	flag_change,
};

const char *layout_op_name(LayoutOp op);

// The kernel's rules for the arguments of ftruncate and fallocate: a zero length, a range
// that wraps or passes the largest file, a misaligned collapse or insert, or one past
// end-of-file is invalid-argument. Checked before any lease is broken, so a call that is
// bound to fail disturbs no holder.
void check_truncate(uint64_t size);
void check_fallocate(LayoutOp op, uint64_t off, uint64_t len, uint64_t size);

} // namespace daxpolicy::fscore
