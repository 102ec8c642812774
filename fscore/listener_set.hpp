// SPDX-License-Identifier: BSD-3-Clause
// The subscribers of a volume. Notification copies the list under its own lock and calls
// listeners outside it, so a listener may subscribe, unsubscribe or call back into the volume.
#pragma once

#include "fscore/volume.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace daxpolicy::fscore
{

class ListenerSet
{
      public:
	ListenerSet() : state_(std::make_shared<State>()) {}
	Subscription add(VolumeListener listener);
	void notify(const std::vector<VolumeEvent> &events) const;

      private:
	struct State {
		std::mutex mutex; // protects listeners and next_id
		std::map<uint64_t, VolumeListener> listeners;
		uint64_t next_id = 0;
	};
	// Shared with each Subscription, so unsubscribing after the volume is gone is harmless.
	std::shared_ptr<State> state_;
};

} // namespace daxpolicy::fscore
