// SPDX-License-Identifier: BSD-3-Clause
#include "policy/rule.hpp"

#include <algorithm>
#include <string_view>
#include <tuple>

namespace daxpolicy::policy
{

namespace
{

constexpr std::size_t max_name_length = 64;
constexpr int min_priority = -1000000;
constexpr int max_priority = 1000000;

std::string in_quotes(std::string_view s)
{
	return '"' + std::string(s) + '"';
}

// Character classes by hand: std::isalnum and friends depend on the locale.
bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

// first[first or one of ._-]*
bool is_identifier(std::string_view s, bool (*first)(char))
{
	if (s.empty() || !first(s.front()))
		return false;
	return std::all_of(s.begin() + 1, s.end(), [first](char c) {
		return first(c) || c == '.' || c == '_' || c == '-';
	});
}

std::optional<std::string> check_name(const std::string &name)
{
	if (!is_identifier(name, is_lower_alnum))
		return "name: " + in_quotes(name) + " must match [a-z0-9][a-z0-9._-]*";
	if (name.size() > max_name_length)
		return "name: must be at most " + std::to_string(max_name_length) + " characters";
	return std::nullopt;
}

std::optional<std::string> check_volume(const std::string &volume)
{
	if (!is_identifier(volume, is_alnum))
		return "volume: " + in_quotes(volume) + " must match [A-Za-z0-9][A-Za-z0-9._-]*";
	return std::nullopt;
}

std::optional<std::string> check_subtree(const std::string &subtree)
{
	// A NUL byte would silently cut the path short wherever it reaches a system call.
	if (subtree.find('\0') != std::string::npos)
		return "subtree: must not contain a NUL byte";
	if (subtree.empty() || subtree.front() != '/')
		return "subtree: " + in_quotes(subtree) + " must be an absolute path";
	auto normal = normalize_volume_path(subtree);
	if (!normal)
		return "subtree: " + in_quotes(subtree) + " must not contain \"..\"";
	if (*normal != subtree)
		return "subtree: " + in_quotes(subtree) + " must be written as " +
		       in_quotes(*normal);
	return std::nullopt;
}

// Globs match a file's name, never a path, so a '/' in one could never match anything.
// Problems name the element ("include[1]: ...") so that the policy-file reader can point at it.
std::optional<std::string> check_globs(std::string_view field,
                                       const std::vector<std::string> &globs)
{
	for (std::size_t i = 0; i < globs.size(); i++) {
		const std::string &glob = globs[i];
		std::string where = std::string(field) + "[" + std::to_string(i) + "]: ";

		if (glob.empty())
			return where + "must not be empty";
		if (glob.find('/') != std::string::npos)
			return where + in_quotes(glob) +
			       " must not contain '/' (globs match file names)";
		// fnmatch(3) would stop at the NUL and match more than was written.
		if (glob.find('\0') != std::string::npos)
			return where + "must not contain a NUL byte";
	}
	return std::nullopt;
}

std::optional<std::string> check_priority(int priority)
{
	if (priority < min_priority || priority > max_priority)
		return "priority: must be within [" + std::to_string(min_priority) + ", " +
		       std::to_string(max_priority) + "]";
	return std::nullopt;
}

} // namespace

bool Rule::same_definition(const Rule &other) const
{
	return std::tie(name, volume, subtree, dax, include, exclude, priority) ==
	       std::tie(other.name, other.volume, other.subtree, other.dax, other.include,
	                other.exclude, other.priority);
}

std::optional<std::string> validate_rule(const Rule &rule)
{
	if (auto problem = check_name(rule.name))
		return problem;
	if (auto problem = check_volume(rule.volume))
		return problem;
	if (auto problem = check_subtree(rule.subtree))
		return problem;
	if (auto problem = check_globs("include", rule.include))
		return problem;
	if (auto problem = check_globs("exclude", rule.exclude))
		return problem;
	return check_priority(rule.priority);
}

std::optional<std::string> normalize_volume_path(const std::string &path)
{
	if (path.empty() || path.front() != '/')
		return std::nullopt;

	std::string normal;
	std::string_view rest(path);
	while (!rest.empty()) {
		std::size_t slash = rest.find('/');
		std::string_view component = rest.substr(0, slash);

		rest =
		    slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
		if (component.empty() || component == ".")
			continue;
		// Refused rather than resolved: resolving needs the filesystem (symlinks), and a
		// rule must not reach outside its volume.
		if (component == "..")
			return std::nullopt;
		normal += '/';
		normal += component;
	}
	return normal.empty() ? std::string("/") : normal;
}

} // namespace daxpolicy::policy
