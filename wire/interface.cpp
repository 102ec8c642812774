// SPDX-License-Identifier: BSD-3-Clause
#include "wire/interface.hpp"

#include "common/error.hpp"
#include "wire/varlink.hpp"

#include <algorithm>
#include <map>

namespace daxpolicy::wire
{

namespace
{

// The methods and types; the errors follow from the error table, so a new code is described
// as soon as it exists. Events carry their type's own fields beside the common ones.
constexpr std::string_view kMethodsIdl =
    R"(# Per-file DAX policy for persistent-memory filesystems, served by daxpolicyd.
interface io.daxpolicy

type Volume (name: string, kind: string, path: string, dax_mode: string,
             dax_capable: bool, granularity: int, files: int)
type File (path: string, volume: string, ino: int, type: string, size: int,
           dax_flag: bool, dax_effective: bool, dax_desired: ?bool, rule: ?string,
           state: string, mapped: bool, in_use: bool, reason: ?string, result: ?string)
type Rule (name: string, volume: string, subtree: string, dax: string, include: []string,
           exclude: []string, priority: int, origin: string, source: ?string)
type Pending (path: string, volume: string, ino: int, want: bool, rule: ?string,
              since: string, why: string)
type Event (id: int, time: string, type: string, volume: string, path: string)
type Holder (pid: int, uid: int)
type Range (offset: int, length: int)
type Lease (path: string, ino: int, holder: Holder, range: Range, since: string,
            kind: string, state: string)
type FileCounts (applied: int, deferred: int, unchanged: int)
type RuleChanges (added: []string, removed: []string, changed: []string, unchanged: []string)
type Change (path: string, from: bool, to: bool, rule: ?string, action: string)
# A reconcile job; `state`: queued, running, done, superseded, interrupted, failed.
type Job (id: int, state: string, cause: string, dry_run: bool, scopes: []string, done: int,
          total: ?int, started: ?string, finished: ?string, files: FileCounts,
          error: ?string, resumed_from: ?int)
# What `status` shows of the job under way; `state`: idle, running.
type ReconcileStatus (state: string, done: int, total: ?int, started: ?string, job: ?int,
                      cause: ?string, queued: int, files: ?FileCounts)

# Lists (List, SetDax, ClearDax, ListRules, ListPending, ListEvents, ListLeases, and Apply's
# changes): called with
# "more", the list comes in parts, one reply each with "continues": true but the last, each
# at most 256 KiB, so that a list of any length reaches the caller; without "more", in one
# reply, which fails with InvalidArgument beyond 16 MiB.
method Status() -> (version: string, uptime_s: int, volumes: []Volume, rules: int,
                    pending: int, events: int, reconcile: ReconcileStatus)
method ListVolumes() -> (volumes: []Volume)
# states, rule: only files in those states, or decided by that rule. A path that does not
# exist is an item of its own, {path, error: "not-found", message}, among the others.
method List(paths: []string, recursive: ?bool, states: ?[]string, rule: ?string)
    -> (files: []File)
method SetDax(paths: []string, recursive: ?bool) -> (files: []File)
method ClearDax(paths: []string, recursive: ?bool) -> (files: []File)
method AddRule(name: string, subtree: string, dax: string, include: ?[]string,
               exclude: ?[]string, priority: ?int, replace: ?bool) -> (rule: Rule,
                                                                       files: FileCounts,
                                                                       job: Job)
method RemoveRule(name: ?string, names: ?[]string) -> (removed: []string, files: FileCounts,
                                                        job: Job)
method ListRules() -> (rules: []Rule)
method Apply(policy_dir: ?string, dry_run: ?bool) -> (changed: bool, dry_run: bool,
                                                      rules: RuleChanges, files: FileCounts,
                                                      job: Job, changes: []Change)
# Replies when its job has ended; with no_block, at once, with the job queued or running.
method Reconcile(path: ?string, no_block: ?bool) -> (files: ?FileCounts, job: ?Job)
method ListPending() -> (pending: []Pending)
method CancelPending(path: string) -> ()
# since and until: RFC 3339, "now", or a time ago ("-1h"); path: that file and what is below.
method ListEvents(type: ?string, types: ?[]string, volume: ?string, path: ?string,
                  since: ?string, until: ?string, limit: ?int) -> (events: []Event)
# Needs "more": one reply an event, until the caller hangs up. since_id: first every stored
# event with a greater id, oldest first, then the live ones, none missed or sent twice.
method Monitor(type: ?string, since_id: ?int) -> (id: int, time: string, type: string,
                                                  volume: string, path: string)
# One xfs_io-style command on a file of an embedded volume; the reply is the command's.
method Io(path: string, argv: []string, create: ?bool) -> (cmd: string, file: ?File)
method ListLeases(path: ?string) -> (leases: []Lease)
method Metrics() -> (text: string)
# Reads daxpolicyd.toml and the policy drop-ins again and applies them; replies once they
# are applied (the job that brings files in line runs on), or fails with what is wrong in
# which file:line:col, changing nothing. restart_needed: changed keys a reload cannot apply.
method Reload() -> (policy_dir: string, rules: RuleChanges, job: ?Job,
                    restart_needed: []string)

# Why the file has its state: the file's fields, and rules, winner, mount and pending.
method Explain(path: string) -> (path: string, rules: []object, winner: object,
                                 mount: object, pending: ?object)
)";

std::string describe()
{
	std::string idl(kMethodsIdl);
	idl += "\n";
	std::string prefix = std::string(kInterface) + ".";
	for (const auto &[code, name] : kErrcNames)
		idl += "error " + error_name(code).substr(prefix.size()) + " (message: string)\n";
	return idl;
}

constexpr bool in_enum_order()
{
	for (size_t i = 0; i < kMethods.size(); i++)
		if (static_cast<size_t>(kMethods[i].method) != i)
			return false;
	return true;
}
static_assert(in_enum_order(),
              "kMethods lists the methods in the enum's order: spec_of indexes it");

} // namespace

const MethodSpec &spec_of(Method method)
{
	return kMethods[static_cast<size_t>(method)];
}

const MethodSpec *find_method(std::string_view qualified)
{
	std::string_view prefix = kInterface;
	if (qualified.size() <= prefix.size() + 1 || qualified.substr(0, prefix.size()) != prefix ||
	    qualified[prefix.size()] != '.')
		return nullptr;
	std::string_view name = qualified.substr(prefix.size() + 1);
	for (const auto &spec : kMethods)
		if (name == spec.name)
			return &spec;
	return nullptr;
}

std::string qualified_name(Method method)
{
	return std::string(kInterface) + "." + spec_of(method).name;
}

bool is_event_type(std::string_view type)
{
	for (const char *t : kEventTypes)
		if (type == t)
			return true;
	return false;
}

std::string_view interface_description()
{
	static const std::string idl = describe();
	return idl;
}

namespace
{

// "method List(paths: []string, recursive: ?bool) -> ..." -> {paths, recursive}, for each
// method of the description.
std::map<std::string, std::set<std::string>> declared_parameters()
{
	std::map<std::string, std::set<std::string>> out;
	std::string_view idl = kMethodsIdl;
	for (size_t at = idl.find("\nmethod "); at != std::string_view::npos;
	     at = idl.find("\nmethod ", at + 1)) {
		size_t open = idl.find('(', at), close = idl.find(')', open);
		std::string name(idl.substr(at + 8, open - at - 8));
		auto &params = out[name];
		std::string_view list = idl.substr(open + 1, close - open - 1);
		while (!list.empty()) {
			size_t colon = list.find(':');
			if (colon == std::string_view::npos)
				break;
			std::string_view key = list.substr(0, colon);
			key.remove_prefix(std::min(key.size(), key.find_first_not_of(" \n,")));
			params.emplace(key);
			size_t comma = list.find(',', colon);
			list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
		}
	}
	return out;
}

} // namespace

const std::set<std::string> &parameters_of(Method method)
{
	static const auto declared = declared_parameters();
	return declared.at(spec_of(method).name);
}

} // namespace daxpolicy::wire
