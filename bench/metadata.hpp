// SPDX-License-Identifier: BSD-3-Clause
// The metadata figure: create+unlink of empty files in one directory of the embedded volume,
// next to the kernel doing the same on ext4 loop-mounted from the same disk.
#pragma once

#include "bench/config.hpp"
#include "bench/report.hpp"
#include "fscore/embedded/embedded_volume.hpp"

#include <filesystem>

namespace daxpolicy::bench
{

// create_unlink_per_s. `scratch` holds the ext4 image and its mount point while it runs.
// Without root, or when the loop mount fails, the baseline is null and stderr says why.
Figure run_create_unlink(const Config &cfg, fscore::EmbeddedVolume &vol,
                         const std::filesystem::path &scratch);

} // namespace daxpolicy::bench
