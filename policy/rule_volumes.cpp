// SPDX-License-Identifier: BSD-3-Clause
#include "policy/rule_volumes.hpp"

#include "common/enum_names.hpp"

#include <algorithm>
#include <tuple>

namespace daxpolicy::policy
{

namespace
{

constexpr std::array<NameTable<UnknownVolumes>, 2> kUnknownVolumesNames{{
    {UnknownVolumes::error, "error"},
    {UnknownVolumes::ignore, "ignore"},
}};
static_assert(names_in_order(kUnknownVolumesNames, 2));

} // namespace

const char *unknown_volumes_name(UnknownVolumes mode)
{
	return name_of(kUnknownVolumesNames, mode);
}

std::optional<UnknownVolumes> unknown_volumes_from_name(std::string_view name)
{
	return value_of(kUnknownVolumesNames, name);
}

nlohmann::json SkippedRule::to_json() const
{
	return {{"rule", rule.name},
	        {"volume", rule.volume},
	        {"subtree", rule.subtree},
	        {"source", rule.source},
	        {"line", at.line}};
}

std::vector<SkippedRule> sort_out_unknown_volumes(PolicyLoad &load,
                                                  const std::set<std::string> &volumes,
                                                  UnknownVolumes mode, const std::string &config)
{
	std::vector<SkippedRule> skipped;
	std::vector<PolicyError> errors;
	std::erase_if(load.rules, [&](const Rule &r) {
		if (volumes.count(r.volume))
			return false;
		PolicyPosition at = load.volume_at[r.name];
		if (mode == UnknownVolumes::ignore)
			skipped.push_back({r, at});
		else
			errors.push_back(
			    {r.source, at.line, at.column,
			     "volume: no volume named '" + r.volume + "' in " + config +
			         " (unknown_volumes = \"ignore\" would skip the rule)"});
		return true;
	});
	if (errors.empty())
		return skipped;
	// The errors in file order, as a load reports them, and no rules: the policy is wrong.
	load.errors.insert(load.errors.end(), errors.begin(), errors.end());
	std::stable_sort(
	    load.errors.begin(), load.errors.end(), [](const PolicyError &a, const PolicyError &b) {
		    return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
	    });
	load.rules.clear();
	return skipped;
}

} // namespace daxpolicy::policy
