// SPDX-License-Identifier: BSD-3-Clause
// Rules: the local ones (add-rule, remove-rule), all of them (list-rules), the policy drop-ins
// (check offline, apply through the daemon) and evaluating them again (reconcile).
#include "cli/call.hpp"
#include "cli/command.hpp"
#include "cli/progress.hpp"
#include "common/error.hpp"
#include "policy/daemon_config.hpp"
#include "policy/policy_file.hpp"
#include "policy/rule_volumes.hpp"
#include "wire/client.hpp"

#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace daxpolicy::cli
{

namespace
{

struct AddRuleOptions {
	std::string name, subtree, dax;
	std::vector<std::string> include, exclude;
	int priority = 0;
	bool replace = false;
};

struct ApplyOptions {
	std::string policy_dir; // empty: the daemon's own
	bool dry_run = false;
	bool detailed_exitcodes = false;
};

// Puppet's convention, for config management: 2 when something changed (or, with
// --dry-run, would), 0 when nothing did; a failure stays 1.
constexpr int kExitChanged = 2;

// The daemon config `check --config` names: its volumes, and what it says of rules naming
// another (unknown_volumes). A config that does not load is an error of the check.
struct ConfigVolumes {
	std::string file;
	std::set<std::string> volumes;
	policy::UnknownVolumes unknown_volumes = policy::UnknownVolumes::error;
};

ConfigVolumes config_volumes(const std::string &file)
{
	policy::DaemonConfig config = policy::load_daemon_config(file);
	policy::finish_daemon_config(config);
	return {file, policy::volume_names(config), config.unknown_volumes};
}

// Loads each policy file or drop-in folder as the daemon would, but without one (and, given a
// daemon config, checks each rule's volume against it); each error goes to stderr for the
// person and into the JSON for a script.
int check_policy_files(const Globals &g, const std::vector<std::string> &paths,
                       const std::optional<ConfigVolumes> &config)
{
	json files = json::array();
	bool valid = true;
	for (const auto &path : paths) {
		auto load = policy::load_policy_path(path);
		json skipped = json::array();
		if (config)
			for (const auto &s : policy::sort_out_unknown_volumes(
			         load, config->volumes, config->unknown_volumes, config->file)) {
				std::cerr << s.rule.source << ":" << s.at.line << ":" << s.at.column
				          << ": note: rule '" << s.rule.name
				          << "' is skipped: no volume '" << s.rule.volume << "' in "
				          << config->file << "\n";
				skipped.push_back(s.to_json());
			}
		json errors = json::array();
		for (const auto &e : load.errors) {
			std::cerr << e.to_string() << "\n";
			errors.push_back(e.to_string());
		}
		json rules = json::array();
		for (const auto &r : load.rules)
			rules.push_back(r.name);
		valid = valid && load.ok();
		json file = {
		    {"path", path}, {"valid", load.ok()}, {"rules", rules}, {"errors", errors}};
		if (config)
			file["skipped"] = std::move(skipped);
		files.push_back(std::move(file));
	}
	g.out.list(files, {"path", "valid", "rules"});
	return valid ? 0 : 1;
}

} // namespace

Action cmd_add_rule(CLI::App &cmd, const Globals &g)
{
	auto o = std::make_shared<AddRuleOptions>();
	cmd.add_option("--name", o->name, "unique rule name")->required();
	cmd.add_option("--subtree", o->subtree, "VOLUME:/path, or a path in a host volume")
	    ->required()
	    ->transform(file_name_arg);
	cmd.add_option("--dax", o->dax, "on or off")
	    ->required()
	    ->check(CLI::IsMember({"on", "off"}));
	cmd.add_option("--include", o->include, "glob on file names");
	cmd.add_option("--exclude", o->exclude, "glob on file names");
	cmd.add_option("--priority", o->priority, "breaks ties between equally deep rules");
	cmd.add_flag("--replace", o->replace,
	             "change the local rule of that name, if there is one");
	return [&g, o] {
		json reply;
		{
			JobProgress progress(g);
			reply = call(g, Method::add_rule,
			             {{param::name, o->name},
			              {param::subtree, o->subtree},
			              {param::dax, o->dax},
			              {param::include, o->include},
			              {param::exclude, o->exclude},
			              {param::priority, o->priority},
			              {param::replace, o->replace}});
		}
		json out = reply[reply::rule];
		out[reply::files] = reply[reply::files];
		g.out.object(out);
		return 0;
	};
}

Action cmd_remove_rule(CLI::App &cmd, const Globals &g)
{
	auto names = std::make_shared<std::vector<std::string>>();
	cmd.add_option("NAME", *names, "local rules to remove (all, or none)")->required();
	return [&g, names] {
		json reply;
		{
			JobProgress progress(g);
			reply = call(g, Method::remove_rule, {{param::names, *names}});
		}
		g.out.object({{"removed", reply["removed"]}, {reply::files, reply[reply::files]}});
		return 0;
	};
}

Action cmd_list_rules(CLI::App &, const Globals &g)
{
	return [&g] {
		print_list(g, Method::list_rules, json::object(),
		           {param::name, "volume", "subtree", "dax", "include", "exclude",
		            "priority", "origin", "source"});
		return 0;
	};
}

Action cmd_check(CLI::App &cmd, const Globals &g)
{
	auto paths = std::make_shared<std::vector<std::string>>();
	auto config = std::make_shared<std::string>();
	cmd.add_option("PATH", *paths)->required();
	cmd.add_option("--config", *config,
	               "also check each rule's volume against this daemon config")
	    ->type_name("FILE");
	return [&g, paths, config] {
		std::optional<ConfigVolumes> volumes;
		if (!config->empty()) {
			try {
				volumes = config_volumes(*config);
			} catch (const Error &e) {
				// The config is what the check was given to read: its problem
				// is a finding (exit 1) at its place, as a policy file's is.
				std::cerr << e.what() << "\n";
				return 1;
			}
		}
		return check_policy_files(g, *paths, volumes);
	};
}

Action cmd_apply(CLI::App &cmd, const Globals &g)
{
	auto o = std::make_shared<ApplyOptions>();
	cmd.add_option("--policy-dir", o->policy_dir, "instead of the daemon's policy_dir");
	cmd.add_flag("--dry-run", o->dry_run, "change nothing; print the plan");
	cmd.add_flag("--detailed-exitcodes", o->detailed_exitcodes,
	             "exit 2 when something changed, 0 when nothing did");
	return [&g, o] {
		json p = {{param::dry_run, o->dry_run}};
		if (!o->policy_dir.empty())
			p[param::policy_dir] = absolute(o->policy_dir);
		json out;
		{
			JobProgress progress(g);
			// The changes come in parts (a large tree's are many); the summary is
			// in the first.
			wire::Client client(g.socket);
			client.call_more(Method::apply, p, [&](const json &part) {
				json changes = part.value(reply::changes, json::array());
				if (out.is_null()) {
					out = part;
					out.erase(reply::job);
				} else {
					for (auto &c : changes)
						out[reply::changes].push_back(std::move(c));
				}
				return true;
			});
		}
		g.out.object(out);
		return o->detailed_exitcodes && out.value("changed", false) ? kExitChanged : 0;
	};
}

Action cmd_reconcile(CLI::App &cmd, const Globals &g)
{
	auto path = std::make_shared<std::string>();
	cmd.add_option("PATH", *path, "VOLUME:/path, or a host path (default: everything)")
	    ->transform(file_name_arg);
	auto no_block = std::make_shared<bool>(false);
	cmd.add_flag("--no-block", *no_block,
	             "start the reconcile and print its job, without waiting for it");
	return [&g, path, no_block] {
		json p = json::object();
		set_given(p, param::path, *path);
		if (*no_block) {
			p[param::no_block] = true;
			g.out.object(call(g, Method::reconcile, p)[reply::job]);
			return 0;
		}
		json reply;
		{
			JobProgress progress(g);
			reply = call(g, Method::reconcile, p);
		}
		reply.erase(reply::job);
		g.out.object(reply);
		return 0;
	};
}

} // namespace daxpolicy::cli
