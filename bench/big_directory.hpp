// SPDX-License-Identifier: BSD-3-Clause
// The embedded volume's directories at scale: creates and lookups in one directory as it fills
// to `big_dir_entries` entries, the rate at the full size beside the rate of the same run
// while the directory was a tenth as large (flat is the target).
#pragma once

#include "bench/config.hpp"
#include "bench/report.hpp"

#include <filesystem>
#include <vector>

namespace daxpolicy::bench
{

// big_dir_create_per_s, big_dir_lookup_per_s. The pool goes in `scratch`.
std::vector<Figure> run_big_directory(const Config &cfg, const std::filesystem::path &scratch);

} // namespace daxpolicy::bench
