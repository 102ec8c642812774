// SPDX-License-Identifier: BSD-3-Clause
// The daemon's durable state in sqlite (state_dir/daxpolicy.db): rules, the queue of pending
// flag changes, and the event log. WAL with synchronous=FULL: a change is on disk when the
// call returns, so the queue and the rules survive kill -9 and power loss.
#pragma once

#include "policy/job.hpp"
#include "policy/rule.hpp"
#include "policy/sqlite.hpp"

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
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

struct EventQuery {
	std::optional<std::string> type;
	std::optional<int64_t> since_ms; // events at or after it (unix ms)
	std::optional<int64_t> limit;    // the newest N
};

class Store
{
      public:
	static constexpr int kSchemaVersion = 2;
	// Finished jobs kept beside the unfinished ones.
	static constexpr int kKeptJobs = 16;

	// Opens or creates the database and brings its schema to kSchemaVersion.
	explicit Store(const std::filesystem::path &file);

	std::vector<Rule> rules();
	std::optional<Rule> rule(const std::string &name);
	// Throws `exists` when the name is taken.
	void insert_rule(const Rule &rule);
	// Throws `not-found`.
	void delete_rule(const std::string &name);
	void update_rule(const Rule &rule);

	std::vector<PendingChange> pending();
	std::optional<PendingChange> pending_for(const std::string &volume, uint64_t ino,
	                                         uint64_t generation);
	void put_pending(const PendingChange &change);
	void delete_pending(const std::string &volume, uint64_t ino, uint64_t generation);

	Event append_event(const std::string &type, const std::string &volume,
	                   const std::string &path, nlohmann::json data);
	std::vector<Event> events(const EventQuery &query);
	int64_t count(const char *table);

	void put_job(const StoredJob &job);
	// Jobs queued or running when the daemon last stopped, oldest first.
	std::vector<StoredJob> unfinished_jobs();
	uint64_t last_job_id();

	Database &database() { return db_; }

      private:
	void migrate();

	Database db_;
};

// Unix milliseconds as RFC 3339 UTC with milliseconds ("2026-11-23T10:40:00.123Z").
std::string rfc3339_from_ms(int64_t unix_ms);
// Parses "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)" (or a bare date) into unix ms.
std::optional<int64_t> parse_rfc3339(const std::string &text);

} // namespace daxpolicy::policy
