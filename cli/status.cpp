// SPDX-License-Identifier: BSD-3-Clause
// The daemon itself: status, list-volumes, metrics, reload.
#include "cli/call.hpp"
#include "cli/command.hpp"
#include "common/error.hpp"

#include <iostream>

namespace daxpolicy::cli
{

Action cmd_status(CLI::App &, const Globals &g)
{
	return [&g] {
		json r = call(g, Method::status);
		// In a table the volumes are their names; list-volumes shows the rest.
		if (g.out.human) {
			json names = json::array();
			for (const auto &v : r[reply::volumes])
				names.push_back(v["name"]);
			r[reply::volumes] = names;
		}
		g.out.object(r);
		return 0;
	};
}

Action cmd_list_volumes(CLI::App &, const Globals &g)
{
	return [&g] {
		g.out.list(call(g, Method::list_volumes)[reply::volumes],
		           {param::name, "kind", "path", "dax_mode", "dax_capable", "granularity",
		            "files"});
		return 0;
	};
}

Action cmd_metrics(CLI::App &, const Globals &g)
{
	// Prometheus text as the daemon wrote it: neither JSON nor a table.
	return [&g] {
		std::cout << call(g, Method::metrics)[reply::text].get<std::string>();
		return 0;
	};
}

Action cmd_reload(CLI::App &, const Globals &g)
{
	// What ExecReload= runs: the exit code is the reload's outcome. A bad config or policy
	// file is a failure of the reload (exit 1), whatever its error code.
	return [&g] {
		json r;
		try {
			r = call(g, Method::reload);
		} catch (const Error &e) {
			g.out.error(errc_name(e.code()), e.what());
			return 1;
		}
		g.out.object(r);
		return 0;
	};
}

} // namespace daxpolicy::cli
