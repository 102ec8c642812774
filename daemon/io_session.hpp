// SPDX-License-Identifier: BSD-3-Clause
// The daemon's side of `daxpolicy io`: an xfs_io-style session on one file of a volume that
// serves io sessions. One per connection; its open file and mappings last until the connection
// ends.
#pragma once

#include "common/error.hpp"
#include "daemon/io_commands.hpp"
#include "fscore/session.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace daxpolicy::daemon
{

// One command's outcome. `file`, when set, becomes the reply's "file" object: it is turned
// into a file view (rules, state) on the event loop, where the engine lives.
struct IoResult {
	nlohmann::json out;
	std::optional<fscore::FileInfo> file;
	// A chattr's: the flag before it (the loop logs the change, IoOutput::flag_was).
	std::optional<bool> flag_was;
	// Set when the command failed. A value, not an exception: it crosses threads.
	std::optional<std::pair<Errc, std::string>> error;
};

// Commands run on the session's own thread: a space operation may wait in a layout-lease
// break for up to lease_break_timeout, as the kernel's truncate sleeps in break_layout, and
// the event loop must go on serving meanwhile (the holder's munmap, for one).
class IoSession
{
      public:
	using Done = std::function<void(IoResult result)>;

	IoSession(fscore::Volume &volume, std::string volume_name, std::string path,
	          fscore::Holder holder);
	// Cancels a wait the session is in, finishes the command under way, joins the thread,
	// then releases every file, mapping and pin.
	~IoSession();
	IoSession(const IoSession &) = delete;
	IoSession &operator=(const IoSession &) = delete;

	// Queues one command; `done` is called on the session's thread. `create` is the CLI's
	// -f: a missing file is made when it is first opened.
	void submit(std::vector<std::string> argv, bool create, Done done);
	const std::string &volume_name() const { return target_.volume_name; }

      private:
	void work();

	IoTarget target_; // used on the session's thread only

	std::mutex mutex_; // protects jobs_ and stopping_
	std::condition_variable wake_;
	std::deque<std::function<void()>> jobs_;
	bool stopping_ = false;
	std::thread worker_; // last: started once everything above exists
};

} // namespace daxpolicy::daemon
