// SPDX-License-Identifier: BSD-3-Clause
// A reconcile job: the rules evaluated again over some subtrees, in bounded batches in the
// daemon's background. What `status` shows of it and what its waiters are told when it ends.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace daxpolicy::policy
{

enum class Outcome { applied, deferred, unchanged };
const char *outcome_name(Outcome outcome);

struct FileCounts {
	uint64_t applied = 0;
	uint64_t deferred = 0;
	uint64_t unchanged = 0;
	void add(Outcome outcome);
};

// A file whose flag a job changed, or (a dry run) would change: one entry of `apply`'s
// `changes`. `action`: applied now, or deferred until the file is unmapped.
struct FileChange {
	std::string volume;
	std::string path;
	bool from = false, to = false;
	std::optional<std::string> rule; // null: a flag inherited from a directory the job clears
	Outcome action = Outcome::applied;
};
nlohmann::json change_json(const FileChange &change);

// One subtree a job walks: VOLUME:/path.
struct JobScope {
	std::string volume;
	std::string path;
	bool operator==(const JobScope &) const = default;
};

enum class JobState {
	queued,      // waits for the job before it
	running,     // its batches are being run
	done,        // every scope walked
	superseded,  // a rule change came while it ran: a newer job does the rest
	interrupted, // the daemon stopped (or died) while it ran: resumed at the next start
	failed,      // a scope could not be walked (`error` says why)
};
const char *job_state_name(JobState state);
std::optional<JobState> job_state_from_name(std::string_view name);

struct JobReport {
	uint64_t id = 0;
	JobState state = JobState::queued;
	// Each flag change it makes is a flag-change event of this cause: rule, drift.
	std::string cause;
	bool dry_run = false;
	std::vector<JobScope> scopes;
	uint64_t done = 0;                    // files evaluated so far
	std::optional<uint64_t> total;        // files to evaluate, where known yet
	int64_t started_ms = 0;               // unix ms; 0 while queued
	int64_t finished_ms = 0;              // unix ms; 0 until it ends
	FileCounts files;                     // `unchanged` counts every file done and not changed
	std::string error;                    // why it failed
	std::optional<uint64_t> resumed_from; // the interrupted job it goes on with
	// Whether it keeps `changes` (apply's do; a reconcile's counts are enough).
	bool keeps_changes = false;
	// Each file changed (or to change), in the order the job came to them. Not persisted:
	// a job resumed after a restart lists what it did since.
	std::vector<FileChange> changes;
	nlohmann::json to_json() const;
};

nlohmann::json counts_json(const FileCounts &counts);
nlohmann::json scopes_json(const std::vector<JobScope> &scopes);
std::vector<JobScope> scopes_from_json(const nlohmann::json &scopes);

} // namespace daxpolicy::policy
