// SPDX-License-Identifier: BSD-3-Clause
#include "bench/matching.hpp"

#include "bench/interrupt.hpp"
#include "bench/stats.hpp"
#include "bench/timing.hpp"
#include "bench/turns.hpp"
#include "policy/matcher.hpp"

#include <algorithm>
#include <fnmatch.h>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>

namespace daxpolicy::bench
{

namespace
{

using policy::Rule;

const std::string kVolume = "pool0";

// The baseline: the Matcher as it was before its trie. Each volume's rules sorted once in
// precedence order; a path is decided by the first that holds it and accepts its name, which
// means looking at every rule that does not.
class LinearScan
{
      public:
	explicit LinearScan(const std::vector<Rule> &rules)
	{
		for (const auto &r : rules)
			by_volume_[r.volume].push_back(&r);
		for (auto &[volume, ordered] : by_volume_)
			std::stable_sort(
			    ordered.begin(), ordered.end(), [](const Rule *a, const Rule *b) {
				    return std::make_tuple(depth(b->subtree), b->priority,
				                           std::cref(a->name)) <
				           std::make_tuple(depth(a->subtree), a->priority,
				                           std::cref(b->name));
			    });
	}

	const Rule *decide(std::string_view volume, std::string_view path, bool is_directory) const
	{
		auto ordered = by_volume_.find(volume);
		if (ordered == by_volume_.end())
			return nullptr;
		std::string name(path.substr(path.rfind('/') + 1));
		const Rule *first_with_globs = nullptr;
		for (const Rule *r : ordered->second) {
			if (!holds(r->subtree, path))
				continue;
			bool plain = r->include.empty() && r->exclude.empty();
			if (is_directory ? plain : accepts(*r, name))
				return r;
			if (is_directory && !first_with_globs)
				first_with_globs = r;
		}
		return first_with_globs;
	}

      private:
	static std::size_t depth(const std::string &subtree)
	{
		return subtree == "/" ? 0 : std::count(subtree.begin(), subtree.end(), '/');
	}

	static bool holds(const std::string &subtree, std::string_view path)
	{
		return subtree == "/" ||
		       (path.starts_with(subtree) &&
		        (path.size() == subtree.size() || path[subtree.size()] == '/'));
	}

	static bool any_matches(const std::vector<std::string> &globs, const std::string &name)
	{
		return std::any_of(globs.begin(), globs.end(), [&name](const std::string &g) {
			return ::fnmatch(g.c_str(), name.c_str(), 0) == 0;
		});
	}

	static bool accepts(const Rule &r, const std::string &name)
	{
		return (r.include.empty() || any_matches(r.include, name)) &&
		       !any_matches(r.exclude, name);
	}

	std::map<std::string, std::vector<const Rule *>, std::less<>> by_volume_;
};

struct Entry {
	std::string path;
	bool is_directory;
};

// A volume's directory tree as the rules and the files are drawn from it: 64 top-level
// directories, 12 below each directory from there on.
class Tree
{
      public:
	explicit Tree(unsigned seed) : rng_(seed) {}

	std::string directory(std::size_t depth)
	{
		std::string p;
		for (std::size_t level = 1; level <= depth; level++)
			p += (level == 1 ? "/srv" : "/d") +
			     std::to_string(below(level == 1 ? 64 : 12));
		return p;
	}

	std::size_t below(std::size_t n)
	{
		return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
	}

      private:
	std::mt19937 rng_;
};

// A volume-wide default first, then rules spread over the tree: few broad ones, many narrow
// ones (a depth-d directory is one of 64 * 12^(d-1)). A third take only some names, as WAL
// and log rules do; one glob in twenty is a bracket expression, which fnmatch(3) matches.
std::vector<Rule> make_rules(std::size_t count)
{
	Tree tree(1);
	std::vector<Rule> rules;
	for (std::size_t i = 0; i < count; i++) {
		Rule r;
		r.name = "r" + std::to_string(i);
		r.volume = kVolume;
		r.dax = tree.below(2) == 1;
		r.priority = static_cast<int>(tree.below(4));
		if (i == 0) {
			r.subtree = "/";
			rules.push_back(r);
			continue;
		}
		// Depth 1 to 6, weighted 1, 4, 15, 30, 30, 20 percent.
		std::size_t roll = tree.below(100);
		std::size_t depth = roll < 1    ? 1
		                    : roll < 5  ? 2
		                    : roll < 20 ? 3
		                    : roll < 50 ? 4
		                    : roll < 80 ? 5
		                                : 6;
		r.subtree = tree.directory(depth);
		switch (tree.below(20)) {
		case 0:
		case 1:
		case 2:
		case 3:
			r.include = {"*.log"};
			break;
		case 4:
			r.include = {"*.wal", "*.log"};
			break;
		case 5:
			r.include = {"[0-9]*.log"};
			break;
		case 6:
			r.exclude = {"*.tmp"};
			break;
		default:
			break;
		}
		rules.push_back(r);
	}
	return rules;
}

// What a walk of the volume visits, in its order: directories at depth 2 to 7, each followed
// by its files (depth 3 to 8), of the names a database or a log directory holds.
std::vector<Entry> make_walk(std::size_t directories, std::size_t files_per_directory)
{
	static const std::vector<std::string> kNames{
	    "000123.log", "000124.wal", "MANIFEST-000005", "LOCK", "table-17.sst", ".tmp123.tmp"};
	Tree tree(2);
	std::vector<Entry> walk;
	for (std::size_t i = 0; i < directories; i++) {
		std::string dir = tree.directory(2 + tree.below(6));
		walk.push_back({dir, true});
		for (std::size_t f = 0; f < files_per_directory; f++)
			walk.push_back(
			    {dir + "/" + std::to_string(f) + kNames[f % kNames.size()], false});
	}
	std::sort(walk.begin(), walk.end(),
	          [](const Entry &a, const Entry &b) { return a.path < b.path; });
	return walk;
}

// Decides entries [from, from + count) of the walk, wrapping around; returns how many got a
// rule, so that no decision can be optimised away.
template <class Decide>
std::size_t decide_run(const std::vector<Entry> &walk, std::size_t from, std::size_t count,
                       Decide decide)
{
	std::size_t decided = 0;
	for (std::size_t k = 0; k < count; k++) {
		const Entry &e = walk[(from + k) % walk.size()];
		decided += decide(e) ? 1 : 0;
	}
	return decided;
}

// How many entries the linear scan decides in about `target_s`: its turns' unit of work.
std::size_t entries_in(const LinearScan &scan, const std::vector<Entry> &walk, double target_s)
{
	auto start = Clock::now();
	std::size_t n = 0;
	while (n < walk.size() && (n == 0 || seconds_since(start) < target_s)) {
		keep(scan.decide(kVolume, walk[n].path, walk[n].is_directory));
		n++;
	}
	return n;
}

} // namespace

std::vector<Figure> run_matching(const Config &cfg)
{
	std::size_t most =
	    *std::max_element(cfg.matcher_rule_counts.begin(), cfg.matcher_rule_counts.end());
	const std::vector<Rule> all_rules = make_rules(most);
	const std::vector<Entry> walk =
	    make_walk(cfg.matcher_directories, cfg.matcher_files_per_directory);
	std::cerr << "matching: " << walk.size() << " entries in walk order\n";

	// One side per rule count: its Matcher, its scan, and how much of the walk each
	// decides in one unit of work, long enough (a millisecond or so) that the clock's cost
	// does not count: the whole walk for the Matcher, a slice of it for the scan.
	struct Side {
		std::size_t count;
		policy::Matcher matcher;
		LinearScan scan;
		double build_s;
		std::size_t scan_unit;
		std::unique_ptr<Variant> trie, linear;
	};
	std::vector<std::unique_ptr<Side>> sides;
	std::size_t sink = 0;
	for (std::size_t count : cfg.matcher_rule_counts) {
		check_interrupted();
		std::vector<Rule> rules(all_rules.begin(),
		                        all_rules.begin() + static_cast<std::ptrdiff_t>(count));
		auto built = Clock::now();
		policy::Matcher matcher(std::move(rules));
		double build_s = seconds_since(built);
		// The scan points into the Matcher's rules, which stay where they are when the
		// Matcher moves.
		LinearScan scan(matcher.rules());
		auto side = std::make_unique<Side>(
		    Side{count, std::move(matcher), std::move(scan), build_s, 0, nullptr, nullptr});
		Side &s = *side;

		// Both must decide alike, or the comparison means nothing: checked on entries
		// spread over the walk (all of them would take the scan minutes at 100,000).
		for (std::size_t i = 0; i < walk.size(); i += walk.size() / 200 + 1) {
			const Entry &e = walk[i];
			if (s.scan.decide(kVolume, e.path, e.is_directory) !=
			    s.matcher.match(kVolume, e.path, e.is_directory))
				throw std::runtime_error(
				    "matching: the Matcher and the scan disagree on " + e.path);
		}
		s.scan_unit = entries_in(s.scan, walk, 1e-3);
		s.trie = std::make_unique<Variant>([&walk, &s, &sink](std::size_t i) {
			sink +=
			    decide_run(walk, i * walk.size(), walk.size(), [&s](const Entry &e) {
				    return s.matcher.match(kVolume, e.path, e.is_directory);
			    });
		});
		s.linear = std::make_unique<Variant>([&walk, &s, &sink](std::size_t i) {
			sink +=
			    decide_run(walk, i * s.scan_unit, s.scan_unit, [&s](const Entry &e) {
				    return s.scan.decide(kVolume, e.path, e.is_directory);
			    });
		});
		sides.push_back(std::move(side));
	}

	// Every count and both ways take turns, so that a noisy neighbour, or the machine's
	// clock changing speed, slows them alike: the Matcher's figures are compared with one
	// another as much as with the scan.
	std::vector<Variant *> variants;
	for (const auto &side : sides) {
		variants.push_back(side->trie.get());
		variants.push_back(side->linear.get());
	}
	take_turns(variants, cfg.turn_s, cfg.matcher_cap_s, cfg.matcher_max_units);
	keep(&sink);

	std::vector<Figure> figures;
	double fewest_ns = 0;
	for (const auto &side : sides) {
		double trie_ns = median(side->trie->op_us) * 1e3 / static_cast<double>(walk.size());
		double scan_ns =
		    median(side->linear->op_us) * 1e3 / static_cast<double>(side->scan_unit);
		if (figures.empty())
			fewest_ns = trie_ns;
		std::cerr << "matching: " << side->count << " rules: Matcher built in "
		          << side->build_s * 1e3 << " ms, " << trie_ns << " ns per entry ("
		          << trie_ns / fewest_ns << "x its cost at " << sides.front()->count
		          << " rules), " << side->trie->ops() * walk.size() << " entries; scan "
		          << scan_ns << " ns per entry, " << side->linear->ops() * side->scan_unit
		          << " entries\n";
		figures.push_back({"matcher_ns_per_entry_" + std::to_string(side->count) + "_rules",
		                   "ns", trie_ns, scan_ns, Better::lower,
		                   "a scan of every rule (the Matcher before its trie)"});
	}
	return figures;
}

} // namespace daxpolicy::bench
