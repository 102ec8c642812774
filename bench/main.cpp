// SPDX-License-Identifier: BSD-3-Clause
// daxpolicy_bench: measures the embedded core's data path and metadata operations, the policy
// matcher's cost per file as the rules grow, a host volume's reconciles of a large tree, the
// embedded pool at scale, and the daemon under load through its socket, next to baselines
// from the same run, and prints one JSON line per figure on stdout and a table on stderr.
// See docs/BENCHMARKS.md.
#include "bench/big_directory.hpp"
#include "bench/config.hpp"
#include "bench/daemon_load.hpp"
#include "bench/data_path.hpp"
#include "bench/host_tree.hpp"
#include "bench/interrupt.hpp"
#include "bench/matching.hpp"
#include "bench/metadata.hpp"
#include "bench/pool_reconcile.hpp"
#include "bench/report.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/embedded/ondisk/pmem_pool.hpp"
#include "tests/support/temp_dir.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <vector>

using namespace daxpolicy;
using namespace daxpolicy::bench;

namespace
{

// Which benchmarks a run makes.
enum class Only { all, host, matcher, pool, daemon };

int run(const Config &cfg, Only only)
{
	test::TempDir dir(cfg.parent_dir);
	std::vector<Figure> figures;
	auto emit = [&](const std::vector<Figure> &batch) {
		for (const auto &f : batch) {
			print_json_line(std::cout, f);
			figures.push_back(f);
		}
	};
	if (only == Only::all) {
		// Both pools are ordinary files in the same directory, so they persist the same
		// way (libpmem2 says which); the baselines are only fair if they do.
		auto raw = fscore::PmemPool::create(dir.path() / "raw.pool", cfg.size_mib << 20);
		fscore::mkfs(dir.path() / "fscore.pool", volume_bytes(cfg));
		auto vol = fscore::EmbeddedVolume::mount(dir.path() / "fscore.pool",
		                                         {"pool0", fscore::DaxMode::inode});
		auto info = vol->info();
		std::cerr << "daxpolicy_bench: dir " << dir.path().string() << ", data file "
		          << cfg.size_mib << " MiB, granularity: volume " << info.granularity
		          << ", raw pool " << raw->granularity() << "\n";
		if (info.granularity != raw->granularity())
			std::cerr << "daxpolicy_bench: warning: the pools persist differently\n";

		DataFiles files = make_data_files(*vol);
		auto seq = run_sequential(cfg, *vol, files, *raw);
		emit(seq.figures);
		emit(run_random_write(cfg, *vol, files, *raw, seq.written_mib));
		emit({run_create_unlink(cfg, *vol, dir.path())});
	}
	if (only == Only::all || only == Only::pool) {
		emit(run_big_directory(cfg, dir.path()));
		emit(run_pool_reconcile(cfg, dir.path()));
	}
	if (only == Only::all || only == Only::matcher)
		emit(run_matching(cfg));
	if (only == Only::all || only == Only::host)
		emit(run_host_tree(cfg, dir.path()));
	if (only == Only::all || only == Only::daemon)
		emit(run_daemon(cfg, dir.path()));
	print_table(std::cerr, figures);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	CLI::App app{"Benchmarks of the embedded pmem core against raw pmem2 copies and the "
	             "kernel, and of a host volume against chattr and lsattr. Figures as JSON "
	             "lines on stdout, a table on stderr."};
	std::string dir;
	uint64_t size_mib = 0;
	uint64_t host_files = 0;
	uint64_t daemon_files = 0;
	bool quick = false;
	bool host_only = false;
	bool matcher_only = false;
	bool pool_only = false;
	uint64_t dir_entries = 0;
	bool daemon_only = false;
	app.add_option("--dir", dir,
	               "Directory to hold the pools and the ext4 image, in a fresh "
	               "subdirectory removed afterwards (default /var/tmp)")
	    ->check(CLI::ExistingDirectory);
	app.add_option("--size", size_mib,
	               "MiB of the data-path file (default 256, 16 with --quick)")
	    ->check(CLI::Range(1, 1 << 20));
	app.add_option("--host-files", host_files,
	               "Files in each tree of the host volume benchmark (default 100000, 2000 "
	               "with --quick)")
	    ->check(CLI::Range(1, 10000000));
	app.add_option("--dir-entries", dir_entries,
	               "Entries of the big directory (default 1000000, 5000 with --quick)")
	    ->check(CLI::Range(10, 100000000));
	uint64_t pool_files = 0;
	app.add_option("--pool-files", pool_files,
	               "Files of the pool the engine reconciles (default 1000000, 3000 with "
	               "--quick)")
	    ->check(CLI::Range(10, 100000000));
	app.add_option("--daemon-files", daemon_files,
	               "Files in the embedded pool of the daemon benchmark (default 100000, 2000 "
	               "with --quick)")
	    ->check(CLI::Range(1, 1000000));
	auto *only_group = app.add_option_group("only", "Run one benchmark")->require_option(0, 1);
	only_group->add_flag("--host-only", host_only, "Only the host volume benchmark");
	only_group->add_flag("--matcher-only", matcher_only, "Only the policy matcher benchmark");
	only_group->add_flag("--pool-only", pool_only,
	                     "Only the embedded pool at scale: a directory of a million entries, "
	                     "and the policy engine over a million files");
	only_group->add_flag("--daemon-only", daemon_only,
	                     "Only the daemon benchmark (throughput, a rule over a large pool)");
	app.add_flag("--quick", quick, "Small sizes and short runs, for a CI smoke test");
	CLI11_PARSE(app, argc, argv);

	Config cfg = make_config(quick);
	if (size_mib)
		cfg.size_mib = size_mib;
	if (host_files)
		cfg.host_files = host_files;
	if (dir_entries)
		cfg.big_dir_entries = dir_entries;
	if (pool_files)
		cfg.pool_files = pool_files;
	if (daemon_files)
		cfg.daemon_files = daemon_files;
	if (!dir.empty())
		cfg.parent_dir = dir;
	Only only = host_only      ? Only::host
	            : matcher_only ? Only::matcher
	            : pool_only    ? Only::pool
	            : daemon_only  ? Only::daemon
	                           : Only::all;

	install_interrupt_handlers();
	try {
		return run(cfg, only);
	} catch (const Interrupted &) {
		std::cerr << "daxpolicy_bench: interrupted\n";
		return 130;
	} catch (const std::exception &e) {
		std::cerr << "daxpolicy_bench: " << e.what() << "\n";
		return 1;
	}
}
