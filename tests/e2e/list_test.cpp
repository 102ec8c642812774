// SPDX-License-Identifier: BSD-3-Clause
// Lists of any length (issue 10): they reach the CLI whole, in parts, as the same JSON as
// before; a peer that reads slowly holds only a bounded share of the daemon; the event log is
// kept to event_max and event_retention; list-events filters by path, volume, several types
// and times, relative ones too.
#include "tests/e2e/harness.hpp"
#include "tests/e2e/peer.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <sqlite3.h>
#include <sstream>
#include <thread>

namespace daxpolicy::test
{

namespace
{

int64_t now_ms()
{
	return std::chrono::duration_cast<std::chrono::milliseconds>(
	           std::chrono::system_clock::now().time_since_epoch())
	    .count();
}

std::string iso_time(int64_t unix_ms)
{
	std::time_t secs = unix_ms / 1000;
	std::tm tm{};
	gmtime_r(&secs, &tm);
	char buf[32];
	std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

// Writes events into the database of a stopped daemon as its store keeps them, from `select`
// (time_ms, type, volume, path, data): logging 200,000 events through the daemon would take
// a transaction each, and what is tested is how lists and retention read them.
void insert_events(const Daemon &d, const std::string &select)
{
	ASSERT_FALSE(d.running());
	sqlite3 *db = nullptr;
	std::string file = d.state_dir() + "/daxpolicy.db";
	ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
	char *error = nullptr;
	// The daemon counts the events it logs itself; rows put in behind its back are
	// counted here, as it would have.
	std::string sql = "BEGIN; INSERT INTO events (time_ms, type, volume, path, data) " +
	                  select +
	                  "; UPDATE row_counts SET n = (SELECT count(*) FROM events) WHERE name = "
	                  "'events'; COMMIT";
	int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
	EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "") << "\n" << sql;
	sqlite3_free(error);
	sqlite3_close(db);
}

// `n` events, one a millisecond up to `newest_ms`, of path /bulk/N and `data`.
void insert_bulk(const Daemon &d, int n, int64_t newest_ms, const std::string &data = "{}")
{
	insert_events(d, "SELECT " + std::to_string(newest_ms - n) +
	                     " + i, CASE i % 2 WHEN 0 THEN 'flag-change' ELSE 'deferred' END, "
	                     "'pool0', '/bulk/' || i, '" +
	                     data +
	                     "' FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
	                     "FROM n WHERE i < " +
	                     std::to_string(n) + ") SELECT i FROM n)");
}

// A daemon on tmpfs whose event log holds `n` more events than the daemon logged itself.
std::unique_ptr<Daemon> daemon_with_events(int n, const std::string &config = "",
                                           const std::string &data = "{}")
{
	auto d = std::make_unique<Daemon>(config, "/dev/shm");
	d->stop();
	insert_bulk(*d, n, now_ms(), data);
	d->start();
	return d;
}

std::vector<std::string> paths_of(const json &events)
{
	std::vector<std::string> out;
	for (const auto &e : events)
		out.push_back(e["path"]);
	return out;
}

TEST(Lists, TwoHundredThousandEventsArriveWholeAsOneJsonArray)
{
	auto d = daemon_with_events(200000);
	Result r = d->cli({"list-events"});
	ASSERT_EQ(r.exit_code, 0) << r.err;
	json events = r.json();
	int64_t logged = d->ok({"status"})["events"];
	ASSERT_EQ(int64_t(events.size()), logged);
	ASSERT_GE(events.size(), 200000u);
	// Each once, oldest first.
	for (size_t i = 1; i < events.size(); i++)
		ASSERT_LT(events[i - 1]["id"], events[i]["id"]) << "at " << i;
	EXPECT_EQ(std::count_if(events.begin(), events.end(),
	                        [](const json &e) { return e["path"] == "/bulk/200000"; }),
	          1);
	// The very text the CLI printed of a list before it streamed: the whole array, dump(2).
	EXPECT_TRUE(r.out == events.dump(2) + "\n") << "the streamed array is laid out otherwise";

	// A table too, one row an event under one header.
	Result table = d->cli({"-u", "list-events", "--type", "flag-change"});
	ASSERT_EQ(table.exit_code, 0) << table.err;
	EXPECT_EQ(std::count(table.out.begin(), table.out.end(), '\n'), 100000 + 1);
	EXPECT_EQ(table.out.rfind("ID", 0), 0u) << table.out.substr(0, 200);

	// Empty lists are arrays still.
	EXPECT_EQ(d->cli({"list-events", "--type", "lease-revoked"}).out, "[]\n");
}

// What a raw peer gets for a list called with "more": every part, as it reads them.
struct Parts {
	size_t items = 0;
	size_t replies = 0;
	size_t largest = 0; // bytes of the largest reply
	bool ended = false; // the last came without "continues"
};

TEST(Lists, SlowReaderHoldsNoMoreThanABoundedShareOfTheDaemon)
{
	DAXPOLICY_SKIP_UNDER_SANITIZER("its resident size");
	// Some 600 bytes an event: 120 MiB of JSON in all, which the daemon must never hold.
	std::string data = "{\"note\": \"" + std::string(480, 'x') + "\"}";
	auto d = daemon_with_events(200000, "", data);
	long before = rss_anon_mib(d->pid());
	RawPeer peer(d->socket());
	peer.call({{"method", "io.daxpolicy.ListEvents"},
	           {"parameters", json::object()},
	           {"more", true}});
	// Not reading: the daemon makes no further part, and serves everyone else.
	std::this_thread::sleep_for(std::chrono::seconds(1));
	EXPECT_LT(rss_anon_mib(d->pid()) - before, 16) << "MiB held for a peer that reads nothing";
	EXPECT_TRUE(answers_status(*d));

	Parts parts;
	long peak = 0;
	while (!parts.ended) {
		json reply = peer.receive();
		ASSERT_TRUE(reply.is_object()) << "the daemon hung up after " << parts.items;
		ASSERT_FALSE(reply.contains("error")) << reply.dump();
		parts.items += reply["parameters"]["events"].size();
		parts.largest = std::max(parts.largest, reply.dump().size());
		parts.ended = !reply.value("continues", false);
		if (++parts.replies % 16 == 0) {
			peak = std::max(peak, rss_anon_mib(d->pid()) - before);
			std::this_thread::sleep_for(std::chrono::milliseconds(5)); // a slow reader
		}
	}
	EXPECT_GE(parts.items, 200000u);
	EXPECT_GT(parts.replies, 400u);
	EXPECT_LE(parts.largest, size_t(256 + 4) << 10) << "a part larger than 256 KiB and an item";
	EXPECT_LT(peak, 16) << "MiB grown while the list streamed";
}

TEST(Lists, EventLogIsKeptToEventMaxNewestFirst)
{
	auto d = daemon_with_events(20000, "event_max = 1000\n");
	// Pruned in steps, in the background, from start.
	auto deadline = std::chrono::steady_clock::now() + kPollTimeout;
	while (d->ok({"status"})["events"] > 1000 && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	json events = d->ok({"list-events"});
	ASSERT_EQ(events.size(), 1000u);
	// The newest stay: the last of the bulk, and the daemon's own start after it.
	EXPECT_EQ(events.back()["type"], "volume");
	EXPECT_EQ(std::count_if(events.begin(), events.end(),
	                        [](const json &e) { return e["path"] == "/bulk/20000"; }),
	          1);
	EXPECT_EQ(events.back()["id"].get<int64_t>() - events.front()["id"].get<int64_t>(), 999);

	// Events logged now push the oldest out.
	ASSERT_EQ(d->cli({"io", "-c", "open -c", "pool0:/f"}).exit_code, 0);
	for (int i = 0; i < 20; i++) {
		d->ok({"set-dax", "pool0:/f"});
		d->ok({"clear-dax", "pool0:/f"});
	}
	deadline = std::chrono::steady_clock::now() + kPollTimeout;
	while (d->ok({"status"})["events"] > 1000 && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	events = d->ok({"list-events"});
	EXPECT_EQ(events.size(), 1000u);
	EXPECT_EQ(events.back()["path"], "/f");
}

TEST(Lists, EventLogIsKeptToEventRetention)
{
	auto d = std::make_unique<Daemon>("event_retention = \"1h\"\nevent_max = 0\n", "/dev/shm");
	d->stop();
	int64_t now = now_ms();
	insert_bulk(*d, 10000, now - 48 * 3600 * 1000);             // two days old
	insert_events(*d, "SELECT " + std::to_string(now - 60000) + // a minute old
	                      ", 'rule-change', 'pool0', '/recent', '{}'");
	d->start();
	auto deadline = std::chrono::steady_clock::now() + kPollTimeout;
	while (!d->ok({"list-events", "--path", "pool0:/bulk", "--limit", "1"}).empty() &&
	       std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	EXPECT_TRUE(d->ok({"list-events", "--path", "pool0:/bulk"}).empty());
	json recent = d->ok({"list-events", "--type", "rule-change"});
	ASSERT_EQ(recent.size(), 1u);
	EXPECT_EQ(recent[0]["path"], "/recent");
}

TEST(Lists, ListEventsFiltersByPathVolumeTypesAndTimesRelativeOrNot)
{
	auto d = std::make_unique<Daemon>("", "/dev/shm");
	d->stop();
	int64_t now = now_ms();
	auto at = [&](int64_t ago_ms, const char *type, const char *volume, const char *path) {
		insert_events(*d, "SELECT " + std::to_string(now - ago_ms) + ", '" + type + "', '" +
		                      volume + "', '" + path + "', '{}'");
	};
	const int64_t min = 60 * 1000;
	at(180 * min, "flag-change", "pool0", "/t/db/a");
	at(30 * min, "deferred", "pool0", "/t/db/b/c");
	at(20 * min, "lease-break", "pool0", "/t/dbx"); // beside /t/db, not below it
	at(10 * min, "flag-change", "other", "/t/db/a");
	at(1 * min, "rule-change", "pool0", "/t");
	d->start();
	using V = std::vector<std::string>;
	auto paths = [&](std::vector<std::string> args) {
		args.insert(args.begin(), "list-events");
		return paths_of(d->ok(args));
	};

	EXPECT_EQ(paths({"--path", "pool0:/t/db"}), (V{"/t/db/a", "/t/db/b/c"}));
	EXPECT_EQ(paths({"--path", "pool0:/t/db/a"}), (V{"/t/db/a"}));
	EXPECT_EQ(paths({"--volume", "other"}), (V{"/t/db/a"}));
	EXPECT_EQ(paths({"--type", "flag-change", "--type", "deferred"}),
	          (V{"/t/db/a", "/t/db/b/c", "/t/db/a"}));
	EXPECT_EQ(paths({"--type", "flag-change", "--volume", "pool0"}), (V{"/t/db/a"}));
	EXPECT_EQ(paths({"--path", "pool0:/t", "--since", "-1h"}),
	          (V{"/t/db/b/c", "/t/dbx", "/t"}));
	EXPECT_EQ(paths({"--path", "pool0:/t", "--since", "-1h", "--until", "-15m"}),
	          (V{"/t/db/b/c", "/t/dbx"}));
	EXPECT_EQ(paths({"--path", "pool0:/t", "--until", "-2h"}), (V{"/t/db/a"}));
	EXPECT_EQ(
	    paths({"--path", "pool0:/t", "--since", iso_time(now - 25 * min), "--until", "now"}),
	    (V{"/t/dbx", "/t"}));
	EXPECT_EQ(paths({"--type", "flag-change", "--since", "-1d"}), (V{"/t/db/a", "/t/db/a"}));
	EXPECT_EQ(paths({"--path", "pool0:/t", "--limit", "2"}), (V{"/t/dbx", "/t"}));
	EXPECT_TRUE(paths({"--path", "pool0:/t", "--since", "-5m", "--until", "-10m"}).empty());

	// A bad value is a usage error that names the option, before any call.
	for (const auto &[args, option] :
	     std::vector<std::pair<std::vector<std::string>, std::string>>{
	         {{"--since", "-1x"}, "--since"},
	         {{"--since", "yesterday"}, "--since"},
	         {{"--until", "2026-13-01"}, "--until"},
	         {{"--until", "-"}, "--until"},
	         {{"--type", "flag-changes"}, "--type"},
	         {{"--limit", "-1"}, "--limit"}}) {
		std::vector<std::string> argv = {"list-events"};
		argv.insert(argv.end(), args.begin(), args.end());
		Result r = d->cli(argv);
		EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1] << ": " << r.err;
		EXPECT_EQ(error_of(r)["error"], "invalid-argument");
		EXPECT_NE(error_of(r)["message"].get<std::string>().find(option), std::string::npos)
		    << r.err;
	}

	// The daemon takes the same times from any varlink client, and names what it refuses.
	RawPeer peer(d->socket());
	peer.call(call("ListEvents", {{"path", "pool0:/t"}, {"since", "-25m"}}));
	EXPECT_EQ(paths_of(peer.receive()["parameters"]["events"]), (V{"/t/dbx", "/t"}));
	peer.call(call("ListEvents", {{"until", "soon"}}));
	json refused = peer.receive();
	EXPECT_EQ(refused["error"], "io.daxpolicy.InvalidArgument");
	EXPECT_EQ(refused["parameters"]["message"].get<std::string>().rfind("until: 'soon'", 0), 0u)
	    << refused.dump();
	peer.call(call("ListEvents", {{"volume", "other"}, {"path", "pool0:/t"}}));
	EXPECT_EQ(peer.receive()["error"], "io.daxpolicy.InvalidArgument");
}

TEST(Lists, RulesAndLeasesStreamToo)
{
	Daemon d("", "/dev/shm");
	for (int i = 0; i < 300; i++) // more than a page of the store
		ASSERT_EQ(d.cli({"add-rule", "--name", "r" + std::to_string(1000 + i), "--subtree",
		                 "pool0:/r" + std::to_string(i), "--dax", "on"})
		              .exit_code,
		          0);
	json rules = d.ok({"list-rules"});
	ASSERT_EQ(rules.size(), 300u);
	for (size_t i = 0; i < rules.size(); i++)
		ASSERT_EQ(rules[i]["name"], "r" + std::to_string(1000 + i));
	Result table = d.cli({"-u", "list-rules"});
	EXPECT_EQ(std::count(table.out.begin(), table.out.end(), '\n'), 301);

	auto holder = d.io("pool0:/mapped");
	holder->command("pwrite 0 64k");
	holder->command("mmap 0 64k");
	json leases = d.ok({"list-leases"});
	ASSERT_EQ(leases.size(), 1u);
	EXPECT_EQ(leases[0]["path"], "pool0:/mapped");
	d.ok({"set-dax", "pool0:/mapped"});
	json pending = d.ok({"list-pending"});
	ASSERT_EQ(pending.size(), 1u);
	EXPECT_EQ(pending[0]["path"], "pool0:/mapped");
	EXPECT_EQ(holder->finish(), 0);
}

} // namespace

} // namespace daxpolicy::test
