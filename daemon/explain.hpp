// SPDX-License-Identifier: BSD-3-Clause
// The reply of `explain PATH`: why a file has its state, as JSON.
#pragma once

#include "policy/engine.hpp"

#include <nlohmann/json.hpp>

namespace daxpolicy::daemon
{

// The file object, then `rules` (every rule whose subtree holds it, in precedence order,
// with whether its globs accept the name and which one won), `winner` (the rule and why),
// `mount` (what the mount mode and medium give the flag) and `pending` (the queued change,
// what it waits for and who holds the file, or null). `leases`: the file's live leases.
nlohmann::json explain_json(const policy::FileExplanation &e,
                            const std::vector<fscore::LeaseInfo> &leases);

} // namespace daxpolicy::daemon
