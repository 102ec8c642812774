// SPDX-License-Identifier: BSD-3-Clause
// explain PATH: why a file has its state. JSON for scripts; on a terminal (or with -u) a
// block a person reads top to bottom: the file, the rules that could decide it, the winner
// and why, what the mount gives, and the queued change.
#include "cli/call.hpp"
#include "cli/command.hpp"

#include <iostream>
#include <unistd.h>

namespace daxpolicy::cli
{

namespace
{

void print_block(const json &e)
{
	std::cout << e["path"].get<std::string>() << "  (" << cell(e["type"]) << ", "
	          << cell(e["state"]) << ")\n"
	          << "  flag " << cell(e["dax_flag"]) << ", effective " << cell(e["dax_effective"])
	          << ", desired " << cell(e["dax_desired"]) << ", mapped " << cell(e["mapped"])
	          << "\n";
	std::cout << "rules whose subtree holds it:\n";
	if (e["rules"].empty())
		std::cout << "  (none)\n";
	for (const auto &r : e["rules"])
		std::cout << "  " << (r["won"].get<bool>() ? "* " : "  ") << cell(r["name"])
		          << "  subtree " << cell(r["subtree"]) << " (depth " << cell(r["depth"])
		          << "), dax " << cell(r["dax"]) << ", priority " << cell(r["priority"])
		          << ", " << (r["accepts_name"].get<bool>() ? "accepts" : "turns away")
		          << " the name\n";
	std::cout << "winner: " << cell(e["winner"]["rule"]) << ": " << cell(e["winner"]["why"])
	          << "\n";
	const json &m = e["mount"];
	std::cout << "mount: dax=" << cell(m["dax_mode"])
	          << (m["dax_capable"].get<bool>() ? "" : ", medium not DAX-capable") << ": "
	          << cell(m["gives"]) << "\n";
	if (e["pending"].is_null()) {
		std::cout << "pending: none\n";
		return;
	}
	const json &p = e["pending"];
	std::cout << "pending: flag " << cell(p["want"]) << " since " << cell(p["since"])
	          << ", waiting for " << cell(p["why"]);
	if (!p["holders"].empty()) {
		std::cout << " (held by pid";
		for (const auto &h : p["holders"])
			std::cout << " " << cell(h["pid"]);
		std::cout << ")";
	}
	std::cout << "\n";
}

} // namespace

Action cmd_explain(CLI::App &cmd, const Globals &g)
{
	auto path = std::make_shared<std::string>();
	cmd.add_option("PATH", *path, "VOLUME:/path, or a path in a host volume")
	    ->required()
	    ->transform(file_name_arg);
	return [&g, path] {
		json e = call(g, Method::explain, {{param::path, *path}});
		if (g.out.human || isatty(STDOUT_FILENO))
			print_block(e);
		else
			g.out.object(e);
		return 0;
	};
}

} // namespace daxpolicy::cli
