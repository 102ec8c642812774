// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/event_pruner.hpp"

#include "common/clock.hpp"

namespace daxpolicy::daemon
{

EventPruner::EventPruner(boost::asio::io_context &io, policy::Store &store,
                         std::chrono::milliseconds retention, int64_t max, Guard guard)
    : timer_(io), store_(store), retention_(retention), max_(max), guard_(std::move(guard))
{
	if (retention_.count() > 0 || max_ > 0)
		schedule(std::chrono::milliseconds(0)); // a log over its bounds shrinks from start
}

void EventPruner::schedule(std::chrono::milliseconds after)
{
	timer_.expires_after(after);
	timer_.async_wait([this](boost::system::error_code ec) {
		if (ec)
			return; // cancelled: the daemon is stopping
		bool more = false;
		guard_([&] { more = step(); });
		// More to delete: the next batch once the loop has served what waits meanwhile.
		schedule(more ? std::chrono::milliseconds(0) : kInterval);
	});
}

bool EventPruner::step()
{
	policy::EventRetention r;
	if (retention_.count() > 0)
		r.older_than_ms = unix_now_ms() - retention_.count();
	if (max_ > 0)
		r.keep = max_;
	return store_.prune_events(r, kBatch) == kBatch;
}

} // namespace daxpolicy::daemon
