// SPDX-License-Identifier: BSD-3-Clause
#include "policy/store.hpp"

#include "common/clock.hpp"
#include "common/error.hpp"

#include <algorithm>
#include <chrono>

namespace daxpolicy::policy
{

namespace
{

// Each entry brings the schema from version i to i+1, inside one transaction with the
// version bump, so a crash mid-migration leaves the old version intact.
const char *const kMigrations[] = {
    R"sql(
	CREATE TABLE rules (
		name     TEXT PRIMARY KEY,
		volume   TEXT NOT NULL,
		subtree  TEXT NOT NULL,
		dax      INTEGER NOT NULL CHECK (dax IN (0, 1)),
		include  TEXT NOT NULL,  -- JSON array of globs
		exclude  TEXT NOT NULL,
		priority INTEGER NOT NULL,
		source   TEXT NOT NULL   -- policy file of a managed rule; '' for local
	);
	CREATE TABLE pending (
		volume     TEXT NOT NULL,
		ino        INTEGER NOT NULL,
		generation INTEGER NOT NULL,
		path       TEXT NOT NULL,
		want       INTEGER NOT NULL CHECK (want IN (0, 1)),
		rule       TEXT REFERENCES rules(name) ON DELETE SET NULL,
		since_ms   INTEGER NOT NULL,
		reason     TEXT NOT NULL,
		PRIMARY KEY (volume, ino, generation)
	);
	CREATE TABLE events (
		id      INTEGER PRIMARY KEY AUTOINCREMENT,
		time_ms INTEGER NOT NULL,
		type    TEXT NOT NULL,
		volume  TEXT NOT NULL,
		path    TEXT NOT NULL,
		data    TEXT NOT NULL    -- JSON object: the type's own fields
	);
	CREATE INDEX events_by_type ON events(type, id);
	)sql",
    R"sql(
	CREATE TABLE jobs (
		id          INTEGER PRIMARY KEY,
		state       TEXT NOT NULL,
		cause       TEXT NOT NULL,
		scopes      TEXT NOT NULL,   -- JSON array of "VOLUME:/path"
		next_scope  INTEGER NOT NULL, -- scopes before it are done
		done        INTEGER NOT NULL,
		started_ms  INTEGER NOT NULL,
		finished_ms INTEGER NOT NULL,
		applied     INTEGER NOT NULL,
		deferred    INTEGER NOT NULL,
		error       TEXT NOT NULL,
		resumed_from INTEGER NOT NULL  -- 0: none
	);
	)sql",
    // Lists read the queue a page at a time, by key, and retention drops events by age: both
    // without reading the whole table.
    R"sql(
	CREATE INDEX pending_in_list_order ON pending(since_ms, volume, path, ino, generation);
	CREATE INDEX events_by_time ON events(time_ms);
	)sql",
    // `status` and the metrics show how many events and queued changes there are on every
    // call: count(*) reads the whole table (a million rows at event_max), so the counts are
    // kept beside the rows by triggers, in the same transactions (exact under rollback).
    // A queued change replaced in place counts once: with recursive_triggers on, the row
    // REPLACE removes fires the delete trigger.
    R"sql(
	CREATE TABLE row_counts (
		name TEXT PRIMARY KEY,
		n    INTEGER NOT NULL
	) WITHOUT ROWID;
	INSERT INTO row_counts SELECT 'events', count(*) FROM events;
	INSERT INTO row_counts SELECT 'pending', count(*) FROM pending;
	CREATE TRIGGER events_in AFTER INSERT ON events
		BEGIN UPDATE row_counts SET n = n + 1 WHERE name = 'events'; END;
	CREATE TRIGGER events_out AFTER DELETE ON events
		BEGIN UPDATE row_counts SET n = n - 1 WHERE name = 'events'; END;
	CREATE TRIGGER pending_in AFTER INSERT ON pending
		BEGIN UPDATE row_counts SET n = n + 1 WHERE name = 'pending'; END;
	CREATE TRIGGER pending_out AFTER DELETE ON pending
		BEGIN UPDATE row_counts SET n = n - 1 WHERE name = 'pending'; END;
	)sql",
    // A job step logs an event a file: a trigger's UPDATE for each was a third of the
    // insert's cost. The store adds a transaction's new events to the count once, at its
    // commit (Store::count_new_events); deletes (retention, in batches) keep their trigger.
    R"sql(
	DROP TRIGGER events_in;
	)sql",
};
static_assert(std::size(kMigrations) == Store::kSchemaVersion);

nlohmann::json globs_json(const std::vector<std::string> &globs)
{
	return globs;
}

Rule rule_from_row(const Statement &st)
{
	Rule r;
	r.name = st.text(0);
	r.volume = st.text(1);
	r.subtree = st.text(2);
	r.dax = st.integer(3) != 0;
	r.include = nlohmann::json::parse(st.text(4)).get<std::vector<std::string>>();
	r.exclude = nlohmann::json::parse(st.text(5)).get<std::vector<std::string>>();
	r.priority = static_cast<int>(st.integer(6));
	r.source = st.text(7);
	return r;
}

constexpr const char *kRuleColumns =
    "name, volume, subtree, dax, include, exclude, priority, source";

PendingChange pending_from_row(const Statement &st)
{
	PendingChange p;
	p.volume = st.text(0);
	p.ino = static_cast<uint64_t>(st.integer(1));
	p.generation = static_cast<uint64_t>(st.integer(2));
	p.path = st.text(3);
	p.want = st.integer(4) != 0;
	p.rule = st.optional_text(5);
	p.since_ms = st.integer(6);
	p.reason = st.text(7);
	return p;
}

constexpr const char *kPendingColumns =
    "volume, ino, generation, path, want, rule, since_ms, reason";
constexpr const char *kPendingOrder = "since_ms, volume, path, ino, generation";

constexpr const char *kEventColumns = "id, time_ms, type, volume, path, data";

Event event_from_row(const Statement &st)
{
	Event e;
	e.id = st.integer(0);
	e.time = rfc3339_from_ms(st.integer(1));
	e.type = st.text(2);
	e.volume = st.text(3);
	e.path = st.text(4);
	e.data = nlohmann::json::parse(st.text(5));
	return e;
}

// The WHERE clause of an event query (but its limit) and its values, in order: what a page
// read and the search for where the newest N start share.
class EventFilter
{
      public:
	explicit EventFilter(const EventQuery &q)
	{
		if (!q.types.empty()) {
			std::string marks;
			for (const auto &t : q.types) {
				marks += marks.empty() ? "?" : ", ?";
				texts_.push_back(t);
			}
			sql_ += " AND type IN (" + marks + ")";
		}
		if (q.volume) {
			sql_ += " AND volume = ?";
			texts_.push_back(*q.volume);
		}
		// The path and what is below it: names from "P/" up to, not including, "P0" ('0'
		// follows '/'). The root holds everything.
		if (q.path && *q.path != "/") {
			sql_ += " AND (path = ? OR (path > ? AND path < ?))";
			texts_.push_back(*q.path);
			texts_.push_back(*q.path + "/");
			texts_.push_back(*q.path + "0");
		}
		if (q.since_ms) {
			sql_ += " AND time_ms >= ?";
			numbers_.push_back(*q.since_ms);
		}
		if (q.until_ms) {
			sql_ += " AND time_ms <= ?";
			numbers_.push_back(*q.until_ms);
		}
	}
	const std::string &sql() const { return sql_; }
	// Binds the values from parameter `first` on; returns the next parameter's index.
	int bind(Statement &st, int first) const
	{
		for (const auto &t : texts_)
			st.bind(first++, t);
		for (int64_t n : numbers_)
			st.bind(first++, n);
		return first;
	}

      private:
	std::string sql_;
	std::vector<std::string> texts_; // bound in order, before the numbers
	std::vector<int64_t> numbers_;
};

// Pages events() reads at a time.
constexpr int64_t kEventPage = 1024;

} // namespace

nlohmann::json Event::to_json() const
{
	nlohmann::json j = {
	    {"id", id}, {"time", time}, {"type", type}, {"volume", volume}, {"path", path}};
	for (const auto &[k, v] : data.items())
		j[k] = v;
	return j;
}

Store::Store(const std::filesystem::path &file) : db_(file)
{
	db_.exec("PRAGMA journal_mode = WAL");
	db_.exec("PRAGMA synchronous = FULL");
	db_.exec("PRAGMA foreign_keys = ON");
	// The row counts' triggers see the row an INSERT OR REPLACE removes (schema 4).
	db_.exec("PRAGMA recursive_triggers = ON");
	migrate();
	db_.set_transaction_hooks([this] { count_new_events(); }, [this] { new_events_ = 0; });
}

void Store::count_new_events()
{
	if (!new_events_)
		return;
	Statement st(db_, "UPDATE row_counts SET n = n + ? WHERE name = 'events'");
	st.bind_all(new_events_);
	st.run();
	new_events_ = 0;
}

void Store::migrate()
{
	Statement get(db_, "PRAGMA user_version");
	get.step();
	int64_t version = get.integer(0);
	if (version > kSchemaVersion)
		throw Error(Errc::unsupported, "database schema version " +
		                                   std::to_string(version) +
		                                   " is newer than this daxpolicyd understands (" +
		                                   std::to_string(kSchemaVersion) + ")");
	for (; version < kSchemaVersion; version++) {
		WriteTransaction txn(db_);
		db_.exec(kMigrations[version]);
		db_.exec("PRAGMA user_version = " + std::to_string(version + 1));
		txn.commit();
	}
}

std::vector<Rule> Store::rules()
{
	Statement st(db_, std::string("SELECT ") + kRuleColumns + " FROM rules ORDER BY name");
	std::vector<Rule> out;
	while (st.step())
		out.push_back(rule_from_row(st));
	return out;
}

std::optional<Rule> Store::rule(const std::string &name)
{
	Statement st(db_, std::string("SELECT ") + kRuleColumns + " FROM rules WHERE name = ?");
	st.bind_all(name);
	if (!st.step())
		return std::nullopt;
	return rule_from_row(st);
}

void Store::insert_rule(const Rule &r)
{
	if (rule(r.name))
		throw Error(Errc::exists, "rule '" + r.name + "' already exists");
	Statement st(db_, std::string("INSERT INTO rules (") + kRuleColumns +
	                      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	st.bind_all(r.name, r.volume, r.subtree, int64_t{r.dax}, globs_json(r.include).dump(),
	            globs_json(r.exclude).dump(), int64_t{r.priority}, r.source);
	st.run();
}

void Store::update_rule(const Rule &r)
{
	Statement st(db_, "UPDATE rules SET volume = ?, subtree = ?, dax = ?, include = ?, "
	                  "exclude = ?, priority = ?, source = ? WHERE name = ?");
	st.bind_all(r.volume, r.subtree, int64_t{r.dax}, globs_json(r.include).dump(),
	            globs_json(r.exclude).dump(), int64_t{r.priority}, r.source, r.name);
	st.run();
}

void Store::delete_rule(const std::string &name)
{
	if (!rule(name))
		throw Error(Errc::not_found, "no rule named '" + name + "'");
	Statement st(db_, "DELETE FROM rules WHERE name = ?");
	st.bind_all(name);
	st.run();
}

std::vector<Rule> Store::rules_page(const std::string &after, int64_t limit)
{
	Statement st(db_, std::string("SELECT ") + kRuleColumns +
	                      " FROM rules WHERE name > ? ORDER BY name LIMIT ?");
	st.bind_all(after, limit);
	std::vector<Rule> out;
	while (st.step())
		out.push_back(rule_from_row(st));
	return out;
}

PendingKey PendingKey::of(const PendingChange &c)
{
	return {c.since_ms, c.volume, c.path, c.ino, c.generation};
}

std::vector<PendingChange> Store::pending_page(const std::optional<PendingKey> &after,
                                               int64_t limit)
{
	std::string sql = std::string("SELECT ") + kPendingColumns + " FROM pending";
	if (after)
		sql += std::string(" WHERE (") + kPendingOrder + ") > (?, ?, ?, ?, ?)";
	Statement st(db_, sql + " ORDER BY " + kPendingOrder + " LIMIT ?");
	if (after)
		st.bind_all(after->since_ms, after->volume, after->path,
		            static_cast<int64_t>(after->ino),
		            static_cast<int64_t>(after->generation), limit);
	else
		st.bind_all(limit);
	std::vector<PendingChange> out;
	while (st.step())
		out.push_back(pending_from_row(st));
	return out;
}

std::vector<PendingChange> Store::pending()
{
	Statement st(db_, std::string("SELECT ") + kPendingColumns + " FROM pending ORDER BY " +
	                      kPendingOrder);
	std::vector<PendingChange> out;
	while (st.step())
		out.push_back(pending_from_row(st));
	return out;
}

std::optional<PendingChange> Store::pending_for(const std::string &volume, uint64_t ino,
                                                uint64_t generation)
{
	Statement st(db_, std::string("SELECT ") + kPendingColumns +
	                      " FROM pending WHERE volume = ? AND ino = ? AND generation = ?");
	st.bind_all(volume, static_cast<int64_t>(ino), static_cast<int64_t>(generation));
	if (!st.step())
		return std::nullopt;
	return pending_from_row(st);
}

std::vector<PendingChange> Store::pending_among(const std::string &volume,
                                                std::span<const uint64_t> inos)
{
	// The numbers as one JSON array parameter: one statement whatever their count, each
	// number a probe of the primary key (volume, ino, generation).
	nlohmann::json numbers = nlohmann::json::array();
	for (uint64_t ino : inos)
		numbers.push_back(static_cast<int64_t>(ino));
	Statement st(db_, std::string("SELECT ") + kPendingColumns +
	                      " FROM pending WHERE volume = ? AND ino IN "
	                      "(SELECT value FROM json_each(?))");
	st.bind_all(volume, numbers.dump());
	std::vector<PendingChange> out;
	while (st.step())
		out.push_back(pending_from_row(st));
	return out;
}

void Store::put_pending(const PendingChange &p)
{
	Statement st(db_, std::string("INSERT OR REPLACE INTO pending (") + kPendingColumns +
	                      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	st.bind_all(p.volume, static_cast<int64_t>(p.ino), static_cast<int64_t>(p.generation),
	            p.path, int64_t{p.want}, p.rule, p.since_ms, p.reason);
	st.run();
}

void Store::delete_pending(const std::string &volume, uint64_t ino, uint64_t generation)
{
	Statement st(db_, "DELETE FROM pending WHERE volume = ? AND ino = ? AND generation = ?");
	st.bind_all(volume, static_cast<int64_t>(ino), static_cast<int64_t>(generation));
	st.run();
}

Event Store::append_event(const std::string &type, const std::string &volume,
                          const std::string &path, nlohmann::json data)
{
	Event e;
	int64_t ms = unix_now_ms();
	e.time = rfc3339_from_ms(ms);
	e.type = type;
	e.volume = volume;
	e.path = path;
	e.data = std::move(data);
	// The row and its count in one transaction: the caller's, or one of its own.
	std::optional<WriteTransaction> own;
	if (!db_.in_transaction())
		own.emplace(db_);
	Statement st(db_, "INSERT INTO events (time_ms, type, volume, path, data) "
	                  "VALUES (?, ?, ?, ?, ?)");
	st.bind_all(ms, type, volume, path, e.data.dump());
	st.run();
	e.id = db_.last_insert_rowid();
	new_events_++;
	if (own)
		own->commit();
	return e;
}

std::vector<Event> Store::events(const EventQuery &q)
{
	std::vector<Event> out;
	EventRange range = event_range(q);
	for (;;) {
		auto page = events_page(q, range, kEventPage);
		if (page.empty())
			return out;
		range.after = page.back().id;
		for (auto &e : page)
			out.push_back(std::move(e));
	}
}

EventRange Store::event_range(const EventQuery &q)
{
	Statement newest(db_, "SELECT coalesce(max(id), 0) FROM events");
	newest.step();
	EventRange range{0, newest.integer(0)};
	if (!q.limit)
		return range;
	if (*q.limit <= 0)
		return {range.through, range.through};
	// The oldest of the newest `limit`: the read starts just before it.
	EventFilter filter(q);
	Statement st(db_, "SELECT id FROM events WHERE id <= ?" + filter.sql() +
	                      " ORDER BY id DESC LIMIT 1 OFFSET ?");
	st.bind(1, range.through);
	st.bind(filter.bind(st, 2), *q.limit - 1);
	if (st.step())
		range.after = st.integer(0) - 1;
	return range;
}

std::vector<Event> Store::events_page(const EventQuery &q, EventRange range, int64_t limit)
{
	EventFilter filter(q);
	Statement st(db_, std::string("SELECT ") + kEventColumns +
	                      " FROM events WHERE id > ? AND id <= ?" + filter.sql() +
	                      " ORDER BY id LIMIT ?");
	st.bind(1, range.after);
	st.bind(2, range.through);
	st.bind(filter.bind(st, 3), limit);
	std::vector<Event> out;
	while (st.step())
		out.push_back(event_from_row(st));
	return out;
}

void Store::put_job(const StoredJob &job)
{
	const JobReport &r = job.report;
	Statement st(db_, "INSERT OR REPLACE INTO jobs (id, state, cause, scopes, next_scope, "
	                  "done, started_ms, finished_ms, applied, deferred, error, resumed_from) "
	                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	st.bind_all(static_cast<int64_t>(r.id), std::string(job_state_name(r.state)), r.cause,
	            scopes_json(r.scopes).dump(), static_cast<int64_t>(job.next_scope),
	            static_cast<int64_t>(r.done), r.started_ms, r.finished_ms,
	            static_cast<int64_t>(r.files.applied), static_cast<int64_t>(r.files.deferred),
	            r.error, static_cast<int64_t>(r.resumed_from.value_or(0)));
	st.run();
	// Finished jobs beyond the last kKeptJobs are of no more use: their summary is an event.
	Statement prune(db_, "DELETE FROM jobs WHERE state NOT IN ('queued', 'running') AND id <= "
	                     "(SELECT max(id) FROM jobs) - ?");
	prune.bind_all(int64_t{kKeptJobs});
	prune.run();
}

std::vector<StoredJob> Store::unfinished_jobs()
{
	Statement st(db_, "SELECT id, state, cause, scopes, next_scope, done, started_ms, applied, "
	                  "deferred FROM jobs WHERE state IN ('queued', 'running') ORDER BY id");
	std::vector<StoredJob> out;
	while (st.step()) {
		StoredJob job;
		JobReport &r = job.report;
		r.id = static_cast<uint64_t>(st.integer(0));
		auto state = job_state_from_name(st.text(1));
		auto scopes = nlohmann::json::parse(st.text(3), nullptr, false);
		int64_t next = st.integer(4);
		if (!state || !scopes.is_array() || next < 0)
			throw Error(Errc::corrupted, "job " + std::to_string(r.id) +
			                                 " in the database is malformed");
		r.state = *state;
		r.cause = st.text(2);
		try {
			r.scopes = scopes_from_json(scopes);
		} catch (const nlohmann::json::exception &) {
			throw Error(Errc::corrupted,
			            "job " + std::to_string(r.id) +
			                ": its scopes in the database are malformed");
		}
		job.next_scope = std::min(static_cast<size_t>(next), r.scopes.size());
		r.done = static_cast<uint64_t>(std::max<int64_t>(0, st.integer(5)));
		r.started_ms = st.integer(6);
		r.files.applied = static_cast<uint64_t>(std::max<int64_t>(0, st.integer(7)));
		r.files.deferred = static_cast<uint64_t>(std::max<int64_t>(0, st.integer(8)));
		out.push_back(std::move(job));
	}
	return out;
}

uint64_t Store::last_job_id()
{
	Statement st(db_, "SELECT coalesce(max(id), 0) FROM jobs");
	st.step();
	return static_cast<uint64_t>(st.integer(0));
}

int64_t Store::prune_events(const EventRetention &r, int64_t batch)
{
	// Each DELETE is its own transaction, of at most `batch` rows: the log shrinks in
	// short steps, never one long transaction that holds off every other writer.
	int64_t gone = 0;
	if (r.keep) {
		// Ids grow by one an event and only retention deletes, oldest first: the
		// newest `keep` events are those with the newest `keep` ids. (Where an age
		// prune took some out of id order, after the clock was set back, a few
		// fewer are kept.)
		Statement st(db_,
		             "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE id <= "
		             "(SELECT max(id) FROM events) - ? ORDER BY id LIMIT ?)");
		st.bind_all(*r.keep, batch);
		st.run();
		gone += db_.changes();
	}
	if (r.older_than_ms && gone < batch) {
		Statement st(db_, "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE "
		                  "time_ms < ? ORDER BY time_ms LIMIT ?)");
		st.bind_all(*r.older_than_ms, batch - gone);
		st.run();
		gone += db_.changes();
	}
	return gone;
}

int64_t Store::count(const char *table)
{
	std::string name = table;
	bool kept = name == "events" || name == "pending";
	Statement st(db_, kept ? "SELECT n FROM row_counts WHERE name = ?"
	                       : "SELECT count(*) FROM " + name);
	if (kept)
		st.bind_all(name);
	if (!st.step())
		throw Error(Errc::internal, "database: no row count for " + name);
	// Within a write transaction, its events not yet added to the count.
	return st.integer(0) + (name == "events" ? new_events_ : 0);
}

} // namespace daxpolicy::policy
