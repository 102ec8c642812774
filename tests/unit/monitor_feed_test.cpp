// SPDX-License-Identifier: BSD-3-Clause
// Monitor with since_id (daemon/monitor_feed.hpp): the stored events after the id, then the
// live ones; a live event that comes during the replay waits for it, and one the replay sent
// already (it was stored before the replay's range was fixed, but broadcast after) is not
// sent again.
#include "daemon/monitor_feed.hpp"
#include "wire/varlink.hpp"

#include <gtest/gtest.h>

using namespace daxpolicy;
using namespace daxpolicy::daemon;
using nlohmann::json;

namespace
{

// Stored events with these ids, then the end.
class StoredEvents : public ItemSource
{
      public:
	explicit StoredEvents(std::vector<int64_t> ids) : ids_(std::move(ids)) {}
	Pull next(json &item) override
	{
		if (next_ == ids_.size())
			return Pull::end;
		item = {{"id", ids_[next_++]}, {"type", "flag-change"}};
		return Pull::item;
	}

      private:
	std::vector<int64_t> ids_;
	size_t next_ = 0;
};

// A live event as the daemon broadcasts it.
std::string framed(int64_t id)
{
	return wire::frame(wire::make_reply({{"id", id}, {"type", "flag-change"}}, true));
}

// The ids of what the feed sends while it catches up: replayed, then held.
std::vector<int64_t> drain(MonitorFeed &feed)
{
	std::vector<int64_t> ids;
	std::string message;
	while (feed.next(message) == ItemSource::Pull::item)
		ids.push_back(json::parse(message.c_str())["parameters"]["id"].get<int64_t>());
	return ids;
}

TEST(MonitorFeed, LiveEventsDuringTheReplayFollowItWithoutDuplicates)
{
	MonitorFeed feed(std::nullopt,
	                 std::make_unique<StoredEvents>(std::vector<int64_t>{4, 5, 6}));
	EXPECT_TRUE(feed.catching_up());
	// 6 was stored before the replay's range was fixed, and is broadcast only now; 7 is new.
	EXPECT_EQ(feed.live(6, framed(6)), std::nullopt);
	EXPECT_EQ(feed.live(7, framed(7)), std::nullopt);
	EXPECT_GT(feed.held_bytes(), 0u);
	EXPECT_EQ(drain(feed), (std::vector<int64_t>{4, 5, 6, 7}));
	EXPECT_FALSE(feed.catching_up());
	EXPECT_EQ(feed.held_bytes(), 0u);
	// Live from now on, and never one sent already.
	EXPECT_EQ(feed.live(7, framed(7)), std::nullopt);
	EXPECT_EQ(feed.live(8, framed(8)), framed(8));
}

TEST(MonitorFeed, WithoutReplayEveryLiveEventGoesAtOnce)
{
	MonitorFeed feed("lease-break", nullptr);
	EXPECT_FALSE(feed.catching_up());
	EXPECT_EQ(feed.live(1, framed(1)), framed(1));
	policy::Event other, wanted;
	other.type = "flag-change";
	wanted.type = "lease-break";
	EXPECT_FALSE(feed.wants(other));
	EXPECT_TRUE(feed.wants(wanted));
}

} // namespace
