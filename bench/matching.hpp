// SPDX-License-Identifier: BSD-3-Clause
// What deciding one file costs as the rules grow: the policy Matcher beside a scan of every
// rule in precedence order (what the Matcher did before its trie), in the same run, over the
// same rules and the same walk of files.
#pragma once

#include "bench/config.hpp"
#include "bench/report.hpp"

#include <vector>

namespace daxpolicy::bench
{

// One figure per rule count of cfg.matcher_rule_counts: nanoseconds per file or directory.
std::vector<Figure> run_matching(const Config &cfg);

} // namespace daxpolicy::bench
