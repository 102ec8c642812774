// SPDX-License-Identifier: BSD-3-Clause
// `monitor`'s loop: follows the event log across daemon restarts. Each connection asks for the
// events after the last id printed (Monitor's since_id), so a restart loses none and none is
// printed twice; a lost connection is said on stderr and tried again with backoff.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace daxpolicy::cli
{

struct FollowOptions {
	std::string socket;
	std::optional<std::string> type;
	// Print the stored events after this id first; none: start from the newest now.
	std::optional<int64_t> since_id;
};

// Runs until interrupted; `print` gets each event. The first connection failing throws as any
// call does (wire::Unreachable: exit 3); after that, the daemon going away is waited out.
[[noreturn]] void follow_events(const FollowOptions &options,
                                const std::function<void(const nlohmann::json &)> &print);

} // namespace daxpolicy::cli
