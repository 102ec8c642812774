// Which rule decides a file's DAX flag: the precedence of INTERFACE.md, "Policy files".
#pragma once

#include "policy/rule.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace daxpolicy::policy
{

class Matcher
{
      public:
	// The rules must be valid (validate_rule) and their names unique.
	explicit Matcher(std::vector<Rule> rules);

	// The rule that decides `path` (absolute, normalised, inside `volume`), or nullptr.
	// Files: among rules of that volume whose subtree contains path (subtree "/" contains all;
	// "/a" contains "/a" and "/a/x" but not "/ab") and whose include (if non-empty, any glob
	// matches the basename) and exclude (no glob matches the basename) accept the file's name,
	// the deepest subtree wins (most path components), then higher priority, then name in byte
	// order. Directories: the same but include/exclude are ignored (directories under a rule's
	// subtree carry its flag so new files inherit it).
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
