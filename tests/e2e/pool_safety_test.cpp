// SPDX-License-Identifier: BSD-3-Clause
// One pool, one daemon (issue 7, items 5, 6 and 19): a second daemon, fsck or mkfs is refused
// while a pool is in use, a damaged pool is refused as corrupted, and a missing pool is made
// only where the config asks for it.
#include "tests/e2e/harness.hpp"

#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace daxpolicy::test;
using nlohmann::json;

namespace
{

// daxpolicyd run to completion (it is expected to refuse to start).
Result start_refused(const Daemon &d, const std::string &socket)
{
	return run({DAXPOLICYD_BIN, "--foreground", "--config",
	            (d.dir() / "daxpolicyd.toml").string(), "--socket", socket, "--state-dir",
	            d.state_dir()});
}

TEST(PoolSafety, ASecondDaemonOnTheSameStateIsRefusedAndTheFirstKeepsItsQueue)
{
	Daemon d;
	auto holder = d.io("pool0:/f");
	holder->command("pwrite 0 4k");
	holder->command("mmap 0 4k");
	json r = d.ok({"set-dax", "pool0:/f"});
	ASSERT_EQ(r[0]["result"], "deferred");

	// Same state dir, another socket: before, it mounted the pool (replaying the journal,
	// freeing what the first daemon's sessions hold) and deleted the first's queue.
	Result second = start_refused(d, (d.dir() / "second.sock").string());
	EXPECT_EQ(second.exit_code, 1);
	EXPECT_NE(second.err.find("in use"), std::string::npos) << second.err;
	EXPECT_NE(second.err.find("pid"), std::string::npos)
	    << "the holder is named: " << second.err;

	ASSERT_EQ(d.ok({"list-pending"}).size(), 1u) << "the first daemon's queue is intact";
	EXPECT_EQ(holder->command("mread 0 4k")["bytes"], 4096);
	EXPECT_EQ(holder->finish(), 0);
	// Once the mapping goes, the queued change applies.
	for (int i = 0; i < 500 && !d.ok({"list-pending"}).empty(); i++)
		usleep(10000);
	EXPECT_EQ(d.ok({"list", "pool0:/f"})[0]["dax_flag"], true);
}

TEST(PoolSafety, FsckAndMkfsOfAMountedPoolAreRefusedAsBusy)
{
	Daemon d;
	Result fsck = run({DAXPOLICY_BIN, "fsck", d.pool()});
	EXPECT_EQ(fsck.exit_code, 1) << fsck.out;
	EXPECT_EQ(error_of(fsck)["error"], "busy") << fsck.err;
	Result mkfs = run({DAXPOLICY_BIN, "mkfs", d.pool(), "--size", "64m"});
	EXPECT_NE(mkfs.exit_code, 0);
	EXPECT_EQ(d.ok({"status"})["volumes"].size(), 1u) << "the daemon is undisturbed";
	d.stop();
	EXPECT_EQ(run({DAXPOLICY_BIN, "fsck", d.pool()}).exit_code, 0);
}

TEST(PoolSafety, ADamagedPoolIsRefusedAsCorruptedAndFsckSaysWhy)
{
	Daemon d;
	ASSERT_EQ(d.cli({"io", "-f", "-c", "pwrite 0 4k", "pool0:/f"}).exit_code, 0);
	d.stop();
	// Clear every bitmap bit of the first data blocks: blocks files own, marked free, which
	// a new file would have been given again.
	{
		std::fstream pool(d.pool(), std::ios::binary | std::ios::in | std::ios::out);
		uint64_t bitmap_start = 0, data_start = 0;
		pool.seekg(80); // Superblock::bitmap_start
		pool.read(reinterpret_cast<char *>(&bitmap_start), 8);
		pool.seekg(96); // Superblock::data_start
		pool.read(reinterpret_cast<char *>(&data_start), 8);
		uint64_t zero = 0;
		pool.seekp(static_cast<std::streamoff>(bitmap_start * 4096 + data_start / 64 * 8));
		pool.write(reinterpret_cast<const char *>(&zero), 8);
	}
	Result start = start_refused(d, d.socket());
	EXPECT_EQ(start.exit_code, 1);
	EXPECT_NE(start.err.find("damaged"), std::string::npos) << start.err;
	EXPECT_NE(start.err.find("daxpolicy fsck"), std::string::npos) << start.err;
	Result fsck = run({DAXPOLICY_BIN, "fsck", d.pool()});
	EXPECT_EQ(fsck.exit_code, 1);
	EXPECT_EQ(fsck.json()["clean"], false);
	EXPECT_NE(fsck.err.find("marked free"), std::string::npos) << fsck.err;
}

TEST(PoolSafety, AMissingPoolIsMadeOnlyForAVolumeThatGivesASize)
{
	// A mistyped path is an error, not a new empty pool served in its place.
	Daemon d;
	d.stop();
	std::string typo = (d.dir() / "pool-typo.pool").string();
	std::ofstream(d.dir() / "daxpolicyd.toml")
	    << "[[volume]]\nname = \"pool0\"\nkind = \"embedded\"\npath = \"" << typo << "\"\n";
	Result refused = start_refused(d, d.socket());
	EXPECT_EQ(refused.exit_code, 1);
	EXPECT_NE(refused.err.find(typo), std::string::npos) << refused.err;
	EXPECT_NE(refused.err.find("does not exist"), std::string::npos) << refused.err;
	EXPECT_FALSE(std::filesystem::exists(typo));

	std::ofstream(d.dir() / "daxpolicyd.toml")
	    << "[[volume]]\nname = \"pool0\"\nkind = \"embedded\"\npath = \"" << typo
	    << "\"\nsize = \"64MiB\"\n";
	d.start();
	json events = d.ok({"list-events", "--type", "volume"});
	ASSERT_FALSE(events.empty());
	EXPECT_EQ(events.back()["created"], true);
	EXPECT_TRUE(std::filesystem::exists(typo));
}

// Items 3 and 4 as a user sees them through `io`: a write past the io command's bound, and
// one at an offset that wraps, fail and change nothing. (A long pwrite moves a chunk at a
// time, as xfs_io's does, so one that runs out of space keeps the chunks that fit; that a
// cached write the pool cannot hold is refused whole is fscore_safety_test's.)
TEST(PoolSafety, WritesThatCouldNotBeKeptFailAndChangeNothing)
{
	Daemon d("[[volume]]\nname = \"pool0\"\nkind = \"embedded\"\nsize = \"64MiB\"\n");
	ASSERT_EQ(d.cli({"io", "-f", "-c", "pwrite -S 0x61 0 4k", "pool0:/f"}).exit_code, 0);
	for (const char *cmd : {"pwrite 0 2g", "pwrite 18446744073709550592 2k"}) {
		SCOPED_TRACE(cmd);
		Result r = d.cli({"io", "-c", cmd, "pool0:/f"});
		EXPECT_EQ(r.exit_code, 1);
		auto line = json::parse(r.out.substr(0, r.out.find('\n')), nullptr, false);
		EXPECT_TRUE(line.contains("error")) << r.out << r.err;
	}
	Result read = d.cli({"io", "-c", "pread -v 0 4", "-c", "stat", "pool0:/f"});
	ASSERT_EQ(read.exit_code, 0) << read.err;
	std::istringstream lines(read.out);
	std::string first, second;
	std::getline(lines, first);
	std::getline(lines, second);
	EXPECT_EQ(json::parse(first)["data"], "61616161") << "the start of the file is intact";
	EXPECT_EQ(json::parse(second)["file"]["size"], 4096);
	d.stop();
	EXPECT_EQ(run({DAXPOLICY_BIN, "fsck", d.pool()}).exit_code, 0);
}

} // namespace
