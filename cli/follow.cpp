// SPDX-License-Identifier: BSD-3-Clause
#include "cli/follow.hpp"

#include "wire/client.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

namespace daxpolicy::cli
{

namespace
{

using nlohmann::json;
constexpr std::chrono::milliseconds kFirstRetry(100), kMaxRetry(5000);

// The newest event's id (0 for an empty log): where a monitor without --since-id starts, so
// that it can resume from there if the daemon restarts before the first event comes.
int64_t newest_event_id(wire::Client &client)
{
	json reply = client.call(wire::Method::list_events, {{wire::param::limit, 1}});
	const json &events = reply.at(wire::reply::events);
	return events.empty() ? 0 : events.back().at("id").get<int64_t>();
}

} // namespace

void follow_events(const FollowOptions &o, const std::function<void(const json &)> &print)
{
	std::optional<int64_t> last = o.since_id;
	bool connected_before = false, lost = false;
	auto retry = kFirstRetry;
	// Said once an outage, not once a try.
	auto note_lost = [&](const std::string &why) {
		if (!lost)
			std::cerr << "daxpolicy: monitor: " << why << "; reconnecting" << std::endl;
		lost = true;
	};
	for (;;) {
		try {
			wire::Client client(o.socket);
			if (!last)
				last = newest_event_id(client);
			json p = {{wire::param::since_id, *last}};
			if (o.type)
				p[wire::param::type] = *o.type;
			if (lost)
				std::cerr
				    << "daxpolicy: monitor: reconnected, resuming after event "
				    << *last << std::endl;
			connected_before = true;
			lost = false;
			retry = kFirstRetry;
			client.call_more(wire::Method::monitor, p, [&](const json &event) {
				print(event);
				last = event.at("id").get<int64_t>();
				return true;
			});
			note_lost("daxpolicyd ended the event stream");
		} catch (const wire::Unreachable &e) {
			if (!connected_before)
				throw;
			note_lost(e.what());
		}
		std::this_thread::sleep_for(retry);
		retry = std::min(retry * 2, kMaxRetry);
	}
}

} // namespace daxpolicy::cli
