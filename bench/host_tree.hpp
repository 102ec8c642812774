// SPDX-License-Identifier: BSD-3-Clause
// A host volume on a large tree: a rule applied over it, and a reconcile that finds nothing to
// change, each beside the kernel tool that does the same work (chattr -R +x, lsattr -R) on an
// identical tree in the same run, every one from a cold cache.
#pragma once

#include "bench/config.hpp"
#include "bench/report.hpp"

#include <filesystem>
#include <vector>

namespace daxpolicy::bench
{

// Makes two ext4 loop mounts (-o dax=inode) in `scratch`, each with the same tree of
// cfg.host_files files. Without root or loop devices it says why on stderr and returns no
// figures.
std::vector<Figure> run_host_tree(const Config &cfg, const std::filesystem::path &scratch);

} // namespace daxpolicy::bench
