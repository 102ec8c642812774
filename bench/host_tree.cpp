// SPDX-License-Identifier: BSD-3-Clause
#include "bench/host_tree.hpp"

#include "bench/interrupt.hpp"
#include "bench/loop_mount.hpp"
#include "bench/proc_status.hpp"
#include "bench/process.hpp"
#include "bench/timing.hpp"
#include "fscore/host/host_volume.hpp"
#include "policy/engine.hpp"
#include "policy/store.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <linux/fs.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <sys/ioctl.h>
#include <unistd.h>

namespace daxpolicy::bench
{

namespace
{

[[noreturn]] void throw_errno(const std::string &what)
{
	throw std::runtime_error(what + ": " + std::strerror(errno));
}

// `root`/tree: directories d0, d1, ... of cfg.host_files_per_dir empty files each, the last
// one holding the remainder. Empty files cost the walk and the flag change what any file
// does (the flag is in the inode), and keep the image small. Returns how many entries the
// tree has, itself included: what chattr -R and a walk of it visit.
uint64_t make_tree(const std::filesystem::path &root, const Config &cfg)
{
	std::filesystem::path tree = root / "tree";
	std::filesystem::create_directory(tree);
	uint64_t made = 0, dirs = 0;
	while (made < cfg.host_files) {
		check_interrupted();
		std::filesystem::path dir = tree / ("d" + std::to_string(dirs++));
		std::filesystem::create_directory(dir);
		int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			throw_errno(dir.string());
		for (uint64_t i = 0; i < cfg.host_files_per_dir && made < cfg.host_files; ++i) {
			std::string name = "f" + std::to_string(made++);
			int fd = ::openat(dfd, name.c_str(),
			                  O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0) {
				int err = errno;
				::close(dfd);
				errno = err;
				throw_errno((dir / name).string());
			}
			::close(fd);
		}
		::close(dfd);
	}
	return made + dirs + 1;
}

// What every measurement starts from: nothing of either tree in the page, dentry or inode
// cache, so that both sides read their inodes from the (loop) disk.
void drop_caches()
{
	::sync();
	std::ofstream out("/proc/sys/vm/drop_caches");
	out << "3\n";
	out.flush();
	if (!out)
		throw std::runtime_error("cannot write /proc/sys/vm/drop_caches");
}

double time_program(std::vector<std::string> argv, bool quiet)
{
	drop_caches();
	auto start = Clock::now();
	if (auto why = run_program(std::move(argv), quiet); !why.empty())
		throw std::runtime_error(why);
	return seconds_since(start);
}

// How many entries of `tree` (itself included) have the DAX flag, as FS_IOC_GETFLAGS shows it
// (FS_DAX_FL, what lsattr shows as 'x'), read here without the host volume's code.
uint64_t count_flagged(const std::filesystem::path &tree)
{
	auto flagged = [](const std::filesystem::path &p) {
		int fd = ::open(p.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			throw_errno(p.string());
		int flags = 0;
		int rc = ::ioctl(fd, FS_IOC_GETFLAGS, &flags);
		::close(fd);
		if (rc != 0)
			throw_errno(p.string() + ": FS_IOC_GETFLAGS");
		return (flags & FS_DAX_FL) != 0;
	};
	uint64_t n = flagged(tree);
	for (const auto &entry : std::filesystem::recursive_directory_iterator(tree))
		n += flagged(entry.path());
	return n;
}

struct Trees {
	std::unique_ptr<LoopMount> baseline, ours;
	uint64_t entries = 0;
};

Trees make_trees(const Config &cfg, const std::filesystem::path &scratch)
{
	// Inodes for the tree and room to spare; the inode tables written at mkfs, not by a
	// lazy-init thread during the measurements.
	uint64_t inodes = cfg.host_files + cfg.host_files / cfg.host_files_per_dir + 1024;
	uint64_t mib = 64 + cfg.host_files / 500;
	Trees t;
	for (auto *side : {&t.baseline, &t.ours}) {
		LoopMount::Options o;
		o.name = side == &t.baseline ? "chattr" : "daxpolicy";
		o.mkfs_options = {"-N", std::to_string(inodes), "-E",
		                  "lazy_itable_init=0,lazy_journal_init=0"};
		o.mount_options = ",dax=inode";
		*side = std::make_unique<LoopMount>(scratch, mib, o);
		t.entries = make_tree((*side)->mount_point(), cfg);
	}
	return t;
}

} // namespace

std::vector<Figure> run_host_tree(const Config &cfg, const std::filesystem::path &scratch)
{
	Trees trees;
	try {
		trees = make_trees(cfg, scratch);
	} catch (const Interrupted &) {
		throw;
	} catch (const std::runtime_error &e) {
		std::cerr << "host_tree: skipped: " << e.what() << "\n";
		return {};
	}
	const double entries = static_cast<double>(trees.entries);
	std::string tree_a = (trees.baseline->mount_point() / "tree").string();
	std::filesystem::path tree_b = trees.ours->mount_point() / "tree";
	std::cerr << "host_tree: two ext4 loop mounts (-o dax=inode), " << trees.entries
	          << " entries each (" << cfg.host_files << " files)\n";

	fscore::HostVolume::Options vo;
	vo.name = "host0";
	vo.path = trees.ours->mount_point();
	auto vol = fscore::HostVolume::open(vo);
	policy::Store store(scratch / "bench.db");
	// The engine is used from this thread only; nothing but the benchmark touches tree B,
	// so there are no notifications to act on (the volume's own opens are not reported).
	policy::Engine engine(store, {{"host0", vol.get()}}, [](std::function<void()>) {});
	engine.start();

	double chattr_s = time_program({"chattr", "-R", "+x", tree_a}, false);
	check_interrupted();

	policy::Rule rule;
	rule.name = "bench";
	rule.volume = "host0";
	rule.subtree = "/tree";
	rule.dax = true;
	drop_caches();
	double rss_before = status_mib("VmRSS");
	reset_peak_rss();
	auto start = Clock::now();
	engine.add_rule(rule);
	double rule_s = seconds_since(start);
	double rss_peak = status_mib("VmHWM");
	check_interrupted();

	double lsattr_s = time_program({"lsattr", "-R", tree_a}, true);
	check_interrupted();

	drop_caches();
	start = Clock::now();
	policy::FileCounts noop; // the engine has no loop here: the job ends within the call
	engine.reconcile("host0", std::nullopt,
	                 [&](const policy::JobReport &job) { noop = job.files; });
	double noop_s = seconds_since(start);
	// Everything the rule covers was set by it, so the second pass changes nothing: if it
	// did, the first one did not do its work and its figure would flatter it.
	if (noop.applied || noop.deferred || noop.unchanged != trees.entries)
		throw std::runtime_error("host_tree: the reconcile after the rule applied " +
		                         std::to_string(noop.applied) + ", deferred " +
		                         std::to_string(noop.deferred) + ", left " +
		                         std::to_string(noop.unchanged) + " of " +
		                         std::to_string(trees.entries));

	// And the kernel agrees: every entry of tree B has the flag (a pass that skipped files
	// would otherwise pass for a fast one, and the no-op pass would not see it).
	if (uint64_t flagged = count_flagged(tree_b); flagged != trees.entries)
		throw std::runtime_error("host_tree: FS_IOC_GETFLAGS shows the flag on " +
		                         std::to_string(flagged) + " of " +
		                         std::to_string(trees.entries) + " entries of tree B");

	std::cerr << "host_tree: rule " << rule_s << " s (chattr -R +x " << chattr_s
	          << " s); no-op reconcile " << noop_s << " s (lsattr -R " << lsattr_s
	          << " s); RSS " << rss_before << " MiB before the rule, peak " << rss_peak
	          << " MiB\n";
	return {
	    {"host_rule_files_per_s", "files/s", entries / rule_s, entries / chattr_s,
	     Better::higher, "chattr -R +x on an identical tree, cold cache"},
	    {"host_noop_reconcile_files_per_s", "files/s", entries / noop_s, entries / lsattr_s,
	     Better::higher, "lsattr -R on an identical tree, cold cache"},
	    {"host_rule_peak_rss_growth", "MiB", rss_peak - rss_before, std::nullopt, Better::lower,
	     "none (peak RSS during the rule over RSS before)"},
	};
}

} // namespace daxpolicy::bench
