// SPDX-License-Identifier: BSD-3-Clause
// `monitor` as a log shipper uses it: --since-id replays what it missed, and a daemon restart
// under it loses no event and prints none twice.
#include "tests/e2e/harness.hpp"

#include <csignal>

namespace daxpolicy::test
{
namespace
{

using nlohmann::json;

std::vector<int64_t> ids_of(const json &events, int64_t after)
{
	std::vector<int64_t> ids;
	for (const auto &e : events)
		if (e["id"].get<int64_t>() > after)
			ids.push_back(e["id"].get<int64_t>());
	return ids;
}

// Reads the monitor's lines until it has printed `last` (or stops printing).
std::vector<int64_t> read_through(IoProcess &monitor, int64_t last, std::vector<int64_t> ids)
{
	while (ids.empty() || ids.back() < last) {
		json e = monitor.read_line();
		if (e.is_null()) {
			ADD_FAILURE() << "monitor printed nothing more after " << ids.size()
			              << " events, waiting for event " << last;
			break;
		}
		ids.push_back(e["id"].get<int64_t>());
	}
	return ids;
}

void add_rule(const Daemon &d, const std::string &name)
{
	d.ok({"add-rule", "--name", name, "--subtree", "pool0:/" + name, "--dax", "on"});
}

TEST(Monitor, SinceIdReplaysThenFollowsAcrossARestartWithNoGapOrDuplicate)
{
	Daemon d;
	make_file(d, "pool0:/f");
	add_rule(d, "a");
	add_rule(d, "b");
	json before = d.ok({"list-events"});
	ASSERT_GE(before.size(), 3u);
	int64_t from = before[0]["id"];

	IoProcess monitor(
	    {DAXPOLICY_BIN, "--socket", d.socket(), "monitor", "--since-id", std::to_string(from)});
	std::vector<int64_t> printed = read_through(monitor, before.back()["id"], {});
	EXPECT_EQ(printed, ids_of(before, from)) << "the replay";

	// The daemon goes away under the monitor and comes back on the same state dir; the
	// events it logs while starting (its volume's mount) and after are all printed, once.
	d.stop();
	d.start();
	add_rule(d, "c");
	json after = d.ok({"list-events"});
	printed = read_through(monitor, after.back()["id"], printed);
	EXPECT_EQ(printed, ids_of(after, from));

	kill(monitor.pid(), SIGTERM);
}

} // namespace
} // namespace daxpolicy::test
