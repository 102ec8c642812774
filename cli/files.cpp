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
	return files_command(cmd, g, Method::list);
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
