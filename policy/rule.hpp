// SPDX-License-Identifier: BSD-3-Clause
// A subtree DAX rule, as written in a policy file or made with add-rule.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace daxpolicy::policy
{

struct Rule {
	std::string name;    // unique; [a-z0-9][a-z0-9._-]*
	std::string volume;  // a configured volume's name
	std::string subtree; // absolute, normalised path inside the volume ("/" allowed)
	bool dax = false;    // "on" -> true, "off" -> false
	std::vector<std::string> include; // fnmatch(3) globs on the file's name; empty = all
	std::vector<std::string> exclude; // fnmatch(3) globs on the file's name
	int priority = 0;
	// Where the rule came from: the policy file's path for managed rules, empty for local
	// rules made with add-rule.
	std::string source;

	bool managed() const { return !source.empty(); }
	// Same effect on files (everything but `source`).
	bool same_definition(const Rule &other) const;
	bool operator==(const Rule &) const = default;
};

// Checks a rule's fields, one by one. Returns the first problem as "<field>: <what is wrong>",
// or nothing when the rule is valid. Does not know which volumes exist.
std::optional<std::string> validate_rule(const Rule &rule);

// Lexically normalises an absolute path inside a volume: collapses "//" and "/./", refuses "..".
// Returns nothing when the path is not absolute or contains "..".
std::optional<std::string> normalize_volume_path(const std::string &path);

} // namespace daxpolicy::policy
