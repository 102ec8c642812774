// SPDX-License-Identifier: BSD-3-Clause
// How the daemon's objects look on the wire (and so in the CLI's JSON output).
#pragma once

#include "fscore/volume.hpp"
#include "policy/engine.hpp"
#include "policy/rule.hpp"
#include "policy/store.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

namespace daxpolicy::daemon
{

// "pool0:/db/wal/x.log" -> {"pool0", "/db/wal/x.log"}; invalid-argument otherwise.
std::pair<std::string, std::string> split_file_name(const std::string &name);
std::string file_name(const std::string &volume, const std::string &path);

nlohmann::json file_json(const policy::FileView &view);
nlohmann::json volume_json(const fscore::VolumeInfo &info);
nlohmann::json rule_json(const policy::Rule &rule);
// The job under way, as `status` shows it: {state: idle|running, done, total, started, ...}.
nlohmann::json reconcile_json(const policy::Engine &engine);
nlohmann::json pending_json(const policy::PendingChange &change);

} // namespace daxpolicy::daemon
