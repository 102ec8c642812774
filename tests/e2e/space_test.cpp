// SPDX-License-Identifier: BSD-3-Clause
// Space operations through `daxpolicy io`, as a user of xfs_io would run them.
#include "tests/e2e/harness.hpp"

using namespace daxpolicy::test;
using nlohmann::json;

namespace
{

std::string hex_of(char c, size_t n)
{
	char two[3];
	std::snprintf(two, sizeof(two), "%02x", static_cast<unsigned char>(c));
	std::string out;
	for (size_t i = 0; i < n; i++)
		out += two;
	return out;
}

TEST(Space, XfsIoStyleCommandsReshapeTheFile)
{
	Daemon d;
	auto s = d.io("pool0:/f");
	s->command("pwrite -S 0x61 0 8k");
	s->command("pwrite -S 0x62 8k 8k");
	EXPECT_EQ(s->command("fcollapse 0 8k")["cmd"], "fcollapse");
	EXPECT_EQ(s->command("stat")["file"]["size"], 8192);
	EXPECT_EQ(s->command("pread -v 0 4")["data"], hex_of('b', 4)) << "the rest moved down";
	s->command("finsert 0 4k");
	EXPECT_EQ(s->command("stat")["file"]["size"], 12288);
	EXPECT_EQ(s->command("pread -v 0 4")["data"], hex_of(0, 4)) << "an inserted hole";
	EXPECT_EQ(s->command("pread -v 4096 4")["data"], hex_of('b', 4));
	s->command("fpunch 4100 10");
	EXPECT_EQ(s->command("pread -v 4098 14")["data"],
	          hex_of('b', 2) + hex_of(0, 10) + hex_of('b', 2));
	s->command("fzero 8k 16k");
	EXPECT_EQ(s->command("stat")["file"]["size"], 24576) << "fzero extends the file";
	EXPECT_EQ(s->command("pread -v 8192 4")["data"], hex_of(0, 4));
	s->command("falloc -k 0 1m");
	EXPECT_EQ(s->command("stat")["file"]["size"], 24576) << "-k keeps the size";
	s->command("truncate 100");
	EXPECT_EQ(s->command("stat")["file"]["size"], 100);
	s->command("truncate 8k");
	EXPECT_EQ(s->command("pread -v 100 4")["data"], hex_of(0, 4)) << "zeros past the old end";
	json bad = s->command("fcollapse 100 4k");
	EXPECT_EQ(bad["error"], "invalid-argument");
	EXPECT_NE(bad["message"].get<std::string>().find("multiples of 4096"), std::string::npos);
	EXPECT_EQ(s->finish(), 1) << "the failed command ends the session";
	d.stop();
	Result fsck = run({DAXPOLICY_BIN, "fsck", d.pool()});
	EXPECT_EQ(fsck.exit_code, 0) << fsck.out;
}

} // namespace
