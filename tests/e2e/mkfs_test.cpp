// SPDX-License-Identifier: BSD-3-Clause
// The CLI's offline mkfs as an administrator uses it: how many files a pool holds
// (`--inodes`), and a pool seeded from a host tree (`--populate`), served by the daemon.
#include "tests/e2e/harness.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

using namespace daxpolicy::test;

namespace
{

std::string config_for(const std::string &pool)
{
	return "[[volume]]\nname = \"pool0\"\nkind = \"embedded\"\npath = \"" + pool + "\"\n";
}

void write_file(const std::filesystem::path &p, const std::string &bytes, uint64_t at = 0)
{
	std::fstream out(p, std::ios::binary | std::ios::in | std::ios::out);
	if (!out.is_open())
		out.open(p, std::ios::binary | std::ios::out);
	out.seekp(std::streamoff(at));
	out << bytes;
}

// What sha256sum says of a host file: the digest `io`'s pread reports of its copy.
std::string sha256_of(const std::filesystem::path &p)
{
	Result r = run({"/usr/bin/sha256sum", p.string()});
	EXPECT_EQ(r.exit_code, 0) << r.err;
	return r.out.substr(0, 64);
}

TEST(Mkfs, InodesSetsHowManyFilesThePoolHolds)
{
	TempDir dir;
	std::string pool = (dir / "p.pool").string();
	Result made = run({DAXPOLICY_BIN, "mkfs", pool, "--size", "128m", "--inodes", "100000"});
	ASSERT_EQ(made.exit_code, 0) << made.err;
	EXPECT_GE(made.json()["inodes"].get<uint64_t>(), 100000u);
	Daemon d(config_for(pool));
	EXPECT_EQ(d.ok({"list-volumes"})[0]["inodes"], made.json()["inodes"]);
}

TEST(Mkfs, ByDefaultOneFilePer16KiB)
{
	TempDir dir;
	Result made = run({DAXPOLICY_BIN, "mkfs", (dir / "p.pool").string(), "--size", "1g"});
	ASSERT_EQ(made.exit_code, 0) << made.err;
	EXPECT_GE(made.json()["inodes"].get<uint64_t>(), (1u << 30) / (16 << 10) - 1);
}

TEST(Mkfs, ABadInodeCountIsAnErrorNamingItAndMakesNoPool)
{
	TempDir dir;
	std::string pool = (dir / "p.pool").string();
	for (std::string bad : {"0", "1000000000", "99999999999999999999999", "12k", "5x", ""}) {
		Result r = run({DAXPOLICY_BIN, "mkfs", pool, "--size", "64m", "--inodes", bad});
		EXPECT_NE(r.exit_code, 0) << bad;
		nlohmann::json e = error_of(r);
		EXPECT_EQ(e["error"], "invalid-argument") << bad << ": " << r.err;
		EXPECT_NE(e["message"].get<std::string>().find("--inodes"), std::string::npos)
		    << bad << ": " << r.err;
		EXPECT_FALSE(std::filesystem::exists(pool)) << bad;
	}
}

TEST(Mkfs, PopulateCopiesAHostTreeThatTheDaemonThenServes)
{
	TempDir dir;
	std::filesystem::path src = dir / "src";
	std::filesystem::create_directories(src / "dax");
	// The source's own filesystem keeps the flag (ext4 and xfs do; tmpfs has none).
	if (run({"/usr/bin/chattr", "+x", (src / "dax").string()}).exit_code != 0)
		GTEST_SKIP() << "the temporary directory's filesystem has no DAX flag";
	write_file(src / "a.txt", "hello\n");
	write_file(src / "with space.txt", std::string(10000, 's'));
	write_file(src / "dax" / "inherited", "x"); // made in a +x directory: +x
	std::string random;
	for (int i = 0; i < (3 << 20); i++)
		random.push_back(char((i * 2654435761u) >> 13));
	write_file(src / "big.bin", random);
	write_file(src / "big.bin", "tail", 6 << 20); // a hole of 3 MiB, then the tail
	write_file(src / "marked", "m");
	ASSERT_EQ(run({"/usr/bin/chattr", "+x", (src / "marked").string()}).exit_code, 0);
	std::filesystem::path deep = src / "deep";
	std::string deep_pool = "/deep";
	for (int i = 0; i < 200; i++) {
		deep /= "d";
		deep_pool += "/d";
	}
	std::filesystem::create_directories(deep);
	write_file(deep / "bottom", "b");
	std::filesystem::create_symlink("a.txt", src / "link");
	ASSERT_EQ(mkfifo((src / "fifo").c_str(), 0600), 0);

	std::string pool = (dir / "p.pool").string();
	Result made =
	    run({DAXPOLICY_BIN, "mkfs", pool, "--size", "64m", "--populate", src.string()});
	ASSERT_EQ(made.exit_code, 0) << made.err;
	nlohmann::json out = made.json();
	EXPECT_EQ(out["skipped"], 2) << out;
	std::string notes = out["notes"].dump();
	EXPECT_NE(notes.find("link: skipped, a symbolic link"), std::string::npos) << notes;
	EXPECT_NE(notes.find("fifo: skipped, a fifo"), std::string::npos) << notes;
	// The root, 6 files and /dax, /deep and its 200 levels.
	EXPECT_EQ(out["files"], 1 + 6 + 2 + 200) << out;

	Daemon d(config_for(pool));
	std::map<std::string, bool> flags;
	for (const auto &f : d.ok({"list", "-r", "pool0:/"}))
		flags[f["path"].get<std::string>().substr(6)] = f["dax_flag"]; // after "pool0:"
	EXPECT_EQ(flags.size(), 1u + 6 + 2 + 200);
	EXPECT_FALSE(flags.count("/link") || flags.count("/fifo"));
	EXPECT_TRUE(flags.at("/dax"));
	EXPECT_TRUE(flags.at("/dax/inherited"));
	EXPECT_TRUE(flags.at("/marked"));
	EXPECT_FALSE(flags.at("/a.txt"));
	EXPECT_FALSE(flags.at("/big.bin"));
	EXPECT_TRUE(flags.count(deep_pool + "/bottom"));
	for (std::string name : {"a.txt", "with space.txt", "big.bin", "marked"}) {
		auto size = std::filesystem::file_size(src / name);
		Result r = d.cli({"io", "-c", "pread 0 " + std::to_string(size), "pool0:/" + name});
		ASSERT_EQ(r.exit_code, 0) << r.err;
		EXPECT_EQ(r.json()["sha256"], sha256_of(src / name)) << name;
	}
	EXPECT_EQ(d.ok({"list", "pool0:/big.bin"})[0]["size"], (6 << 20) + 4);
}

TEST(Mkfs, PopulateOfWhatIsNotADirectoryMakesNoPool)
{
	TempDir dir;
	std::string pool = (dir / "p.pool").string();
	for (std::string bad : {(dir / "missing").string(), std::string("/etc/hostname")}) {
		Result r = run({DAXPOLICY_BIN, "mkfs", pool, "--size", "64m", "--populate", bad});
		EXPECT_NE(r.exit_code, 0);
		EXPECT_NE(error_of(r)["message"].get<std::string>().find("--populate"),
		          std::string::npos)
		    << r.err;
		EXPECT_FALSE(std::filesystem::exists(pool));
	}
}

TEST(Mkfs, APopulateThatDoesNotFitMakesNoPool)
{
	TempDir dir;
	std::filesystem::create_directories(dir / "src");
	write_file(dir / "src" / "huge", std::string(20 << 20, 'h'));
	std::string pool = (dir / "p.pool").string();
	Result r = run(
	    {DAXPOLICY_BIN, "mkfs", pool, "--size", "16m", "--populate", (dir / "src").string()});
	EXPECT_NE(r.exit_code, 0);
	EXPECT_EQ(error_of(r)["error"], "no-space") << r.err;
	EXPECT_FALSE(std::filesystem::exists(pool)) << "a pool left half full is removed";
}

} // namespace
