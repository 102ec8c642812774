// SPDX-License-Identifier: BSD-3-Clause
#include "policy/engine.hpp"

#include "common/clock.hpp"
#include "common/enum_names.hpp"
#include "common/error.hpp"
#include "fscore/dax_model.hpp"
#include "policy/candidate.hpp"

#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <utility>

namespace daxpolicy::policy
{

using fscore::FileInfo;
using fscore::FileType;

namespace
{

// The job of a rule change: `before` is the rules it changed (Pass::before).
JobOptions after_change(std::shared_ptr<const Matcher> before, bool keeps_changes = false)
{
	JobOptions o;
	o.before = std::move(before);
	o.keeps_changes = keeps_changes;
	return o;
}

// The reason of a change queued because the volume found the file in use by someone else
// without being able to say it is mapped (a host volume's refused write lease).
constexpr const char *kInUseReason = "in use by another process";

constexpr std::array<NameTable<FileState>, 6> kFileStateNames{{
    {FileState::in_sync, "in-sync"},
    {FileState::pending_unmap, "pending-unmap"},
    {FileState::pending_evict, "pending-evict"},
    {FileState::out_of_sync, "out-of-sync"},
    {FileState::unmanaged, "unmanaged"},
    {FileState::unsupported, "unsupported"},
}};
static_assert(names_in_order(kFileStateNames, 6));

} // namespace

const char *file_state_name(FileState state)
{
	return name_of(kFileStateNames, state);
}

std::optional<FileState> file_state_from_name(std::string_view name)
{
	return value_of(kFileStateNames, name);
}

bool ApplyResult::rules_changed() const
{
	return !added.empty() || !removed.empty() || !changed.empty();
}

Engine::Engine(Store &store, std::map<std::string, fscore::Volume *> volumes, Dispatch dispatch,
               Defer defer)
    : store_(store), volumes_(std::move(volumes)), dispatch_(std::move(dispatch)),
      defer_(std::move(defer)), matcher_(std::make_shared<const Matcher>(store.rules())),
      last_job_id_(store.last_job_id())
{
	for (const auto &[name, vol] : volumes_)
		volume_info_[name] = vol->info();
}

void Engine::subscribe(const std::string &volume)
{
	subscriptions_[volume] =
	    volumes_.at(volume)->subscribe([this, volume](const fscore::VolumeEvent &e) {
		    dispatch_([this, volume, e] { on_volume_event(volume, e); });
	    });
}

void Engine::start()
{
	for (const auto &[name, vol] : volumes_)
		subscribe(name);
	for (const auto &change : store_.pending())
		apply_pending(change);
	// A job the last daemon did not finish goes on where its last committed step left it;
	// then everything is judged by the stored rules again, which also covers what changed
	// while no daemon ran.
	for (auto &stored : store_.unfinished_jobs()) {
		JobReport &old = stored.report;
		std::vector<JobScope> rest;
		for (size_t i = stored.next_scope; i < old.scopes.size(); i++)
			if (volumes_.count(
			        old.scopes[i].volume)) // one no longer configured: dropped
				rest.push_back(old.scopes[i]);
		old.state = JobState::interrupted;
		store_.put_job(stored);
		if (!rest.empty()) {
			JobOptions resume;
			resume.resumed_from = old.id;
			submit(std::move(rest), old.cause, {}, resume);
		}
	}
	submit(rule_scopes(*matcher_, std::nullopt), "drift", {});
}

void Engine::set_unavailable(const std::string &volume, const std::string &why)
{
	if (!volumes_.count(volume))
		throw Error(Errc::not_found, "no volume named '" + volume + "'");
	stop_walks_of(volume);
	unavailable_[volume] = why;
	subscriptions_.erase(volume);
}

void Engine::replace_volume(const std::string &volume, fscore::Volume &vol)
{
	if (!volumes_.count(volume))
		throw Error(Errc::not_found, "no volume named '" + volume + "'");
	stop_walks_of(volume);
	volumes_[volume] = &vol;
	volume_info_[volume] = vol.info();
	unavailable_.erase(volume);
	subscribe(volume);
	for (const auto &change : store_.pending())
		if (change.volume == volume)
			apply_pending(change);
	// What changed while it was away (it may be another filesystem now) is brought in
	// line with the rules.
	submit(rule_scopes(*matcher_, volume), "drift", {});
}

size_t Engine::retry_pending(const std::string &volume, size_t at_most)
{
	if (unavailable_.count(volume))
		return 0;
	std::vector<PendingChange> queued;
	for (auto &c : store_.pending())
		if (c.volume == volume)
			queued.push_back(std::move(c));
	if (queued.empty())
		return 0;
	size_t &cursor = retry_cursor_[volume];
	size_t tried = 0;
	for (; tried < at_most && tried < queued.size(); tried++) {
		const PendingChange &change = queued[(cursor + tried) % queued.size()];
		try {
			apply_pending(change);
		} catch (const Error &e) {
			if (e.code() != Errc::not_found)
				report(volume, change.path, e, e.code());
		}
	}
	cursor = (cursor + tried) % queued.size();
	return tried;
}

fscore::Volume &Engine::volume(const std::string &name) const
{
	auto it = volumes_.find(name);
	if (it == volumes_.end())
		throw Error(Errc::not_found, "no volume named '" + name + "'");
	if (auto gone = unavailable_.find(name); gone != unavailable_.end())
		throw Error(Errc::busy, "volume '" + name + "' is unavailable: " + gone->second);
	return *it->second;
}

Event Engine::log(const std::string &type, const std::string &volume, const std::string &path,
                  nlohmann::json data)
{
	flush_batch();
	Event e = store_.append_event(type, volume, path, std::move(data));
	publish({e});
	return e;
}

WriteTransaction Engine::transaction()
{
	flush_batch();
	return WriteTransaction(store_.database());
}

void Engine::flush_batch()
{
	if (!batch_)
		return;
	std::vector<Event> events = std::move(batch_events_);
	batch_events_.clear();
	try {
		batch_->commit();
	} catch (const Error &) {
		// The batch is over either way: a failed one rolls back (the transaction's
		// destructor), losing events of changes made, as a crash would.
		batch_.reset();
		throw;
	}
	batch_.reset();
	publish(events);
}

void Engine::write_logged(const std::function<void(std::vector<Event> &)> &write)
{
	if (batching_) {
		if (!batch_)
			batch_.emplace(store_.database());
		write(batch_events_);
		return;
	}
	std::vector<Event> events;
	WriteTransaction txn = transaction();
	write(events);
	txn.commit();
	publish(events);
}

void Engine::publish(const std::vector<Event> &events)
{
	if (sink_)
		for (const auto &e : events)
			sink_(e);
}

std::vector<PendingChange> Engine::pending() const
{
	auto changes = store_.pending();
	for (auto &c : changes)
		locate(c);
	return changes;
}

void Engine::locate(PendingChange &c) const
{
	auto vol = volumes_.find(c.volume);
	if (vol == volumes_.end())
		return; // a volume not served now: where it was is all there is to say
	if (auto path = vol->second->path_of(c.ino, c.generation))
		c.path = *path;
}

FileView Engine::view(const std::string &volume, const FileInfo &file) const
{
	FileView v{volume, file, std::nullopt, std::nullopt, {}};
	if (refuses_flag(file)) {
		v.state = FileState::unsupported;
		return v;
	}
	if (auto d = matcher_->decide(volume, file.path, file.type == FileType::directory)) {
		v.desired = d->dax;
		v.rule = d->rule->name;
	}
	const fscore::VolumeInfo &vi = volume_info_.at(volume);
	bool expected_effective =
	    fscore::effective_dax(vi.dax_mode, vi.dax_capable, file.type, file.dax_flag);
	if (auto queued = store_.pending_for(volume, file.ino, file.generation))
		// Waiting for mappings to go, or (where the volume cannot tell mappings from
		// opens) for its users to let go, as an eviction waits.
		v.state = queued->reason == kInUseReason ? FileState::pending_evict
		                                         : FileState::pending_unmap;
	else if (file.in_use && file.dax_effective != expected_effective)
		v.state = FileState::pending_evict;
	else if (!v.desired)
		v.state = FileState::unmanaged;
	else if (*v.desired != file.dax_flag)
		v.state = FileState::out_of_sync;
	else
		v.state = FileState::in_sync;
	return v;
}

std::vector<FileView> Engine::list(const std::string &volume, const std::string &path,
                                   bool recursive) const
{
	fscore::Volume &vol = this->volume(volume);
	std::vector<FileView> out;
	if (!recursive) {
		FileInfo file = vol.stat(path);
		// One file asked about: worth the cost of asking who uses it, where the volume
		// does not know (a host volume).
		if (!volume_info_.at(volume).can.reports_mappings)
			vol.count_uses(file);
		out.push_back(view(volume, file));
		return out;
	}
	vol.walk(path, [&](const FileInfo &fi) { out.push_back(view(volume, fi)); });
	return out;
}

namespace
{

nlohmann::json rule_json(const std::optional<std::string> &rule)
{
	return rule ? nlohmann::json(*rule) : nlohmann::json(nullptr);
}

} // namespace

Outcome Engine::change_file(const std::string &volume, const FileInfo &file, bool want,
                            const std::optional<std::string> &rule, bool dry_run, const char *cause,
                            const std::string &inherited_from)
{
	auto planned = plan_change(file, want, rule, dry_run, cause, inherited_from,
	                           store_.pending_for(volume, file.ino, file.generation));
	if (const Outcome *outcome = std::get_if<Outcome>(&planned))
		return *outcome;
	const PlannedChange &change = std::get<PlannedChange>(planned);
	// By identity and only if unmapped, in one step under the volume's lock: the file may
	// have been renamed, or mapped, since `file` was looked at.
	return finish_change(
	    volume, change,
	    this->volume(volume).set_dax_flag_if_unmapped(file.ino, file.generation, want));
}

std::variant<Outcome, Engine::PlannedChange>
Engine::plan_change(const FileInfo &file, bool want, const std::optional<std::string> &rule,
                    bool dry_run, const char *cause, const std::string &inherited_from,
                    std::optional<PendingChange> queued)
{
	if (refuses_flag(file))
		return Outcome::unchanged;
	if (file.dax_flag == want) {
		// Already so: a change queued the other way is no longer wanted.
		if (queued && !dry_run)
			write_logged([&](std::vector<Event> &events) {
				events.push_back(withdraw(*queued, file.path, "withdrawn"));
			});
		return Outcome::unchanged;
	}
	if (dry_run)
		return file.mapped > 0 ? Outcome::deferred : Outcome::applied;
	return PlannedChange{file, want, rule, cause, inherited_from, std::move(queued)};
}

Outcome Engine::finish_change(const std::string &volume, const PlannedChange &c,
                              const fscore::SetFlagResult &result)
{
	using Status = fscore::SetFlagResult::Status;
	const FileInfo &file = c.file;
	switch (result.status) {
	case Status::mapped:
	case Status::in_use:
		// The flag of a mapped file waits: flipping it under a live mapping is what
		// crashed the kernel's fault path. A file the volume cannot see into waits for
		// its last user the same way.
		return defer(volume, file, c.want, c.rule, result, c.queued, c.inherited_from);
	case Status::gone:      // removed since: its `removed` notification drops the queue
	case Status::unchanged: // someone set it meanwhile
		if (c.queued)
			store_.delete_pending(volume, file.ino, file.generation);
		return Outcome::unchanged;
	case Status::applied:
		break;
	}
	nlohmann::json data = {{"from", !c.want},
	                       {"to", c.want},
	                       {"rule", rule_json(c.rule)},
	                       {"deferred_ms", 0},
	                       {"cause", c.cause}};
	if (!c.inherited_from.empty())
		data["inherited_from"] = c.inherited_from;
	if (std::string_view(c.cause) == "request")
		data["conflicts_with"] =
		    rule_json(conflicting_rule(volume, file.path, file.type, c.want));
	record_change(volume, file.ino, file.generation, file.path, std::move(data),
	              c.queued.has_value());
	return Outcome::applied;
}

std::optional<std::string> Engine::conflicting_rule(const std::string &volume,
                                                    const std::string &path, FileType type,
                                                    bool flag) const
{
	auto d = matcher_->decide(volume, path, type == FileType::directory);
	if (d && d->dax != flag)
		return d->rule->name;
	return std::nullopt;
}

void Engine::record_request(const std::string &volume, const FileInfo &file, bool from)
{
	if (file.dax_flag == from)
		return;
	record_change(volume, file.ino, file.generation, file.path,
	              {{"from", from},
	               {"to", file.dax_flag},
	               {"rule", nullptr},
	               {"deferred_ms", 0},
	               {"cause", "request"},
	               {"conflicts_with",
	                rule_json(conflicting_rule(volume, file.path, file.type, file.dax_flag))}},
	              true);
}

Outcome Engine::defer(const std::string &volume, const FileInfo &file, bool want,
                      const std::optional<std::string> &rule, const fscore::SetFlagResult &refused,
                      const std::optional<PendingChange> &queued, const std::string &inherited_from)
{
	if (queued && queued->want == want)
		return Outcome::deferred; // queued and logged once
	uint32_t mappings = refused.mappings;
	std::string reason =
	    refused.status == fscore::SetFlagResult::Status::in_use
	        ? std::string(kInUseReason)
	        : std::to_string(mappings) + " live mapping" + (mappings == 1 ? "" : "s");
	nlohmann::json data = {
	    {"want", want}, {"rule", rule_json(rule)}, {"reason", reason}, {"mapped", mappings}};
	if (!inherited_from.empty())
		data["inherited_from"] = inherited_from;
	// The row and its event together, or neither.
	write_logged([&](std::vector<Event> &events) {
		store_.put_pending({volume, file.ino, file.generation, file.path, want, rule,
		                    unix_now_ms(), reason});
		events.push_back(
		    store_.append_event("deferred", volume, file.path, std::move(data)));
	});
	return Outcome::deferred;
}

void Engine::record_change(const std::string &volume, uint64_t ino, uint64_t generation,
                           const std::string &path, nlohmann::json data, bool maybe_queued)
{
	// The flag is changed first, then its event is logged and its queued change retired,
	// in one transaction: a crash in between leaves the row, which the next start finds
	// done and retires. So the queue never loses a change, and no event claims one that
	// was not made (a crash may lose the event of one that was).
	try {
		write_logged([&](std::vector<Event> &events) {
			events.push_back(
			    store_.append_event("flag-change", volume, path, std::move(data)));
			if (maybe_queued)
				store_.delete_pending(volume, ino, generation);
		});
	} catch (const Error &e) {
		// The queued change is done: retire it without its event if that still works,
		// so the queue says no more than is true.
		try {
			if (maybe_queued)
				store_.delete_pending(volume, ino, generation);
		} catch (const Error &) {
			// Left for the next start, or the file's next notification, to retire.
		}
		throw Error(e.code(), volume + ":" + path +
		                          ": the flag was changed, but the database could not "
		                          "record it: " +
		                          e.what());
	}
}

void Engine::apply_pending(const PendingChange &change)
{
	using Status = fscore::SetFlagResult::Status;
	auto vol = volumes_.find(change.volume);
	if (vol == volumes_.end() || unavailable_.count(change.volume))
		return; // a volume not served now: its changes wait for it
	// A volume that finds a file by identity only where it has seen it (a host volume,
	// after a restart) is shown where the change was queued.
	if (!vol->second->path_of(change.ino, change.generation)) {
		try {
			vol->second->stat(change.path);
		} catch (const Error &) {
			// Not there (any more): judged gone by identity below.
		}
	}
	auto result =
	    vol->second->set_dax_flag_if_unmapped(change.ino, change.generation, change.want);
	switch (result.status) {
	case Status::mapped:
	case Status::in_use:
		return;         // mapped again meanwhile: it waits for that mapping to go
	case Status::gone:      // nothing left to change
	case Status::unchanged: // someone set it meanwhile, or it was applied before a crash
		store_.delete_pending(change.volume, change.ino, change.generation);
		return;
	case Status::applied:
		break;
	}
	std::string path =
	    vol->second->path_of(change.ino, change.generation).value_or(change.path);
	record_change(change.volume, change.ino, change.generation, path,
	              {{"from", !change.want},
	               {"to", change.want},
	               {"rule", rule_json(change.rule)},
	               {"deferred_ms", std::max<int64_t>(0, unix_now_ms() - change.since_ms)},
	               {"cause", "pending"}},
	              true);
}

void Engine::on_volume_event(const std::string &volume, const fscore::VolumeEvent &event)
{
	using Kind = fscore::VolumeEvent::Kind;
	// Runs from the event loop (or, with a synchronous dispatch, from the volume's
	// notification): nothing may escape it.
	try {
		switch (event.kind) {
		case Kind::unmapped:
		case Kind::released:
			if (auto change = store_.pending_for(volume, event.ino, event.generation))
				apply_pending(*change);
			break;
		case Kind::created:
		case Kind::renamed:
			// A file arriving under a rule (created with the wrong inherited flag, or
			// moved in, keeping its own flag) is brought in line: at once, or for a
			// directory moved in with everything in it, by a job.
			on_arrival(volume, event.path);
			break;
		case Kind::removed:
			store_.delete_pending(volume, event.ino, event.generation);
			break;
		case Kind::lease_break:
		case Kind::lease_revoked: {
			const auto &l = *event.lease;
			nlohmann::json data = {
			    {"op", l.op},
			    {"holder", {{"pid", l.pid}, {"uid", l.uid}}},
			    {"range", {{"offset", l.offset}, {"length", l.length}}},
			    {"waited_ms", l.waited_ms},
			    {"outcome", l.outcome}};
			if (l.breaker_pid)
				data["breaker"] = {{"pid", l.breaker_pid}};
			log(event.kind == Kind::lease_break ? "lease-break" : "lease-revoked",
			    volume, event.path, std::move(data));
			break;
		}
		case Kind::overflow:
			// Events were lost: any queued file may have been let go, any file under
			// a rule made or moved, unheard of. Everything is looked at again.
			log("volume", volume, "/", {{"action", "events-lost"}});
			retry_pending(volume, SIZE_MAX);
			submit(rule_scopes(*matcher_, volume), "drift", {});
			break;
		}
	} catch (const Error &e) {
		// The file went again before its notification was handled (not-found): there
		// is nothing to do. Anything else is worth a line in the log.
		if (e.code() != Errc::not_found)
			report(volume, event.path, e, e.code());
	} catch (const std::exception &e) {
		report(volume, event.path, e, Errc::internal);
	}
}

void Engine::report(const std::string &volume, const std::string &path, const std::exception &e,
                    Errc code) noexcept
{
	try {
		log("volume", volume, path, {{"error", errc_name(code)}, {"message", e.what()}});
	} catch (const std::exception &again) {
		std::cerr << "daxpolicyd: " << volume << ":" << path << ": " << e.what()
		          << " (and the event log failed too: " << again.what() << ")\n";
	}
}

std::vector<std::pair<FileView, Outcome>>
Engine::request_flag(const std::string &volume, const std::string &path, bool recursive, bool on)
{
	fscore::Volume &vol = this->volume(volume);
	std::vector<FileInfo> files;
	if (recursive)
		vol.walk(path, [&](const FileInfo &fi) { files.push_back(fi); });
	else
		files.push_back(vol.stat(path));
	// One file asked for by name that cannot carry the flag is refused; a tree's such files
	// are passed over (and listed `unsupported`).
	if (!recursive && refuses_flag(files.front()))
		throw Error(Errc::unsupported, volume + ":" + path +
		                                   " cannot carry the DAX flag: " +
		                                   (files.front().unsupported.empty()
		                                        ? "not a regular file or directory"
		                                        : files.front().unsupported));
	std::vector<std::pair<FileView, Outcome>> out;
	for (const auto &fi : files) {
		Outcome o = change_file(volume, fi, on, std::nullopt, false, "request");
		out.emplace_back(view(volume, vol.stat(fi.path)), o);
	}
	return out;
}

void Engine::validate_for_volumes(const Rule &rule) const
{
	if (auto problem = validate_rule(rule))
		throw Error(Errc::invalid_argument, "rule '" + rule.name + "': " + *problem);
	if (!volumes_.count(rule.volume))
		throw Error(Errc::invalid_argument, "rule '" + rule.name +
		                                        "': volume: no volume named '" +
		                                        rule.volume + "'");
}

Rule Engine::add_rule(Rule rule, JobDone done, bool replace)
{
	rule.source.clear();
	validate_for_volumes(rule);
	std::optional<Rule> old = replace ? store_.rule(rule.name) : std::nullopt;
	if (old && old->managed())
		throw invalid_content("rule '" + rule.name + "' comes from " + old->source +
		                      "; change it there and run `daxpolicy apply`");
	{
		// The rule and its event together, or neither.
		WriteTransaction txn = transaction();
		if (old)
			store_.update_rule(rule);
		else
			store_.insert_rule(rule);
		Event e = store_.append_event("rule-change", rule.volume, rule.subtree,
		                              {{"rule", rule.name},
		                               {"action", old ? "changed" : "added"},
		                               {"source", nullptr}});
		txn.commit();
		publish({e});
	}
	// From what was committed, not read back: a failed read must not leave the engine
	// deciding by other rules than the store holds.
	std::vector<Rule> next;
	for (const auto &r : matcher_->rules())
		if (r.name != rule.name)
			next.push_back(r);
	next.push_back(rule);
	auto before = std::exchange(matcher_, std::make_shared<const Matcher>(std::move(next)));
	// Only files in its subtree (and, changed, its old one) can be decided by it.
	std::vector<JobScope> scopes = {{rule.volume, rule.subtree}};
	if (old)
		scopes.push_back({old->volume, old->subtree});
	submit(outermost(std::move(scopes)), "rule", std::move(done), after_change(before));
	return rule;
}

void Engine::remove_rules(const std::vector<std::string> &names, JobDone done)
{
	if (names.empty())
		throw Error(Errc::invalid_argument, "name at least one rule to remove");
	// Every name is checked before anything goes: one that is wrong removes none.
	std::vector<Rule> removed;
	std::set<std::string> gone;
	for (const auto &name : names) {
		auto rule = store_.rule(name);
		if (!rule)
			throw Error(Errc::not_found, "no rule named '" + name + "'");
		if (rule->managed())
			throw invalid_content("rule '" + name + "' comes from " + rule->source +
			                      "; remove it there and run `daxpolicy apply`");
		if (gone.insert(name).second)
			removed.push_back(std::move(*rule));
	}
	std::vector<Rule> remaining;
	for (const auto &r : matcher_->rules())
		if (!gone.count(r.name))
			remaining.push_back(r);
	auto next = std::make_shared<const Matcher>(std::move(remaining));
	{
		std::vector<Event> events;
		WriteTransaction txn = transaction();
		// Withdraw the rules' queued changes before they go: deleting one sets their rule
		// to NULL (ON DELETE SET NULL), after which they would pass for set-dax requests.
		drop_stale_pending(*next, events);
		for (const auto &rule : removed) {
			store_.delete_rule(rule.name);
			events.push_back(store_.append_event(
			    "rule-change", rule.volume, rule.subtree,
			    {{"rule", rule.name}, {"action", "removed"}, {"source", nullptr}}));
		}
		txn.commit();
		publish(events);
	}
	auto before = std::exchange(matcher_, std::move(next));
	// The files they decided are judged by the rules that remain: one job over their
	// subtrees, each file once.
	std::vector<JobScope> scopes;
	for (const auto &rule : removed)
		scopes.push_back({rule.volume, rule.subtree});
	submit(outermost(std::move(scopes)), "rule", std::move(done), after_change(before));
}

void Engine::drop_stale_pending(const Matcher &matcher, std::vector<Event> &events)
{
	// A queued change made for a rule that no longer wants it is withdrawn. The file is
	// judged where it is now: it may have been renamed since the change was queued.
	for (const auto &change : store_.pending()) {
		if (!change.rule)
			continue;
		auto vol = volumes_.find(change.volume);
		auto path = vol == volumes_.end()
		                ? std::nullopt
		                : vol->second->path_of(change.ino, change.generation);
		const Rule *r = path ? matcher.match(change.volume, *path, false) : nullptr;
		if (!r || r->dax != change.want)
			events.push_back(withdraw(change, path.value_or(change.path), "withdrawn"));
	}
}

Event Engine::withdraw(const PendingChange &change, const std::string &path, const char *action)
{
	store_.delete_pending(change.volume, change.ino, change.generation);
	return store_.append_event(
	    "deferred", change.volume, path,
	    {{"want", change.want},
	     {"rule", rule_json(change.rule)},
	     {"action", action},
	     {"waited_ms", std::max<int64_t>(0, unix_now_ms() - change.since_ms)}});
}

void Engine::note_change(Pass &pass, const FileInfo &fi, bool want,
                         const std::optional<std::string> &rule, Outcome outcome)
{
	if (pass.changes && outcome != Outcome::unchanged)
		pass.changes->push_back({pass.volume, fi.path, fi.dax_flag, want, rule, outcome});
}

std::variant<Outcome, Engine::PlannedChange> Engine::plan(Pass &pass, const FileInfo &fi,
                                                          std::optional<PendingChange> queued)
{
	auto c = candidate(*pass.matcher, pass.volume, fi, pass.cleared);
	if (!c)
		return Outcome::unchanged;
	// No rule: the flag came from a directory the pass clears, and goes with it.
	bool want = c->decision ? c->decision->dax : false;
	std::optional<std::string> rule;
	if (c->decision)
		rule = c->decision->rule->name;
	// The rules before a rule change wanted this flag too: the file had drifted.
	const char *cause = pass.cause.c_str();
	if (pass.before && c->decision) {
		auto was =
		    pass.before->decide(pass.volume, fi.path, fi.type == FileType::directory);
		if (was && was->dax == want)
			cause = "drift";
	}
	auto planned = plan_change(fi, want, rule, pass.dry_run, cause,
	                           c->decision ? std::string() : std::string(parent_of(fi.path)),
	                           std::move(queued));
	if (const Outcome *outcome = std::get_if<Outcome>(&planned))
		note_change(pass, fi, want, rule, *outcome); // a dry run's is decided here
	return planned;
}

Outcome Engine::evaluate(Pass &pass, const FileInfo &fi)
{
	auto planned = plan(pass, fi, store_.pending_for(pass.volume, fi.ino, fi.generation));
	if (const Outcome *outcome = std::get_if<Outcome>(&planned))
		return *outcome;
	const PlannedChange &c = std::get<PlannedChange>(planned);
	Outcome outcome = finish_change(
	    pass.volume, c,
	    volume(pass.volume).set_dax_flag_if_unmapped(fi.ino, fi.generation, c.want));
	note_change(pass, c.file, c.want, c.rule, outcome);
	return outcome;
}

void Engine::evaluate_all(Pass &pass, const std::vector<FileInfo> &files, FileCounts &counts)
{
	// The files' queued changes, read at once: the step is alone on the queue until it
	// ends, so what is read here stays true for its files.
	std::vector<uint64_t> inos;
	inos.reserve(files.size());
	for (const auto &fi : files)
		inos.push_back(fi.ino);
	std::map<std::pair<uint64_t, uint64_t>, PendingChange> queued;
	for (auto &c : store_.pending_among(pass.volume, inos))
		queued.emplace(std::pair(c.ino, c.generation), std::move(c));
	std::vector<PlannedChange> planned;
	for (const auto &fi : files) {
		std::optional<PendingChange> its;
		if (auto q = queued.find({fi.ino, fi.generation}); q != queued.end())
			its = q->second;
		auto p = plan(pass, fi, std::move(its));
		if (const Outcome *outcome = std::get_if<Outcome>(&p))
			counts.add(*outcome);
		else
			planned.push_back(std::move(std::get<PlannedChange>(p)));
	}
	if (planned.empty())
		return;
	std::vector<fscore::FlagChange> changes;
	changes.reserve(planned.size());
	for (const auto &c : planned)
		changes.push_back({c.file.ino, c.file.generation, c.want});
	auto results = volume(pass.volume).set_dax_flags_if_unmapped(changes);
	for (size_t i = 0; i < planned.size(); i++) {
		try {
			Outcome outcome = finish_change(pass.volume, planned[i], results[i]);
			note_change(pass, planned[i].file, planned[i].want, planned[i].rule,
			            outcome);
			counts.add(outcome);
		} catch (const Error &e) {
			if (e.code() != Errc::not_found) // gone since the walk saw it
				throw;
		}
	}
}

void Engine::on_arrival(const std::string &volume, const std::string &path)
{
	FileInfo fi = this->volume(volume).stat(path);
	if (fi.type == FileType::directory) {
		submit({{volume, path}}, "rule", {});
		return;
	}
	Pass pass{matcher_, volume, "rule", false, {}, nullptr, nullptr};
	evaluate(pass, fi);
}

std::vector<JobScope> outermost(std::vector<JobScope> scopes)
{
	std::sort(scopes.begin(), scopes.end(), [](const JobScope &a, const JobScope &b) {
		return std::tie(a.volume, a.path) < std::tie(b.volume, b.path);
	});
	// In byte order a subtree comes after any subtree it is inside.
	std::vector<JobScope> out;
	for (auto &scope : scopes) {
		bool inside = std::any_of(out.begin(), out.end(), [&](const JobScope &o) {
			return o.volume == scope.volume && (o.path == "/" || o.path == scope.path ||
			                                    scope.path.rfind(o.path + "/", 0) == 0);
		});
		if (!inside)
			out.push_back(std::move(scope));
	}
	return out;
}

std::vector<JobScope> Engine::rule_scopes(const Matcher &matcher,
                                          const std::optional<std::string> &volume) const
{
	std::vector<JobScope> scopes;
	for (const auto &[name, vol] : volumes_) {
		if (volume && name != *volume)
			continue;
		for (const auto &r : matcher.rules())
			if (r.volume == name)
				scopes.push_back({name, r.subtree});
	}
	return outermost(std::move(scopes));
}

uint64_t Engine::reconcile(const std::optional<std::string> &volume,
                           const std::optional<std::string> &path, JobDone done)
{
	if (volume)
		this->volume(*volume); // not-found, busy
	write_logged([&](std::vector<Event> &events) { drop_stale_pending(*matcher_, events); });
	if (volume && path) {
		this->volume(*volume).stat(*path); // not-found now, rather than in the job
		return submit({{*volume, *path}}, "drift", std::move(done));
	}
	return submit(rule_scopes(*matcher_, volume), "drift", std::move(done));
}

ApplyResult Engine::apply(const std::vector<Rule> &managed, bool dry_run, JobDone done)
{
	std::map<std::string, Rule> current;
	for (const auto &r : store_.rules())
		current.emplace(r.name, r);
	ApplyResult result;
	std::set<std::string> wanted;
	for (const auto &r : managed) {
		try {
			validate_for_volumes(r);
		} catch (const Error &e) {
			throw invalid_content(e.what()); // the policy files are wrong, not the call
		}
		wanted.insert(r.name);
		auto it = current.find(r.name);
		if (it == current.end())
			result.added.push_back(r.name);
		else if (!it->second.managed())
			throw Error(Errc::exists, "rule '" + r.name + "' in " + r.source +
			                              " has the name of a local rule");
		else if (it->second == r)
			result.unchanged.push_back(r.name);
		else
			result.changed.push_back(r.name);
	}
	for (const auto &[name, r] : current)
		if (r.managed() && !wanted.count(name))
			result.removed.push_back(name);

	std::vector<Rule> next;
	for (const auto &[name, r] : current)
		if (!r.managed())
			next.push_back(r);
	next.insert(next.end(), managed.begin(), managed.end());
	auto candidate = std::make_shared<const Matcher>(next);
	if (dry_run) {
		JobOptions plan = after_change(matcher_, true);
		plan.plan = candidate;
		submit(rule_scopes(*candidate, std::nullopt), "rule", std::move(done), plan);
		return result;
	}
	auto rule_events = [&](const std::vector<std::string> &names, const char *action,
	                       bool from_new, std::vector<Event> &events) {
		for (const auto &name : names) {
			const Rule &r =
			    from_new ? *std::find_if(managed.begin(), managed.end(),
			                             [&](const Rule &m) { return m.name == name; })
			             : current.at(name);
			events.push_back(store_.append_event(
			    "rule-change", r.volume, r.subtree,
			    {{"rule", name}, {"action", action}, {"source", r.source}}));
		}
	};
	{
		// The rules, their events and the withdrawal of queued changes they no longer
		// want: all of it, or none.
		std::vector<Event> events;
		WriteTransaction txn = transaction();
		// As in remove_rule: withdraw before the rules (and their names) go.
		drop_stale_pending(*candidate, events);
		for (const auto &r : managed) {
			if (!current.count(r.name))
				store_.insert_rule(r);
			else if (!(current.at(r.name) == r))
				store_.update_rule(r);
		}
		for (const auto &name : result.removed)
			store_.delete_rule(name);
		rule_events(result.added, "added", true, events);
		rule_events(result.changed, "changed", true, events);
		rule_events(result.removed, "removed", false, events);
		txn.commit();
		publish(events);
	}
	auto before = std::exchange(matcher_, std::move(candidate));
	submit(rule_scopes(*matcher_, std::nullopt), "rule", std::move(done),
	       after_change(before, true));
	return result;
}

void Engine::cancel_pending(const std::string &volume, const std::string &path)
{
	FileInfo fi = this->volume(volume).stat(path);
	auto queued = store_.pending_for(volume, fi.ino, fi.generation);
	if (!queued)
		throw Error(Errc::not_found, volume + ":" + path + ": no pending change");
	// The row and its event together: a withdrawn change is in the log as a made one is.
	write_logged([&](std::vector<Event> &events) {
		events.push_back(withdraw(*queued, fi.path, "cancelled"));
	});
}

} // namespace daxpolicy::policy
