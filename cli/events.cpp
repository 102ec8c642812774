// SPDX-License-Identifier: BSD-3-Clause
// The event log: list-events reads it, monitor follows it.
#include "cli/call.hpp"
#include "cli/command.hpp"
#include "wire/client.hpp"

#include <cstdint>
#include <iostream>
#include <memory>

namespace daxpolicy::cli
{

namespace
{

struct ListEventsOptions {
	std::string type, since;
	int64_t limit = -1; // no --limit: every event
};

} // namespace

Action cmd_list_events(CLI::App &cmd, const Globals &g)
{
	auto o = std::make_shared<ListEventsOptions>();
	cmd.add_option("--type", o->type, "flag-change, deferred, lease-break, ...");
	cmd.add_option("--since", o->since, "ISO 8601 time");
	cmd.add_option("--limit", o->limit, "the newest N");
	return [&g, o] {
		json p = json::object();
		set_given(p, param::type, o->type);
		set_given(p, param::since, o->since);
		if (o->limit >= 0)
			p[param::limit] = o->limit;
		g.out.list(call(g, Method::list_events, p)[reply::events],
		           {"id", "time", "type", "volume", "path"});
		return 0;
	};
}

Action cmd_monitor(CLI::App &cmd, const Globals &g)
{
	auto type = std::make_shared<std::string>();
	cmd.add_option("--type", *type, "only events of this type");
	return [&g, type] {
		wire::Client client(g.socket);
		json p = json::object();
		set_given(p, param::type, *type);
		// One JSON line per event, flushed, so a pipe sees each as it happens.
		client.call_more(Method::monitor, p, [](const json &e) {
			std::cout << e.dump() << std::endl;
			return true;
		});
		return 0;
	};
}

} // namespace daxpolicy::cli
