// SPDX-License-Identifier: BSD-3-Clause
// "Did you mean ...?": the known name closest to a mistyped one, as git and systemctl offer.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace daxpolicy
{

// The edit distance between a and b, counting an insertion, a deletion, a substitution and a
// swap of two neighbours as one edit each (optimal string alignment), so "stauts" is one
// edit from "status".
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate `word` most likely meant: the one candidate it begins ("list-ev" for
// "list-events"), else the nearest within a third of its length in edits (at least one; ties
// go to the earlier candidate). Nothing when `word` is itself a candidate or nothing is near.
std::optional<std::string> closest_name(std::string_view word,
                                        std::span<const std::string_view> candidates);

} // namespace daxpolicy
