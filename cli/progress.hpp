// SPDX-License-Identifier: BSD-3-Clause
// While a command waits for a reconcile job in the daemon: a progress line on a terminal
// (files done, rate, time left where the total is known), read from `status` on a
// connection of its own. Nothing at all when stderr is not a terminal.
#pragma once

#include "cli/command.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace daxpolicy::cli
{

class JobProgress
{
      public:
	explicit JobProgress(const Globals &g);
	// Stops polling and clears the line, before the command prints its result.
	~JobProgress();
	JobProgress(const JobProgress &) = delete;
	JobProgress &operator=(const JobProgress &) = delete;

      private:
	void run(const Globals &g);

	std::mutex mutex_; // protects stop_
	std::condition_variable wake_;
	bool stop_ = false;
	bool drawn_ = false; // only the poller touches it until it is joined
	std::thread poller_;
};

} // namespace daxpolicy::cli
