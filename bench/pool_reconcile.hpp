// SPDX-License-Identifier: BSD-3-Clause
// The policy engine over an embedded pool of a million files (issue 10): files evaluated a
// second by a reconcile with nothing to change, and applied a second when every flag
// changes, beside a naive evaluation in the same run (every rule looked at for every file,
// one journal transaction a file).
#pragma once

#include "bench/config.hpp"
#include "bench/report.hpp"

#include <filesystem>
#include <vector>

namespace daxpolicy::bench
{

// pool_noop_reconcile_files_per_s, pool_apply_files_per_s. The pool and the engine's
// database go in `scratch` (put it on tmpfs: `--dir /dev/shm`).
std::vector<Figure> run_pool_reconcile(const Config &cfg, const std::filesystem::path &scratch);

} // namespace daxpolicy::bench
