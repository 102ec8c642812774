// SPDX-License-Identifier: BSD-3-Clause
// Where the daemon's list replies come from (methods.cpp hands them to
// Connection::stream_reply): files named or walked, the rules, the queue, the event log and
// the leases. Each makes its items as the stream pulls them; the store's are read a page at
// a time, by key, never the whole table.
#pragma once

#include "daemon/reply_stream.hpp"
#include "fscore/volume.hpp"
#include "policy/store.hpp"

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace daxpolicy::policy
{
class Engine;
}

namespace daxpolicy::daemon
{

// One file a List, SetDax or ClearDax call comes to: a name it was given (`walked` is null:
// the method looks the file up itself), or a file found walking the tree below one.
struct FileTurn {
	const std::string &volume;
	const std::string &path;
	const fscore::FileInfo *walked;
};
// A file's item, or nothing to leave it out.
using FileItem = std::function<std::optional<nlohmann::json>(const FileTurn &)>;

// Each target (volume, path) in order, and with `recursive` everything below each, walked
// when its turn comes. `missing_is_item`: a target that does not exist is an item of its own,
// {"path", "error": "not-found", "message"}, and the list goes on (list's way); otherwise it
// fails the call.
std::unique_ptr<ItemSource> file_source(policy::Engine &engine,
                                        std::vector<std::pair<std::string, std::string>> targets,
                                        bool recursive, FileItem item,
                                        bool missing_is_item = false);
std::unique_ptr<ItemSource> rule_source(policy::Store &store);
// The queued changes, each named where its file is now.
std::unique_ptr<ItemSource> pending_source(policy::Engine &engine, policy::Store &store);
// The events `query` asks for, oldest first, up to the newest when the list starts; with
// `after_id`, only those with a greater id.
std::unique_ptr<ItemSource> event_source(policy::Store &store, policy::EventQuery query,
                                         int64_t after_id = 0);
// The live leases of every volume that has them, or of one volume, or of one file.
std::unique_ptr<ItemSource> lease_source(policy::Engine &engine,
                                         std::optional<std::string> only_volume,
                                         std::optional<std::string> path);

} // namespace daxpolicy::daemon
