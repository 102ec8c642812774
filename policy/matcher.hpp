// SPDX-License-Identifier: BSD-3-Clause
// Which rule decides a file's DAX flag: the precedence of INTERFACE.md, "Policy files".
#pragma once

#include "policy/rule.hpp"

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace daxpolicy::policy
{

// What the policy wants for one file or directory.
struct Decision {
	const Rule *rule; // the rule that decided it
	bool dax;         // the flag it wants
};

// A rule whose subtree holds a path: one line of `explain PATH`.
struct Contender {
	const Rule *rule;
	bool accepts_name; // its include and exclude accept the path's last component
};

// Why a path gets what it gets.
struct Explanation {
	// Every rule of the volume whose subtree holds the path, in precedence order, whatever
	// their globs say.
	std::vector<Contender> contenders;
	// decide()'s answer; its rule is one of the contenders.
	std::optional<Decision> decision;
};

// The rules of each volume in a trie of path components, each rule at the node of its
// subtree, so that deciding a path costs the path's depth and the rules on the path, not the
// number of rules.
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
	// Allocates nothing unless the name is longer than NAME_MAX and a glob needs fnmatch(3).
	std::optional<Decision> decide(std::string_view volume, std::string_view path,
	                               bool is_directory) const;
	// decide()'s rule, or nullptr.
	const Rule *match(std::string_view volume, std::string_view path, bool is_directory) const;
	// Every rule that holds `path`, and decide()'s answer.
	Explanation explain(std::string_view volume, std::string_view path,
	                    bool is_directory) const;

	const std::vector<Rule> &rules() const { return rules_; }

      private:
	struct Index;

	std::vector<Rule> rules_;
	// Built once and never changed, so copies share it. It names rules by their index in
	// rules_, never by address, which keeps a copied Matcher valid.
	std::shared_ptr<const Index> index_;
};

} // namespace daxpolicy::policy
