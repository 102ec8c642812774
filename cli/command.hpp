// SPDX-License-Identifier: BSD-3-Clause
// The CLI's commands, one file per family, registered from main.cpp's table as ndctl's
// builtin.h and commands[] do. A command's setup function adds its options and arguments to
// its subcommand and returns the action that runs it; the options live in that action, so no
// two commands share a variable. An action returns the exit code (0 done, 1 failed) or throws
// wire::Unreachable (exit 3) / Error (exit 1; invalid-argument, a malformed request, exit 2).
#pragma once

#include "cli/output.hpp"

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace daxpolicy::cli
{

struct Globals {
	std::string socket;
	Output out;
};

// Runs once, after a successful parse, for the one subcommand given.
using Action = std::function<int()>;
// g outlives every action: main owns it, and the parse fills it in before any action runs.
using Setup = Action (*)(CLI::App &cmd, const Globals &g);

struct Command {
	const char *name;
	const char *help;
	Setup setup;
};

// status.cpp: the daemon itself.
Action cmd_status(CLI::App &cmd, const Globals &g);
Action cmd_list_volumes(CLI::App &cmd, const Globals &g);
Action cmd_metrics(CLI::App &cmd, const Globals &g);
Action cmd_reload(CLI::App &cmd, const Globals &g);
// files.cpp: files and their DAX flag.
Action cmd_list(CLI::App &cmd, const Globals &g);
Action cmd_set_dax(CLI::App &cmd, const Globals &g);
Action cmd_clear_dax(CLI::App &cmd, const Globals &g);
// rules.cpp: local rules and the policy drop-ins.
Action cmd_add_rule(CLI::App &cmd, const Globals &g);
Action cmd_remove_rule(CLI::App &cmd, const Globals &g);
Action cmd_list_rules(CLI::App &cmd, const Globals &g);
Action cmd_check(CLI::App &cmd, const Globals &g);
Action cmd_apply(CLI::App &cmd, const Globals &g);
Action cmd_reconcile(CLI::App &cmd, const Globals &g);
// explain.cpp: why a file has its state.
Action cmd_explain(CLI::App &cmd, const Globals &g);
// pending.cpp: flag changes waiting for unmap.
Action cmd_list_pending(CLI::App &cmd, const Globals &g);
Action cmd_cancel_pending(CLI::App &cmd, const Globals &g);
// events.cpp: the event log.
Action cmd_list_events(CLI::App &cmd, const Globals &g);
Action cmd_monitor(CLI::App &cmd, const Globals &g);
// leases.cpp: layout leases and pins.
Action cmd_list_leases(CLI::App &cmd, const Globals &g);
// io_command.cpp: an io session on a file of an embedded volume.
Action cmd_io(CLI::App &cmd, const Globals &g);
// offline.cpp: embedded pools, no daemon involved.
Action cmd_mkfs(CLI::App &cmd, const Globals &g);
Action cmd_fsck(CLI::App &cmd, const Globals &g);

} // namespace daxpolicy::cli
