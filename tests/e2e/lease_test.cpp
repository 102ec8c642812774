// SPDX-License-Identifier: BSD-3-Clause
// Layout leases through the real binaries: one `daxpolicy io` maps or pins, another punches,
// collapses or truncates under it.
#include "tests/e2e/harness.hpp"

#include <future>
#include <thread>

using namespace daxpolicy::test;
using nlohmann::json;

namespace
{

const char *kShortTimeout = "lease_break_timeout = \"300ms\"\n";

// Polls list-leases (bounded) until a lease of the file is in `state`.
json wait_lease(const Daemon &d, const std::string &path, const std::string &state)
{
	for (int i = 0; i < 1000; i++) {
		for (const auto &l : d.ok({"list-leases", path}))
			if (l["state"] == state)
				return l;
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	ADD_FAILURE() << "no lease of " << path << " became " << state;
	return nullptr;
}

json last_event(const Daemon &d, const std::string &type)
{
	json events = d.ok({"list-events", "--type", type});
	return events.empty() ? json(nullptr) : events.back();
}

TEST(Leases, PunchWaitsUntilTheHolderUnmaps)
{
	Daemon d;
	auto holder = d.io("pool0:/f");
	holder->command("pwrite 0 64k");
	holder->command("mmap 0 64k");
	json lease = d.ok({"list-leases", "pool0:/f"})[0];
	EXPECT_EQ(lease["kind"], "mapping");
	EXPECT_EQ(lease["range"]["length"], 65536);
	EXPECT_EQ(lease["state"], "active");
	auto punch = std::async(std::launch::async, [&] {
		return d.cli({"io", "-c", "fpunch 0 4k", "pool0:/f"});
	});
	wait_lease(d, "pool0:/f", "breaking");
	EXPECT_EQ(punch.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout)
	    << "the punch did not wait for the holder";
	json unmap = holder->command("munmap");
	ASSERT_TRUE(unmap.contains("notices")) << unmap.dump();
	EXPECT_EQ(unmap["notices"][0]["op"], "punch-hole");
	EXPECT_EQ(unmap["notices"][0]["must_release"], true);
	Result r = punch.get();
	EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
	json e = last_event(d, "lease-break");
	EXPECT_EQ(e["op"], "punch-hole");
	EXPECT_EQ(e["outcome"], "released");
	EXPECT_EQ(e["path"], "/f");
	EXPECT_GT(e["holder"]["pid"].get<int>(), 0);
	EXPECT_EQ(e["range"]["offset"], 0);
	EXPECT_EQ(e["range"]["length"], 65536);
	EXPECT_GE(e["waited_ms"].get<int>(), 0);
	EXPECT_TRUE(d.ok({"list-leases"}).empty());
}

TEST(Leases, HolderHearsOfTheBreakFromItsNextReadAndLetsGo)
{
	// A holder learns of a break in the reply to its next command. With the default
	// 45 s timeout, a read that waited behind the break would end only in revocation.
	Daemon d;
	auto holder = d.io("pool0:/f");
	holder->command("pwrite 0 64k");
	holder->command("mmap 0 64k");
	auto truncate = std::async(std::launch::async, [&] {
		return d.cli({"io", "-c", "truncate 4k", "pool0:/f"});
	});
	wait_lease(d, "pool0:/f", "breaking");
	json read = holder->command("pread 8k 4k");
	EXPECT_EQ(read["bytes"], 4096) << read.dump();
	ASSERT_TRUE(read.contains("notices")) << read.dump();
	EXPECT_EQ(read["notices"][0]["op"], "truncate");
	EXPECT_EQ(read["notices"][0]["must_release"], true);
	holder->command("munmap");
	Result r = truncate.get();
	EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
	EXPECT_EQ(last_event(d, "lease-break")["outcome"], "released");
}

TEST(Leases, HolderThatHangsOnIsRevoked)
{
	Daemon d(kShortTimeout);
	auto holder = d.io("pool0:/f");
	holder->command("pwrite 0 64k");
	holder->command("mmap 0 64k");
	Result r = d.cli({"io", "-c", "fcollapse 0 4k", "pool0:/f"});
	EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
	EXPECT_EQ(d.ok({"list-leases", "pool0:/f"})[0]["state"], "revoked");
	json access = holder->command("mread 0 16");
	EXPECT_EQ(access["error"], "revoked");
	EXPECT_EQ(holder->finish(), 1);
	EXPECT_EQ(last_event(d, "lease-break")["outcome"], "revoked");
	EXPECT_EQ(last_event(d, "lease-revoked")["op"], "collapse-range");
	EXPECT_EQ(d.ok({"list", "pool0:/f"})[0]["size"], 61440);
}

TEST(Leases, PinnedBlocksMakeTruncateFailWithBusy)
{
	Daemon d(kShortTimeout);
	auto holder = d.io("pool0:/f");
	holder->command("pwrite -S 0x70 0 64k");
	holder->command("pin 0 4k");
	EXPECT_EQ(d.ok({"list-leases", "pool0:/f"})[0]["kind"], "pin");
	Result r = d.cli({"io", "-c", "truncate 0", "pool0:/f"});
	EXPECT_EQ(r.exit_code, 1);
	EXPECT_NE(r.out.find("\"busy\""), std::string::npos) << r.out;
	EXPECT_EQ(d.ok({"list", "pool0:/f"})[0]["size"], 65536)
	    << "a failed truncate changed the file";
	EXPECT_EQ(last_event(d, "lease-break")["outcome"], "busy");
	holder->command("unpin");
	EXPECT_EQ(d.cli({"io", "-c", "truncate 0", "pool0:/f"}).exit_code, 0);
	EXPECT_EQ(d.ok({"list", "pool0:/f"})[0]["size"], 0);
}

TEST(Leases, BadListLeasesPathIsAnError)
{
	Daemon d;
	Result r = d.cli({"list-leases", "pool0:/missing"});
	EXPECT_EQ(r.exit_code, 1);
	EXPECT_NE(r.err.find("not-found"), std::string::npos) << r.err;
}

} // namespace
