// SPDX-License-Identifier: BSD-3-Clause
// Layout leases and pins: list-leases.
#include "cli/call.hpp"
#include "cli/command.hpp"

#include <memory>

namespace daxpolicy::cli
{

Action cmd_list_leases(CLI::App &cmd, const Globals &g)
{
	auto path = std::make_shared<std::string>();
	cmd.add_option("PATH", *path, "VOLUME:/path, or a host path (default: every file)")
	    ->transform(file_name_arg);
	return [&g, path] {
		json p = json::object();
		set_given(p, param::path, *path);
		json items = call(g, Method::list_leases, p)[reply::leases];
		// A table cell holds text: the holder as pid/uid, the range as offset+length.
		if (g.out.human)
			for (auto &l : items) {
				l["holder"] = std::to_string(l["holder"]["pid"].get<int>()) + "/" +
				              std::to_string(l["holder"]["uid"].get<unsigned>());
				l["range"] = std::to_string(l["range"]["offset"].get<uint64_t>()) +
				             "+" +
				             std::to_string(l["range"]["length"].get<uint64_t>());
			}
		g.out.list(items, {param::path, "kind", "holder", "range", "state", "since"});
		return 0;
	};
}

} // namespace daxpolicy::cli
