// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/explain.hpp"

#include "daemon/views.hpp"
#include "fscore/dax_model.hpp"
#include "fscore/lease_info.hpp"

#include <algorithm>

namespace daxpolicy::daemon
{

using nlohmann::json;

namespace
{

// Path components of a subtree: "/" is 0, "/db/wal" is 2. The deepest subtree wins.
int depth_of(const std::string &subtree)
{
	return static_cast<int>(std::count(subtree.begin(), subtree.end(), '/')) -
	       (subtree == "/" ? 1 : 0);
}

// Why `won` beat `next`, the rule the same precedence ranks after it (INTERFACE.md,
// "Policy files": deepest subtree, then higher priority, then the lower name in byte order).
std::string why_won(const policy::Rule &won, const policy::Rule *next)
{
	if (!next)
		return "the only rule whose subtree holds the file and whose globs accept its name";
	int a = depth_of(won.subtree), b = depth_of(next->subtree);
	if (a != b)
		return "deepest subtree: " + won.subtree + " (depth " + std::to_string(a) +
		       ") over " + next->subtree + " (depth " + std::to_string(b) + ")";
	if (won.priority != next->priority)
		return "higher priority: " + std::to_string(won.priority) + " over " +
		       std::to_string(next->priority) + " (rule '" + next->name +
		       "'), at equal depth";
	return "name in byte order: '" + won.name + "' before '" + next->name +
	       "', at equal depth and priority";
}

json mount_json(const fscore::VolumeInfo &v, const fscore::FileInfo &f)
{
	std::string gives;
	if (f.type != fscore::FileType::regular)
		gives = "only regular files are served DAX; a directory's flag is what new files "
		        "in it inherit";
	else if (!v.dax_capable)
		gives = "the medium cannot do DAX: never effective, whatever the flag";
	else if (v.dax_mode == fscore::DaxMode::always)
		gives = "dax=always: always effective, whatever the flag";
	else if (v.dax_mode == fscore::DaxMode::never)
		gives = "dax=never: never effective, whatever the flag";
	else
		gives = "dax=inode: effective follows the flag, once the file is not in use";
	return {{"dax_mode", fscore::dax_mode_name(v.dax_mode)},
	        {"dax_capable", v.dax_capable},
	        {"effective_for_flag",
	         fscore::effective_dax(v.dax_mode, v.dax_capable, f.type, f.dax_flag)},
	        {"gives", gives}};
}

} // namespace

json explain_json(const policy::FileExplanation &e, const std::vector<fscore::LeaseInfo> &leases)
{
	json out = file_json(e.view);
	const policy::Rule *winner = e.why.decision ? e.why.decision->rule : nullptr;
	const policy::Rule *next = nullptr; // the accepting contender ranked after the winner
	bool past_winner = false;
	json rules = json::array();
	for (const auto &c : e.why.contenders) {
		bool won = c.rule == winner;
		if (past_winner && !next && c.accepts_name)
			next = c.rule;
		past_winner = past_winner || won;
		rules.push_back({{"name", c.rule->name},
		                 {"subtree", c.rule->subtree},
		                 {"dax", c.rule->dax ? "on" : "off"},
		                 {"priority", c.rule->priority},
		                 {"depth", depth_of(c.rule->subtree)},
		                 {"accepts_name", c.accepts_name},
		                 {"won", won}});
	}
	out["rules"] = rules;
	out["winner"] = winner ? json{{"rule", winner->name}, {"why", why_won(*winner, next)}}
	                       : json{{"rule", nullptr},
	                              {"why", rules.empty() ? "no rule's subtree holds the file"
	                                                    : "no rule's globs accept the name"}};
	out["mount"] = mount_json(e.volume, e.view.file);
	if (!e.queued) {
		out["pending"] = nullptr;
		return out;
	}
	json p = pending_json(*e.queued);
	json holders = json::array();
	for (const auto &l : leases)
		holders.push_back({{"pid", l.holder.pid}, {"uid", l.holder.uid}});
	p["holders"] = holders;
	out["pending"] = p;
	return out;
}

} // namespace daxpolicy::daemon
