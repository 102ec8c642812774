// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/methods.hpp"

#include "common/error.hpp"
#include "daemon/connection.hpp"
#include "daemon/daemon.hpp"
#include "daemon/params.hpp"
#include "daemon/views.hpp"
#include "policy/policy_file.hpp"
#include "wire/interface.hpp"
#include "wire/varlink.hpp"

#include <array>
#include <boost/asio/post.hpp>
#include <daxpolicy/version.hpp>
#include <functional>
#include <sstream>

namespace daxpolicy::daemon
{

namespace
{

using nlohmann::json;
namespace param = wire::param;
namespace reply = wire::reply;
// A handler returns the reply, or nothing when the reply comes later (Connection::defer_reply).
using Handler = std::optional<json> (*)(Daemon &, Connection &, const Params &);

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
// the job's report. With the daemon's loop a job never ends within the call that starts
// it.
void reply_when_done(const std::shared_ptr<Connection> &conn,
                     const std::function<void(policy::Engine::JobDone)> &start,
                     std::function<json(const policy::JobReport &)> answer)
{
	try {
		start([conn, answer = std::move(answer)](const policy::JobReport &r) {
			conn->finish_deferred([&] {
				if (r.state == policy::JobState::failed)
					throw Error(Errc::internal,
					            "the reconcile failed: " + r.error);
				return answer(r);
			});
		});
	} catch (...) {
		auto error = std::current_exception();
		conn->finish_deferred([&]() -> json { std::rethrow_exception(error); });
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

// The files of a reply, counted as they are added: a reply that would be larger than a
// message may be fails as soon as it is, rather than after it was built whole.
class FileList
{
      public:
	void push_back(json file)
	{
		bytes_ += file.dump(-1, ' ', false, json::error_handler_t::replace).size() + 1;
		if (bytes_ > wire::kMaxMessage)
			throw wire::oversized_reply();
		files_.push_back(std::move(file));
	}
	json take() { return std::move(files_); }

      private:
	json files_ = json::array();
	size_t bytes_ = 0;
};

json list(Daemon &d, Connection &, const Params &p)
{
	FileList out;
	bool recursive = p.boolean(param::recursive);
	for (const auto &name : paths_of(p)) {
		auto [vol, path] = d.file_of(name);
		for (const auto &v : d.engine().list(vol, path, recursive))
			out.push_back(file_json(v));
	}
	return {{reply::files, out.take()}};
}

json set_flag(Daemon &d, const Params &p, bool on)
{
	FileList out;
	bool recursive = p.boolean(param::recursive);
	// Every name is checked before anything changes: a bad one fails the whole call.
	std::vector<std::pair<std::string, std::string>> targets;
	for (const auto &name : paths_of(p)) {
		targets.push_back(d.file_of(name));
		d.engine().volume(targets.back().first).stat(targets.back().second);
	}
	for (const auto &[vol, path] : targets)
		for (const auto &[view, outcome] :
		     d.engine().request_flag(vol, path, recursive, on)) {
			json j = file_json(view);
			j["result"] = policy::outcome_name(outcome);
			out.push_back(std::move(j));
		}
	return {{reply::files, out.take()}};
}

std::optional<json> add_rule(Daemon &d, Connection &c, const Params &p)
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
	    [&](policy::Engine::JobDone done) { *added = d.engine().add_rule(r, std::move(done)); },
	    [added](const policy::JobReport &job) {
		    return json{{reply::rule, rule_json(*added)},
		                {reply::files, policy::counts_json(job.files)},
		                {reply::job, job.to_json()}};
	    });
	return std::nullopt;
}

json list_rules(Daemon &d, Connection &, const Params &)
{
	json out = json::array();
	for (const auto &r : d.engine().rules())
		out.push_back(rule_json(r));
	return {{reply::rules, out}};
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
	throw Error(Errc::invalid_argument, message);
}

// The files are read off the event loop (any path may be named, and reading one may be
// slow); the rules are applied on it, where the engine lives, and the reply follows when
// the job that brings the files in line has ended.
std::optional<json> apply(Daemon &d, Connection &c, const Params &p)
{
	std::string dir = p.opt_string(param::policy_dir).value_or(d.config().policy_dir.string());
	bool dry_run = p.boolean(param::dry_run);
	d.load_policy(dir, [&d, conn = c.defer_reply(), dry_run](policy::PolicyLoad load) {
		auto rules = std::make_shared<policy::ApplyResult>();
		reply_when_done(
		    conn,
		    [&](policy::Engine::JobDone done) {
			    check_loaded(load);
			    *rules = d.engine().apply(load.rules, dry_run, std::move(done));
		    },
		    [rules, dry_run](const policy::JobReport &r) {
			    return json{{"changed", rules->rules_changed() || r.files.applied ||
			                                r.files.deferred},
			                {"dry_run", dry_run},
			                {"rules",
			                 {{"added", rules->added},
			                  {"removed", rules->removed},
			                  {"changed", rules->changed},
			                  {"unchanged", rules->unchanged}}},
			                {reply::files, policy::counts_json(r.files)},
			                {reply::job, r.to_json()}};
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
std::optional<json> reconcile(Daemon &d, Connection &c, const Params &p)
{
	auto [vol, path] = optional_file_name(d, p);
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

json list_pending(Daemon &d, Connection &, const Params &)
{
	json out = json::array();
	for (const auto &c : d.engine().pending())
		out.push_back(pending_json(c));
	return {{reply::pending, out}};
}

json cancel_pending(Daemon &d, Connection &, const Params &p)
{
	auto [vol, path] = d.file_of(p.string(param::path));
	d.engine().cancel_pending(vol, path);
	return json::object();
}

// `reconcile`: a job's summary.
const std::set<std::string> kEventTypes = {"flag-change",   "deferred",    "lease-break",
                                           "lease-revoked", "rule-change", "volume",
                                           "reconcile"};

std::optional<std::string> event_type(const Params &p)
{
	auto type = p.opt_string(param::type);
	if (type && !kEventTypes.count(*type))
		throw Error(Errc::invalid_argument, "type: unknown event type '" + *type + "'");
	return type;
}

json list_events(Daemon &d, Connection &, const Params &p)
{
	policy::EventQuery q;
	q.type = event_type(p);
	if (auto since = p.opt_string(param::since)) {
		q.since_ms = policy::parse_rfc3339(*since);
		if (!q.since_ms)
			throw Error(Errc::invalid_argument, "since: '" + *since +
			                                        "' is not an ISO 8601 time "
			                                        "(2026-11-23T10:00:00Z)");
	}
	q.limit = p.opt_integer(param::limit);
	if (q.limit && *q.limit < 0)
		throw Error(Errc::invalid_argument, "limit: must not be negative");
	json out = json::array();
	for (const auto &e : d.store().events(q))
		out.push_back(e.to_json());
	return {{reply::events, out}};
}

// The reply to an io command, on the event loop once the session's thread is done with it.
json finish_io(Daemon &d, const std::string &volume, IoResult &result)
{
	if (result.error)
		throw Error(result.error->first, result.error->second);
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

json list_leases(Daemon &d, Connection &, const Params &p)
{
	auto [only_volume, path] = optional_file_name(d, p);
	if (only_volume)
		d.volume(*only_volume, &fscore::VolumeCapabilities::layout_leases, "layout leases");
	json out = json::array();
	for (const auto &[name, vol] : d.engine().volumes()) {
		if ((only_volume && name != *only_volume) || !vol->info().can.layout_leases)
			continue;
		for (const auto &l : vol->leases(path))
			out.push_back({{"path", file_name(name, l.path)},
			               {"ino", l.ino},
			               {"holder", {{"pid", l.holder.pid}, {"uid", l.holder.uid}}},
			               {"range", {{"offset", l.offset}, {"length", l.length}}},
			               {"since", policy::rfc3339_from_ms(l.since_ms)},
			               {"kind", fscore::lease_kind_name(l.kind)},
			               {"state", fscore::lease_state_name(l.state)}});
	}
	return {{reply::leases, out}};
}

json metrics(Daemon &d, Connection &, const Params &)
{
	std::ostringstream out;
	const Metrics &m = d.metrics();
	auto family = [&](const char *name, const char *type, const char *help) {
		out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type
		    << "\n";
	};
	family("daxpolicy_uptime_seconds", "gauge", "Seconds since daxpolicyd started.");
	out << "daxpolicy_uptime_seconds " << d.uptime_s() << "\n";
	family("daxpolicy_requests_total", "counter", "Calls answered, by method.");
	for (const auto &[k, v] : m.requests)
		out << "daxpolicy_requests_total{method=\"" << k << "\"} " << v << "\n";
	family("daxpolicy_request_errors_total", "counter", "Calls that failed, by error code.");
	for (const auto &[k, v] : m.errors)
		out << "daxpolicy_request_errors_total{code=\"" << k << "\"} " << v << "\n";
	family("daxpolicy_events_total", "counter", "Events logged since start, by type.");
	for (const auto &[k, v] : m.events)
		out << "daxpolicy_events_total{type=\"" << k << "\"} " << v << "\n";
	family("daxpolicy_connections", "gauge", "Open client connections.");
	out << "daxpolicy_connections " << m.connections_open << "\n";
	family("daxpolicy_connections_rejected_total", "counter",
	       "Connections refused because max_connections were open.");
	out << "daxpolicy_connections_rejected_total " << m.connections_rejected << "\n";
	family("daxpolicy_connections_idle_closed_total", "counter",
	       "Connections closed after idle_timeout without a call.");
	out << "daxpolicy_connections_idle_closed_total " << m.connections_idle_closed << "\n";
	family("daxpolicy_monitors_dropped_total", "counter",
	       "Monitors dropped for leaving too many events unread.");
	out << "daxpolicy_monitors_dropped_total " << m.monitors_dropped << "\n";
	family("daxpolicy_rules", "gauge", "Rules in the store.");
	out << "daxpolicy_rules " << d.store().count("rules") << "\n";
	family("daxpolicy_pending_changes", "gauge", "Flag changes waiting for unmap.");
	out << "daxpolicy_pending_changes " << d.store().count("pending") << "\n";
	family("daxpolicy_volume_files", "gauge", "Files and directories on each volume.");
	for (const auto &[name, vol] : d.engine().volumes())
		out << "daxpolicy_volume_files{volume=\"" << name << "\"} " << vol->info().files
		    << "\n";
	return {{reply::text, out.str()}};
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
		throw Error(Errc::not_found, "no interface '" + name + "'");
	return {{reply::description, wire::interface_description()}};
}

// Monitor replies through the connection: each event, for as long as the caller listens.
std::optional<json> monitor(Daemon &d, Connection &c, const Params &p)
{
	c.monitor_type = event_type(p);
	c.monitoring = true;
	d.add_monitor(c.shared_from_this());
	return std::nullopt;
}

std::optional<json> io(Daemon &d, Connection &c, const Params &p)
{
	start_io(d, c, p);
	return std::nullopt;
}

std::optional<json> remove_rule(Daemon &d, Connection &c, const Params &p)
{
	std::string name = p.string(param::name);
	reply_when_done(
	    c.defer_reply(),
	    [&](policy::Engine::JobDone done) { d.engine().remove_rule(name, std::move(done)); },
	    [](const policy::JobReport &job) {
		    return json{{reply::files, policy::counts_json(job.files)},
		                {reply::job, job.to_json()}};
	    });
	return std::nullopt;
}

// The handler of each method of wire::kMethods, in the same order.
// A method whose reply is always one object.
template <json (*Reply)(Daemon &, Connection &, const Params &)>
std::optional<json> replies(Daemon &d, Connection &c, const Params &p)
{
	return Reply(d, c, p);
}

json set_dax(Daemon &d, Connection &, const Params &p)
{
	return set_flag(d, p, true);
}

json clear_dax(Daemon &d, Connection &, const Params &p)
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
    {wire::Method::list, replies<list>},
    {wire::Method::set_dax, replies<set_dax>},
    {wire::Method::clear_dax, replies<clear_dax>},
    {wire::Method::add_rule, add_rule},       // replies when its job has ended
    {wire::Method::remove_rule, remove_rule}, // replies when its job has ended
    {wire::Method::list_rules, replies<list_rules>},
    {wire::Method::apply, apply},         // replies when the policy files are read, off the loop
    {wire::Method::reconcile, reconcile}, // replies when its job has ended
    {wire::Method::list_pending, replies<list_pending>},
    {wire::Method::cancel_pending, replies<cancel_pending>},
    {wire::Method::list_events, replies<list_events>},
    {wire::Method::monitor, monitor},
    {wire::Method::list_leases, replies<list_leases>},
    {wire::Method::io, io},
    {wire::Method::metrics, replies<metrics>},
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
		throw Error(Errc::not_found, "no method '" + method + "'");
	if (spec->streams && !more)
		throw Error(Errc::invalid_argument,
		            std::string(spec->name) + " needs \"more\": true");
	if (spec->mutates && !c.admin())
		throw Error(Errc::permission_denied,
		            std::string(spec->name) + ": only root and members of group '" +
		                d.config().admin_group + "' may change things");
	d.metrics().requests[spec->name]++;
	return kHandlers[static_cast<size_t>(spec->method)].handle(d, c, p);
}

} // namespace daxpolicy::daemon
