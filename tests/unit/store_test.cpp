// SPDX-License-Identifier: BSD-3-Clause
// The durable state (policy/store.hpp): schema versioning, rules, the pending queue and the
// event log, as the daemon reads them back after a restart; and the time format of events.
#include "common/clock.hpp"
#include "common/error.hpp"
#include "policy/store.hpp"
#include "tests/support/error_code.hpp"
#include "tests/support/rule_builder.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <memory>

using namespace daxpolicy;
using namespace daxpolicy::policy;

namespace
{

using test::error_code_of;
using test::make_rule;

int64_t user_version(Store &store)
{
	Statement st(store.database(), "PRAGMA user_version");
	EXPECT_TRUE(st.step());
	return st.integer(0);
}

PendingChange make_pending(uint64_t ino, uint64_t generation, const std::string &path, bool want)
{
	PendingChange p;
	p.volume = "pool0";
	p.ino = ino;
	p.generation = generation;
	p.path = path;
	p.want = want;
	p.since_ms = 1'700'000'000'000;
	p.reason = "1 live mapping";
	return p;
}

EventQuery query(std::optional<std::string> type, std::optional<int64_t> since_ms = std::nullopt,
                 std::optional<int64_t> limit = std::nullopt)
{
	EventQuery q;
	if (type)
		q.types.push_back(*type);
	q.since_ms = since_ms;
	q.limit = limit;
	return q;
}

class StoreTest : public ::testing::Test
{
      protected:
	void SetUp() override { store_ = std::make_unique<Store>(db_); }
	void reopen()
	{
		store_.reset();
		store_ = std::make_unique<Store>(db_);
	}
	// Puts an event at a known time, so that `since` can be checked without waiting.
	void set_event_time(int64_t id, int64_t time_ms)
	{
		store_->database().exec("UPDATE events SET time_ms = " + std::to_string(time_ms) +
		                        " WHERE id = " + std::to_string(id));
	}

	test::TempDir dir_;
	std::filesystem::path db_ = dir_ / "daxpolicy.db";
	std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, FreshDatabaseHasCurrentSchemaAndIsEmpty)
{
	EXPECT_TRUE(std::filesystem::exists(db_));
	EXPECT_EQ(user_version(*store_), Store::kSchemaVersion);
	EXPECT_EQ(store_->count("rules"), 0);
	EXPECT_EQ(store_->count("pending"), 0);
	EXPECT_EQ(store_->count("events"), 0);
	EXPECT_TRUE(store_->rules().empty());
	EXPECT_TRUE(store_->pending().empty());
	EXPECT_TRUE(store_->events({}).empty());
	// Opening it again neither migrates twice nor loses the version.
	reopen();
	EXPECT_EQ(user_version(*store_), Store::kSchemaVersion);
}

TEST_F(StoreTest, NewerSchemaIsRefused)
{
	store_->insert_rule(make_rule("keep", "/a", true));
	store_->database().exec("PRAGMA user_version = " +
	                        std::to_string(Store::kSchemaVersion + 1));
	store_.reset();
	EXPECT_EQ(error_code_of([&] { Store s(db_); }), Errc::unsupported);
	// Refusing it left it alone: still the newer version, still the rule.
	{
		Database raw(db_);
		Statement st(raw, "PRAGMA user_version");
		ASSERT_TRUE(st.step());
		EXPECT_EQ(st.integer(0), Store::kSchemaVersion + 1);
		Statement rules(raw, "SELECT name FROM rules");
		ASSERT_TRUE(rules.step());
		EXPECT_EQ(rules.text(0), "keep");
	}
}

TEST_F(StoreTest, RuleInsertGetUpdateDelete)
{
	Rule wal = make_rule("db-wal", "/db/wal", true)
	               .include({"*.log", "*.wal"})
	               .exclude({"*.tmp"})
	               .priority(-7);
	Rule data =
	    make_rule("data", "/data", false).managed("/etc/daxpolicy/policy.d/10-data.toml");
	store_->insert_rule(wal);
	store_->insert_rule(data);

	auto got = store_->rule("db-wal");
	ASSERT_TRUE(got);
	EXPECT_EQ(*got, wal);
	EXPECT_FALSE(got->managed());
	ASSERT_TRUE(store_->rule("data"));
	EXPECT_TRUE(store_->rule("data")->managed());
	EXPECT_FALSE(store_->rule("nope"));
	// Listed by name.
	auto all = store_->rules();
	ASSERT_EQ(all.size(), 2u);
	EXPECT_EQ(all[0].name, "data");
	EXPECT_EQ(all[1].name, "db-wal");

	Rule changed = wal;
	changed.subtree = "/db/wal2";
	changed.dax = false;
	changed.include = {};
	changed.exclude = {"*.bak", "core"};
	changed.priority = 42;
	changed.source = "/p/x.toml";
	store_->update_rule(changed);
	EXPECT_EQ(*store_->rule("db-wal"), changed);
	EXPECT_EQ(*store_->rule("data"), data) << "update touched another rule";

	store_->delete_rule("db-wal");
	EXPECT_FALSE(store_->rule("db-wal"));
	EXPECT_EQ(store_->count("rules"), 1);
}

TEST_F(StoreTest, DuplicateRuleNameIsExistsAndKeepsTheFirst)
{
	store_->insert_rule(make_rule("r1", "/a", true));
	EXPECT_EQ(error_code_of([&] { store_->insert_rule(make_rule("r1", "/b", false)); }),
	          Errc::exists);
	ASSERT_TRUE(store_->rule("r1"));
	EXPECT_EQ(store_->rule("r1")->subtree, "/a");
	EXPECT_EQ(store_->count("rules"), 1);
}

TEST_F(StoreTest, DeletingAMissingRuleIsNotFound)
{
	EXPECT_EQ(error_code_of([&] { store_->delete_rule("ghost"); }), Errc::not_found);
	store_->insert_rule(make_rule("r1", "/a", true));
	store_->delete_rule("r1");
	EXPECT_EQ(error_code_of([&] { store_->delete_rule("r1"); }), Errc::not_found);
}

TEST_F(StoreTest, RulesAndPendingSurviveReopen)
{
	Rule r = make_rule("wal", "/wal", true).include({"*.log"});
	store_->insert_rule(r);
	PendingChange p = make_pending(12, 3, "/wal/1.log", true);
	p.rule = "wal";
	store_->put_pending(p);
	PendingChange manual = make_pending(13, 1, "/x", false);
	manual.since_ms = p.since_ms + 5;
	store_->put_pending(manual);

	reopen();
	ASSERT_TRUE(store_->rule("wal"));
	EXPECT_EQ(*store_->rule("wal"), r);
	auto pend = store_->pending();
	ASSERT_EQ(pend.size(), 2u);
	// Oldest first.
	EXPECT_EQ(pend[0].ino, 12u);
	EXPECT_EQ(pend[0].generation, 3u);
	EXPECT_EQ(pend[0].path, "/wal/1.log");
	EXPECT_TRUE(pend[0].want);
	EXPECT_EQ(pend[0].rule, std::optional<std::string>("wal"));
	EXPECT_EQ(pend[0].since_ms, p.since_ms);
	EXPECT_EQ(pend[0].reason, "1 live mapping");
	EXPECT_EQ(pend[1].ino, 13u);
	EXPECT_FALSE(pend[1].want);
	EXPECT_FALSE(pend[1].rule) << "a set-dax change has no rule";
}

TEST_F(StoreTest, PendingIsKeyedByVolumeInoAndGeneration)
{
	store_->put_pending(make_pending(5, 1, "/a", true));
	// Same inode slot, a later file in it: a different change.
	store_->put_pending(make_pending(5, 2, "/b", false));
	// Same inode and generation on another volume: different too.
	PendingChange other = make_pending(5, 1, "/a", false);
	other.volume = "pmem0";
	store_->put_pending(other);
	EXPECT_EQ(store_->count("pending"), 3);

	auto a = store_->pending_for("pool0", 5, 1);
	ASSERT_TRUE(a);
	EXPECT_EQ(a->path, "/a");
	EXPECT_TRUE(a->want);
	auto b = store_->pending_for("pool0", 5, 2);
	ASSERT_TRUE(b);
	EXPECT_EQ(b->path, "/b");
	EXPECT_FALSE(b->want);
	auto c = store_->pending_for("pmem0", 5, 1);
	ASSERT_TRUE(c);
	EXPECT_FALSE(c->want);
	EXPECT_FALSE(store_->pending_for("pool0", 5, 3));
	EXPECT_FALSE(store_->pending_for("pool0", 6, 1));

	store_->delete_pending("pool0", 5, 1);
	EXPECT_FALSE(store_->pending_for("pool0", 5, 1));
	EXPECT_TRUE(store_->pending_for("pool0", 5, 2));
	EXPECT_TRUE(store_->pending_for("pmem0", 5, 1));
	// Deleting what is not there is not an error.
	store_->delete_pending("pool0", 5, 1);
	EXPECT_EQ(store_->count("pending"), 2);
}

TEST_F(StoreTest, PuttingPendingAgainReplacesIt)
{
	store_->insert_rule(make_rule("r1", "/a", true));
	PendingChange first = make_pending(7, 1, "/a/f", true);
	first.rule = "r1";
	store_->put_pending(first);
	PendingChange second = make_pending(7, 1, "/a/renamed", false);
	second.since_ms = first.since_ms + 1000;
	second.reason = "2 live mappings";
	store_->put_pending(second);

	EXPECT_EQ(store_->count("pending"), 1);
	auto got = store_->pending_for("pool0", 7, 1);
	ASSERT_TRUE(got);
	EXPECT_EQ(got->path, "/a/renamed");
	EXPECT_FALSE(got->want);
	EXPECT_FALSE(got->rule);
	EXPECT_EQ(got->since_ms, second.since_ms);
	EXPECT_EQ(got->reason, "2 live mappings");
}

TEST_F(StoreTest, EventsGetIncreasingIdsAndUtcTimes)
{
	int64_t before = unix_now_ms();
	Event a = store_->append_event("flag-change", "pool0", "/f",
	                               {{"from", false}, {"to", true}, {"rule", "r"}});
	Event b = store_->append_event("deferred", "pool0", "/g", {{"want", true}});
	int64_t after = unix_now_ms();
	EXPECT_GT(a.id, 0);
	EXPECT_GT(b.id, a.id);

	for (const Event &e : {a, b}) {
		// "YYYY-MM-DDTHH:MM:SS.mmmZ"
		ASSERT_EQ(e.time.size(), 24u) << e.time;
		EXPECT_EQ(e.time[10], 'T') << e.time;
		EXPECT_EQ(e.time[19], '.') << e.time;
		EXPECT_EQ(e.time.back(), 'Z') << e.time;
		auto ms = parse_rfc3339(e.time);
		ASSERT_TRUE(ms) << e.time;
		EXPECT_GE(*ms, before);
		EXPECT_LE(*ms, after);
	}

	auto j = a.to_json();
	EXPECT_EQ(j["id"], a.id);
	EXPECT_EQ(j["time"], a.time);
	EXPECT_EQ(j["type"], "flag-change");
	EXPECT_EQ(j["volume"], "pool0");
	EXPECT_EQ(j["path"], "/f");
	EXPECT_EQ(j["to"], true);
	EXPECT_EQ(j["rule"], "r");

	auto all = store_->events({});
	ASSERT_EQ(all.size(), 2u);
	EXPECT_EQ(all[0].id, a.id);
	EXPECT_EQ(all[0].time, a.time);
	EXPECT_EQ(all[0].type, "flag-change");
	EXPECT_EQ(all[0].path, "/f");
	EXPECT_EQ(all[0].data, a.data);
	EXPECT_EQ(all[1].id, b.id);
	EXPECT_EQ(all[1].data["want"], true);
}

TEST_F(StoreTest, EventIdsKeepGrowingAcrossReopen)
{
	Event a = store_->append_event("volume", "pool0", "/", {});
	reopen();
	Event b = store_->append_event("volume", "pool0", "/", {});
	EXPECT_GT(b.id, a.id);
	EXPECT_EQ(store_->events({}).size(), 2u);
}

TEST_F(StoreTest, EventQueryByTypeSinceAndLimit)
{
	std::vector<int64_t> ids;
	const char *types[] = {"flag-change", "deferred",    "flag-change",
	                       "rule-change", "flag-change", "deferred"};
	int64_t base = 1'800'000'000'000; // 2027-01-15
	for (int i = 0; i < 6; i++) {
		Event e =
		    store_->append_event(types[i], "pool0", "/f" + std::to_string(i), {{"n", i}});
		set_event_time(e.id, base + i * 1000);
		ids.push_back(e.id);
	}
	auto paths = [](const std::vector<Event> &events) {
		std::vector<std::string> out;
		for (const auto &e : events)
			out.push_back(e.path);
		return out;
	};
	using V = std::vector<std::string>;

	EXPECT_EQ(paths(store_->events(query("flag-change"))), (V{"/f0", "/f2", "/f4"}));
	EXPECT_EQ(paths(store_->events(query("deferred"))), (V{"/f1", "/f5"}));
	EXPECT_TRUE(store_->events(query("lease-break")).empty());

	// since: at or after.
	EXPECT_EQ(paths(store_->events(query(std::nullopt, base + 3000))),
	          (V{"/f3", "/f4", "/f5"}));
	EXPECT_EQ(paths(store_->events(query(std::nullopt, base + 2999))),
	          (V{"/f3", "/f4", "/f5"}));
	EXPECT_EQ(paths(store_->events(query(std::nullopt, base + 3001))), (V{"/f4", "/f5"}));
	EXPECT_TRUE(store_->events(query(std::nullopt, base + 10000)).empty());
	// The time read back is the time stored.
	auto f3 = store_->events(query(std::nullopt, base + 3000, 3));
	ASSERT_FALSE(f3.empty());
	EXPECT_EQ(parse_rfc3339(f3.front().time), base + 3000);
	EXPECT_EQ(f3.front().time, rfc3339_from_ms(base + 3000));

	// limit: the newest N, oldest first.
	EXPECT_EQ(paths(store_->events(query(std::nullopt, std::nullopt, 2))), (V{"/f4", "/f5"}));
	EXPECT_EQ(paths(store_->events(query(std::nullopt, std::nullopt, 100))).size(), 6u);
	EXPECT_EQ(paths(store_->events(query("flag-change", std::nullopt, 2))), (V{"/f2", "/f4"}));
	EXPECT_EQ(paths(store_->events(query("flag-change", base + 1000, 1))), (V{"/f4"}));
	EXPECT_EQ(paths(store_->events(query("flag-change", base + 1000))), (V{"/f2", "/f4"}));
}

TEST_F(StoreTest, EventQueryTypeIsAValueNotSql)
{
	store_->append_event("deferred", "pool0", "/f", {});
	EXPECT_TRUE(store_->events(query("x' OR '1'='1")).empty());
	EXPECT_EQ(store_->count("events"), 1);
}

TEST_F(StoreTest, RulesAndPendingReadByPagesInListOrder)
{
	for (int i = 9; i >= 0; i--)
		store_->insert_rule(make_rule("r" + std::to_string(i), "/r", true));
	std::vector<std::string> names;
	for (std::string after;;) {
		auto page = store_->rules_page(after, 3);
		for (const auto &r : page)
			names.push_back(r.name);
		if (page.size() < 3)
			break;
		after = page.back().name;
	}
	std::vector<std::string> all;
	for (const auto &r : store_->rules())
		all.push_back(r.name);
	EXPECT_EQ(names, all);
	EXPECT_EQ(names.size(), 10u);

	// Ties on since_ms and path, told apart by identity: each exactly once, as pending()
	// orders them.
	for (uint64_t ino = 1; ino <= 7; ino++) {
		auto p = make_pending(ino, ino % 2, ino < 4 ? "/same" : "/p" + std::to_string(ino),
		                      true);
		p.since_ms += ino % 3;
		store_->put_pending(p);
	}
	std::vector<std::pair<uint64_t, uint64_t>> paged, whole;
	std::optional<PendingKey> after;
	for (;;) {
		auto page = store_->pending_page(after, 2);
		for (const auto &p : page)
			paged.emplace_back(p.ino, p.generation);
		if (page.size() < 2)
			break;
		after = PendingKey::of(page.back());
	}
	for (const auto &p : store_->pending())
		whole.emplace_back(p.ino, p.generation);
	EXPECT_EQ(paged, whole);
	EXPECT_EQ(paged.size(), 7u);
}

TEST_F(StoreTest, EventPagesFilterByTypesVolumePathAndTime)
{
	int64_t base = 1'800'000'000'000;
	struct Row {
		const char *type, *volume, *path;
	};
	const Row rows[] = {
	    {"flag-change", "pool0", "/db"},   {"deferred", "pool0", "/db/a/b"},
	    {"volume", "pool0", "/"},          {"flag-change", "pmem0", "/db/a"},
	    {"lease-break", "pool0", "/dbx"},  {"flag-change", "pool0", "/db0"},
	    {"rule-change", "pool0", "/db/c"},
	};
	for (size_t i = 0; i < std::size(rows); i++) {
		Event e = store_->append_event(rows[i].type, rows[i].volume, rows[i].path, {});
		set_event_time(e.id, base + int64_t(i) * 1000);
	}
	auto paths = [&](EventQuery q) {
		std::vector<std::string> out;
		for (const auto &e : store_->events(q))
			out.push_back(e.volume + ":" + e.path);
		return out;
	};
	using V = std::vector<std::string>;
	EventQuery q;
	q.types = {"flag-change", "deferred"};
	EXPECT_EQ(paths(q), (V{"pool0:/db", "pool0:/db/a/b", "pmem0:/db/a", "pool0:/db0"}));
	q = {};
	q.volume = "pmem0";
	EXPECT_EQ(paths(q), (V{"pmem0:/db/a"}));
	// A path is itself and what is below it; /dbx and /db0 are neither.
	q = {};
	q.path = "/db";
	EXPECT_EQ(paths(q), (V{"pool0:/db", "pool0:/db/a/b", "pmem0:/db/a", "pool0:/db/c"}));
	q.volume = "pool0";
	EXPECT_EQ(paths(q), (V{"pool0:/db", "pool0:/db/a/b", "pool0:/db/c"}));
	q.path = "/";
	EXPECT_EQ(paths(q).size(), 6u);
	q = {};
	q.since_ms = base + 2000;
	q.until_ms = base + 4000;
	EXPECT_EQ(paths(q), (V{"pool0:/", "pmem0:/db/a", "pool0:/dbx"}));
	q.types = {"flag-change"};
	q.limit = 1;
	EXPECT_EQ(paths(q), (V{"pmem0:/db/a"}));
	q = {};
	q.limit = 0;
	EXPECT_TRUE(paths(q).empty());

	// A read covers the log as it was when it started: what is appended meanwhile is not
	// in it, so that a list of a log being written ends.
	q = {};
	EventRange range = store_->event_range(q);
	store_->append_event("volume", "pool0", "/later", {});
	auto first = store_->events_page(q, range, 4);
	ASSERT_EQ(first.size(), 4u);
	auto rest = store_->events_page(q, {first.back().id, range.through}, 4);
	ASSERT_EQ(rest.size(), 3u);
	EXPECT_EQ(rest.back().path, "/db/c");
}

TEST_F(StoreTest, PruningByCountKeepsTheNewestInBoundedSteps)
{
	std::vector<int64_t> ids;
	for (int i = 0; i < 100; i++)
		ids.push_back(
		    store_->append_event("volume", "pool0", "/" + std::to_string(i), {}).id);
	EventRetention keep30;
	keep30.keep = 30;
	EXPECT_EQ(store_->prune_events(keep30, 25), 25);
	EXPECT_EQ(store_->prune_events(keep30, 25), 25);
	EXPECT_EQ(store_->prune_events(keep30, 25), 20);
	EXPECT_EQ(store_->prune_events(keep30, 25), 0);
	auto left = store_->events({});
	ASSERT_EQ(left.size(), 30u);
	EXPECT_EQ(left.front().id, ids[70]);
	EXPECT_EQ(left.back().id, ids[99]);
	EXPECT_EQ(store_->prune_events({}, 25), 0) << "no bounds: everything is kept";
}

TEST_F(StoreTest, PruningByAgeTakesTheOldestAndOnlyThose)
{
	int64_t base = 1'800'000'000'000;
	for (int i = 0; i < 10; i++) {
		// Out of id order in time, as after the clock was set back.
		Event e = store_->append_event("volume", "pool0", "/" + std::to_string(i), {});
		set_event_time(e.id, base + (i % 2 ? 0 : 10000) + i);
	}
	EventRetention r;
	r.older_than_ms = base + 5000;
	EXPECT_EQ(store_->prune_events(r, 3), 3);
	EXPECT_EQ(store_->prune_events(r, 3), 2);
	EXPECT_EQ(store_->prune_events(r, 3), 0);
	for (const auto &e : store_->events({}))
		EXPECT_GE(parse_rfc3339(e.time), base + 5000) << e.path;
	EXPECT_EQ(store_->count("events"), 5);
}

TEST_F(StoreTest, VersionOneDatabaseGainsTheListIndexes)
{
	store_.reset();
	std::filesystem::remove(db_);
	{
		Database db(db_);
		db.exec(
		    "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, time_ms INTEGER "
		    "NOT NULL, type TEXT NOT NULL, volume TEXT NOT NULL, path TEXT NOT NULL, "
		    "data TEXT NOT NULL); CREATE TABLE rules (name TEXT PRIMARY KEY, volume TEXT, "
		    "subtree TEXT, dax INTEGER, include TEXT, exclude TEXT, priority INTEGER, "
		    "source TEXT); CREATE TABLE pending (volume TEXT NOT NULL, ino INTEGER NOT "
		    "NULL, generation INTEGER NOT NULL, path TEXT NOT NULL, want INTEGER NOT NULL, "
		    "rule TEXT, since_ms INTEGER NOT NULL, reason TEXT NOT NULL, PRIMARY KEY "
		    "(volume, ino, generation)); PRAGMA user_version = 1");
	}
	reopen();
	EXPECT_EQ(user_version(*store_), Store::kSchemaVersion);
	Statement st(store_->database(),
	             "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
	             "('pending_in_list_order', 'events_by_time')");
	ASSERT_TRUE(st.step());
	EXPECT_EQ(st.integer(0), 2);
}

TEST(TimeArg, RelativeTimesCountBackFromNow)
{
	const int64_t now = 1795428000000;
	EXPECT_EQ(parse_time_arg("now", now), now);
	EXPECT_EQ(parse_time_arg("-1h", now), now - 3600 * 1000);
	EXPECT_EQ(parse_time_arg("-5m", now), now - 5 * 60 * 1000);
	EXPECT_EQ(parse_time_arg("-7d", now), now - 7 * 86400 * 1000LL);
	EXPECT_EQ(parse_time_arg("-250ms", now), now - 250);
	EXPECT_EQ(parse_time_arg("2026-11-23T10:00:00Z", now), now);
	for (const char *bad : {"", "-", "-1", "-1x", "1h", "+1h", "--1h", "-h", "yesterday",
	                        "-99999999999999999999d", "-999999999d"})
		EXPECT_FALSE(parse_time_arg(bad, now)) << "accepted: " << bad;
}

TEST(Rfc3339, FormatsUtcWithMilliseconds)
{
	EXPECT_EQ(rfc3339_from_ms(0), "1970-01-01T00:00:00.000Z");
	EXPECT_EQ(rfc3339_from_ms(1795428000123), "2026-11-23T10:00:00.123Z");
	EXPECT_EQ(rfc3339_from_ms(1795428000007), "2026-11-23T10:00:00.007Z");
}

TEST(Rfc3339, ParsesWhatUsersWrite)
{
	const int64_t t = 1795428000000; // 2026-11-23T10:00:00Z
	EXPECT_EQ(parse_rfc3339("2026-11-23T10:00:00Z"), t);
	EXPECT_EQ(parse_rfc3339("2026-11-23T10:00:00.250Z"), t + 250);
	EXPECT_EQ(parse_rfc3339("2026-11-23T10:00:00.5Z"), t + 500);
	EXPECT_EQ(parse_rfc3339("2026-11-23T12:00:00+02:00"), t);
	EXPECT_EQ(parse_rfc3339("2026-11-23T12:00:00.125+02:00"), t + 125);
	EXPECT_EQ(parse_rfc3339("2026-11-23T05:30:00-04:30"), t);
	EXPECT_EQ(parse_rfc3339("2026-11-23"), t - 10 * 3600 * 1000);
	EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
	// What rfc3339_from_ms writes reads back.
	EXPECT_EQ(parse_rfc3339(rfc3339_from_ms(t + 999)), t + 999);
}

TEST(Rfc3339, RejectsGarbage)
{
	for (const char *bad :
	     {"", "yesterday", "2026-13-01", "2026-02-30T00:00:00Z", "2026-11-23T25:00:00Z",
	      "10:00:00", "12345", "1.5", "true", "\"2026-01-01\"", "2026-01-01\nx = 1",
	      "2026-01-01\rx = 1", "2026-01-01 # comment", "2026-01-01T00:00:00Z x", "[2026-01-01]",
	      "2026-01-01, 2027-01-01", "{a = 1}"})
		EXPECT_FALSE(parse_rfc3339(bad)) << "accepted: " << bad;
}

} // namespace

// `status` reads the counts on every call; they are kept by triggers, so they must stay the
// true number of rows through replaces, deletes, prunes and rolled-back transactions.
TEST_F(StoreTest, RowCountsStayExact)
{
	auto true_count = [&](const char *table) {
		Statement st(store_->database(), std::string("SELECT count(*) FROM ") + table);
		EXPECT_TRUE(st.step());
		return st.integer(0);
	};
	for (int i = 0; i < 10; i++)
		store_->append_event("flag-change", "pool0", "/f" + std::to_string(i), {});
	store_->put_pending(make_pending(5, 1, "/a", true));
	store_->put_pending(make_pending(5, 1, "/a", false)); // replaces the first
	store_->put_pending(make_pending(6, 1, "/b", true));
	store_->delete_pending("pool0", 6, 1);
	{
		WriteTransaction txn(store_->database());
		store_->append_event("flag-change", "pool0", "/gone", {});
		store_->put_pending(make_pending(7, 1, "/c", true));
		// not committed: rolled back
	}
	EventRetention keep4;
	keep4.keep = 4;
	store_->prune_events(keep4, 100);

	EXPECT_EQ(store_->count("events"), 4);
	EXPECT_EQ(store_->count("events"), true_count("events"));
	EXPECT_EQ(store_->count("pending"), 1);
	EXPECT_EQ(store_->count("pending"), true_count("pending"));
	reopen();
	EXPECT_EQ(store_->count("events"), true_count("events"));
	EXPECT_EQ(store_->count("pending"), true_count("pending"));
}

// A database made before the counts were kept starts them from its rows.
TEST_F(StoreTest, RowCountsStartFromAnOlderDatabase)
{
	for (int i = 0; i < 3; i++)
		store_->append_event("flag-change", "pool0", "/f" + std::to_string(i), {});
	store_->put_pending(make_pending(5, 1, "/a", true));
	Database &db = store_->database();
	db.exec("DROP TRIGGER IF EXISTS events_in; DROP TRIGGER events_out; DROP TRIGGER pending_in; "
	        "DROP TRIGGER pending_out; DROP TABLE row_counts; PRAGMA user_version = 3");
	reopen();
	EXPECT_EQ(user_version(*store_), Store::kSchemaVersion);
	EXPECT_EQ(store_->count("events"), 3);
	EXPECT_EQ(store_->count("pending"), 1);
}

// Statements are kept prepared for reuse; one kept after a read must not hold the read open,
// and two of the same text may be in use at once (a list read while it is written).
TEST_F(StoreTest, KeptStatementsAreIndependent)
{
	store_->append_event("flag-change", "pool0", "/a", {});
	store_->append_event("flag-change", "pool0", "/b", {});
	const std::string sql = "SELECT path FROM events ORDER BY id";
	Statement outer(store_->database(), sql);
	ASSERT_TRUE(outer.step());
	{
		Statement inner(store_->database(), sql);
		ASSERT_TRUE(inner.step());
		EXPECT_EQ(inner.text(0), "/a");
		ASSERT_TRUE(inner.step());
		EXPECT_EQ(inner.text(0), "/b");
	}
	EXPECT_EQ(outer.text(0), "/a");
	ASSERT_TRUE(outer.step());
	EXPECT_EQ(outer.text(0), "/b");
	{
		Statement again(store_->database(), sql); // the inner one, kept and reset
		ASSERT_TRUE(again.step());
		EXPECT_EQ(again.text(0), "/a");
	}
}
