// SPDX-License-Identifier: BSD-3-Clause
#include "policy/store.hpp"

#include "common/clock.hpp"
#include "common/error.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <toml++/toml.h>

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
	migrate();
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

std::vector<PendingChange> Store::pending()
{
	Statement st(db_, std::string("SELECT ") + kPendingColumns +
	                      " FROM pending ORDER BY since_ms, volume, path");
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
	Statement st(db_, "INSERT INTO events (time_ms, type, volume, path, data) "
	                  "VALUES (?, ?, ?, ?, ?)");
	st.bind_all(ms, type, volume, path, e.data.dump());
	st.run();
	e.id = db_.last_insert_rowid();
	return e;
}

std::vector<Event> Store::events(const EventQuery &q)
{
	// The newest `limit` matching events, returned oldest first.
	std::string sql = "SELECT id, time_ms, type, volume, path, data FROM events WHERE 1";
	if (q.type)
		sql += " AND type = ?";
	if (q.since_ms)
		sql += " AND time_ms >= ?";
	sql += " ORDER BY id DESC";
	if (q.limit)
		sql += " LIMIT ?";
	Statement st(db_, sql);
	int i = 1;
	if (q.type)
		st.bind(i++, *q.type);
	if (q.since_ms)
		st.bind(i++, *q.since_ms);
	if (q.limit)
		st.bind(i++, *q.limit);
	std::vector<Event> out;
	while (st.step()) {
		Event e;
		e.id = st.integer(0);
		e.time = rfc3339_from_ms(st.integer(1));
		e.type = st.text(2);
		e.volume = st.text(3);
		e.path = st.text(4);
		e.data = nlohmann::json::parse(st.text(5));
		out.push_back(std::move(e));
	}
	std::reverse(out.begin(), out.end());
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

int64_t Store::count(const char *table)
{
	Statement st(db_, std::string("SELECT count(*) FROM ") + table);
	st.step();
	return st.integer(0);
}

std::string rfc3339_from_ms(int64_t unix_ms)
{
	std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
	std::tm tm{};
	gmtime_r(&secs, &tm);
	char buf[32];
	std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	char out[40];
	std::snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>(unix_ms % 1000));
	return out;
}

std::optional<int64_t> parse_rfc3339(const std::string &text)
{
	// TOML's date-times are RFC 3339's: let toml++ read it rather than a parser of our own.
	if (text.find_first_of("\n\r#=\"'[") != std::string::npos)
		return std::nullopt;
	toml::table doc;
	try {
		doc = toml::parse("t = " + text);
	} catch (const toml::parse_error &) {
		return std::nullopt;
	}
	if (doc.size() != 1)
		return std::nullopt;
	const toml::node *node = doc.get("t");
	toml::date date;
	toml::time time{};
	int64_t offset_min = 0; // a date-time without an offset is taken as UTC
	if (auto dt = node->value<toml::date_time>()) {
		date = dt->date;
		time = dt->time;
		if (dt->offset)
			offset_min = dt->offset->minutes;
	} else if (auto d = node->value<toml::date>()) {
		date = *d;
	} else {
		return std::nullopt;
	}
	std::tm tm{};
	tm.tm_year = date.year - 1900;
	tm.tm_mon = date.month - 1;
	tm.tm_mday = date.day;
	tm.tm_hour = time.hour;
	tm.tm_min = time.minute;
	tm.tm_sec = time.second;
	int64_t secs = timegm(&tm) - offset_min * 60;
	return secs * 1000 + time.nanosecond / 1000000;
}

} // namespace daxpolicy::policy
