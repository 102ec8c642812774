// SPDX-License-Identifier: BSD-3-Clause
// The daemon's durable state in sqlite (state_dir/daxpolicy.db): rules, the queue of pending
// flag changes, and the event log. WAL with synchronous=FULL: a change is on disk when the
// call returns, so the queue and the rules survive kill -9 and power loss.
#pragma once

#include "policy/job.hpp"
#include "policy/rule.hpp"
#include "policy/sqlite.hpp"
#include "policy/time_text.hpp"

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace daxpolicy::policy
{

// A flag change waiting for the file's mappings to go. The file is named by identity
// (ino, generation), so a rename while it waits does not lose it.
struct PendingChange {
	std::string volume;
	uint64_t ino = 0;
	uint64_t generation = 0;
	std::string path; // where the file was when the change was queued
	bool want = false;
	std::optional<std::string> rule; // null for a change asked for with set-dax/clear-dax
	int64_t since_ms = 0;            // unix time
	std::string reason;
};

struct Event {
	int64_t id = 0;
	std::string time; // RFC 3339, UTC
	std::string type;
	std::string volume;
	std::string path;
	nlohmann::json data = nlohmann::json::object(); // the type's own fields
	// {"id", "time", "type", "volume", "path", ...data}
	nlohmann::json to_json() const;
};

// A job as the store keeps it, so that one the daemon did not finish goes on at its next
// start: the scopes before next_scope are done.
struct StoredJob {
	JobReport report;
	size_t next_scope = 0;
};

// Which events a list shows. Every field narrows it; none set: the whole log.
struct EventQuery {
	std::vector<std::string> types;    // any of these; empty: every type
	std::optional<std::string> volume; // of this volume
	// this file or directory and everything below it (of any volume, unless `volume`)
	std::optional<std::string> path;
	std::optional<int64_t> since_ms; // at or after (unix ms)
	std::optional<int64_t> until_ms; // at or before
	std::optional<int64_t> limit;    // the newest N of those
};

// Where a read of the event log goes, by id: (after, through]. Fixed when the read starts, so
// that a list of a log being written ends.
struct EventRange {
	int64_t after = 0;
	int64_t through = 0;
};

// A pending change's place in list order (since_ms, volume, path, then identity): where the
// next page of the queue starts.
struct PendingKey {
	int64_t since_ms = 0;
	std::string volume;
	std::string path;
	uint64_t ino = 0;
	uint64_t generation = 0;
	static PendingKey of(const PendingChange &change);
};

// What an event log is kept to (Config::event_retention, event_max).
struct EventRetention {
	std::optional<int64_t> older_than_ms; // events before this time go
	std::optional<int64_t> keep;          // beyond the newest this many, the oldest go
};

class Store
{
      public:
	static constexpr int kSchemaVersion = 5;
	// Finished jobs kept beside the unfinished ones.
	static constexpr int kKeptJobs = 16;

	// Opens or creates the database and brings its schema to kSchemaVersion.
	explicit Store(const std::filesystem::path &file);

	std::vector<Rule> rules();
	// Up to `limit` rules named after `after`, in name order: a page of a list, read by key.
	std::vector<Rule> rules_page(const std::string &after, int64_t limit);
	std::optional<Rule> rule(const std::string &name);
	// Throws `exists` when the name is taken.
	void insert_rule(const Rule &rule);
	// Throws `not-found`.
	void delete_rule(const std::string &name);
	void update_rule(const Rule &rule);

	std::vector<PendingChange> pending();
	// Up to `limit` queued changes after `after` (from the first when none), in the order of
	// pending(): a page of a list, read by key.
	std::vector<PendingChange> pending_page(const std::optional<PendingKey> &after,
	                                        int64_t limit);
	std::optional<PendingChange> pending_for(const std::string &volume, uint64_t ino,
	                                         uint64_t generation);
	// The queued changes of `volume`'s files numbered `inos` (of any generation), in one
	// query: a job step asks once for its files rather than once a file.
	std::vector<PendingChange> pending_among(const std::string &volume,
	                                         std::span<const uint64_t> inos);
	void put_pending(const PendingChange &change);
	void delete_pending(const std::string &volume, uint64_t ino, uint64_t generation);

	Event append_event(const std::string &type, const std::string &volume,
	                   const std::string &path, nlohmann::json data);
	// Every event `query` asks for, oldest first (read a page at a time; for tests and small
	// logs: a list of any length reads pages itself).
	std::vector<Event> events(const EventQuery &query);
	// The ids a read of `query` covers: up to the newest event now, from the start of the
	// log or, with a limit, from just before the oldest of the newest `limit` matching.
	EventRange event_range(const EventQuery &query);
	// Up to `limit` events matching `query` (but its limit) with ids in `range`, oldest
	// first. A page of fewer than `limit` means none is left in the range.
	std::vector<Event> events_page(const EventQuery &query, EventRange range, int64_t limit);
	// One step of keeping the log to `retention`: deletes up to `batch` of the oldest events
	// it no longer keeps, in one transaction. Returns how many went (fewer than `batch`: the
	// log is within `retention` now).
	int64_t prune_events(const EventRetention &retention, int64_t batch);
	int64_t count(const char *table);

	void put_job(const StoredJob &job);
	// Jobs queued or running when the daemon last stopped, oldest first.
	std::vector<StoredJob> unfinished_jobs();
	uint64_t last_job_id();

	Database &database() { return db_; }

      private:
	void migrate();
	// Adds the open write transaction's new events to their row count (just before it
	// commits, inside it).
	void count_new_events();

	Database db_;
	int64_t new_events_ = 0; // appended in the open write transaction, not yet counted
};

} // namespace daxpolicy::policy
