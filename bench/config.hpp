// SPDX-License-Identifier: BSD-3-Clause
// What one run measures and how long it may take. Persisting to a pool that is an ordinary
// file means msync, whose cost is the storage's flush latency: on a virtual disk that is
// milliseconds. So every measurement is bounded by time as well as by size, and a run stays
// bounded on slow storage too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace daxpolicy::bench
{

struct Config {
	// Where the pools and the ext4 image go: a fresh directory is made inside it.
	std::filesystem::path parent_dir = "/var/tmp";
	uint64_t size_mib = 256; // the most a data-path file is written over
	// Sequential writes: an unmeasured pass per variant, stopped at size_mib or this cap,
	// allocates blocks and faults pages in; the measured passes then overwrite the same
	// MiB, so that every measured pass is an overwrite.
	double seq_warmup_cap_s = 2;
	// Measured passes of each sequential figure; the figure is their median.
	int seq_reps = 3;
	// A measured read pass repeats reading the covered MiB until at least this long.
	double read_min_s = 0.25;
	// Random 4 KiB writes and create+unlink: variants take turns of turn_s, for cap_s at
	// most, max_* operations each at most.
	double turn_s = 0.1;
	size_t latency_max_samples = 20000;
	double latency_cap_s = 10;
	size_t meta_max_ops = 100000;
	double meta_cap_s = 5;
	uint64_t ext4_image_mib = 128;
	// The host volume's trees: this many regular files, host_files_per_dir to a directory.
	uint64_t host_files = 100000;
	uint64_t host_files_per_dir = 1000;
	// Matching: a Matcher of each of these rule counts, and a linear scan of the same
	// rules, decide the same walk of matcher_directories directories of
	// matcher_files_per_directory files each, all taking turns, for matcher_cap_s at most
	// altogether and matcher_max_units units (about a millisecond each) each at most.
	std::vector<size_t> matcher_rule_counts{1, 100, 10000, 100000};
	size_t matcher_directories = 2000;
	size_t matcher_files_per_directory = 10;
	double matcher_cap_s = 12;
	size_t matcher_max_units = 2000;
	// One directory of the embedded volume filled to this many entries (put the pool on
	// tmpfs, `--dir /dev/shm`: a million files is two million transactions), for at most
	// big_dir_cap_s, with big_dir_lookups random lookups at a tenth and at the full size.
	uint64_t big_dir_entries = 1000000;
	double big_dir_cap_s = 600;
	uint64_t big_dir_lookups = 200000;
	// The engine over a pool of this many empty files, a thousand to a directory; the
	// naive passes beside it stop after pool_naive_cap_s each.
	uint64_t pool_files = 1000000;
	double pool_naive_cap_s = 60;
	// The daemon: requests per second with each of these client counts, each for
	// daemon_turn_s against the daemon and then the bare server; a rule and a no-op
	// reconcile over daemon_files empty files (host_files_per_dir to a directory), with
	// `status` asked meanwhile; idle `status` latency from daemon_idle_samples calls.
	std::vector<int> daemon_clients{1, 8, 32, 128};
	double daemon_turn_s = 1;
	uint64_t daemon_files = 100000;
	size_t daemon_idle_samples = 2000;
};

// The defaults, or with `quick` the small sizes of a CI smoke run (under 5 s).
Config make_config(bool quick);

} // namespace daxpolicy::bench
