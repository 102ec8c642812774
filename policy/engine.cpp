#include "policy/engine.hpp"

#include "fscore/error.hpp"

#include <algorithm>
#include <set>

namespace daxpolicy::policy
{

using fscore::FileInfo;
using fscore::FileType;

const char *outcome_name(Outcome outcome)
{
	switch (outcome) {
	case Outcome::applied:
		return "applied";
	case Outcome::deferred:
		return "deferred";
	case Outcome::unchanged:
		return "unchanged";
	}
	return "unchanged";
}

void FileCounts::add(Outcome outcome)
{
	(outcome == Outcome::applied    ? applied
	 : outcome == Outcome::deferred ? deferred
	                                : unchanged)++;
}

bool ApplyResult::changed_anything() const
{
	return !added.empty() || !removed.empty() || !changed.empty() || files.applied ||
	       files.deferred;
}

Engine::Engine(Store &store, std::map<std::string, fscore::Volume *> volumes, Dispatch dispatch)
    : store_(store), volumes_(std::move(volumes)), dispatch_(std::move(dispatch)),
      matcher_(store.rules())
{
	for (const auto &[name, vol] : volumes_)
		volume_info_[name] = vol->info();
}

void Engine::start()
{
	for (const auto &[name, vol] : volumes_) {
		std::string volume = name;
		subscriptions_.push_back(
		    vol->subscribe([this, volume](const fscore::VolumeEvent &e) {
			    dispatch_([this, volume, e] { on_volume_event(volume, e); });
		    }));
	}
	for (const auto &change : store_.pending())
		apply_pending(change);
}

fscore::Volume &Engine::volume(const std::string &name) const
{
	auto it = volumes_.find(name);
	if (it == volumes_.end())
		throw Error(Errc::not_found, "no volume named '" + name + "'");
	return *it->second;
}

Event Engine::log(const std::string &type, const std::string &volume, const std::string &path,
                  nlohmann::json data)
{
	Event e = store_.append_event(type, volume, path, std::move(data));
	if (sink_)
		sink_(e);
	return e;
}

FileView Engine::view(const std::string &volume, const FileInfo &file) const
{
	FileView v{volume, file, std::nullopt, std::nullopt, {}};
	if (file.type == FileType::other) {
		v.state = "unsupported";
		return v;
	}
	if (const Rule *r = matcher_.match(volume, file.path, file.type == FileType::directory)) {
		v.desired = r->dax;
		v.rule = r->name;
	}
	const fscore::VolumeInfo &vi = volume_info_.at(volume);
	bool expected_effective = false;
	if (file.type == FileType::regular && vi.dax_capable)
		expected_effective = vi.dax_mode == fscore::DaxMode::always ||
		                     (vi.dax_mode == fscore::DaxMode::inode && file.dax_flag);
	if (store_.pending_for(volume, file.ino, file.generation))
		v.state = "pending-unmap";
	else if (file.in_use && file.dax_effective != expected_effective)
		v.state = "pending-evict";
	else if (!v.desired)
		v.state = "unmanaged";
	else if (*v.desired != file.dax_flag)
		v.state = "out-of-sync";
	else
		v.state = "in-sync";
	return v;
}

std::vector<FileView> Engine::list(const std::string &volume, const std::string &path,
                                   bool recursive) const
{
	fscore::Volume &vol = this->volume(volume);
	std::vector<FileView> out;
	if (!recursive) {
		out.push_back(view(volume, vol.stat(path)));
		return out;
	}
	vol.walk(path, [&](const FileInfo &fi) { out.push_back(view(volume, fi)); });
	return out;
}

Outcome Engine::change_file(const std::string &volume, const FileInfo &file, bool want,
                            const std::optional<std::string> &rule, bool dry_run)
{
	if (file.type == FileType::other)
		return Outcome::unchanged;
	auto queued = store_.pending_for(volume, file.ino, file.generation);
	if (file.dax_flag == want) {
		// Already so: a change queued the other way is no longer wanted.
		if (queued && !dry_run)
			store_.delete_pending(volume, file.ino, file.generation);
		return Outcome::unchanged;
	}
	if (file.type == FileType::regular && file.mapped > 0) {
		// The flag of a mapped file waits: flipping it under a live mapping is what
		// crashed the kernel's fault path.
		if (dry_run || (queued && queued->want == want))
			return Outcome::deferred;
		std::string reason =
		    std::to_string(file.mapped) + " live mapping" + (file.mapped == 1 ? "" : "s");
		store_.put_pending({volume, file.ino, file.generation, file.path, want, rule,
		                    unix_ms_now(), reason});
		log("deferred", volume, file.path,
		    {{"want", want},
		     {"rule", rule ? nlohmann::json(*rule) : nullptr},
		     {"reason", reason},
		     {"mapped", file.mapped}});
		return Outcome::deferred;
	}
	if (dry_run)
		return Outcome::applied;
	this->volume(volume).set_dax_flag(file.path, want);
	if (queued)
		store_.delete_pending(volume, file.ino, file.generation);
	log("flag-change", volume, file.path,
	    {{"from", file.dax_flag},
	     {"to", want},
	     {"rule", rule ? nlohmann::json(*rule) : nullptr},
	     {"deferred_ms", 0}});
	return Outcome::applied;
}

void Engine::apply_pending(const PendingChange &change)
{
	fscore::Volume *vol = volumes_.count(change.volume) ? volumes_.at(change.volume) : nullptr;
	std::optional<std::string> path =
	    vol ? vol->path_of(change.ino, change.generation) : std::nullopt;
	if (!path) {
		// The file (or its volume) is gone: nothing left to change.
		store_.delete_pending(change.volume, change.ino, change.generation);
		return;
	}
	FileInfo fi = vol->stat(*path);
	if (fi.mapped > 0)
		return;
	store_.delete_pending(change.volume, change.ino, change.generation);
	if (fi.dax_flag == change.want)
		return; // someone set it meanwhile: nothing to change, nothing to log
	vol->set_dax_flag(*path, change.want);
	log("flag-change", change.volume, *path,
	    {{"from", fi.dax_flag},
	     {"to", change.want},
	     {"rule", change.rule ? nlohmann::json(*change.rule) : nullptr},
	     {"deferred_ms", std::max<int64_t>(0, unix_ms_now() - change.since_ms)}});
}

void Engine::on_volume_event(const std::string &volume, const fscore::VolumeEvent &event)
{
	using Kind = fscore::VolumeEvent::Kind;
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
			// moved in, keeping its own flag) is brought in line.
			reconcile_tree(matcher_, volume, event.path, false);
			break;
		case Kind::removed:
			store_.delete_pending(volume, event.ino, event.generation);
			break;
		case Kind::lease_break:
		case Kind::lease_revoked: {
			const auto &l = *event.lease;
			log(event.kind == Kind::lease_break ? "lease-break" : "lease-revoked",
			    volume, event.path,
			    {{"op", l.op},
			     {"holder", {{"pid", l.pid}, {"uid", l.uid}}},
			     {"range", {{"offset", l.offset}, {"length", l.length}}},
			     {"waited_ms", l.waited_ms},
			     {"outcome", l.outcome}});
			break;
		}
		}
	} catch (const Error &e) {
		// The file went again before its notification was handled (not-found): there
		// is nothing to do. Anything else is worth a line in the log.
		if (e.code() != Errc::not_found)
			log("volume", volume, event.path,
			    {{"error", errc_name(e.code())}, {"message", e.what()}});
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
	std::vector<std::pair<FileView, Outcome>> out;
	for (const auto &fi : files) {
		Outcome o = change_file(volume, fi, on, std::nullopt, false);
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

void Engine::reload_rules()
{
	matcher_ = Matcher(store_.rules());
}

Rule Engine::add_rule(Rule rule)
{
	rule.source.clear();
	validate_for_volumes(rule);
	store_.insert_rule(rule);
	log("rule-change", rule.volume, rule.subtree,
	    {{"rule", rule.name}, {"action", "added"}, {"source", nullptr}});
	reload_rules();
	reconcile(rule.volume, std::nullopt);
	return rule;
}

void Engine::remove_rule(const std::string &name)
{
	auto rule = store_.rule(name);
	if (!rule)
		throw Error(Errc::not_found, "no rule named '" + name + "'");
	if (rule->managed())
		throw Error(Errc::invalid_argument,
		            "rule '" + name + "' comes from " + rule->source +
		                "; remove it there and run `daxpolicy apply`");
	// Withdraw the rule's queued changes before it goes: deleting it sets their rule to
	// NULL (ON DELETE SET NULL), after which they would pass for set-dax requests.
	std::vector<Rule> remaining;
	for (const auto &r : store_.rules())
		if (r.name != name)
			remaining.push_back(r);
	drop_stale_pending(Matcher(std::move(remaining)));
	store_.delete_rule(name);
	log("rule-change", rule->volume, rule->subtree,
	    {{"rule", name}, {"action", "removed"}, {"source", nullptr}});
	reload_rules();
}

void Engine::drop_stale_pending(const Matcher &matcher)
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
			store_.delete_pending(change.volume, change.ino, change.generation);
	}
}

FileCounts Engine::reconcile_tree(const Matcher &matcher, const std::string &volume,
                                  const std::string &path, bool dry_run)
{
	FileCounts counts;
	std::vector<FileInfo> files;
	this->volume(volume).walk(path, [&](const FileInfo &fi) { files.push_back(fi); });
	for (const auto &fi : files) {
		const Rule *r = matcher.match(volume, fi.path, fi.type == FileType::directory);
		if (!r) {
			counts.add(Outcome::unchanged);
			continue;
		}
		counts.add(change_file(volume, fi, r->dax, r->name, dry_run));
	}
	return counts;
}

FileCounts Engine::reconcile_all(const Matcher &matcher, bool dry_run)
{
	FileCounts total;
	for (const auto &[name, vol] : volumes_) {
		// The rules' subtrees, without those inside another: each file once.
		std::set<std::string> roots;
		for (const auto &r : matcher.rules())
			if (r.volume == name)
				roots.insert(r.subtree);
		std::vector<std::string> outer;
		for (const auto &root : roots) {
			bool inside = std::any_of(outer.begin(), outer.end(), [&](const auto &o) {
				return o == "/" || root.rfind(o + "/", 0) == 0;
			});
			if (!inside)
				outer.push_back(root);
		}
		for (const auto &root : outer) {
			try {
				FileCounts c = reconcile_tree(matcher, name, root, dry_run);
				total.applied += c.applied;
				total.deferred += c.deferred;
				total.unchanged += c.unchanged;
			} catch (const Error &e) {
				if (e.code() != Errc::not_found) // a subtree not made yet
					throw;
			}
		}
	}
	return total;
}

FileCounts Engine::reconcile(const std::optional<std::string> &volume,
                             const std::optional<std::string> &path)
{
	drop_stale_pending(matcher_);
	if (volume && path)
		return reconcile_tree(matcher_, *volume, *path, false);
	if (!volume)
		return reconcile_all(matcher_, false);
	this->volume(*volume);
	Matcher only([&] {
		std::vector<Rule> rs;
		for (const auto &r : matcher_.rules())
			if (r.volume == *volume)
				rs.push_back(r);
		return rs;
	}());
	return reconcile_all(only, false);
}

ApplyResult Engine::apply(const std::vector<Rule> &managed, bool dry_run)
{
	std::map<std::string, Rule> current;
	for (const auto &r : store_.rules())
		current.emplace(r.name, r);
	ApplyResult result;
	std::set<std::string> wanted;
	for (const auto &r : managed) {
		validate_for_volumes(r);
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
	Matcher candidate(next);
	if (dry_run) {
		result.files = reconcile_all(candidate, true);
		return result;
	}
	{
		// As in remove_rule: withdraw before the rules (and their names) go.
		drop_stale_pending(candidate);
		WriteTransaction txn(store_.database());
		for (const auto &r : managed) {
			if (!current.count(r.name))
				store_.insert_rule(r);
			else if (!(current.at(r.name) == r))
				store_.update_rule(r);
		}
		for (const auto &name : result.removed)
			store_.delete_rule(name);
		txn.commit();
	}
	auto log_rules = [&](const std::vector<std::string> &names, const char *action,
	                     bool from_new) {
		for (const auto &name : names) {
			const Rule &r =
			    from_new ? *std::find_if(managed.begin(), managed.end(),
			                             [&](const Rule &m) { return m.name == name; })
			             : current.at(name);
			log("rule-change", r.volume, r.subtree,
			    {{"rule", name}, {"action", action}, {"source", r.source}});
		}
	};
	log_rules(result.added, "added", true);
	log_rules(result.changed, "changed", true);
	log_rules(result.removed, "removed", false);
	reload_rules();
	result.files = reconcile_all(matcher_, false);
	return result;
}

void Engine::cancel_pending(const std::string &volume, const std::string &path)
{
	FileInfo fi = this->volume(volume).stat(path);
	if (!store_.pending_for(volume, fi.ino, fi.generation))
		throw Error(Errc::not_found, volume + ":" + path + ": no pending change");
	store_.delete_pending(volume, fi.ino, fi.generation);
}

} // namespace daxpolicy::policy
