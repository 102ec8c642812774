// SPDX-License-Identifier: BSD-3-Clause
// daxpolicy: the administrator's CLI for daxpolicyd. This file holds the global options, the
// table of commands and the mapping of failures to exit codes; each command lives with its
// family (cli/command.hpp).
#include "cli/command.hpp"
#include "common/error.hpp"
#include "wire/client.hpp"
#include "wire/interface.hpp"

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <daxpolicy/version.hpp>

using namespace daxpolicy;
using namespace daxpolicy::cli;

namespace
{

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;

// Every command, in the order --help lists them.
constexpr Command kCommands[] = {
    {"status", "the daemon: version, uptime, volumes, counts", cmd_status},
    {"list-volumes", "the volumes the daemon serves", cmd_list_volumes},
    {"list", "files with their DAX state", cmd_list},
    {"set-dax", "ask for the DAX flag on", cmd_set_dax},
    {"clear-dax", "ask for the DAX flag off", cmd_clear_dax},
    {"add-rule", "add a local rule", cmd_add_rule},
    {"remove-rule", "remove a local rule", cmd_remove_rule},
    {"list-rules", "the rules, local and managed", cmd_list_rules},
    {"explain", "why a file has its state: the rules, the winner, the queue", cmd_explain},
    {"check", "validate policy files or a drop-in folder (offline)", cmd_check},
    {"apply", "load the policy drop-ins and reconcile", cmd_apply},
    {"reconcile", "evaluate the rules again", cmd_reconcile},
    {"list-pending", "flag changes waiting for unmap", cmd_list_pending},
    {"cancel-pending", "withdraw a waiting flag change", cmd_cancel_pending},
    {"list-events", "the event log", cmd_list_events},
    {"monitor", "follow the event log until interrupted", cmd_monitor},
    {"list-leases", "live layout leases and pins", cmd_list_leases},
    {"io", "an xfs_io-style session on a file of an embedded volume", cmd_io},
    {"metrics", "counters in Prometheus text format", cmd_metrics},
    {"reload", "read the config and policy again, and wait for the outcome", cmd_reload},
    {"mkfs", "make an embedded pool (offline)", cmd_mkfs},
    {"fsck", "check an embedded pool (offline)", cmd_fsck},
};

} // namespace

int main(int argc, char **argv)
{
	CLI::App app("daxpolicy: manage per-file DAX policy through daxpolicyd");
	app.require_subcommand(1);
	Globals g;
	const char *env_socket = std::getenv("DAXPOLICY_SOCKET");
	g.socket = env_socket && *env_socket ? env_socket : wire::kDefaultSocket;
	app.add_option("--socket", g.socket, "daxpolicyd's socket (env DAXPOLICY_SOCKET)");
	app.add_flag("-u,--human", g.out.human, "tables instead of JSON");
	app.set_version_flag("--version", std::string("daxpolicy ") + kVersion);
	// Lets the global options follow a command's own (`list X:/ -u`); set before the commands
	// are added, since CLI11 copies it into each subcommand as it creates it.
	app.fallthrough();

	Action action;
	for (const auto &c : kCommands) {
		auto *sub = app.add_subcommand(c.name, c.help);
		// CLI11 calls back only the subcommand it parsed: its action is the one main runs.
		sub->callback([&action, run = c.setup(*sub, g)] { action = run; });
	}

	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		// --help and --version are "errors" with exit code 0 to CLI11.
		if (e.get_exit_code() == 0)
			return app.exit(e);
		g.out.error("invalid-argument", e.what());
		return kExitUsage;
	}
	signal(SIGPIPE, SIG_IGN);
	try {
		return action();
	} catch (const wire::Unreachable &e) {
		g.out.error("unreachable", e.what());
		return kExitUnreachable;
	} catch (const Error &e) {
		g.out.error(errc_name(e.code()), e.what());
		// A request the daemon (or the CLI) refuses as malformed is wrong usage, as a bad
		// command line is: a script can tell "fix the call" from "it failed". An io
		// command's own failure is its session's (exit 1, in its error line).
		return e.usage() ? kExitUsage : kExitFailed;
	} catch (const std::exception &e) {
		g.out.error("internal", e.what());
		return kExitFailed;
	}
}
