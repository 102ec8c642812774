// SPDX-License-Identifier: BSD-3-Clause
// The kernel's per-file DAX model, as daxpolicy io shows it: xfstests generic/606, 607, 608.
#include "tests/e2e/harness.hpp"

using namespace daxpolicy::test;
using nlohmann::json;

namespace
{

json lsattr(const Daemon &d, const std::string &path)
{
	return d.ok({"list", path})[0];
}

void io(const Daemon &d, const std::string &path, std::vector<std::string> cmds)
{
	std::vector<std::string> args = {"io", "-f"};
	for (const auto &c : cmds) {
		args.push_back("-c");
		args.push_back(c);
	}
	args.push_back(path);
	Result r = d.cli(args);
	ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
}

// generic/607: FS_XFLAG_DAX is inherited at create time only, and mv keeps it.
TEST(DaxModel, InheritanceCasesOfGeneric607)
{
	Daemon d;
	io(d, "pool0:/a", {"mkdir", "chattr +x"});
	// 1. a file and a directory made in a flagged directory get the flag
	io(d, "pool0:/a/file", {"open -c"});
	io(d, "pool0:/a/b", {"mkdir"});
	EXPECT_EQ(lsattr(d, "pool0:/a/file")["dax_flag"], true);
	EXPECT_EQ(lsattr(d, "pool0:/a/b")["dax_flag"], true);
	// 2. flagging a directory leaves its existing children alone
	io(d, "pool0:/c", {"mkdir"});
	io(d, "pool0:/c/old", {"open -c"});
	io(d, "pool0:/c", {"chattr +x"});
	EXPECT_EQ(lsattr(d, "pool0:/c/old")["dax_flag"], false);
	// 3. the nearest parent decides: a(+x) / b(-x) / c has no flag
	io(d, "pool0:/a/b", {"chattr -x"});
	io(d, "pool0:/a/b/c", {"mkdir"});
	EXPECT_EQ(lsattr(d, "pool0:/a/b/c")["dax_flag"], false);
	// 4. mv keeps each file's own flag, whatever the new parent has
	io(d, "pool0:/a/file", {"mv /plain-from-a"});
	EXPECT_EQ(lsattr(d, "pool0:/plain-from-a")["dax_flag"], true);
	io(d, "pool0:/c/old", {"mv /a/old"});
	EXPECT_EQ(lsattr(d, "pool0:/a/old")["dax_flag"], false);
	// 5. a copy is a new file and takes its new parent's flag
	io(d, "pool0:/c/copy", {"open -c", "pwrite 0 4k"});
	EXPECT_EQ(lsattr(d, "pool0:/c/copy")["dax_flag"], true);
	io(d, "pool0:/copy-in-root", {"open -c"});
	EXPECT_EQ(lsattr(d, "pool0:/copy-in-root")["dax_flag"], false);
}

// generic/606: dax=always makes every file DAX, never none, inode follows the flag.
TEST(DaxModel, MountModeMatrixOfGeneric606)
{
	for (std::string mode : {"always", "never", "inode"}) {
		SCOPED_TRACE(mode);
		Daemon d("[[volume]]\nname = \"pool0\"\nkind = \"embedded\"\nsize = \"64MiB\"\n"
		         "dax = \"" +
		         mode + "\"\n");
		EXPECT_EQ(d.ok({"list-volumes"})[0]["dax_mode"], mode);
		io(d, "pool0:/on", {"open -c", "chattr +x"});
		io(d, "pool0:/off", {"open -c"});
		EXPECT_EQ(lsattr(d, "pool0:/on")["dax_effective"], mode != "never");
		EXPECT_EQ(lsattr(d, "pool0:/off")["dax_effective"], mode == "always");
		EXPECT_EQ(lsattr(d, "pool0:/on")["dax_flag"], true) << "the flag works in any mode";
		EXPECT_EQ(lsattr(d, "pool0:/")["dax_effective"], false) << "directories never are";
	}
}

// generic/608: the flag changes at once, the effective state only when the file is no
// longer open or mapped, and data written through the page cache survives the switch.
TEST(DaxModel, EffectiveStateFollowsAtLastCloseOfGeneric608)
{
	Daemon d;
	auto session = d.io("pool0:/f");
	session->command("pwrite -S 0x61 0 10000");
	json read_before = session->command("pread 0 10000");
	session->command("mmap 0 8k");
	json attr = session->command("chattr +x");
	EXPECT_EQ(attr["file"]["dax_flag"], true) << "the flag changes at once";
	EXPECT_EQ(attr["file"]["dax_effective"], false) << "not under a live mapping";
	EXPECT_EQ(attr["file"]["state"], "pending-evict");
	session->command("munmap");
	EXPECT_EQ(lsattr(d, "pool0:/f")["dax_effective"], false) << "still open";
	EXPECT_EQ(session->finish(), 0);
	json after = d.wait_state("pool0:/f", "unmanaged");
	EXPECT_EQ(after["dax_effective"], true) << "switched at last close";
	EXPECT_EQ(after["size"], 10000);
	auto again = d.io("pool0:/f");
	json read_after = again->command("pread 0 10000");
	EXPECT_EQ(read_after["sha256"], read_before["sha256"]) << "cached data lost by the switch";
	// And back: DAX data read through the page cache after clearing the flag.
	EXPECT_EQ(again->command("chattr -x")["file"]["state"], "pending-evict");
	EXPECT_EQ(again->finish(), 0);
	EXPECT_EQ(d.wait_state("pool0:/f", "unmanaged")["dax_effective"], false);
	auto third = d.io("pool0:/f");
	EXPECT_EQ(third->command("pread 0 10000")["sha256"], read_before["sha256"]);
}

TEST(DaxModel, DataAndNamespaceSurviveRestart)
{
	Daemon d;
	io(d, "pool0:/dir", {"mkdir"});
	io(d, "pool0:/dir/data", {"pwrite -S 0x5a 4096 1m", "fsync"});
	d.stop();
	d.start();
	auto s = d.io("pool0:/dir/data", false);
	json r = s->command("pread 4096 1m");
	EXPECT_EQ(r["bytes"], 1 << 20);
	json hole = s->command("pread -v 0 16");
	EXPECT_EQ(hole["data"], std::string(32, '0')) << "a hole reads as zeros";
	EXPECT_EQ(s->finish(), 0);
	d.stop();
	Result fsck = run({DAXPOLICY_BIN, "fsck", d.pool()});
	EXPECT_EQ(fsck.exit_code, 0) << fsck.out << fsck.err;
	EXPECT_EQ(fsck.json()["clean"], true);
}

} // namespace
