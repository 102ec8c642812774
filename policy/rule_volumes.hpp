// SPDX-License-Identifier: BSD-3-Clause
// Rules against the volumes of a daemon config: a rule naming a volume the host lacks is a typo
// (unknown_volumes = "error", the default) or, where one drop-in set serves hosts with
// different volumes, a rule for other hosts, skipped and reported (unknown_volumes = "ignore").
// The daemon's apply and reload and the offline `check --config` sort rules out the same way.
#pragma once

#include "policy/policy_file.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace daxpolicy::policy
{

enum class UnknownVolumes { error, ignore };
const char *unknown_volumes_name(UnknownVolumes mode);
std::optional<UnknownVolumes> unknown_volumes_from_name(std::string_view name);

// A rule that `ignore` took out, with where its `volume = ...` is written.
struct SkippedRule {
	Rule rule;
	PolicyPosition at;

	// {"rule", "volume", "subtree", "source", "line"}: how apply, reload and check list it.
	nlohmann::json to_json() const;
};

// The rules of `load` whose volume is not in `volumes`. With `error`, each becomes an error of
// the load at its `volume = ...`, naming `config` (where the volumes come from), and the load
// keeps no rules; with `ignore`, they are taken out of the load's rules and returned.
std::vector<SkippedRule> sort_out_unknown_volumes(PolicyLoad &load,
                                                  const std::set<std::string> &volumes,
                                                  UnknownVolumes mode, const std::string &config);

} // namespace daxpolicy::policy
