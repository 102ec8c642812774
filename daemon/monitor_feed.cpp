// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/monitor_feed.hpp"

#include "wire/varlink.hpp"

namespace daxpolicy::daemon
{

MonitorFeed::MonitorFeed(std::optional<std::string> type, std::unique_ptr<ItemSource> replay)
    : type_(std::move(type)), replay_(std::move(replay))
{
}

void MonitorFeed::on_ready(std::function<void()> wake)
{
	if (replay_)
		replay_->on_ready(std::move(wake));
}

std::optional<std::string> MonitorFeed::live(int64_t id, const std::string &framed)
{
	if (catching_up()) {
		held_bytes_ += framed.size();
		held_.emplace_back(id, framed);
		return std::nullopt;
	}
	if (id <= last_sent_)
		return std::nullopt;
	last_sent_ = id;
	return framed;
}

ItemSource::Pull MonitorFeed::next(std::string &framed)
{
	if (replay_) {
		nlohmann::json item;
		switch (replay_->next(item)) {
		case ItemSource::Pull::item:
			last_sent_ = item.at("id").get<int64_t>();
			framed = wire::frame(wire::make_reply(std::move(item), true));
			return ItemSource::Pull::item;
		case ItemSource::Pull::later:
			return ItemSource::Pull::later;
		case ItemSource::Pull::end:
			replay_.reset();
			break;
		}
	}
	while (!held_.empty()) {
		auto [id, message] = std::move(held_.front());
		held_.pop_front();
		held_bytes_ -= message.size();
		if (id > last_sent_) { // not one the replay sent too
			last_sent_ = id;
			framed = std::move(message);
			return ItemSource::Pull::item;
		}
	}
	return ItemSource::Pull::end;
}

} // namespace daxpolicy::daemon
