// SPDX-License-Identifier: BSD-3-Clause
// The policy engine: decides what each file's DAX flag should be (rules, precedence), applies
// it where it can, queues it where the file is mapped, and applies queued changes when the
// file's mappings go. Every change, deferral and rule change is an event in the store.
//
// Threading: an Engine is used from one thread (the daemon's event loop). Volume
// notifications arrive on the thread that caused them and are handed to `dispatch`, which
// the daemon points at its event loop.
//
// Reconciles run as jobs (policy/job.hpp), one at a time, in steps of bounded time: between
// two steps the loop serves everything else. Each step's flag changes, queue rows, events
// and progress are one store transaction. The walk itself runs on a thread of its own
// (WalkStream), which keeps only the files that may need a change.
#pragma once

#include "common/error.hpp"
#include "fscore/volume.hpp"
#include "policy/job.hpp"
#include "policy/matcher.hpp"
#include "policy/sqlite.hpp"
#include "policy/store.hpp"
#include "policy/walk_stream.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace daxpolicy::policy
{

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

// The scopes without those inside another (same volume, subtree within), each once, in
// byte order: a job over them walks each file once.
std::vector<JobScope> outermost(std::vector<JobScope> scopes);

// Why a file has its state (`explain`): its view, every rule whose subtree holds it and the
// decision, the volume's mount mode and medium, and its queued change.
struct FileExplanation {
	FileView view;
	std::shared_ptr<const Matcher> matcher; // keeps why's rules alive
	Explanation why;
	fscore::VolumeInfo volume;
	std::optional<PendingChange> queued;
};

// How Engine::submit runs a job beyond its scopes and cause.
struct JobOptions {
	// A dry run's matcher (it changes nothing); otherwise the engine's rules as they are
	// when the job starts.
	std::shared_ptr<const Matcher> plan;
	std::optional<uint64_t> resumed_from;
	bool keeps_changes = false; // the report lists each file changed
	// A rule change's job: the rules before it (Pass::before).
	std::shared_ptr<const Matcher> before;
};

// What `apply` did to the rules; what it did to files, its job tells.
struct ApplyResult {
	std::vector<std::string> added, removed, changed, unchanged; // rule names
	bool rules_changed() const;
};

class Engine
{
      public:
	using Dispatch = std::function<void(std::function<void()>)>;
	using EventSink = std::function<void(const Event &)>;
	// Runs `work` on the engine's thread after `delay` (zero: after what is queued there
	// now). Without one, a job runs to its end within the call that starts it: for tests,
	// and for anything without an event loop.
	using Defer =
	    std::function<void(std::chrono::milliseconds delay, std::function<void()> work)>;
	// Called on the engine's thread when a job ends, or the newer job that took over its
	// work (a superseding one) does.
	using JobDone = std::function<void(const JobReport &)>;

	Engine(
	    Store &store, std::map<std::string, fscore::Volume *> volumes,
	    Dispatch dispatch = [](std::function<void()> f) { f(); }, Defer defer = {});
	~Engine();

	// Subscribes to the volumes, applies queued changes whose files are no longer mapped
	// (after a restart, none of the embedded volumes' files are), resumes the job a
	// previous daemon did not finish, and reconciles every volume with the stored rules.
	void start();
	// At most this many files a second evaluated by jobs (0: no limit).
	void set_reconcile_rate(uint64_t files_per_second) { reconcile_rate_ = files_per_second; }
	// The job that runs now, if any.
	std::optional<JobReport> current_job() const;
	// Jobs queued behind it.
	size_t jobs_waiting() const;
	// The job `id` while it is running or queued.
	std::optional<JobReport> job(uint64_t id) const;
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
	// explain PATH (policy/engine_explain.cpp).
	FileExplanation explain(const std::string &volume, const std::string &path) const;
	std::vector<FileView> list(const std::string &volume, const std::string &path,
	                           bool recursive) const;
	// set-dax / clear-dax: the flag now where the file is not mapped, later where it is.
	std::vector<std::pair<FileView, Outcome>>
	request_flag(const std::string &volume, const std::string &path, bool recursive, bool on);

	// The rule that wants the other flag than `flag` on the file: what a set-dax, clear-dax
	// or chattr that gave it `flag` conflicts with, and the next reconcile restores.
	std::optional<std::string> conflicting_rule(const std::string &volume,
	                                            const std::string &path, fscore::FileType type,
	                                            bool flag) const;
	// The flag of `file` (as it is now) was `from` before a request that changed it without
	// the engine (an io session's chattr): logged as flag-change, cause request.
	void record_request(const std::string &volume, const fscore::FileInfo &file, bool from);

	std::vector<Rule> rules() const { return store_.rules(); }
	// Validates and stores a local rule, and starts the job that enforces it in its subtree.
	// `replace`: a local rule of that name is changed to it (its old subtree is judged
	// again too) rather than refused with `exists`.
	Rule add_rule(Rule rule, JobDone done = {}, bool replace = false);
	// Removes local rules (all, or none if one is wrong) and starts one job that judges
	// their subtrees by the rules left.
	void remove_rules(const std::vector<std::string> &names, JobDone done = {});
	// Makes the managed rules equal to `managed` and starts the job that reconciles the
	// volumes with them; with dry_run, changes nothing, and the job says what it would do.
	ApplyResult apply(const std::vector<Rule> &managed, bool dry_run, JobDone done = {});
	// Starts a job that evaluates the rules again over every volume, or one volume, or one
	// subtree. Returns its id.
	uint64_t reconcile(const std::optional<std::string> &volume,
	                   const std::optional<std::string> &path, JobDone done = {});

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
	// A change change_file decided to ask of the volume, alone or in a job step's batch.
	struct PlannedChange {
		fscore::FileInfo file;
		bool want;
		std::optional<std::string> rule;
		const char *cause;
		std::string inherited_from;
		std::optional<PendingChange> queued;
	};
	// change_file up to the volume: the outcome, where there is nothing to ask of it.
	// `queued`: the file's queued change, as the store has it now.
	std::variant<Outcome, PlannedChange> plan_change(const fscore::FileInfo &file, bool want,
	                                                 const std::optional<std::string> &rule,
	                                                 bool dry_run, const char *cause,
	                                                 const std::string &inherited_from,
	                                                 std::optional<PendingChange> queued);
	// change_file after the volume: logs the change, or queues it, or retires its row.
	Outcome finish_change(const std::string &volume, const PlannedChange &change,
	                      const fscore::SetFlagResult &result);
	// The file is mapped or in use (`refused` says which): the change is queued (once) and
	// a `deferred` event logged, in the step's batch if one is open.
	Outcome defer(const std::string &volume, const fscore::FileInfo &file, bool want,
	              const std::optional<std::string> &rule, const fscore::SetFlagResult &refused,
	              const std::optional<PendingChange> &queued,
	              const std::string &inherited_from);
	// The flag of (ino, generation) was changed: logs it and, where one may be queued
	// (`maybe_queued`), retires the queued change.
	void record_change(const std::string &volume, uint64_t ino, uint64_t generation,
	                   const std::string &path, nlohmann::json data, bool maybe_queued);
	// One walk's evaluation of files against a matcher: shared by a job's steps and by
	// the files a notification names.
	struct Pass {
		std::shared_ptr<const Matcher> matcher;
		std::string volume;
		std::string cause;
		bool dry_run = false;
		std::set<std::string, std::less<>> cleared; // candidate()'s
		std::vector<FileChange> *changes = nullptr; // where each change goes, if kept
		// A rule change's pass: the rules before it. A change they wanted too corrects
		// drift (cause "drift"), rather than following the rule change.
		std::shared_ptr<const Matcher> before;
	};
	Outcome evaluate(Pass &pass, const fscore::FileInfo &file);
	// Adds a change the pass made (or, dry, would make) to its list, if it keeps one.
	void note_change(Pass &pass, const fscore::FileInfo &file, bool want,
	                 const std::optional<std::string> &rule, Outcome outcome);
	std::variant<Outcome, PlannedChange> plan(Pass &pass, const fscore::FileInfo &file,
	                                          std::optional<PendingChange> queued);
	// evaluate for each of `files`, their changes asked of the volume in one call (for
	// the embedded core, a journal transaction for up to 1024 files rather than one each).
	void evaluate_all(Pass &pass, const std::vector<fscore::FileInfo> &files,
	                  FileCounts &counts);
	// A file or directory created or moved in: judged at once, or (a directory, with all
	// it holds) by a job.
	void on_arrival(const std::string &volume, const std::string &path);
	// The subtrees of the rules of `volume` (or of every volume), without those inside
	// another: each file once.
	std::vector<JobScope> rule_scopes(const Matcher &matcher,
	                                  const std::optional<std::string> &volume) const;
	// Withdraws the queued changes `matcher` no longer wants; their events go to `events`.
	void drop_stale_pending(const Matcher &matcher, std::vector<Event> &events);
	// Deletes a queued change and logs it (a `deferred` event with `action`: withdrawn,
	// cancelled), in the caller's transaction.
	Event withdraw(const PendingChange &change, const std::string &path, const char *action);

	struct Job {
		JobReport report;
		std::vector<JobDone> waiters;
		// A dry run's own matcher; a job that changes files takes the engine's when
		// it opens a scope.
		std::shared_ptr<const Matcher> plan;
		std::shared_ptr<const Matcher> before; // JobOptions::before
		size_t next_scope = 0;    // the scopes before it are walked, or being walked
		uint64_t done_before = 0; // files of the scopes walked
		// The walk of scopes[next_scope - 1], while one is open, and its evaluation.
		std::unique_ptr<WalkStream> walk;
		std::optional<Pass> pass;
		// What the store last heard of its progress: written with a step that changed
		// something, or after kPersistEvery (a walk that changes nothing writes
		// nothing).
		FileCounts persisted;
		std::chrono::steady_clock::time_point persisted_at{};
	};
	// Queues a job. One with cause "rule" supersedes the job running now (whose matcher is
	// out of date): it takes over what that one had left and its waiters. `plan`: the
	// matcher of a dry run, which changes nothing; otherwise the job uses the engine's
	// rules as they are when it starts.
	uint64_t submit(std::vector<JobScope> scopes, std::string cause, JobDone done,
	                JobOptions options = {});
	// Runs the job at the front: with a Defer, one step and then the next one later;
	// without, to the end of the queue.
	void run_jobs();
	// One step of the front job: at most kStepFiles files or kStepTime. Returns whether
	// another step should follow at once (false: the job ended, or waits for its walker).
	bool step_job(bool may_wait);
	// Opens the walk of the front job's next scope; false when it has none left.
	bool open_scope(Job &job);
	void finish_job(JobState state, std::string error = {});
	// The front job's walk of `volume` stops, before the volume goes or cannot serve.
	void stop_walks_of(const std::string &volume);
	void persist_job(const Job &job);
	void persist_progress(Job &job);
	static constexpr std::chrono::seconds kPersistEvery{1};
	void schedule_step(std::chrono::milliseconds delay);
	static constexpr size_t kStepFiles = 512;
	static constexpr std::chrono::milliseconds kStepTime{4};
	void validate_for_volumes(const Rule &rule) const;
	// A job step's flag-change and deferred events, its queue rows and its progress go
	// to the store in one transaction: a transaction per change is an fsync per file,
	// which made a rule over 100,000 files on a host volume take minutes
	// (docs/BENCHMARKS.md). A crash then loses at most a step's events of changes that
	// were made, as record_change allows; their rows are retired at the next start, and
	// the job goes on from the progress of the last step that committed. Anything else
	// that writes commits the batch first.
	class ChangeBatch;
	// A write transaction of its own, once the batch (if any) has been committed.
	WriteTransaction transaction();
	// Commits the batch open now, if any, and publishes its events.
	void flush_batch();
	// Runs `write` in the open batch (its events go to batch_events_), or in a
	// transaction of its own whose events are published once it commits.
	void write_logged(const std::function<void(std::vector<Event> &)> &write);
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
	Defer defer_;
	// Shared with the jobs that started under it (and their walkers): replaced, never
	// changed, when the rules change.
	std::shared_ptr<const Matcher> matcher_;
	std::deque<std::unique_ptr<Job>> jobs_; // the front one runs
	uint64_t last_job_id_ = 0;
	uint64_t reconcile_rate_ = 0;
	bool step_scheduled_ = false;  // a step is on its way (Defer)
	uint64_t awaiting_walker_ = 0; // the job whose step waits for its walker
	bool running_inline_ = false;  // run_jobs without a Defer is on the stack
	// While a reconcile batches its changes: the open transaction and its events.
	bool batching_ = false; // a job step is running (ChangeBatch)
	std::optional<WriteTransaction> batch_;
	std::vector<Event> batch_events_;
	std::map<std::string, fscore::Subscription> subscriptions_;
	std::map<std::string, std::string> unavailable_; // volume: why
	void subscribe(const std::string &volume);
};

} // namespace daxpolicy::policy
