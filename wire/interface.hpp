// SPDX-License-Identifier: BSD-3-Clause
// The io.daxpolicy interface, declared once for the daemon that serves it and the CLI that
// calls it: each method's name, whether it changes state, whether it streams, which list it
// replies with, the parameter keys, the top-level reply keys, the event types and the interface
// description in varlink IDL.
#pragma once

#include "common/places.hpp"

#include <array>
#include <set>
#include <string>
#include <string_view>

namespace daxpolicy::wire
{

inline constexpr const char *kInterface = "io.daxpolicy";
inline constexpr const char *kServiceInterface = "org.varlink.service";
using daxpolicy::kDefaultSocket;

enum class Method {
	status,
	list_volumes,
	list,
	set_dax,
	clear_dax,
	add_rule,
	remove_rule,
	list_rules,
	apply,
	reconcile,
	list_pending,
	cancel_pending,
	list_events,
	monitor,
	list_leases,
	io,
	metrics,
	reload,
	explain,
};

// Keys of call parameters.
namespace param
{
inline constexpr const char *paths = "paths";
inline constexpr const char *recursive = "recursive";
inline constexpr const char *name = "name";
inline constexpr const char *names = "names";
inline constexpr const char *replace = "replace";
inline constexpr const char *states = "states";
inline constexpr const char *rule = "rule";
inline constexpr const char *subtree = "subtree";
inline constexpr const char *dax = "dax";
inline constexpr const char *include = "include";
inline constexpr const char *exclude = "exclude";
inline constexpr const char *priority = "priority";
inline constexpr const char *policy_dir = "policy_dir";
inline constexpr const char *dry_run = "dry_run";
inline constexpr const char *no_block = "no_block";
inline constexpr const char *path = "path";
inline constexpr const char *type = "type";
inline constexpr const char *types = "types";
inline constexpr const char *volume = "volume";
inline constexpr const char *since = "since";
inline constexpr const char *until = "until";
inline constexpr const char *limit = "limit";
inline constexpr const char *since_id = "since_id";
inline constexpr const char *argv = "argv";
inline constexpr const char *create = "create";
inline constexpr const char *interface = "interface";
} // namespace param

// Top-level keys of replies that carry a list or one object.
namespace reply
{
inline constexpr const char *volumes = "volumes";
inline constexpr const char *files = "files";
inline constexpr const char *rule = "rule";
inline constexpr const char *rules = "rules";
inline constexpr const char *pending = "pending";
inline constexpr const char *events = "events";
inline constexpr const char *leases = "leases";
inline constexpr const char *text = "text";
inline constexpr const char *description = "description";
inline constexpr const char *job = "job";
inline constexpr const char *restart_needed = "restart_needed";
inline constexpr const char *reconcile = "reconcile";
inline constexpr const char *changes = "changes";
} // namespace reply

// The types of events (INTERFACE.md), which list-events and monitor filter on; `reconcile`
// is a job's summary, `reload` the outcome of a reload (SIGHUP or `daxpolicy reload`).
inline constexpr std::array<const char *, 8> kEventTypes{
    "flag-change", "deferred", "lease-break", "lease-revoked",
    "rule-change", "volume",   "reconcile",   "reload"};
bool is_event_type(std::string_view type);

struct MethodSpec {
	Method method;
	const char *name; // "ListVolumes": after "io.daxpolicy." on the wire
	bool mutates;     // only root and members of admin_group may call it
	bool streams;     // needs "more": replies continue until the caller hangs up
	// A list: the reply key of its array. Called with "more", it comes in parts, one reply
	// each ("continues": true but the last), none larger than kListPart (varlink.hpp);
	// without, in one reply, which fails past kMaxMessage. nullptr: not a list.
	const char *list;
};

inline constexpr std::array<MethodSpec, 19> kMethods{{
    {Method::status, "Status", false, false, nullptr},
    {Method::list_volumes, "ListVolumes", false, false, nullptr},
    {Method::list, "List", false, false, reply::files},
    {Method::set_dax, "SetDax", true, false, reply::files},
    {Method::clear_dax, "ClearDax", true, false, reply::files},
    {Method::add_rule, "AddRule", true, false, nullptr},
    {Method::remove_rule, "RemoveRule", true, false, nullptr},
    {Method::list_rules, "ListRules", false, false, reply::rules},
    {Method::apply, "Apply", true, false, reply::changes},
    {Method::reconcile, "Reconcile", true, false, nullptr},
    {Method::list_pending, "ListPending", false, false, reply::pending},
    {Method::cancel_pending, "CancelPending", true, false, nullptr},
    {Method::list_events, "ListEvents", false, false, reply::events},
    {Method::monitor, "Monitor", false, true, nullptr},
    {Method::list_leases, "ListLeases", false, false, reply::leases},
    {Method::io, "Io", true, false, nullptr},
    {Method::metrics, "Metrics", false, false, nullptr},
    {Method::reload, "Reload", true, false, nullptr},
    {Method::explain, "Explain", false, false, nullptr},
}};

const MethodSpec &spec_of(Method method);
// The method a qualified name ("io.daxpolicy.List") calls; nullptr when there is none.
const MethodSpec *find_method(std::string_view qualified_name);
std::string qualified_name(Method method); // "io.daxpolicy.List"

// The methods of org.varlink.service the daemon answers.
inline constexpr const char *kGetInfo = "org.varlink.service.GetInfo";
inline constexpr const char *kGetInterfaceDescription =
    "org.varlink.service.GetInterfaceDescription";

// io.daxpolicy in varlink IDL, as org.varlink.service.GetInterfaceDescription returns it.
std::string_view interface_description();
// The parameters `method` takes, as that description declares them: the one list the daemon
// checks calls against.
const std::set<std::string> &parameters_of(Method method);

} // namespace daxpolicy::wire
