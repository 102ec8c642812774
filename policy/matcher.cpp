// SPDX-License-Identifier: BSD-3-Clause
#include "policy/matcher.hpp"

#include <algorithm>
#include <fnmatch.h>
#include <tuple>

namespace daxpolicy::policy
{

namespace
{

// Path components of a normalised subtree: "/" has none, "/a/b" two.
std::size_t depth(const std::string &subtree)
{
	if (subtree == "/")
		return 0;
	return static_cast<std::size_t>(std::count(subtree.begin(), subtree.end(), '/'));
}

// True when `a` takes precedence over `b`: deeper subtree, then higher priority, then the name
// that sorts first.
bool precedes(const Rule &a, const Rule &b)
{
	std::size_t depth_a = depth(a.subtree);
	std::size_t depth_b = depth(b.subtree);

	return std::tie(depth_b, b.priority, a.name) < std::tie(depth_a, a.priority, b.name);
}

bool contains(const std::string &subtree, std::string_view path)
{
	if (subtree == "/")
		return true;
	return path.starts_with(subtree) &&
	       (path.size() == subtree.size() || path[subtree.size()] == '/');
}

// No FNM_PERIOD: "*.log" covers ".wal.log" too; a hidden file needs the same DAX setting as
// any other. No FNM_PATHNAME either: names have no '/', and neither do valid globs.
bool any_matches(const std::vector<std::string> &globs, const std::string &name)
{
	return std::any_of(globs.begin(), globs.end(), [&name](const std::string &glob) {
		return ::fnmatch(glob.c_str(), name.c_str(), 0) == 0;
	});
}

bool accepts_name(const Rule &rule, const std::string &name)
{
	if (!rule.include.empty() && !any_matches(rule.include, name))
		return false;
	return !any_matches(rule.exclude, name);
}

} // namespace

Matcher::Matcher(std::vector<Rule> rules) : rules_(std::move(rules))
{
	for (std::size_t i = 0; i < rules_.size(); i++)
		by_volume_[rules_[i].volume].push_back(i);
	for (auto &[volume, indices] : by_volume_)
		std::stable_sort(indices.begin(), indices.end(),
		                 [this](std::size_t a, std::size_t b) {
			                 return precedes(rules_[a], rules_[b]);
		                 });
}

std::optional<Decision> Matcher::decide(std::string_view volume, std::string_view path,
                                        bool is_directory) const
{
	auto candidates = by_volume_.find(volume);
	if (candidates == by_volume_.end())
		return std::nullopt;

	// fnmatch(3) wants a NUL-terminated name.
	std::string name(path.substr(path.rfind('/') + 1));
	const Rule *first_with_globs = nullptr;
	for (std::size_t i : candidates->second) {
		const Rule &rule = rules_[i];
		if (!contains(rule.subtree, path))
			continue;
		if (!is_directory) {
			if (accepts_name(rule, name))
				return Decision{&rule, rule.dax};
			continue;
		}
		if (rule.include.empty() && rule.exclude.empty())
			return Decision{&rule, rule.dax};
		if (!first_with_globs)
			first_with_globs = &rule;
	}
	if (first_with_globs)
		return Decision{first_with_globs, false};
	return std::nullopt;
}

const Rule *Matcher::match(std::string_view volume, std::string_view path, bool is_directory) const
{
	auto decision = decide(volume, path, is_directory);
	return decision ? decision->rule : nullptr;
}

} // namespace daxpolicy::policy
