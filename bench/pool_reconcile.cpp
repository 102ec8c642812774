// SPDX-License-Identifier: BSD-3-Clause
#include "bench/pool_reconcile.hpp"

#include "bench/interrupt.hpp"
#include "bench/timing.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "policy/engine.hpp"
#include "policy/store.hpp"

#include <iostream>
#include <stdexcept>
#include <string>

namespace daxpolicy::bench
{

namespace
{

constexpr uint64_t kFilesPerDirectory = 1000;
// Rules on subtrees that hold nothing, beside the one on "/" that decides every file: the
// engine's matcher looks only at the rules on a file's own path, the naive scan at all.
constexpr size_t kIdleRules = 99;

policy::Rule rule(std::string name, std::string subtree, bool dax)
{
	policy::Rule r;
	r.name = std::move(name);
	r.volume = "pool0";
	r.subtree = std::move(subtree);
	r.dax = dax;
	return r;
}

// The naive evaluation: every rule looked at for every file (the deepest subtree holding it
// wins), and each change its own call, so its own journal transaction. Stops after cap_s;
// returns files a second over what it did.
double naive_pass(fscore::EmbeddedVolume &vol, const std::vector<policy::Rule> &rules, double cap_s)
{
	struct CapReached {
	}; // thrown out of the walk, which has no other way to stop
	auto start = Clock::now();
	uint64_t files = 0;
	try {
		vol.walk("/", [&](const fscore::FileInfo &fi) {
			if (++files % 4096 == 0 && seconds_since(start) > cap_s)
				throw CapReached();
			const policy::Rule *best = nullptr;
			for (const auto &r : rules) {
				bool holds =
				    r.subtree == "/" || (fi.path.starts_with(r.subtree) &&
				                         (fi.path.size() == r.subtree.size() ||
				                          fi.path[r.subtree.size()] == '/'));
				if (holds && (!best || r.subtree.size() > best->subtree.size()))
					best = &r;
			}
			if (best && best->dax != fi.dax_flag)
				vol.set_dax_flag_if_unmapped(fi.ino, fi.generation, best->dax);
		});
	} catch (const CapReached &) {
	}
	return double(files) / seconds_since(start);
}

} // namespace

std::vector<Figure> run_pool_reconcile(const Config &cfg, const std::filesystem::path &scratch)
{
	uint64_t n = cfg.pool_files;
	uint64_t dirs = (n + kFilesPerDirectory - 1) / kFilesPerDirectory;
	uint64_t entries = n + dirs + 1;
	auto pool = scratch / "reconcile.pool";
	fscore::mkfs(pool, 4 * entries * 256 + (64ull << 20), false, entries + 16);
	auto vol = fscore::EmbeddedVolume::mount(pool, {"pool0", fscore::DaxMode::inode});
	auto start = Clock::now();
	for (uint64_t d = 0; d < dirs; d++) {
		std::string dir = "/d" + std::to_string(d);
		vol->mkdir(dir);
		for (uint64_t f = 0; f < kFilesPerDirectory && d * kFilesPerDirectory + f < n; f++)
			vol->create(dir + "/f" + std::to_string(f));
		check_interrupted();
	}
	std::cerr << "pool_reconcile: " << entries << " entries made in " << seconds_since(start)
	          << " s\n";

	policy::Store store(scratch / "reconcile.db");
	// No loop: each job runs to its end within the call that starts it.
	policy::Engine engine(store, {{"pool0", vol.get()}}, [](std::function<void()>) {});
	engine.start();
	std::vector<policy::Rule> rules;
	for (size_t i = 0; i < kIdleRules; i++)
		rules.push_back(engine.add_rule(
		    rule("idle" + std::to_string(i), "/none" + std::to_string(i), true)));
	rules.push_back(engine.add_rule(rule("all", "/", false)));

	start = Clock::now();
	policy::FileCounts noop;
	engine.reconcile("pool0", std::nullopt,
	                 [&](const policy::JobReport &job) { noop = job.files; });
	double noop_rate = double(entries) / seconds_since(start);
	if (noop.applied || noop.deferred)
		throw std::runtime_error("pool_reconcile: the no-op reconcile changed files");
	double naive_noop_rate = naive_pass(*vol, rules, cfg.pool_naive_cap_s);
	check_interrupted();

	// Every flag changes: "all" goes from off to on.
	engine.remove_rules({"all"});
	start = Clock::now();
	double cpu_start = process_cpu_seconds();
	policy::FileCounts applied;
	engine.add_rule(rule("all-on", "/", true),
	                [&](const policy::JobReport &job) { applied = job.files; });
	double apply_rate = double(applied.applied) / seconds_since(start);
	double apply_cpu_us = (process_cpu_seconds() - cpu_start) * 1e6 / double(entries);
	if (applied.applied != entries)
		throw std::runtime_error("pool_reconcile: applied " +
		                         std::to_string(applied.applied) + " of " +
		                         std::to_string(entries));
	rules.back() = rule("all-off", "/", false); // the naive pass turns them back
	cpu_start = process_cpu_seconds();
	start = Clock::now();
	double naive_apply_rate = naive_pass(*vol, rules, cfg.pool_naive_cap_s);
	double naive_apply_cpu_us = (process_cpu_seconds() - cpu_start) * 1e6 /
	                            (naive_apply_rate * seconds_since(start));

	std::cerr << "pool_reconcile: no-op " << noop_rate << " files/s (naive " << naive_noop_rate
	          << "), apply " << apply_rate << " files/s (naive " << naive_apply_rate
	          << "); apply CPU " << apply_cpu_us << " us a file, every thread (naive "
	          << naive_apply_cpu_us << ")\n";
	vol.reset();
	std::filesystem::remove(pool);
	std::string what =
	    std::to_string(entries) + " entries, " + std::to_string(kIdleRules + 1) + " rules";
	return {{"pool_noop_reconcile_files_per_s", "files/s", noop_rate, naive_noop_rate,
	         Better::higher, "naive: every rule for every file (" + what + ")"},
	        {"pool_apply_files_per_s", "files/s", apply_rate, naive_apply_rate, Better::higher,
	         "naive: every rule for every file, a transaction a file (" + what + ")"}};
}

} // namespace daxpolicy::bench
