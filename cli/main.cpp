// daxpolicy: the administrator's CLI for daxpolicyd.
#include "cli/commands.hpp"
#include "common/error.hpp"
#include "wire/client.hpp"
#include "wire/varlink.hpp"

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <daxpolicy/version.hpp>
#include <filesystem>
#include <iostream>

using namespace daxpolicy;
using namespace daxpolicy::cli;
using nlohmann::json;
using wire::Method;
namespace param = wire::param;
namespace reply = wire::reply;

namespace
{

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;

const std::vector<std::string> kFileColumns = {param::path,   "type", "dax_flag", "dax_effective",
                                               "dax_desired", "rule", "state",    "mapped"};

json call(const Globals &g, Method method, json params = json::object())
{
	wire::Client client(g.socket);
	return client.call(method, std::move(params));
}

// A relative local path means the caller's folder, not the daemon's.
std::string absolute(const std::string &path)
{
	return std::filesystem::absolute(path).lexically_normal().string();
}

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
	app.fallthrough();

	std::function<int()> action;
	std::vector<std::string> paths;
	bool recursive = false, dry_run = false, create = false;
	std::string name, subtree, dax, policy_dir, type, since, pool, size = "1GiB", path;
	std::vector<std::string> include, exclude, commands;
	int priority = 0;
	int64_t limit = -1;

	auto files_cmd = [&](const char *cmd, const char *help, Method method) {
		auto *sub = app.add_subcommand(cmd, help);
		sub->add_flag("-r,--recursive", recursive, "and everything below each directory");
		sub->add_option("PATH", paths, "VOLUME:/path")->required();
		sub->callback([&, method] {
			action = [&, method] {
				json r =
				    call(g, method,
				         {{param::paths, paths}, {param::recursive, recursive}});
				auto cols = kFileColumns;
				if (method != Method::list)
					cols.push_back("result");
				g.out.list(r[reply::files], cols);
				return 0;
			};
		});
	};

	app.add_subcommand("status", "the daemon: version, uptime, volumes, counts")->callback([&] {
		action = [&] {
			json r = call(g, Method::status);
			if (g.out.human) {
				json names = json::array();
				for (const auto &v : r[reply::volumes])
					names.push_back(v["name"]);
				r[reply::volumes] = names;
			}
			g.out.object(r);
			return 0;
		};
	});
	app.add_subcommand("list-volumes", "the volumes the daemon serves")->callback([&] {
		action = [&] {
			g.out.list(call(g, Method::list_volumes)[reply::volumes],
			           {param::name, "kind", "path", "dax_mode", "dax_capable",
			            "granularity", "files"});
			return 0;
		};
	});
	files_cmd("list", "files with their DAX state", Method::list);
	files_cmd("set-dax", "ask for the DAX flag on", Method::set_dax);
	files_cmd("clear-dax", "ask for the DAX flag off", Method::clear_dax);

	auto *add = app.add_subcommand("add-rule", "add a local rule");
	add->add_option("--name", name, "unique rule name")->required();
	add->add_option("--subtree", subtree, "VOLUME:/path")->required();
	add->add_option("--dax", dax, "on or off")->required()->check(CLI::IsMember({"on", "off"}));
	add->add_option("--include", include, "glob on file names");
	add->add_option("--exclude", exclude, "glob on file names");
	add->add_option("--priority", priority, "breaks ties between equally deep rules");
	add->callback([&] {
		action = [&] {
			g.out.object(call(g, Method::add_rule,
			                  {{param::name, name},
			                   {param::subtree, subtree},
			                   {param::dax, dax},
			                   {param::include, include},
			                   {param::exclude, exclude},
			                   {param::priority, priority}})[reply::rule]);
			return 0;
		};
	});
	auto *remove = app.add_subcommand("remove-rule", "remove a local rule");
	remove->add_option("NAME", name)->required();
	remove->callback([&] {
		action = [&] {
			call(g, Method::remove_rule, {{param::name, name}});
			g.out.object({{"removed", name}});
			return 0;
		};
	});
	app.add_subcommand("list-rules", "the rules, local and managed")->callback([&] {
		action = [&] {
			g.out.list(call(g, Method::list_rules)[reply::rules],
			           {param::name, "volume", "subtree", "dax", "include", "exclude",
			            "priority", "origin", "source"});
			return 0;
		};
	});
	auto *check =
	    app.add_subcommand("check", "validate policy files or a drop-in folder (offline)");
	check->add_option("PATH", paths)->required();
	check->callback([&] { action = [&] { return run_check(g, paths); }; });

	auto *apply = app.add_subcommand("apply", "load the policy drop-ins and reconcile");
	apply->add_option("--policy-dir", policy_dir, "instead of the daemon's policy_dir");
	apply->add_flag("--dry-run", dry_run, "change nothing; print the plan");
	apply->callback([&] {
		action = [&] {
			json p = {{param::dry_run, dry_run}};
			if (!policy_dir.empty())
				p[param::policy_dir] = absolute(policy_dir);
			g.out.object(call(g, Method::apply, p));
			return 0;
		};
	});
	auto *reconcile = app.add_subcommand("reconcile", "evaluate the rules again");
	reconcile->add_option("PATH", path, "VOLUME:/path (default: everything)");
	reconcile->callback([&] {
		action = [&] {
			json p = json::object();
			if (!path.empty())
				p[param::path] = path;
			g.out.object(call(g, Method::reconcile, p));
			return 0;
		};
	});
	app.add_subcommand("list-pending", "flag changes waiting for unmap")->callback([&] {
		action = [&] {
			g.out.list(call(g, Method::list_pending)[reply::pending],
			           {param::path, "want", "rule", "since", "why"});
			return 0;
		};
	});
	auto *cancel = app.add_subcommand("cancel-pending", "withdraw a waiting flag change");
	cancel->add_option("PATH", path, "VOLUME:/path")->required();
	cancel->callback([&] {
		action = [&] {
			call(g, Method::cancel_pending, {{param::path, path}});
			g.out.object({{"cancelled", path}});
			return 0;
		};
	});
	auto *events = app.add_subcommand("list-events", "the event log");
	events->add_option("--type", type, "flag-change, deferred, lease-break, ...");
	events->add_option("--since", since, "ISO 8601 time");
	events->add_option("--limit", limit, "the newest N");
	events->callback([&] {
		action = [&] {
			json p = json::object();
			if (!type.empty())
				p[param::type] = type;
			if (!since.empty())
				p[param::since] = since;
			if (limit >= 0)
				p[param::limit] = limit;
			g.out.list(call(g, Method::list_events, p)[reply::events],
			           {"id", "time", "type", "volume", "path"});
			return 0;
		};
	});
	auto *monitor = app.add_subcommand("monitor", "follow the event log until interrupted");
	monitor->add_option("--type", type, "only events of this type");
	monitor->callback([&] {
		action = [&] {
			wire::Client client(g.socket);
			json p = json::object();
			if (!type.empty())
				p[param::type] = type;
			client.call_more(Method::monitor, p, [](const json &e) {
				std::cout << e.dump() << std::endl;
				return true;
			});
			return 0;
		};
	});
	auto *leases = app.add_subcommand("list-leases", "live layout leases and pins");
	leases->add_option("PATH", path, "VOLUME:/path (default: every file)");
	leases->callback([&] {
		action = [&] {
			json p = json::object();
			if (!path.empty())
				p[param::path] = path;
			json items = call(g, Method::list_leases, p)[reply::leases];
			if (g.out.human)
				for (auto &l : items) {
					l["holder"] =
					    std::to_string(l["holder"]["pid"].get<int>()) + "/" +
					    std::to_string(l["holder"]["uid"].get<unsigned>());
					l["range"] =
					    std::to_string(l["range"]["offset"].get<uint64_t>()) +
					    "+" +
					    std::to_string(l["range"]["length"].get<uint64_t>());
				}
			g.out.list(items,
			           {param::path, "kind", "holder", "range", "state", "since"});
			return 0;
		};
	});
	auto *io =
	    app.add_subcommand("io", "an xfs_io-style session on a file of an embedded volume");
	io->add_flag("-f", create, "create the file if it is missing");
	io->add_option("-c", commands, "a command; repeat for more (default: read stdin)");
	io->add_option("PATH", path, "VOLUME:/path")->required();
	io->callback([&] { action = [&] { return run_io(g, path, commands, create); }; });
	app.add_subcommand("metrics", "counters in Prometheus text format")->callback([&] {
		action = [&] {
			std::cout << call(g, Method::metrics)[reply::text].get<std::string>();
			return 0;
		};
	});
	auto *mkfs = app.add_subcommand("mkfs", "make an embedded pool (offline)");
	mkfs->add_option("POOL", pool)->required();
	mkfs->add_option("--size", size, "pool size (default 1GiB)");
	bool force = false;
	mkfs->add_flag("--force", force, "format a device that holds a pool already");
	mkfs->callback([&] { action = [&] { return run_mkfs(g, pool, size, force); }; });
	auto *fsck = app.add_subcommand("fsck", "check an embedded pool (offline)");
	fsck->add_option("POOL", pool)->required();
	fsck->callback([&] { action = [&] { return run_fsck(g, pool); }; });

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
		return kExitFailed;
	} catch (const std::exception &e) {
		g.out.error("internal", e.what());
		return kExitFailed;
	}
}
