// SPDX-License-Identifier: BSD-3-Clause
// The event log: list-events reads it, monitor follows it.
#include "cli/call.hpp"
#include "cli/command.hpp"
#include "cli/follow.hpp"
#include "common/clock.hpp"
#include "policy/time_text.hpp"
#include "wire/client.hpp"

#include <cstdint>
#include <iostream>
#include <memory>

namespace daxpolicy::cli
{

namespace
{

struct ListEventsOptions {
	std::vector<std::string> types;
	std::string volume, path, since, until;
	int64_t limit = -1; // no --limit: every event
};

// A time the daemon takes, checked here with its parser so that a bad one is a usage error
// naming the option, before any call.
const CLI::Validator kTime(
    [](std::string &text) {
	    return policy::parse_time_arg(text, unix_now_ms())
	               ? std::string()
	               : "'" + text + "' is not " + policy::kTimeArgForms;
    },
    "TIME");

const CLI::Validator kCount(
    [](std::string &text) {
	    return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos
	               ? std::string()
	               : "'" + text + "' is not a count (0 or more)";
    },
    "N");

std::vector<std::string> event_types()
{
	return {wire::kEventTypes.begin(), wire::kEventTypes.end()};
}

} // namespace

Action cmd_list_events(CLI::App &cmd, const Globals &g)
{
	auto o = std::make_shared<ListEventsOptions>();
	cmd.add_option("--type", o->types, "only events of these types (repeat for several)")
	    ->check(CLI::IsMember(event_types()));
	cmd.add_option("--volume", o->volume, "only events of this volume");
	cmd.add_option("--path", o->path,
	               "only events of this file or directory and what is below it")
	    ->transform(file_name_arg);
	cmd.add_option("--since", o->since, "at or after: ISO 8601, now, or a time ago (-1h)")
	    ->check(kTime);
	cmd.add_option("--until", o->until, "at or before: ISO 8601, now, or a time ago (-5m)")
	    ->check(kTime);
	cmd.add_option("--limit", o->limit, "the newest N")->check(kCount);
	return [&g, o] {
		json p = json::object();
		if (!o->types.empty())
			p[param::types] = o->types;
		set_given(p, param::volume, o->volume);
		set_given(p, param::path, o->path);
		set_given(p, param::since, o->since);
		set_given(p, param::until, o->until);
		if (o->limit >= 0)
			p[param::limit] = o->limit;
		print_list(g, Method::list_events, p, {"id", "time", "type", "volume", "path"});
		return 0;
	};
}

Action cmd_monitor(CLI::App &cmd, const Globals &g)
{
	auto type = std::make_shared<std::string>();
	auto since_id = std::make_shared<int64_t>(-1);
	cmd.add_option("--type", *type, "only events of this type")
	    ->check(CLI::IsMember(event_types()));
	cmd.add_option("--since-id", *since_id,
	               "first every stored event with a greater id, then the live ones")
	    ->check(kCount);
	return [&g, type, since_id]() -> int {
		FollowOptions o{g.socket, std::nullopt, std::nullopt};
		if (!type->empty())
			o.type = *type;
		if (*since_id >= 0)
			o.since_id = *since_id;
		// One JSON line per event, flushed, so a pipe sees each as it happens.
		follow_events(o, [](const json &e) { std::cout << e.dump() << std::endl; });
	};
}

} // namespace daxpolicy::cli
