// SPDX-License-Identifier: BSD-3-Clause
// The policy drop-ins as apply and reload read them: the files, sorted against the volumes this
// daemon serves (unknown_volumes), a configured policy dir that does not exist read as empty
// (a fresh install has none), and one a request names refused (that one is a typo).
#pragma once

#include "common/error.hpp"
#include "policy/engine.hpp"
#include "policy/policy_file.hpp"
#include "policy/rule_volumes.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace daxpolicy::daemon
{

struct PolicySource {
	std::filesystem::path dir;
	bool named = false; // by the request (`apply --policy-dir`), not by the config
	std::set<std::string> volumes;
	policy::UnknownVolumes unknown_volumes = policy::UnknownVolumes::error;
};

struct PolicyRead {
	policy::PolicyLoad load;                  // the rules to apply, or why none can be
	std::vector<policy::SkippedRule> skipped; // for volumes this host lacks (ignore)
	std::vector<std::string> warnings;        // for the reply and the daemon's log
	std::optional<Error> refused;             // the request named a dir that does not exist
};

// Reads the drop-ins; a failure to read is an error of the load, as a bad line is. May block
// (any path may be named): run off the event loop.
PolicyRead read_policy(const PolicySource &source);

// The `skipped` and `warnings` of apply's and reload's replies.
void add_notes(nlohmann::json &reply, const PolicyRead &read);

// One `rule-change` event (action `skipped`) for each rule left out: the log says that a rule
// of the drop-ins does nothing here, and why.
void log_skipped(policy::Engine &engine, const std::vector<policy::SkippedRule> &skipped);

} // namespace daxpolicy::daemon
