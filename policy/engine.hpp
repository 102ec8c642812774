// SPDX-License-Identifier: BSD-3-Clause
// The policy engine: decides what each file's DAX flag should be (rules, precedence), applies
// it where it can, queues it where the file is mapped, and applies queued changes when the
// file's mappings go. Every change, deferral and rule change is an event in the store.
//
// Threading: an Engine is used from one thread (the daemon's event loop). Volume
// notifications arrive on the thread that caused them and are handed to `dispatch`, which
// the daemon points at its event loop.
#pragma once

#include "common/error.hpp"
#include "fscore/volume.hpp"
#include "policy/matcher.hpp"
#include "policy/sqlite.hpp"
#include "policy/store.hpp"

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace daxpolicy::policy
{

enum class Outcome { applied, deferred, unchanged };
const char *outcome_name(Outcome outcome);

// Where a file stands against the policy (INTERFACE.md's states).
enum class FileState {
	in_sync,       // the flag is what the policy wants, the effective state follows it
	pending_unmap, // a change is queued until the file's mappings (or users) go
	pending_evict, // the flag is right; the effective state follows once nobody uses it
	out_of_sync,   // the flag differs from the policy and nothing is queued
	unmanaged,     // no rule decides the file
	unsupported,   // the file cannot carry the flag
};
const char *file_state_name(FileState state);
std::optional<FileState> file_state_from_name(std::string_view name);

// A file as `list` shows it.
struct FileView {
	std::string volume;
	fscore::FileInfo file;
	std::optional<bool> desired;
	std::optional<std::string> rule;
	FileState state = FileState::unmanaged;
};

struct FileCounts {
	uint64_t applied = 0;
	uint64_t deferred = 0;
	uint64_t unchanged = 0;
	void add(Outcome outcome);
};

struct ApplyResult {
	std::vector<std::string> added, removed, changed, unchanged; // rule names
	FileCounts files;
	bool changed_anything() const;
};

class Engine
{
      public:
	using Dispatch = std::function<void(std::function<void()>)>;
	using EventSink = std::function<void(const Event &)>;

	Engine(
	    Store &store, std::map<std::string, fscore::Volume *> volumes,
	    Dispatch dispatch = [](std::function<void()> f) { f(); });

	// Subscribes to the volumes and applies queued changes whose files are no longer
	// mapped (after a restart, none of the embedded volumes' files are).
	void start();
	// Tries again up to `at_most` queued changes of `volume`, taking up where the last call
	// stopped: the safety net for volumes that send no use events (a host volume without
	// fanotify), and for a notification that was missed. Returns how many it tried.
	size_t retry_pending(const std::string &volume, size_t at_most);
	// The volume cannot serve (its mount went away): requests naming it are refused with
	// `busy` and `why`, and its queued changes wait, until replace_volume.
	void set_unavailable(const std::string &volume, const std::string &why);
	// The volume serves again as `vol` (opened anew on its mount): listened to, and its
	// queued changes tried.
	void replace_volume(const std::string &volume, fscore::Volume &vol);
	void set_event_sink(EventSink sink) { sink_ = std::move(sink); }

	fscore::Volume &volume(const std::string &name) const;
	const std::map<std::string, fscore::Volume *> &volumes() const { return volumes_; }

	FileView view(const std::string &volume, const fscore::FileInfo &file) const;
	std::vector<FileView> list(const std::string &volume, const std::string &path,
	                           bool recursive) const;
	// set-dax / clear-dax: the flag now where the file is not mapped, later where it is.
	std::vector<std::pair<FileView, Outcome>>
	request_flag(const std::string &volume, const std::string &path, bool recursive, bool on);

	std::vector<Rule> rules() const { return store_.rules(); }
	// Validates, stores and enforces a local rule.
	Rule add_rule(Rule rule);
	void remove_rule(const std::string &name);
	// Makes the managed rules equal to `managed` and reconciles; with dry_run, changes
	// nothing and says what it would do.
	ApplyResult apply(const std::vector<Rule> &managed, bool dry_run);
	// Evaluates the rules again over every volume, or one volume, or one subtree.
	FileCounts reconcile(const std::optional<std::string> &volume,
	                     const std::optional<std::string> &path);

	// The queued changes, each with the path where its file is now (it may have been
	// renamed since it was queued).
	std::vector<PendingChange> pending() const;
	// Names the queued change's file where it is now, on a volume served now.
	void locate(PendingChange &change) const;
	void cancel_pending(const std::string &volume, const std::string &path);

	Event log(const std::string &type, const std::string &volume, const std::string &path,
	          nlohmann::json data);

      private:
	void on_volume_event(const std::string &volume, const fscore::VolumeEvent &event);
	void apply_pending(const PendingChange &change);
	// Where retry_pending stopped, per volume: the queue position it goes on from.
	std::map<std::string, size_t> retry_cursor_;
	// `cause` is the flag-change event's: rule, drift, request (pending: apply_pending).
	// `inherited_from`: the directory whose flag the file had, for a file no rule covers.
	Outcome change_file(const std::string &volume, const fscore::FileInfo &file, bool want,
	                    const std::optional<std::string> &rule, bool dry_run, const char *cause,
	                    const std::string &inherited_from = {});
	// The file is mapped or in use (`refused` says which): the change is queued (once) and
	// a `deferred` event logged.
	Outcome defer(const std::string &volume, const fscore::FileInfo &file, bool want,
	              const std::optional<std::string> &rule, const fscore::SetFlagResult &refused,
	              const std::optional<PendingChange> &queued,
	              const std::string &inherited_from);
	// The flag of (ino, generation) was changed: logs it and retires any queued change.
	void record_change(const std::string &volume, uint64_t ino, uint64_t generation,
	                   const std::string &path, nlohmann::json data);
	FileCounts reconcile_tree(const Matcher &matcher, const std::string &volume,
	                          const std::string &path, bool dry_run, const char *cause);
	FileCounts reconcile_all(const Matcher &matcher, bool dry_run, const char *cause);
	FileCounts reconcile_with(const Matcher &matcher, const std::optional<std::string> &volume,
	                          const std::optional<std::string> &path, const char *cause);
	void drop_stale_pending(const Matcher &matcher);
	void validate_for_volumes(const Rule &rule) const;
	// A reconcile's flag-change events go to the store kBatchedChanges at a time, in one
	// transaction: a transaction per change is an fsync per file, which made a rule over
	// 100,000 files on a host volume take minutes (docs/BENCHMARKS.md). Only those events
	// and the retiring of queued changes they did: a crash then loses at most a batch of
	// events of changes that were made, as record_change allows, and their rows are retired
	// at the next start. Anything else that writes commits the batch first.
	static constexpr size_t kBatchedChanges = 1024;
	class ChangeBatch;
	// A write transaction of its own, once the batch (if any) has been committed.
	WriteTransaction transaction();
	// Commits the batch open now, if any, and publishes its events.
	void flush_batch();
	// Gives events appended within a store transaction to the sink, once it has committed.
	void publish(const std::vector<Event> &events);
	// A notification's work failed: says so in the event log, or if even that fails, on
	// stderr. Never throws.
	void report(const std::string &volume, const std::string &path, const std::exception &e,
	            Errc code) noexcept;

	Store &store_;
	std::map<std::string, fscore::Volume *> volumes_;
	std::map<std::string, fscore::VolumeInfo> volume_info_;
	Dispatch dispatch_;
	EventSink sink_;
	Matcher matcher_;
	// While a reconcile batches its changes: the open transaction and its events.
	bool batching_ = false; // a reconcile pass is running (ChangeBatch)
	// During a reconcile pass, the files of its volume with a queued change, read once:
	// asking the store for each file was a query per file for a queue that is mostly
	// empty. defer() adds to it, the only writer of queued changes.
	std::optional<std::set<std::pair<uint64_t, uint64_t>>> queued_in_pass_;
	std::optional<WriteTransaction> batch_;
	std::vector<Event> batch_events_;
	std::map<std::string, fscore::Subscription> subscriptions_;
	std::map<std::string, std::string> unavailable_; // volume: why
	void subscribe(const std::string &volume);
};

} // namespace daxpolicy::policy
