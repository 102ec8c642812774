// SPDX-License-Identifier: BSD-3-Clause
// Keeps the event log to event_retention and event_max: a timer on the event loop deletes the
// events the log no longer keeps, kBatch at a time, each batch its own short transaction, so
// that a log far over its bounds (a first start with retention, a burst of events) shrinks in
// steps between which every other request is served.
#pragma once

#include "policy/store.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>

namespace daxpolicy::daemon
{

class EventPruner
{
      public:
	// Events deleted at a time.
	static constexpr int64_t kBatch = 4096;
	// How often a log within its bounds is looked at again.
	static constexpr std::chrono::seconds kInterval{1};

	// `retention`: events older go (zero: kept whatever their age); `max`: beyond this many,
	// the oldest go (zero: no bound). `guard` runs each step, reporting what it throws.
	using Guard = std::function<void(const std::function<void()> &)>;
	EventPruner(boost::asio::io_context &io, policy::Store &store,
	            std::chrono::milliseconds retention, int64_t max, Guard guard);
	void stop() { timer_.cancel(); }

      private:
	void schedule(std::chrono::milliseconds after);
	// Deletes one batch; true when the log may hold more to delete.
	bool step();

	boost::asio::steady_timer timer_;
	policy::Store &store_;
	std::chrono::milliseconds retention_;
	int64_t max_;
	Guard guard_;
};

} // namespace daxpolicy::daemon
