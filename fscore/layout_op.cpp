// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/layout_op.hpp"

#include "common/enum_names.hpp"

namespace daxpolicy::fscore
{

namespace
{
constexpr std::array<NameTable<LayoutOp>, 8> kLayoutOpNames{{
    {LayoutOp::truncate, "truncate"},
    {LayoutOp::punch_hole, "punch-hole"},
    {LayoutOp::zero_range, "zero-range"},
    {LayoutOp::collapse_range, "collapse-range"},
    {LayoutOp::insert_range, "insert-range"},
    {LayoutOp::allocate, "allocate"},
    {LayoutOp::write, "write"},
    {LayoutOp::flag_change, "flag-change"},
}};
static_assert(names_in_order(kLayoutOpNames, 8));
} // namespace

const char *layout_op_name(LayoutOp op)
{
	return name_of(kLayoutOpNames, op);
}

} // namespace daxpolicy::fscore
