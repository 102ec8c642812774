// SPDX-License-Identifier: BSD-3-Clause
#include "tests/support/loop_mount.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace daxpolicy::test
{

Ran run_tool(std::vector<std::string> argv)
{
	std::vector<char *> args;
	for (auto &a : argv)
		args.push_back(a.data());
	args.push_back(nullptr);
	int pipe_fds[2];
	if (pipe2(pipe_fds, O_CLOEXEC) != 0)
		return {};
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
	posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
	pid_t pid;
	int err = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
	posix_spawn_file_actions_destroy(&actions);
	close(pipe_fds[1]);
	Ran ran;
	if (err) {
		close(pipe_fds[0]);
		ran.output = argv[0] + ": " + std::strerror(err);
		return ran;
	}
	char buf[4096];
	for (ssize_t n; (n = read(pipe_fds[0], buf, sizeof buf)) > 0;)
		ran.output.append(buf, static_cast<size_t>(n));
	close(pipe_fds[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	if (WIFEXITED(status))
		ran.status = WEXITSTATUS(status);
	return ran;
}

bool have(const char *tool)
{
	return run_tool({"sh", "-c", std::string("command -v ") + tool}).status == 0;
}

std::optional<std::string> cannot_mount(const std::vector<const char *> &tools)
{
	std::optional<std::string> why;
	if (geteuid() != 0)
		why = "needs root (loop devices and mounts)";
	else if (access("/dev/loop-control", F_OK) != 0)
		why = "needs loop devices (/dev/loop-control)";
	else
		for (const char *tool : tools)
			if (!have(tool))
				why = std::string("needs ") + tool;
	const char *must = std::getenv("DAXPOLICY_REQUIRE_PRIVILEGED");
	if (why && must && std::string(must) == "1")
		ADD_FAILURE() << *why << " but DAXPOLICY_REQUIRE_PRIVILEGED=1";
	return why;
}

namespace
{

void expect_ok(const Ran &ran)
{
	if (ran.status != 0)
		throw std::runtime_error("setting up a loop mount: " + ran.output);
}

} // namespace

LoopFs::LoopFs(const std::filesystem::path &dir, const std::string &name, uint64_t size_mib,
               std::vector<std::string> mkfs, const std::string &mount_options)
    : image_(dir / (name + ".img")), mount_point_(dir / name)
{
	try {
		std::ofstream(image_.string()).close();
		std::filesystem::resize_file(image_, size_mib << 20);
		mkfs.push_back(image_.string());
		expect_ok(run_tool(mkfs));
		Ran lo = run_tool({"losetup", "-f", "--show", image_.string()});
		expect_ok(lo);
		device_ = lo.output.substr(0, lo.output.find('\n'));
		std::filesystem::create_directory(mount_point_);
		std::vector<std::string> mount{"mount"};
		if (!mount_options.empty())
			mount.insert(mount.end(), {"-o", mount_options});
		mount.insert(mount.end(), {device_, mount_point_.string()});
		expect_ok(run_tool(mount));
		mounted_ = true;
	} catch (...) {
		cleanup();
		throw;
	}
}

std::unique_ptr<LoopFs> LoopFs::standard(const std::filesystem::path &dir,
                                         const std::string &fstype)
{
	if (fstype == "ext4")
		return std::make_unique<LoopFs>(dir, "ext4", 64,
		                                std::vector<std::string>{"mkfs.ext4", "-q", "-F"},
		                                "dax=inode");
	return std::make_unique<LoopFs>(
	    dir, "xfs", 300, std::vector<std::string>{"mkfs.xfs", "-q", "-f"}, "dax=inode");
}

std::vector<const char *> LoopFs::tools_for(const std::string &fstype)
{
	if (fstype == "ext4")
		return {"losetup", "mkfs.ext4"};
	return {"losetup", "mkfs.xfs"};
}

void LoopFs::cleanup()
{
	// Lazily, so that a test that failed with something still open cleans up too.
	if (mounted_)
		run_tool({"umount", "-l", mount_point_.string()});
	mounted_ = false;
	if (!device_.empty())
		run_tool({"losetup", "-d", device_});
	device_.clear();
}

ScopedMount::ScopedMount(const std::filesystem::path &dir, std::vector<std::string> mount)
    : dir_(dir)
{
	std::filesystem::create_directories(dir);
	mounted_ = run_tool(std::move(mount)).status == 0;
}

ScopedMount::~ScopedMount()
{
	if (mounted_)
		run_tool({"umount", "-l", dir_.string()});
}

} // namespace daxpolicy::test
