// SPDX-License-Identifier: BSD-3-Clause
#include "bench/config.hpp"

namespace daxpolicy::bench
{

Config make_config(bool quick)
{
	Config cfg;
	if (!quick)
		return cfg;
	// Enough to exercise every code path and catch a gross regression, not to be precise.
	cfg.size_mib = 16;
	cfg.seq_warmup_cap_s = 0.2;
	cfg.seq_reps = 1;
	cfg.read_min_s = 0.05;
	cfg.turn_s = 0.05;
	cfg.latency_max_samples = 2000;
	cfg.latency_cap_s = 0.6;
	cfg.meta_max_ops = 5000;
	cfg.meta_cap_s = 0.4;
	cfg.ext4_image_mib = 64;
	cfg.host_files = 2000;
	cfg.host_files_per_dir = 200;
	cfg.matcher_cap_s = 0.4;
	cfg.big_dir_entries = 5000;
	cfg.big_dir_cap_s = 2;
	cfg.big_dir_lookups = 5000;
	cfg.pool_files = 3000;
	cfg.pool_naive_cap_s = 1;
	cfg.daemon_clients = {1, 8};
	cfg.daemon_turn_s = 0.1;
	cfg.daemon_files = 2000;
	cfg.daemon_idle_samples = 200;
	return cfg;
}

} // namespace daxpolicy::bench
