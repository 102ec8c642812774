// SPDX-License-Identifier: BSD-3-Clause
// What a volume's listeners hear, kept for a test to wait on: every event in the order it
// came, and a bounded wait for the one a test expects, for volumes whose events come from
// another thread some time after the change (a host volume's fanotify watcher).
#pragma once

#include "fscore/volume.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace daxpolicy::test
{

class EventLog
{
      public:
	using Match = std::function<bool(const fscore::VolumeEvent &)>;
	static constexpr std::chrono::seconds kPatience{20};

	explicit EventLog(fscore::Volume &vol)
	    : state_(std::make_shared<State>()),
	      // The listener holds the state, not the log: a notification already under way
	      // when the log goes still has somewhere to write.
	      sub_(vol.subscribe([state = state_](const fscore::VolumeEvent &e) {
		      std::lock_guard lock(state->mutex);
		      state->events.push_back(e);
		      state->grew.notify_all();
	      }))
	{
	}

	// How many events have come so far: where a later wait_for starts looking.
	size_t mark() const
	{
		std::lock_guard lock(state_->mutex);
		return state_->events.size();
	}
	std::vector<fscore::VolumeEvent> events() const
	{
		std::lock_guard lock(state_->mutex);
		return state_->events;
	}
	// The first event from index `from` on that `match` accepts, waiting for it at most
	// `patience`; nothing if none came.
	std::optional<fscore::VolumeEvent> wait_for(const Match &match, size_t from = 0,
	                                            std::chrono::milliseconds patience = kPatience)
	{
		std::unique_lock lock(state_->mutex);
		std::optional<fscore::VolumeEvent> found;
		state_->grew.wait_for(lock, patience, [&] {
			for (size_t i = from; i < state_->events.size(); i++)
				if (match(state_->events[i])) {
					found = state_->events[i];
					return true;
				}
			from = state_->events.size();
			return false;
		});
		return found;
	}
	// Whether any event from `from` on is one `match` accepts, without waiting.
	bool has(const Match &match, size_t from = 0) const
	{
		std::lock_guard lock(state_->mutex);
		for (size_t i = from; i < state_->events.size(); i++)
			if (match(state_->events[i]))
				return true;
		return false;
	}

	static Match is(fscore::VolumeEvent::Kind kind, const std::string &path)
	{
		return [kind, path](const fscore::VolumeEvent &e) {
			return e.kind == kind && e.path == path;
		};
	}
	static Match is(fscore::VolumeEvent::Kind kind)
	{
		return [kind](const fscore::VolumeEvent &e) { return e.kind == kind; };
	}

      private:
	struct State {
		std::mutex mutex; // protects events
		std::condition_variable grew;
		std::vector<fscore::VolumeEvent> events;
	};
	std::shared_ptr<State> state_;
	fscore::Subscription sub_;
};

} // namespace daxpolicy::test
