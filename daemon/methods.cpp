// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/methods.hpp"

#include "common/clock.hpp"
#include "common/error.hpp"
#include "daemon/changes.hpp"
#include "daemon/connection.hpp"
#include "daemon/daemon.hpp"
#include "daemon/explain.hpp"
#include "daemon/lists.hpp"
#include "daemon/params.hpp"
#include "daemon/views.hpp"
#include "fscore/lease_info.hpp"
#include "policy/policy_file.hpp"
#include "wire/interface.hpp"
#include "wire/varlink.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <daxpolicy/version.hpp>
#include <functional>
#include <set>
#include <sstream>

namespace daxpolicy::daemon
{

namespace
{

using nlohmann::json;
namespace param = wire::param;
namespace reply = wire::reply;
// A handler returns the reply, or nothing when the reply comes later (Connection::defer_reply)
// or comes as a list (Connection::stream_reply). `more`: the call asked for "more".
using Handler = std::optional<json> (*)(Daemon &, Connection &, const Params &, bool more);
// A list method: the source of its items, which streams under the method's list key.
using ListSource = std::unique_ptr<ItemSource> (*)(Daemon &, const Params &);

json status(Daemon &d, Connection &, const Params &)
{
	json volumes = json::array();
	for (const auto &[name, vol] : d.engine().volumes())
		volumes.push_back(volume_json(vol->info()));
	return {{"version", kVersion},
	        {"uptime_s", static_cast<int64_t>(d.uptime_s())},
	        {reply::volumes, volumes},
	        {"rules", d.store().count("rules")},
	        {"pending", d.store().count("pending")},
	        {"events", d.store().count("events")},
	        {reply::reconcile, reconcile_json(d.engine())}};
}

// `conn`, whose reply was deferred (Connection::defer_reply), is answered once the job
// that `start` starts has ended, or with what `start` throws; `answer` makes the reply from
// the job's report (or streams it, and returns nothing). With the daemon's loop a job never ends
// within the call that starts it.
void reply_when_done(const std::shared_ptr<Connection> &conn,
                     const std::function<void(policy::Engine::JobDone)> &start,
                     std::function<std::optional<json>(const policy::JobReport &)> answer)
{
	try {
		start([conn, answer = std::move(answer)](const policy::JobReport &r) {
			conn->finish_deferred([&]() -> std::optional<json> {
				if (r.state == policy::JobState::failed)
					throw Error(Errc::internal,
					            "the reconcile failed: " + r.error);
				return answer(r);
			});
		});
	} catch (...) {
		auto error = std::current_exception();
		conn->finish_deferred(
		    [&]() -> std::optional<json> { std::rethrow_exception(error); });
	}
}

json list_volumes(Daemon &d, Connection &, const Params &)
{
	json out = json::array();
	for (const auto &[name, vol] : d.engine().volumes()) {
		json v = volume_json(vol->info());
		auto why = d.unavailable(name);
		v["available"] = !why;
		if (why)
			v["unavailable"] = *why;
		out.push_back(std::move(v));
	}
	return {{reply::volumes, out}};
}

// Paths one request may name: each may be a whole tree, and any peer may list.
constexpr size_t kMaxPaths = 4096;

std::vector<std::string> paths_of(const Params &p)
{
	auto paths = p.strings(param::paths);
	if (paths.empty())
		throw Error(Errc::invalid_argument, std::string("parameter '") + param::paths +
		                                        "': name at least one file");
	if (paths.size() > kMaxPaths)
		throw Error(Errc::invalid_argument,
		            "parameter 'paths': " + std::to_string(paths.size()) +
		                " paths, more than the " + std::to_string(kMaxPaths) +
		                " one request may name");
	return paths;
}

// The targets without repeats; with `recursive`, without those inside another: each file
// is listed once.
std::vector<std::pair<std::string, std::string>>
distinct_targets(std::vector<std::pair<std::string, std::string>> targets, bool recursive)
{
	std::vector<std::pair<std::string, std::string>> out;
	auto covers = [recursive](const auto &outer, const auto &inner) {
		if (outer.first != inner.first)
			return false;
		if (outer.second == inner.second)
			return true;
		return recursive &&
		       (outer.second == "/" || inner.second.rfind(outer.second + "/", 0) == 0);
	};
	for (auto &t : targets) {
		if (std::any_of(out.begin(), out.end(),
		                [&](const auto &o) { return covers(o, t); }))
			continue;
		// A later outer target takes the place of the inner ones listed so far.
		std::erase_if(out, [&](const auto &o) { return covers(t, o); });
		out.push_back(std::move(t));
	}
	return out;
}

std::unique_ptr<ItemSource> list(Daemon &d, const Params &p)
{
	std::vector<std::pair<std::string, std::string>> targets;
	for (const auto &name : paths_of(p))
		targets.push_back(d.file_of(name));
	std::set<policy::FileState> states;
	for (const auto &name : p.strings(param::states)) {
		auto state = policy::file_state_from_name(name);
		if (!state)
			throw Error(Errc::invalid_argument, "states: no state '" + name + "'");
		states.insert(*state);
	}
	auto rule = p.opt_string(param::rule);
	bool recursive = p.boolean(param::recursive);
	policy::Engine &engine = d.engine();
	return file_source(
	    engine, distinct_targets(std::move(targets), recursive), recursive,
	    [&engine, states, rule](const FileTurn &f) -> std::optional<json> {
		    policy::FileView v = f.walked ? engine.view(f.volume, *f.walked)
		                                  : engine.list(f.volume, f.path, false).front();
		    if (!states.empty() && !states.count(v.state))
			    return std::nullopt;
		    if (rule && v.rule != rule)
			    return std::nullopt;
		    return file_json(v);
	    },
	    true);
}

std::unique_ptr<ItemSource> set_flag(Daemon &d, const Params &p, bool on)
{
	// Every name is checked before anything changes: a bad one fails the whole call.
	std::vector<std::pair<std::string, std::string>> targets;
	for (const auto &name : paths_of(p)) {
		targets.push_back(d.file_of(name));
		d.engine().volume(targets.back().first).stat(targets.back().second);
	}
	policy::Engine &engine = d.engine();
	// Each file is changed as its turn in the reply comes: a caller that goes away part
	// way stops the rest (running it again is harmless: what is done is `unchanged`).
	return file_source(engine, std::move(targets), p.boolean(param::recursive),
	                   [&engine, on](const FileTurn &f) -> std::optional<json> {
		                   std::vector<std::pair<policy::FileView, policy::Outcome>> done;
		                   try {
			                   done = engine.request_flag(f.volume, f.path, false, on);
		                   } catch (const Error &e) {
			                   if (f.walked && e.code() == Errc::not_found)
				                   return std::nullopt; // removed since the walk
				                                        // came by: nothing to set
			                   throw;
		                   }
		                   const policy::FileView &v = done.front().first;
		                   json j = file_json(v);
		                   j["result"] = policy::outcome_name(done.front().second);
		                   // The policy stands: the rule wanting the other flag restores
		                   // it at the next reconcile (the file is out-of-sync till then).
		                   auto rule = engine.conflicting_rule(v.volume, v.file.path,
		                                                       v.file.type, on);
		                   j["conflicts_with"] = rule ? json(*rule) : json(nullptr);
		                   return j;
	                   });
}

std::optional<json> add_rule(Daemon &d, Connection &c, const Params &p, bool)
{
	policy::Rule r;
	r.name = p.string(param::name);
	auto [vol, subtree] = d.file_of(p.string(param::subtree));
	r.volume = vol;
	r.subtree = subtree;
	std::string dax = p.string(param::dax);
	if (dax != "on" && dax != "off")
		throw Error(Errc::invalid_argument, "dax: expected on or off, got '" + dax + "'");
	r.dax = dax == "on";
	r.include = p.strings(param::include);
	r.exclude = p.strings(param::exclude);
	auto priority = p.opt_integer(param::priority).value_or(0);
	if (priority < -1000000 || priority > 1000000)
		throw Error(Errc::invalid_argument, "priority: must be within [-1000000, 1000000]");
	r.priority = static_cast<int>(priority);
	auto added = std::make_shared<policy::Rule>();
	reply_when_done(
	    c.defer_reply(),
	    [&](policy::Engine::JobDone done) {
		    *added = d.engine().add_rule(r, std::move(done), p.boolean(param::replace));
	    },
	    [added](const policy::JobReport &job) {
		    return json{{reply::rule, rule_json(*added)},
		                {reply::files, policy::counts_json(job.files)},
		                {reply::job, job.to_json()}};
	    });
	return std::nullopt;
}

std::unique_ptr<ItemSource> list_rules(Daemon &d, const Params &)
{
	return rule_source(d.store());
}

void check_loaded(const policy::PolicyLoad &load)
{
	if (load.ok())
		return;
	std::string message;
	for (const auto &e : load.errors) {
		if (!message.empty())
			message += '\n';
		message += e.to_string();
	}
	throw invalid_content(message); // the files are wrong, not the call
}

// The files are read off the event loop (any path may be named, and reading one may be
// slow); the rules are applied on it, where the engine lives, and the reply follows when
// the job that brings the files in line has ended.
std::optional<json> apply(Daemon &d, Connection &c, const Params &p, bool more)
{
	auto named = p.opt_string(param::policy_dir);
	bool dry_run = p.boolean(param::dry_run);
	d.load_policy(
	    named.value_or(d.config().policy_dir.string()), named.has_value(),
	    [&d, conn = c.defer_reply(), dry_run, more](PolicyRead read) {
		    auto rules = std::make_shared<policy::ApplyResult>();
		    auto notes = std::make_shared<json>(json::object());
		    add_notes(*notes, read);
		    reply_when_done(
		        conn,
		        [&](policy::Engine::JobDone done) {
			        if (read.refused)
				        throw *read.refused;
			        check_loaded(read.load);
			        *rules =
			            d.engine().apply(read.load.rules, dry_run, std::move(done));
			        if (!dry_run)
				        log_skipped(d.engine(), read.skipped);
		        },
		        [conn, rules, notes, dry_run,
		         more](const policy::JobReport &r) -> std::optional<json> {
			        json fields = {{"changed", rules->rules_changed() ||
			                                       r.files.applied || r.files.deferred},
			                       {"dry_run", dry_run},
			                       {"rules",
			                        {{"added", rules->added},
			                         {"removed", rules->removed},
			                         {"changed", rules->changed},
			                         {"unchanged", rules->unchanged}}},
			                       {reply::files, policy::counts_json(r.files)},
			                       {reply::job, r.to_json()}};
			        fields.update(*notes);
			        conn->stream_reply(changes_reply(fields, r.changes, more));
			        return std::nullopt;
		        });
	    });
	return std::nullopt;
}

// An optional "path" parameter: both halves of VOLUME:/path, or neither.
std::pair<std::optional<std::string>, std::optional<std::string>>
optional_file_name(const Daemon &d, const Params &p)
{
	auto name = p.opt_string(param::path);
	if (!name)
		return {};
	auto [vol, path] = d.file_of(*name);
	return {vol, path};
}

// Replies when the job has ended, or with `--no-block` at once with the job as it is.
std::optional<json> reconcile(Daemon &d, Connection &c, const Params &p, bool)
{
	// Not a structured binding: clang 14 refuses to capture one in the lambda below.
	const auto target = optional_file_name(d, p);
	const auto &vol = target.first;
	const auto &path = target.second;
	if (p.boolean(param::no_block)) {
		uint64_t id = d.engine().reconcile(vol, path);
		auto job = d.engine().job(id);
		return json{{reply::job, job ? job->to_json() : json(nullptr)}};
	}
	reply_when_done(
	    c.defer_reply(),
	    [&](policy::Engine::JobDone done) { d.engine().reconcile(vol, path, std::move(done)); },
	    [](const policy::JobReport &r) {
		    return json{{reply::files, policy::counts_json(r.files)},
		                {reply::job, r.to_json()}};
	    });
	return std::nullopt;
}

std::unique_ptr<ItemSource> list_pending(Daemon &d, const Params &)
{
	return pending_source(d.engine(), d.store());
}

json cancel_pending(Daemon &d, Connection &, const Params &p)
{
	auto [vol, path] = d.file_of(p.string(param::path));
	d.engine().cancel_pending(vol, path);
	return json::object();
}

std::optional<std::string> event_type(const Params &p)
{
	auto type = p.opt_string(param::type);
	if (type && !wire::is_event_type(*type))
		throw Error(Errc::invalid_argument, "type: unknown event type '" + *type + "'");
	return type;
}

std::optional<int64_t> event_time(const Params &p, const char *key, int64_t now_ms)
{
	auto text = p.opt_string(key);
	if (!text)
		return std::nullopt;
	auto ms = policy::parse_time_arg(*text, now_ms);
	if (!ms)
		throw Error(Errc::invalid_argument,
		            std::string(key) + ": '" + *text + "' is not " + policy::kTimeArgForms);
	return ms;
}

policy::EventQuery event_query(const Daemon &d, const Params &p)
{
	policy::EventQuery q;
	if (auto type = event_type(p))
		q.types.push_back(*type);
	for (const auto &type : p.strings(param::types)) {
		if (!wire::is_event_type(type))
			throw Error(Errc::invalid_argument,
			            "types: unknown event type '" + type + "'");
		q.types.push_back(type);
	}
	q.volume = p.opt_string(param::volume);
	auto [path_volume, path] = optional_file_name(d, p);
	if (path_volume && q.volume && *q.volume != *path_volume)
		throw Error(Errc::invalid_argument, "path: '" + p.string(param::path) +
		                                        "' is not in volume '" + *q.volume + "'");
	if (path_volume)
		q.volume = path_volume;
	q.path = path;
	int64_t now = unix_now_ms(); // one "now" for both ends of the range
	q.since_ms = event_time(p, param::since, now);
	q.until_ms = event_time(p, param::until, now);
	q.limit = p.opt_integer(param::limit);
	if (q.limit && *q.limit < 0)
		throw Error(Errc::invalid_argument, "limit: must not be negative");
	return q;
}

std::unique_ptr<ItemSource> list_events(Daemon &d, const Params &p)
{
	return event_source(d.store(), event_query(d, p));
}

// The reply to an io command, on the event loop once the session's thread is done with it.
json finish_io(Daemon &d, const std::string &volume, IoResult &result)
{
	if (result.error)
		throw Error(result.error->first, result.error->second);
	if (result.flag_was && result.file) {
		// A chattr is a request like set-dax: logged, and told what rule it defies.
		d.engine().record_request(volume, *result.file, *result.flag_was);
		auto rule = d.engine().conflicting_rule(volume, result.file->path,
		                                        result.file->type, result.file->dax_flag);
		result.out["conflicts_with"] = rule ? json(*rule) : json(nullptr);
	}
	if (result.file)
		result.out["file"] = file_json(d.engine().view(volume, *result.file));
	return std::move(result.out);
}

// Io runs on the connection's io session thread (it may wait in a lease break); the reply
// follows when it is done, and the connection handles no further call until then.
void start_io(Daemon &d, Connection &c, const Params &p)
{
	auto [vol, path] = d.file_of(p.string(param::path));
	auto argv = p.strings(param::argv);
	bool create = p.boolean(param::create);
	if (!c.io) {
		c.io = std::make_unique<IoSession>(
		    d.volume(vol, &fscore::VolumeCapabilities::io_sessions, "io sessions"), vol,
		    path, fscore::Holder{c.peer().pid, static_cast<unsigned>(c.peer().uid)});
	} else if (vol != c.io->volume_name()) {
		throw Error(Errc::invalid_argument, "one io session works on one volume");
	}
	c.io->submit(
	    std::move(argv), create, [&d, conn = c.defer_reply(), vol = vol](IoResult result) {
		    boost::asio::post(
		        d.io_context(), [&d, conn, vol, result = std::move(result)]() mutable {
			        conn->finish_deferred([&] { return finish_io(d, vol, result); });
		        });
	    });
}

std::unique_ptr<ItemSource> list_leases(Daemon &d, const Params &p)
{
	auto [only_volume, path] = optional_file_name(d, p);
	if (only_volume)
		d.volume(*only_volume, &fscore::VolumeCapabilities::layout_leases, "layout leases");
	return lease_source(d.engine(), std::move(only_volume), std::move(path));
}

json metrics(Daemon &d, Connection &, const Params &)
{
	return {{reply::text, render_metrics(d)}};
}

json get_info()
{
	json ifaces = json::array({wire::kServiceInterface, wire::kInterface});
	return {{"vendor", "daxpolicy"},
	        {"product", "daxpolicyd"},
	        {"version", kVersion},
	        {"url", "https://github.com/daxpolicy/daxpolicy"},
	        {"interfaces", ifaces}};
}

json get_interface_description(const Params &p)
{
	std::string name = p.string(param::interface);
	if (name != wire::kInterface)
		throw wire::interface_not_found(name);
	return {{reply::description, wire::interface_description()}};
}

// Monitor replies through the connection: each event, for as long as the caller listens;
// with since_id, the stored events after it first (monitor_feed.hpp).
std::optional<json> monitor(Daemon &d, Connection &c, const Params &p, bool)
{
	auto type = event_type(p);
	std::unique_ptr<ItemSource> replay;
	if (auto since = p.opt_integer(param::since_id)) {
		if (*since < 0)
			throw Error(Errc::invalid_argument, "since_id: must not be negative");
		policy::EventQuery query;
		if (type)
			query.types.push_back(*type);
		replay = event_source(d.store(), std::move(query), *since);
	}
	c.follow(std::make_unique<MonitorFeed>(std::move(type), std::move(replay)));
	d.add_monitor(c.shared_from_this());
	return std::nullopt;
}

std::optional<json> io(Daemon &d, Connection &c, const Params &p, bool)
{
	start_io(d, c, p);
	return std::nullopt;
}

// "names", or (as before several could be named) "name": all removed, or none.
std::optional<json> remove_rule(Daemon &d, Connection &c, const Params &p, bool)
{
	std::vector<std::string> names = p.strings(param::names);
	if (auto name = p.opt_string(param::name))
		names.insert(names.begin(), *name);
	reply_when_done(
	    c.defer_reply(),
	    [&](policy::Engine::JobDone done) { d.engine().remove_rules(names, std::move(done)); },
	    [names](const policy::JobReport &job) {
		    return json{{"removed", names},
		                {reply::files, policy::counts_json(job.files)},
		                {reply::job, job.to_json()}};
	    });
	return std::nullopt;
}

// Replies once the daemon has read and applied the config and the policy again, or with why
// it could not (then nothing changed): what `systemctl reload` waits for.
std::optional<json> reload(Daemon &d, Connection &c, const Params &, bool)
{
	d.reload([conn = c.defer_reply()](const ReloadResult &r) {
		conn->finish_deferred([&] {
			if (r.error)
				throw Error(Errc::invalid_argument,
				            "reload failed, the running config and policy stay: " +
				                *r.error);
			return r.reply;
		});
	});
	return std::nullopt;
}

json explain(Daemon &d, Connection &, const Params &p)
{
	auto [vol, path] = d.file_of(p.string(param::path));
	policy::FileExplanation e = d.engine().explain(vol, path);
	std::vector<fscore::LeaseInfo> leases;
	if (e.queued && e.volume.can.layout_leases) // who it waits for, where the volume knows
		leases = d.engine().volume(vol).leases(e.view.file.path);
	return explain_json(e, leases);
}

// A method whose reply is always one object.
template <json (*Reply)(Daemon &, Connection &, const Params &)>
std::optional<json> replies(Daemon &d, Connection &c, const Params &p, bool)
{
	return Reply(d, c, p);
}

// A method whose reply is a list: it streams, in parts under "more" (reply_stream.hpp).
template <wire::Method M, ListSource Source>
std::optional<json> lists(Daemon &d, Connection &c, const Params &p, bool more)
{
	c.stream_reply(std::make_unique<ReplyStream>(wire::spec_of(M).list, Source(d, p), more));
	return std::nullopt;
}

std::unique_ptr<ItemSource> set_dax(Daemon &d, const Params &p)
{
	return set_flag(d, p, true);
}

std::unique_ptr<ItemSource> clear_dax(Daemon &d, const Params &p)
{
	return set_flag(d, p, false);
}

struct MethodHandler {
	wire::Method method;
	Handler handle;
};

// One row per method of wire::kMethods, in its order (checked below, at compile time).
constexpr std::array<MethodHandler, wire::kMethods.size()> kHandlers{{
    {wire::Method::status, replies<status>},
    {wire::Method::list_volumes, replies<list_volumes>},
    {wire::Method::list, lists<wire::Method::list, list>},
    {wire::Method::set_dax, lists<wire::Method::set_dax, set_dax>},
    {wire::Method::clear_dax, lists<wire::Method::clear_dax, clear_dax>},
    {wire::Method::add_rule, add_rule},       // replies when its job has ended
    {wire::Method::remove_rule, remove_rule}, // replies when its job has ended
    {wire::Method::list_rules, lists<wire::Method::list_rules, list_rules>},
    {wire::Method::apply, apply},         // replies when the policy files are read, off the loop
    {wire::Method::reconcile, reconcile}, // replies when its job has ended
    {wire::Method::list_pending, lists<wire::Method::list_pending, list_pending>},
    {wire::Method::cancel_pending, replies<cancel_pending>},
    {wire::Method::list_events, lists<wire::Method::list_events, list_events>},
    {wire::Method::monitor, monitor},
    {wire::Method::list_leases, lists<wire::Method::list_leases, list_leases>},
    {wire::Method::io, io},
    {wire::Method::metrics, replies<metrics>},
    {wire::Method::reload, reload}, // replies when the config and policy are read, off the loop
    {wire::Method::explain, replies<explain>},
}};

constexpr bool handlers_in_method_order()
{
	for (size_t i = 0; i < kHandlers.size(); i++)
		if (kHandlers[i].method != wire::kMethods[i].method || !kHandlers[i].handle)
			return false;
	return true;
}
static_assert(handlers_in_method_order(), "kHandlers has one handler per wire::kMethods row, "
                                          "in its order");

} // namespace

std::optional<json> call_method(Daemon &d, Connection &c, const std::string &method,
                                const json &params, bool more)
{
	if (!params.is_object())
		throw Error(Errc::invalid_argument, "parameters must be a JSON object");
	Params p(params);
	if (method == wire::kGetInfo)
		return get_info();
	if (method == wire::kGetInterfaceDescription)
		return get_interface_description(p);
	const wire::MethodSpec *spec = wire::find_method(method);
	if (!spec)
		throw wire::method_not_found(method);
	// Only what the interface description declares: a misspelt option is not ignored.
	const auto &declared = wire::parameters_of(spec->method);
	for (const auto &[key, value] : params.items())
		if (!declared.count(key))
			throw wire::invalid_parameter(key, std::string("io.daxpolicy.") +
			                                       spec->name +
			                                       " takes no such parameter");
	if (spec->streams && !more)
		throw Error(Errc::invalid_argument,
		            std::string(spec->name) + " needs \"more\": true");
	if (spec->mutates && !c.admin())
		throw Error(Errc::permission_denied,
		            std::string(spec->name) + ": only root and members of group '" +
		                d.config().admin_group + "' may change things");
	d.metrics().requests[spec->name]++;
	if (!spec->streams)
		c.begin_call(spec->name);
	return kHandlers[static_cast<size_t>(spec->method)].handle(d, c, p, more);
}

} // namespace daxpolicy::daemon
