// SPDX-License-Identifier: BSD-3-Clause
// The operations that change a file's extent map, named as lease-break events name them.
#pragma once

#include <array>

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

} // namespace daxpolicy::fscore
