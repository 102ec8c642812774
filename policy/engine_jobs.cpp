// SPDX-License-Identifier: BSD-3-Clause
// The Engine's reconcile jobs: how they queue, supersede one another, run in bounded steps
// and persist their progress. What a step does to each file is the engine's (engine.cpp).
#include "common/clock.hpp"
#include "common/error.hpp"
#include "policy/candidate.hpp"
#include "policy/engine.hpp"
#include "policy/walk_stream.hpp"

#include <algorithm>

namespace daxpolicy::policy
{

using fscore::FileInfo;

// For the life of a job step: record_change and defer write into one transaction,
// committed at the end of the step. Not nested: an inner one joins the outer one.
class Engine::ChangeBatch
{
      public:
	explicit ChangeBatch(Engine &engine) : engine_(engine), owner_(!engine.batching_)
	{
		engine_.batching_ = true;
	}
	~ChangeBatch()
	{
		if (!owner_)
			return;
		engine_.batching_ = false;
		try {
			engine_.flush_batch();
		} catch (const Error &) {
			// Unwinding from the pass's own error: its events are lost, as a crash
			// would lose them; the flags are changed and the rows retired next start.
		}
	}
	// The end of a pass that succeeded: a failure to commit is its failure.
	void commit()
	{
		if (owner_) {
			engine_.batching_ = false;
			engine_.flush_batch();
		}
	}

      private:
	Engine &engine_;
	bool owner_;
};

Engine::~Engine() = default;

std::optional<JobReport> Engine::current_job() const
{
	if (jobs_.empty())
		return std::nullopt;
	return jobs_.front()->report;
}

std::optional<JobReport> Engine::job(uint64_t id) const
{
	for (const auto &j : jobs_)
		if (j->report.id == id)
			return j->report;
	return std::nullopt;
}

size_t Engine::jobs_waiting() const
{
	return jobs_.empty() ? 0 : jobs_.size() - 1;
}

void Engine::stop_walks_of(const std::string &volume)
{
	if (jobs_.empty())
		return;
	Job &job = *jobs_.front();
	if (!job.walk || job.pass->volume != volume)
		return;
	job.walk.reset(); // joined: the walker no longer touches the volume
	job.pass.reset();
	job.next_scope--; // walked again from its start, when the volume serves again
	job.done_before = job.report.done;
	if (awaiting_walker_ == job.report.id) {
		awaiting_walker_ = 0;
		run_jobs();
	}
}

void Engine::persist_job(const Job &job)
{
	if (job.report.dry_run)
		return; // a dry run leaves nothing behind
	StoredJob stored{job.report, job.next_scope ? job.next_scope - 1 : 0};
	if (job.report.state != JobState::running && job.report.state != JobState::queued)
		stored.next_scope = job.report.scopes.size();
	store_.put_job(stored);
}

uint64_t Engine::submit(std::vector<JobScope> scopes, std::string cause, JobDone done,
                        JobOptions options)
{
	auto job = std::make_unique<Job>();
	JobReport &r = job->report;
	r.id = ++last_job_id_;
	r.cause = std::move(cause);
	r.dry_run = options.plan != nullptr;
	r.scopes = std::move(scopes);
	r.resumed_from = options.resumed_from;
	r.keeps_changes = options.keeps_changes;
	job->plan = std::move(options.plan);
	job->before = std::move(options.before);
	if (done)
		job->waiters.push_back(std::move(done));

	// A queued job that would do the same is that job.
	for (size_t i = 1; i < jobs_.size(); i++) {
		Job &queued = *jobs_[i];
		if (!r.dry_run && !queued.report.dry_run && queued.report.cause == r.cause &&
		    queued.report.scopes == r.scopes) {
			queued.report.keeps_changes |= r.keeps_changes;
			std::move(job->waiters.begin(), job->waiters.end(),
			          std::back_inserter(queued.waiters));
			last_job_id_--;
			return queued.report.id;
		}
	}
	// A rule change makes the running job's decisions out of date: the new job takes over
	// the scopes it had not finished, and whoever waited for it.
	if (!jobs_.empty() && r.cause == "rule" && !r.dry_run &&
	    jobs_.front()->report.state == JobState::running && !jobs_.front()->report.dry_run) {
		Job &old = *jobs_.front();
		size_t from = old.next_scope ? old.next_scope - 1 : 0;
		for (size_t i = from; i < old.report.scopes.size(); i++)
			if (std::find(r.scopes.begin(), r.scopes.end(), old.report.scopes[i]) ==
			    r.scopes.end())
				r.scopes.push_back(old.report.scopes[i]);
		std::move(old.waiters.begin(), old.waiters.end(), std::back_inserter(job->waiters));
		old.waiters.clear();
		// Its scopes are judged against the rules before its own change.
		if (old.before)
			job->before = old.before;
		// Its waiters hear of every change made for them, before and after.
		if (old.report.keeps_changes) {
			r.keeps_changes = true;
			r.changes = std::move(old.report.changes);
		}
		uint64_t id = r.id;
		persist_job(*job);
		jobs_.insert(jobs_.begin() + 1, std::move(job));
		finish_job(JobState::superseded);
		return id;
	}
	uint64_t id = r.id;
	persist_job(*job);
	jobs_.push_back(std::move(job));
	run_jobs();
	return id;
}

void Engine::run_jobs()
{
	if (jobs_.empty())
		return;
	if (defer_) {
		if (!step_scheduled_ && awaiting_walker_ != jobs_.front()->report.id)
			schedule_step(std::chrono::milliseconds(0));
		return;
	}
	// No loop to come back on: the whole queue now, unless a caller up the stack (a job
	// step whose change made a notification start a job) is already at it.
	if (running_inline_)
		return;
	running_inline_ = true;
	struct Unset {
		bool &flag;
		~Unset() { flag = false; }
	} unset{running_inline_};
	while (!jobs_.empty())
		step_job(true);
}

void Engine::schedule_step(std::chrono::milliseconds delay)
{
	step_scheduled_ = true;
	defer_(delay, [this] {
		step_scheduled_ = false;
		if (!jobs_.empty() && step_job(false))
			run_jobs();
	});
}

bool Engine::open_scope(Job &job)
{
	JobReport &r = job.report;
	while (job.next_scope < r.scopes.size()) {
		const JobScope &scope = r.scopes[job.next_scope++];
		if (!volumes_.count(scope.volume) || unavailable_.count(scope.volume))
			continue; // its rules are applied when it is back (replace_volume)
		std::shared_ptr<const Matcher> matcher = job.plan ? job.plan : matcher_;
		// The walker keeps what may need a change: a file the rules want otherwise,
		// one with a queued change (which may have to be withdrawn), one that inherited
		// a flag the pass clears. A file in sync costs the loop nothing.
		auto queued = std::make_shared<std::set<std::pair<uint64_t, uint64_t>>>();
		for (const auto &c : store_.pending())
			if (c.volume == scope.volume)
				queued->insert({c.ino, c.generation});
		WalkStream::Filter keep =
		    [matcher, volume = scope.volume, queued,
		     cleared = std::set<std::string, std::less<>>()](const FileInfo &fi) mutable {
			    if (queued->count({fi.ino, fi.generation}))
				    return true;
			    auto c = candidate(*matcher, volume, fi, cleared);
			    return c && (c->inherited || c->decision->dax != fi.dax_flag);
		    };
		job.pass.emplace(Pass{matcher,
		                      scope.volume,
		                      r.cause,
		                      r.dry_run,
		                      {},
		                      r.keeps_changes ? &r.changes : nullptr,
		                      job.before});
		job.walk = std::make_unique<WalkStream>(*volumes_.at(scope.volume), scope.path,
		                                        std::move(keep), reconcile_rate_);
		return true;
	}
	return false;
}

void Engine::persist_progress(Job &job)
{
	auto now = std::chrono::steady_clock::now();
	const FileCounts &f = job.report.files;
	bool changed = f.applied != job.persisted.applied || f.deferred != job.persisted.deferred;
	if (job.report.dry_run || (!changed && now - job.persisted_at < kPersistEvery))
		return;
	// In the step's transaction: the progress is exactly what its changes made it.
	write_logged([&](std::vector<Event> &) { persist_job(job); });
	job.persisted = f;
	job.persisted_at = now;
}

bool Engine::step_job(bool may_wait)
{
	Job &job = *jobs_.front();
	JobReport &r = job.report;
	if (r.state == JobState::queued) {
		r.state = JobState::running;
		r.started_ms = unix_now_ms();
		persist_job(job);
	}
	auto deadline = std::chrono::steady_clock::now() + kStepTime;
	size_t budget = kStepFiles;
	std::vector<FileInfo> files;
	ChangeBatch batch(*this);
	try {
		for (;;) {
			if (!job.walk && !open_scope(job)) {
				batch.commit();
				finish_job(JobState::done);
				return false;
			}
			files.clear();
			job.walk->take(files, budget);
			// The files' changes in one call of the volume: for the embedded core, a
			// journal transaction for them all, not one a file.
			evaluate_all(*job.pass, files, r.files);
			budget -= std::min(budget, files.size());
			r.done = job.done_before + job.walk->done();
			if (files.empty()) {
				if (job.walk->drained()) {
					try {
						job.walk->rethrow_error();
					} catch (const Error &e) {
						if (e.code() !=
						    Errc::not_found) // a subtree not made yet
							throw;
					}
					job.done_before = r.done;
					job.walk.reset();
					job.pass.reset();
					continue;
				}
				if (may_wait) {
					job.walk->wait();
					continue;
				}
				// The walker is behind: come back when it has something.
				persist_progress(job);
				batch.commit();
				awaiting_walker_ = r.id;
				job.walk->when_ready([this, id = r.id] {
					dispatch_([this, id] {
						if (awaiting_walker_ != id)
							return; // the job ended meanwhile
						awaiting_walker_ = 0;
						run_jobs();
					});
				});
				return false;
			}
			if (budget == 0 || std::chrono::steady_clock::now() >= deadline)
				break;
		}
		persist_progress(job);
		batch.commit();
	} catch (const std::exception &e) {
		finish_job(JobState::failed, e.what());
		return false;
	}
	return true;
}

void Engine::finish_job(JobState state, std::string error)
{
	std::unique_ptr<Job> job = std::move(jobs_.front());
	jobs_.pop_front();
	job->walk.reset(); // stops and joins its walker
	JobReport &r = job->report;
	r.state = state;
	r.error = std::move(error);
	r.finished_ms = unix_now_ms();
	r.files.unchanged = r.done - std::min(r.done, r.files.applied + r.files.deferred);
	if (!r.total)
		r.total = r.done;
	// The event log is of what happened: a job that changed nothing, and ended as it
	// should, is in `status` while it runs and in no event.
	bool eventful =
	    r.files.applied || r.files.deferred || r.resumed_from || (state != JobState::done);
	if (!r.dry_run) {
		try {
			// One summary event a job, beside the events of its files.
			write_logged([&](std::vector<Event> &events) {
				persist_job(*job);
				nlohmann::json data = {
				    {"job", r.id},
				    {"state", job_state_name(r.state)},
				    {"cause", r.cause},
				    {"scopes", scopes_json(r.scopes)},
				    {"files", counts_json(r.files)},
				    {"duration_ms", r.finished_ms - r.started_ms}};
				if (!r.error.empty())
					data["error"] = r.error;
				if (r.resumed_from)
					data["resumed_from"] = *r.resumed_from;
				const std::string &volume =
				    r.scopes.empty() ? "" : r.scopes.front().volume;
				if (eventful)
					events.push_back(
					    store_.append_event("reconcile", volume, "/", data));
			});
		} catch (const Error &e) {
			report("", "/", e, e.code());
		}
	}
	if (state != JobState::superseded)
		for (const auto &waiter : job->waiters)
			waiter(r);
	run_jobs();
}

} // namespace daxpolicy::policy
