// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/listener_set.hpp"

namespace daxpolicy::fscore
{

Subscription ListenerSet::add(VolumeListener listener)
{
	std::lock_guard lock(state_->mutex);
	uint64_t id = state_->next_id++;
	state_->listeners.emplace(id, std::move(listener));
	std::weak_ptr<State> weak = state_;
	return Subscription([weak, id] {
		if (auto state = weak.lock()) {
			std::lock_guard lock(state->mutex);
			state->listeners.erase(id);
		}
	});
}

void ListenerSet::notify(const std::vector<VolumeEvent> &events) const
{
	if (events.empty())
		return;
	std::vector<VolumeListener> listeners;
	{
		std::lock_guard lock(state_->mutex);
		for (const auto &[id, l] : state_->listeners)
			listeners.push_back(l);
	}
	for (const auto &event : events)
		for (const auto &l : listeners)
			l(event);
}

} // namespace daxpolicy::fscore
