// SPDX-License-Identifier: BSD-3-Clause
// Host volumes end to end: the real daxpolicyd managing a loop-mounted ext4 or xfs image
// (-o dax=inode), driven by the real daxpolicy, and checked with tools no one here wrote
// (lsattr, xfs_io). They need root and loop devices, and skip without them (fail in CI).
#include "tests/e2e/harness.hpp"
#include "tests/support/loop_mount.hpp"

#include <chrono>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>

using namespace daxpolicy;
using nlohmann::json;

namespace
{

using Clock = std::chrono::steady_clock;

// A daemon serving one host volume on a fresh loop-mounted image of the filesystem `fs`.
class HostFixture : public ::testing::Test
{
      protected:
	// `env`: the daemon's test switches (DEVELOPERS.md), as NAME=VALUE.
	void start(const std::string &fs, const std::vector<std::string> &env = {})
	{
		fs_name_ = fs;
		auto tools = test::LoopFs::tools_for(fs);
		tools.push_back(fs == "xfs" ? "xfs_io" : "lsattr");
		tools.push_back("python3");
		SKIP_UNLESS_MOUNTABLE(tools);
		fs_ = test::LoopFs::standard(dir_.path(), fs);
		std::vector<std::string> wrapper;
		if (!env.empty()) {
			wrapper = {"/usr/bin/env"};
			wrapper.insert(wrapper.end(), env.begin(), env.end());
		}
		// The periodic re-check of queued changes far off: every change these tests see
		// follow a release is the fanotify watcher's doing.
		daemon_ = std::make_unique<test::Daemon>(
		    "pending_recheck = \"24h\"\n[[volume]]\nname = \"pmem0\"\nkind = "
		    "\"host\"\npath = \"" +
		        fs_->mount_point().string() + "\"\n",
		    std::filesystem::temp_directory_path(), wrapper);
	}
	void TearDown() override { daemon_.reset(); }

	std::string host(const std::string &path) const { return fs_->host(path); }
	void make_dirs(const std::string &path) const
	{
		std::filesystem::create_directories(host(path));
	}
	void make_file(const std::string &path) const { std::ofstream(host(path)) << "data\n"; }

	// FS_XFLAG_DAX as the filesystem's own tool shows it.
	bool flag_on_disk(const std::string &path) const
	{
		if (fs_name_ == "xfs") {
			// "xfs_io -c lsattr" prints the xflags, 'x' for DAX, then the path.
			auto r = test::run_tool({"xfs_io", "-r", "-c", "lsattr", host(path)});
			EXPECT_EQ(r.status, 0) << r.output;
			return r.output.substr(0, r.output.find(' ')).find('x') !=
			       std::string::npos;
		}
		auto r = test::run_tool({"lsattr", "-d", host(path)});
		EXPECT_EQ(r.status, 0) << r.output;
		return r.output.substr(0, r.output.find(' ')).find('x') != std::string::npos;
	}
	// The filesystem's own tool sets the flag, as an administrator would.
	void tool_sets_flag(const std::string &path) const
	{
		auto r = fs_name_ == "xfs"
		             ? test::run_tool({"xfs_io", "-c", "chattr +x", host(path)})
		             : test::run_tool({"chattr", "+x", host(path)});
		ASSERT_EQ(r.status, 0) << r.output;
	}
	// Polls until the flag on disk is `on`, bounded; how long it took.
	std::optional<std::chrono::milliseconds> wait_flag(const std::string &path, bool on) const
	{
		auto start = Clock::now();
		while (Clock::now() - start < std::chrono::seconds(20)) {
			if (flag_on_disk(path) == on)
				return std::chrono::duration_cast<std::chrono::milliseconds>(
				    Clock::now() - start);
			std::this_thread::sleep_for(std::chrono::milliseconds(20));
		}
		return std::nullopt;
	}
	// Another process, a python3 `script` given `path`, talking a line at a time on its
	// stdin and stdout (IoProcess runs programs by path, not from PATH).
	std::unique_ptr<test::IoProcess> python_process(const std::string &script,
	                                                const std::string &path) const
	{
		auto python = test::run_tool({"sh", "-c", "command -v python3"}).output;
		python.erase(python.find_last_not_of("\n") + 1);
		return std::make_unique<test::IoProcess>(
		    std::vector<std::string>{python, "-c", script, path});
	}
	json events(const std::string &type) const
	{
		return daemon_->ok({"list-events", "--type", type});
	}

	test::TempDir dir_;
	std::string fs_name_;
	std::unique_ptr<test::LoopFs> fs_;
	std::unique_ptr<test::Daemon> daemon_;
};

class HostE2E : public HostFixture, public ::testing::WithParamInterface<std::string>
{
      protected:
	void SetUp() override { start(GetParam()); }
};

INSTANTIATE_TEST_SUITE_P(Fs, HostE2E, ::testing::Values("ext4", "xfs"));

// Rules and clears through each way the daemon has of changing a flag: file_setattr(2), and
// the FS_IOC_FSSETXATTR fallback of kernels before 6.17, forced by the daemon's test switch.
class HostFlagE2E : public HostFixture,
                    public ::testing::WithParamInterface<std::tuple<std::string, std::string>>
{
      protected:
	void SetUp() override
	{
		const auto &[fs, how] = GetParam();
		start(fs, {"DAXPOLICY_TEST_HOST_SETATTR=" + how});
		if (IsSkipped() || HasFatalFailure())
			return;
		json vol = daemon_->ok({"list-volumes"})[0];
		if (how == "file_setattr" && vol["flag_interface"] == "FS_IOC_FSSETXATTR")
			GTEST_SKIP() << "this kernel has no file_setattr(2) (Linux 6.17 does)";
		ASSERT_EQ(vol["flag_interface"], how == "ioctl" ? "FS_IOC_FSSETXATTR" : how)
		    << vol.dump();
	}
};

INSTANTIATE_TEST_SUITE_P(FsAndCall, HostFlagE2E,
                         ::testing::Combine(::testing::Values("ext4", "xfs"),
                                            ::testing::Values("file_setattr", "ioctl")),
                         [](const auto &info) {
	                         return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

TEST_P(HostE2E, ListVolumesShowsTheMountAsTheKernelHasIt)
{
	json vols = daemon_->ok({"list-volumes"});
	ASSERT_EQ(vols.size(), 1u);
	const json &v = vols[0];
	EXPECT_EQ(v["name"], "pmem0");
	EXPECT_EQ(v["kind"], "host");
	EXPECT_EQ(v["fstype"], GetParam());
	EXPECT_EQ(v["dax_mode"], "inode");
	EXPECT_EQ(v["dax_capable"], false) << "a loop device cannot do DAX";
	EXPECT_GT(v["size_bytes"].get<uint64_t>(), 0u);
	EXPECT_GE(v["size_bytes"].get<uint64_t>(), v["used_bytes"].get<uint64_t>());
}

TEST_P(HostFlagE2E, RuleSetsTheFlagOnFilesAndDirectoriesAndTheKernelPassesItOn)
{
	make_dirs("/db/wal/sub");
	make_file("/db/wal/a.log");
	make_file("/db/wal/sub/b.log");
	make_file("/db/other");
	daemon_->ok({"add-rule", "--name", "wal", "--subtree", "pmem0:/db/wal", "--dax", "on"});
	for (const char *p : {"/db/wal", "/db/wal/sub", "/db/wal/a.log", "/db/wal/sub/b.log"})
		EXPECT_TRUE(flag_on_disk(p)) << p;
	EXPECT_FALSE(flag_on_disk("/db/other"));
	EXPECT_FALSE(flag_on_disk("/db"));
	EXPECT_EQ(daemon_->ok({"list", "pmem0:/db/wal/a.log"})[0]["state"], "in-sync");

	// Made while the rule holds, by someone else: the kernel's inheritance gives it the
	// flag, whether or not the daemon hears of it.
	make_file("/db/wal/new.log");
	std::filesystem::create_directory(host("/db/wal/newdir"));
	EXPECT_TRUE(flag_on_disk("/db/wal/new.log"));
	EXPECT_TRUE(flag_on_disk("/db/wal/newdir"));

	// Clearing works the same way.
	daemon_->ok({"clear-dax", "pmem0:/db/wal/a.log"});
	EXPECT_FALSE(flag_on_disk("/db/wal/a.log"));
}

TEST_P(HostFlagE2E, ARuleOffClearsTheFlagOnFilesAndDirectories)
{
	make_dirs("/db/cache/sub");
	make_file("/db/cache/a");
	make_file("/db/cache/sub/b");
	for (const char *p : {"/db/cache", "/db/cache/sub", "/db/cache/a", "/db/cache/sub/b"})
		tool_sets_flag(p);
	daemon_->ok(
	    {"add-rule", "--name", "cache", "--subtree", "pmem0:/db/cache", "--dax", "off"});
	for (const char *p : {"/db/cache", "/db/cache/sub", "/db/cache/a", "/db/cache/sub/b"})
		EXPECT_FALSE(flag_on_disk(p)) << p;
	EXPECT_EQ(daemon_->ok({"list", "pmem0:/db/cache/sub/b"})[0]["state"], "in-sync");
}

TEST_P(HostE2E, HostPathsNameFilesAsVolumePathsDo)
{
	make_dirs("/db");
	make_file("/db/x");
	json by_host = daemon_->ok({"list", host("/db/x")});
	ASSERT_EQ(by_host.size(), 1u);
	EXPECT_EQ(by_host[0]["path"], "pmem0:/db/x");
	daemon_->ok({"set-dax", host("/db/x")});
	EXPECT_TRUE(flag_on_disk("/db/x"));
	daemon_->ok({"add-rule", "--name", "db", "--subtree", host("/db"), "--dax", "on"});
	EXPECT_EQ(daemon_->ok({"list-rules"})[0]["subtree"], "/db");

	auto outside = daemon_->cli({"list", dir_.path().string()});
	EXPECT_EQ(outside.exit_code, 2) << "a name in no volume is a malformed request";
	EXPECT_EQ(test::error_of(outside)["error"], "invalid-argument");
}

TEST_P(HostE2E, MappedFileIsChangedOnlyOnceItsMapperLetsGo)
{
	make_dirs("/db");
	{
		std::ofstream f(host("/db/wal"));
		f << std::string(8192, 'w');
	}
	// Another process maps the file (its descriptor closed: the mapping alone holds it),
	// says so when asked, and unmaps and exits when told: a line on stdin each.
	auto mapper = python_process("import mmap, os, sys\n"
	                             "fd = os.open(sys.argv[1], os.O_RDWR)\n"
	                             "m = mmap.mmap(fd, 8192)\n"
	                             "os.close(fd)\n"
	                             "sys.stdin.readline()\n"
	                             "print('{\"mapped\": true}', flush=True)\n"
	                             "sys.stdin.readline()\n"
	                             "m.close()\n",
	                             host("/db/wal"));
	ASSERT_EQ(mapper->command("report")["mapped"], true);

	json r = daemon_->ok({"set-dax", "pmem0:/db/wal"});
	EXPECT_EQ(r[0]["result"], "deferred");
	EXPECT_EQ(r[0]["state"], "pending-unmap");
	EXPECT_FALSE(flag_on_disk("/db/wal")) << "flipped under a live mapping";
	EXPECT_EQ(daemon_->ok({"list-pending"}).size(), 1u);
	// Asked about one file, the daemon looks at who maps it (/proc/*/maps).
	json seen = daemon_->ok({"list", "pmem0:/db/wal"})[0];
	EXPECT_EQ(seen["mapped"], 1);
	EXPECT_EQ(seen["in_use"], true);

	mapper->send("unmap");
	EXPECT_EQ(mapper->finish(), 0); // it has unmapped and exited
	auto took = wait_flag("/db/wal", true);
	ASSERT_TRUE(took) << "the change never followed the unmap";
	RecordProperty("applied_after_unmap_ms", int(took->count()));
	// The promise, "within a second" of the unmap: a bound on time, which only an
	// end-to-end test states. The daemon re-checks queued changes only every 24h here
	// (pending_recheck, in start()), so the fanotify watcher's release is what applied it.
	EXPECT_LT(*took, std::chrono::seconds(1));
	EXPECT_TRUE(daemon_->ok({"list-pending"}).empty());
	ASSERT_EQ(events("deferred").size(), 1u);
	json changes = events("flag-change");
	ASSERT_EQ(changes.size(), 1u);
	EXPECT_EQ(changes[0]["cause"], "pending");
	EXPECT_EQ(changes[0]["path"], "/db/wal");
}

TEST_P(HostE2E, FileOnlyOpenElsewhereWaitsAsAnEvictionDoes)
{
	make_dirs("/db");
	make_file("/db/log");
	// Open, not mapped: the write lease is refused and no mapping is found.
	auto holder = python_process("import os, sys\n"
	                             "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
	                             "sys.stdin.readline()\n"
	                             "print('{\"open\": true}', flush=True)\n"
	                             "sys.stdin.readline()\n"
	                             "os.close(fd)\n",
	                             host("/db/log"));
	ASSERT_EQ(holder->command("report")["open"], true);
	json r = daemon_->ok({"set-dax", "pmem0:/db/log"});
	EXPECT_EQ(r[0]["result"], "deferred");
	EXPECT_EQ(r[0]["state"], "pending-evict");
	EXPECT_EQ(events("deferred").at(0)["reason"], "in use by another process");
	json seen = daemon_->ok({"list", "pmem0:/db/log"})[0];
	EXPECT_EQ(seen["mapped"], 0);
	EXPECT_EQ(seen["in_use"], true) << "open by another process (/proc/*/fd)";
	EXPECT_FALSE(flag_on_disk("/db/log"));
	holder->send("close");
	EXPECT_EQ(holder->finish(), 0);
	EXPECT_TRUE(wait_flag("/db/log", true)) << "the change never followed the close";
}

// The daemon holds each flag change's write lease 3 s (its test switch), long enough for
// another process to open the file meanwhile, which a lease of microseconds never lets a
// test do on purpose.
class HostLeaseE2E : public HostFixture, public ::testing::WithParamInterface<std::string>
{
      protected:
	void SetUp() override { start(GetParam(), {"DAXPOLICY_TEST_HOST_HOLD_LEASE=3s"}); }

	// Whether /proc/locks lists a write lease on inode `ino` (the kernel prints
	// "N: LEASE  ACTIVE    WRITE PID MAJ:MIN:INO 0 EOF").
	static bool leased(uint64_t ino)
	{
		std::ifstream locks("/proc/locks");
		std::string suffix = ":" + std::to_string(ino) + " ";
		for (std::string line; std::getline(locks, line);)
			if (line.find(" LEASE ") != std::string::npos &&
			    line.find(" WRITE ") != std::string::npos &&
			    line.find("->") == std::string::npos &&
			    line.find(suffix) != std::string::npos)
				return true;
		return false;
	}
};

INSTANTIATE_TEST_SUITE_P(Fs, HostLeaseE2E, ::testing::Values("ext4", "xfs"));

TEST_P(HostLeaseE2E, AnOpenDuringAFlagChangeIsALeaseBreakNamingTheOpener)
{
	make_dirs("/db");
	make_file("/db/f");
	struct stat st = {};
	ASSERT_EQ(::stat(host("/db/f").c_str(), &st), 0);
	// Opens the file when told (and waits there while the daemon holds its lease).
	auto opener = python_process("import os, sys\n"
	                             "sys.stdin.readline()\n"
	                             "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
	                             "print('{\"opened\": true}', flush=True)\n"
	                             "sys.stdin.readline()\n",
	                             host("/db/f"));
	json set;
	std::thread setter([&] { set = daemon_->ok({"set-dax", "pmem0:/db/f"}); });
	bool seen = false;
	for (auto start = Clock::now(); !seen && Clock::now() - start < std::chrono::seconds(20);) {
		seen = leased(st.st_ino);
		if (!seen)
			std::this_thread::sleep_for(std::chrono::milliseconds(5));
	}
	if (!seen) {
		setter.join();
		FAIL() << "the daemon's lease never showed in /proc/locks";
	}
	EXPECT_EQ(opener->command("open")["opened"], true); // once the lease is given back
	setter.join();
	ASSERT_EQ(set.size(), 1u);
	EXPECT_EQ(set[0]["result"], "applied");
	EXPECT_TRUE(flag_on_disk("/db/f"));
	json breaks = events("lease-break");
	ASSERT_EQ(breaks.size(), 1u) << breaks.dump();
	EXPECT_EQ(breaks[0]["path"], "/db/f");
	EXPECT_EQ(breaks[0]["op"], "flag-change");
	EXPECT_EQ(breaks[0]["outcome"], "released");
	EXPECT_EQ(breaks[0]["breaker"]["pid"], opener->pid()) << breaks[0].dump();
	EXPECT_EQ(opener->finish(), 0);
}

TEST_P(HostE2E, SymbolicLinksAreReportedAndNeverFollowed)
{
	make_dirs("/db");
	make_dirs("/elsewhere");
	make_file("/elsewhere/target");
	std::filesystem::create_symlink("../elsewhere/target", host("/db/inside-link"));
	std::filesystem::create_symlink(host("/elsewhere"), host("/db/dir-link"));
	daemon_->ok({"add-rule", "--name", "db", "--subtree", "pmem0:/db", "--dax", "on"});
	EXPECT_FALSE(flag_on_disk("/elsewhere/target")) << "a link's target was changed";
	EXPECT_FALSE(flag_on_disk("/elsewhere"));
	json link = daemon_->ok({"list", "pmem0:/db/inside-link"})[0];
	EXPECT_EQ(link["state"], "unsupported");
	// A path through a link is refused, not followed.
	auto through = daemon_->cli({"set-dax", "pmem0:/db/dir-link/target"});
	EXPECT_EQ(through.exit_code, 1);
	EXPECT_FALSE(flag_on_disk("/elsewhere/target"));
}

TEST_P(HostE2E, ALinkToAnotherFilesystemIsNeverFollowed)
{
	// Another ext4 mount beside the volume, whose file a link in the volume points at.
	test::TempDir other_dir;
	auto other = test::LoopFs::standard(other_dir.path(), "ext4");
	std::ofstream(other->host("/target")) << "x";
	make_dirs("/db");
	std::filesystem::create_symlink(other->host("/target"), host("/db/across"));
	std::filesystem::create_symlink(other->mount_point(), host("/db/across-dir"));
	daemon_->ok({"add-rule", "--name", "db", "--subtree", "pmem0:/db", "--dax", "on"});
	EXPECT_TRUE(flag_on_disk("/db"));
	auto r = test::run_tool({"lsattr", "-d", other->host("/target")});
	ASSERT_EQ(r.status, 0) << r.output;
	EXPECT_EQ(r.output.substr(0, r.output.find(' ')).find('x'), std::string::npos)
	    << "the link's target on another mount was changed: " << r.output;
	r = test::run_tool({"lsattr", "-d", other->mount_point().string()});
	EXPECT_EQ(r.output.substr(0, r.output.find(' ')).find('x'), std::string::npos) << r.output;
	json link = daemon_->ok({"list", "pmem0:/db/across"})[0];
	EXPECT_EQ(link["state"], "unsupported");
	EXPECT_EQ(link["reason"], "symbolic link");
	auto through = daemon_->cli({"set-dax", "pmem0:/db/across-dir/target"});
	EXPECT_EQ(through.exit_code, 1) << through.out;
}

TEST_P(HostE2E, AMountBelowTheVolumeIsNotCrossed)
{
	make_dirs("/db/inner");
	test::TmpfsMount inner(host("/db/inner"));
	ASSERT_TRUE(inner.mounted());
	std::ofstream(host("/db/inner/f")) << "x";
	daemon_->ok({"add-rule", "--name", "db", "--subtree", "pmem0:/db", "--dax", "on"});
	json all = daemon_->ok({"list", "-r", "pmem0:/db"});
	for (const auto &f : all)
		EXPECT_NE(f["path"], "pmem0:/db/inner/f") << "walked into another mount";
	auto across = daemon_->cli({"set-dax", "pmem0:/db/inner/f"});
	EXPECT_EQ(across.exit_code, 1) << across.out;
}

TEST_P(HostE2E, AMountThatGoesAwayIsAVolumeEventNotACrash)
{
	make_dirs("/db");
	ASSERT_EQ(test::run_tool({"umount", "-l", fs_->mount_point().string()}).status, 0);
	// The daemon hears of the mount table's change; bounded wait for it to say so.
	json v;
	for (auto start = Clock::now(); Clock::now() - start < std::chrono::seconds(20);) {
		v = daemon_->ok({"list-volumes"})[0];
		if (v["available"] == false)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	ASSERT_EQ(v["available"], false) << v.dump();
	EXPECT_NE(v["unavailable"].get<std::string>().find("is gone"), std::string::npos);
	auto list = daemon_->cli({"list", "pmem0:/db"});
	EXPECT_EQ(list.exit_code, 1);
	EXPECT_EQ(test::error_of(list)["error"], "busy");
	json gone = events("volume");
	ASSERT_FALSE(gone.empty());
	EXPECT_EQ(gone.back()["action"], "unavailable");
	EXPECT_EQ(daemon_->ok({"status"})["version"].is_string(), true) << "still serving";
}

TEST_P(HostE2E, AUeventOfTheVolumesDeviceIsLoggedAndTheVolumeChecked)
{
	struct stat st = {};
	ASSERT_EQ(::stat(fs_->mount_point().c_str(), &st), 0);
	std::string device =
	    std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
	// The kernel sends a uevent for a device when asked to through sysfs, as udevadm
	// trigger does; the device stays.
	std::ofstream("/sys/dev/block/" + device + "/uevent") << "change";
	json heard;
	for (auto start = Clock::now(); Clock::now() - start < std::chrono::seconds(20);) {
		for (const auto &e : events("volume"))
			if (e["action"] == "device-change")
				heard = e;
		if (!heard.is_null())
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	ASSERT_FALSE(heard.is_null()) << "no volume event for the device's uevent";
	EXPECT_EQ(heard["volume"], "pmem0");
	EXPECT_EQ(daemon_->ok({"list-volumes"})[0]["available"], true)
	    << "the device is still there";
}

// The daemon refuses to start on `mount_point`, saying `reason`.
void expect_refused(const test::TempDir &dir, const std::filesystem::path &mount_point,
                    const std::string &reason)
{
	std::string config_path = (dir / "daxpolicyd.toml").string();
	std::ofstream(config_path) << "[[volume]]\nname = \"t\"\nkind = \"host\"\npath = \""
	                           << mount_point.string() << "\"\n";
	auto r = test::run({DAXPOLICYD_BIN, "--foreground", "--config", config_path, "--socket",
	                    (dir / "s.sock").string(), "--state-dir", (dir / "state").string()});
	EXPECT_NE(r.exit_code, 0);
	EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
}

TEST(HostE2EConfig, AVolumeOnAnUnsupportedFilesystemIsRefusedWithItsReason)
{
	SKIP_UNLESS_MOUNTABLE("mkfs.ext2");
	test::TempDir dir;
	{
		test::TmpfsMount tmpfs(dir / "mnt");
		ASSERT_TRUE(tmpfs.mounted());
		expect_refused(dir, dir / "mnt", "is a tmpfs mount");
	}
	test::LoopFs ext2(dir.path(), "ext2", 16, {"mkfs.ext2", "-q", "-F"}, "");
	expect_refused(dir, ext2.mount_point(), "ext2 has no per-file DAX flag");
}

// ext4 keeps a small file's data in its inode (inline_data), and then refuses the flag: the
// file is unsupported, with the kernel's reason, and a rule over it changes nothing of it.
TEST(HostE2EExt4, AFileTheKernelRefusesTheFlagIsUnsupportedWithTheReason)
{
	SKIP_UNLESS_MOUNTABLE("mkfs.ext4", "lsattr");
	test::TempDir dir;
	test::LoopFs fs(dir.path(), "inline", 64, {"mkfs.ext4", "-q", "-F", "-O", "inline_data"},
	                "dax=inode");
	test::Daemon daemon("[[volume]]\nname = \"pmem0\"\nkind = \"host\"\npath = \"" +
	                    fs.mount_point().string() + "\"\n");
	std::ofstream(fs.host("/small")) << "tiny\n"; // fits in the inode
	daemon.ok({"add-rule", "--name", "all", "--subtree", "pmem0:/", "--dax", "on"});
	json small = daemon.ok({"list", "pmem0:/small"})[0];
	EXPECT_EQ(small["state"], "unsupported");
	EXPECT_NE(small["reason"].get<std::string>().find("inline data"), std::string::npos)
	    << small.dump();
	auto r = test::run_tool({"lsattr", "-d", fs.host("/small")});
	ASSERT_EQ(r.status, 0) << r.output;
	EXPECT_EQ(r.output.substr(0, r.output.find(' ')).find('x'), std::string::npos) << r.output;
	auto set = daemon.cli({"set-dax", "pmem0:/small"});
	EXPECT_EQ(set.exit_code, 1);
	EXPECT_EQ(test::error_of(set)["error"], "unsupported");
}

} // namespace
