// SPDX-License-Identifier: BSD-3-Clause
#include "policy/job.hpp"

#include "common/enum_names.hpp"
#include "policy/store.hpp"

#include <array>

namespace daxpolicy::policy
{

namespace
{

constexpr std::array<NameTable<Outcome>, 3> kOutcomeNames{{
    {Outcome::applied, "applied"},
    {Outcome::deferred, "deferred"},
    {Outcome::unchanged, "unchanged"},
}};
static_assert(names_in_order(kOutcomeNames, 3));

constexpr std::array<NameTable<JobState>, 6> kJobStateNames{{
    {JobState::queued, "queued"},
    {JobState::running, "running"},
    {JobState::done, "done"},
    {JobState::superseded, "superseded"},
    {JobState::interrupted, "interrupted"},
    {JobState::failed, "failed"},
}};
static_assert(names_in_order(kJobStateNames, 6));

} // namespace

const char *outcome_name(Outcome outcome)
{
	return name_of(kOutcomeNames, outcome);
}

const char *job_state_name(JobState state)
{
	return name_of(kJobStateNames, state);
}

std::optional<JobState> job_state_from_name(std::string_view name)
{
	return value_of(kJobStateNames, name);
}

void FileCounts::add(Outcome outcome)
{
	(outcome == Outcome::applied    ? applied
	 : outcome == Outcome::deferred ? deferred
	                                : unchanged)++;
}

nlohmann::json change_json(const FileChange &c)
{
	return {{"path", c.volume + ":" + c.path},
	        {"from", c.from},
	        {"to", c.to},
	        {"rule", c.rule ? nlohmann::json(*c.rule) : nlohmann::json(nullptr)},
	        {"action", c.action == Outcome::deferred ? "defer" : "apply"}};
}

nlohmann::json counts_json(const FileCounts &c)
{
	return {{"applied", c.applied}, {"deferred", c.deferred}, {"unchanged", c.unchanged}};
}

nlohmann::json scopes_json(const std::vector<JobScope> &scopes)
{
	nlohmann::json out = nlohmann::json::array();
	for (const auto &s : scopes)
		out.push_back(s.volume + ":" + s.path);
	return out;
}

std::vector<JobScope> scopes_from_json(const nlohmann::json &scopes)
{
	std::vector<JobScope> out;
	for (const auto &s : scopes) {
		const std::string &name = s.get_ref<const std::string &>();
		auto colon = name.find(':');
		out.push_back({name.substr(0, colon), name.substr(colon + 1)});
	}
	return out;
}

nlohmann::json JobReport::to_json() const
{
	nlohmann::json j = {
	    {"id", id},
	    {"state", job_state_name(state)},
	    {"cause", cause},
	    {"dry_run", dry_run},
	    {"scopes", scopes_json(scopes)},
	    {"done", done},
	    {"total", total ? nlohmann::json(*total) : nlohmann::json(nullptr)},
	    {"started",
	     started_ms ? nlohmann::json(rfc3339_from_ms(started_ms)) : nlohmann::json(nullptr)},
	    {"finished",
	     finished_ms ? nlohmann::json(rfc3339_from_ms(finished_ms)) : nlohmann::json(nullptr)},
	    {"files", counts_json(files)},
	};
	if (!error.empty())
		j["error"] = error;
	if (resumed_from)
		j["resumed_from"] = *resumed_from;
	return j;
}

} // namespace daxpolicy::policy
