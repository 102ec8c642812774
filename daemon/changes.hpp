// SPDX-License-Identifier: BSD-3-Clause
// The files a job changed (or a dry run would change) as the `changes` list of a reply:
// streamed in parts under "more", so that a policy change over a large tree reaches the
// client whole, beside the reply's other fields, which go in the first part.
#pragma once

#include "daemon/reply_stream.hpp"
#include "policy/job.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

namespace daxpolicy::daemon
{

// `fields` and `changes` as one object: {fields..., "changes": [...]}.
std::unique_ptr<ReplyStream> changes_reply(const nlohmann::json &fields,
                                           std::vector<policy::FileChange> changes, bool more);

} // namespace daxpolicy::daemon
