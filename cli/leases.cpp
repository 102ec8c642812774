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
		// A table cell holds text: the holder as pid/uid, the range as offset+length.
		auto as_cells = [](json &items) {
			for (auto &l : items) {
				l["holder"] = std::to_string(l["holder"]["pid"].get<int>()) + "/" +
				              std::to_string(l["holder"]["uid"].get<unsigned>());
				l["range"] = std::to_string(l["range"]["offset"].get<uint64_t>()) +
				             "+" +
				             std::to_string(l["range"]["length"].get<uint64_t>());
			}
		};
		print_list(g, Method::list_leases, p,
		           {param::path, "kind", "holder", "range", "state", "since"},
		           g.out.human ? std::function<void(json &)>(as_cells) : nullptr);
		return 0;
	};
}

} // namespace daxpolicy::cli
