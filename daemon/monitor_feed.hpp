// SPDX-License-Identifier: BSD-3-Clause
// What one Monitor call follows. With since_id: first the stored events after that id, read
// from the store a page at a time as the peer takes them (the log may hold millions), through
// the newest when the call came; then the live ones. The feed is subscribed before the replay
// starts, and live events that come meanwhile are held and sent after it, skipping any it
// sent already: ids only grow, so between replay and live stream none is missed and none is
// sent twice. A client that reconnects with the last id it printed loses nothing.
#pragma once

#include "daemon/reply_stream.hpp"
#include "policy/store.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace daxpolicy::daemon
{

class MonitorFeed
{
      public:
	// `replay`: the stored events to send first (nullptr: live events only).
	MonitorFeed(std::optional<std::string> type, std::unique_ptr<ItemSource> replay);

	bool wants(const policy::Event &event) const { return !type_ || *type_ == event.type; }
	// A live event it wants, framed: what to send now, or nothing (held during the replay,
	// or sent already).
	std::optional<std::string> live(int64_t id, const std::string &framed);
	// While catching up (replaying, or sending what was held): the next message, framed.
	// `later`: the store's source has none ready yet and wakes the caller. Throws what the
	// source throws.
	ItemSource::Pull next(std::string &framed);
	bool catching_up() const { return replay_ || !held_.empty(); }
	size_t held_bytes() const { return held_bytes_; }
	void on_ready(std::function<void()> wake);

      private:
	std::optional<std::string> type_;
	std::unique_ptr<ItemSource> replay_; // gone once replayed
	std::deque<std::pair<int64_t, std::string>> held_;
	size_t held_bytes_ = 0;
	int64_t last_sent_ = 0;
};

} // namespace daxpolicy::daemon
