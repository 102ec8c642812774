// SPDX-License-Identifier: BSD-3-Clause
// The daemon under load, through its socket: requests per second for 1 to 128 clients beside
// a bare epoll server answering the same bytes, and a rule applied to (then a no-op reconcile
// of) a large embedded tree, with the daemon's peak memory and the latency of `status` asked
// meanwhile from another client.
#pragma once

#include "bench/config.hpp"
#include "bench/report.hpp"

#include <filesystem>
#include <vector>

namespace daxpolicy::bench
{

std::vector<Figure> run_daemon(const Config &cfg, const std::filesystem::path &dir);

} // namespace daxpolicy::bench
