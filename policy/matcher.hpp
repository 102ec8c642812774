// SPDX-License-Identifier: BSD-3-Clause
// Which rule decides a file's DAX flag: the precedence of INTERFACE.md, "Policy files".
#pragma once

#include "policy/rule.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace daxpolicy::policy
{

// What the policy wants for one file or directory.
struct Decision {
	const Rule *rule; // the rule that decided it
	bool dax;         // the flag it wants
};

class Matcher
{
      public:
	// The rules must be valid (validate_rule) and their names unique.
	explicit Matcher(std::vector<Rule> rules);

	// What the policy wants for `path` (absolute, normalised, inside `volume`), or nothing
	// when no rule covers it.
	// Files: among rules of that volume whose subtree contains path (subtree "/" contains all;
	// "/a" contains "/a" and "/a/x" but not "/ab") and whose include (if non-empty, any glob
	// matches the basename) and exclude (no glob matches the basename) accept the file's name,
	// the deepest subtree wins (most path components), then higher priority, then name in byte
	// order; the file wants that rule's flag.
	// Directories: a directory's flag is what a new file in it inherits, so it carries the
	// flag a file of any name there gets unless a rule with include/exclude takes the name:
	// that of the first rule, in the same precedence, whose subtree contains it and that has
	// no include or exclude. When only rules with include/exclude contain it, it is kept
	// without the flag (decided by the first of them): names they turn away have no rule,
	// and must not inherit DAX. Files a rule with globs takes get their flag when they are
	// created (the engine hears of it) or at the next reconcile.
	std::optional<Decision> decide(std::string_view volume, std::string_view path,
	                               bool is_directory) const;
	// decide()'s rule, or nullptr.
	const Rule *match(std::string_view volume, std::string_view path, bool is_directory) const;

	const std::vector<Rule> &rules() const { return rules_; }

      private:
	std::vector<Rule> rules_;
	// Per volume, indices into rules_ in precedence order, so that the first rule that
	// accepts a path is the one that decides it. Indices rather than pointers keep a copied
	// Matcher valid.
	std::map<std::string, std::vector<std::size_t>, std::less<>> by_volume_;
};

} // namespace daxpolicy::policy
