// SPDX-License-Identifier: BSD-3-Clause
// Flag changes waiting for unmap: list-pending, cancel-pending.
#include "cli/call.hpp"
#include "cli/command.hpp"

#include <memory>

namespace daxpolicy::cli
{

Action cmd_list_pending(CLI::App &, const Globals &g)
{
	return [&g] {
		print_list(g, Method::list_pending, json::object(),
		           {param::path, "want", "rule", "since", "why"});
		return 0;
	};
}

Action cmd_cancel_pending(CLI::App &cmd, const Globals &g)
{
	auto path = std::make_shared<std::string>();
	cmd.add_option("PATH", *path, "VOLUME:/path, or a path in a host volume")
	    ->required()
	    ->transform(file_name_arg);
	return [&g, path] {
		call(g, Method::cancel_pending, {{param::path, *path}});
		g.out.object({{"cancelled", *path}});
		return 0;
	};
}

} // namespace daxpolicy::cli
