// SPDX-License-Identifier: BSD-3-Clause
// Files and their DAX flag: list, set-dax, clear-dax. One shape for three methods: VOLUME:/path
// arguments in, one row per file out.
#include "cli/call.hpp"
#include "cli/command.hpp"

#include <memory>
#include <vector>

namespace daxpolicy::cli
{

namespace
{

const std::vector<std::string> kFileColumns = {param::path,   "type", "dax_flag", "dax_effective",
                                               "dax_desired", "rule", "state",    "mapped"};

struct FilesOptions {
	std::vector<std::string> paths;
	bool recursive = false;
	std::vector<std::string> states; // list's filters
	std::string rule;
};

Action files_command(CLI::App &cmd, const Globals &g, Method method)
{
	auto o = std::make_shared<FilesOptions>();
	cmd.add_flag("-r,--recursive", o->recursive, "and everything below each directory");
	cmd.add_option("PATH", o->paths, "VOLUME:/path, or a path in a host volume")
	    ->required()
	    ->transform(file_name_arg);
	return [&g, o, method] {
		auto cols = kFileColumns;
		// set-dax and clear-dax say, per file, what they did.
		if (method != Method::list)
			cols.push_back("result");
		print_list(g, method, {{param::paths, o->paths}, {param::recursive, o->recursive}},
		           cols);
		return 0;
	};
}

} // namespace

Action cmd_list(CLI::App &cmd, const Globals &g)
{
	auto o = std::make_shared<FilesOptions>();
	cmd.add_flag("-r,--recursive", o->recursive, "and everything below each directory");
	cmd.add_option("--state", o->states, "only files in this state (repeatable)")
	    ->check(CLI::IsMember({"in-sync", "pending-unmap", "pending-evict", "out-of-sync",
	                           "unmanaged", "unsupported"}));
	cmd.add_option("--rule", o->rule, "only files whose desired flag this rule decided");
	cmd.add_option("PATH", o->paths, "VOLUME:/path (VOLUME: alone: its root), or a host path")
	    ->required()
	    ->transform(file_name_arg);
	return [&g, o] {
		json p = {{param::paths, o->paths}, {param::recursive, o->recursive}};
		if (!o->states.empty())
			p[param::states] = o->states;
		set_given(p, param::rule, o->rule);
		// A path that does not exist is an error of its own: on stderr, and exit 1, while
		// the others are listed.
		bool missing = false;
		print_list(g, Method::list, p, kFileColumns, [&](json &items) {
			json kept = json::array();
			for (auto &item : items) {
				if (item.contains("error")) {
					missing = true;
					g.out.error(item["error"], item["message"]);
				} else {
					kept.push_back(std::move(item));
				}
			}
			items = std::move(kept);
		});
		return missing ? 1 : 0;
	};
}

Action cmd_set_dax(CLI::App &cmd, const Globals &g)
{
	return files_command(cmd, g, Method::set_dax);
}

Action cmd_clear_dax(CLI::App &cmd, const Globals &g)
{
	return files_command(cmd, g, Method::clear_dax);
}

} // namespace daxpolicy::cli
