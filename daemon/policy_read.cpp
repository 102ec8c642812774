// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/policy_read.hpp"

namespace daxpolicy::daemon
{

PolicyRead read_policy(const PolicySource &source)
{
	PolicyRead read;
	std::error_code ec;
	if (!std::filesystem::exists(source.dir, ec) && !ec) {
		if (source.named)
			read.refused =
			    Error(Errc::invalid_argument,
			          "--policy-dir: " + source.dir.string() + " does not exist");
		else
			read.warnings.push_back("policy_dir " + source.dir.string() +
			                        " does not exist: read as empty, no managed rules");
		return read;
	}
	try {
		read.load = policy::load_policy_path(source.dir, policy::FileKinds::regular);
	} catch (const std::exception &e) {
		read.load.errors.push_back({source.dir.string(), 0, 0, e.what()});
	}
	read.skipped = policy::sort_out_unknown_volumes(
	    read.load, source.volumes, source.unknown_volumes, "the daemon's config");
	return read;
}

void add_notes(nlohmann::json &reply, const PolicyRead &read)
{
	nlohmann::json skipped = nlohmann::json::array();
	for (const auto &s : read.skipped)
		skipped.push_back(s.to_json());
	reply["skipped"] = std::move(skipped);
	reply["warnings"] = read.warnings;
}

void log_skipped(policy::Engine &engine, const std::vector<policy::SkippedRule> &skipped)
{
	for (const auto &s : skipped) {
		nlohmann::json data = s.to_json();
		data.erase("volume"); // the event's own volume and path say these
		data.erase("subtree");
		data["action"] = "skipped";
		data["reason"] = "no volume named '" + s.rule.volume +
		                 "' on this host, and unknown_volumes = \"ignore\"";
		engine.log("rule-change", s.rule.volume, s.rule.subtree, std::move(data));
	}
}

} // namespace daxpolicy::daemon
