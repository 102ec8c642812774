// SPDX-License-Identifier: BSD-3-Clause
// Real filesystems for tests of the host volume: an image on a loop device, mounted, or a
// tmpfs; and running the tools that make and inspect them. They need root and loop devices;
// a test asks cannot_mount first and skips (SKIP_UNLESS_MOUNTABLE) without them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <gtest/gtest.h>
#include <optional>
#include <string>
#include <vector>

namespace daxpolicy::test
{

struct Ran {
	int status = -1; // the exit status, or -1 when it did not exit
	std::string output;
};

// Runs a program without a shell, its stdout and stderr captured (a tool a test uses:
// mkfs, mount, lsattr).
Ran run_tool(std::vector<std::string> argv);

// Whether `tool` is on PATH.
bool have(const char *tool);

// Why the kernel tests cannot run here, or nothing when they can: not root, no loop devices,
// or one of `tools` missing. Where CI says they must (DAXPOLICY_REQUIRE_PRIVILEGED=1), not
// being able to is a failure as well.
std::optional<std::string> cannot_mount(const std::vector<const char *> &tools);

#define SKIP_UNLESS_MOUNTABLE(...)                                                                 \
	do {                                                                                       \
		if (auto why = ::daxpolicy::test::cannot_mount({__VA_ARGS__}))                     \
			GTEST_SKIP() << *why;                                                      \
	} while (0)

// A filesystem on a sparse image, on its own loop device, mounted on `dir`/`name`; unmounted
// and its loop device detached when it goes, whatever happened meanwhile. Throws
// std::runtime_error, having undone what it did, when a step fails.
class LoopFs
{
      public:
	// `mkfs` is the command and its options; the image is appended.
	LoopFs(const std::filesystem::path &dir, const std::string &name, uint64_t size_mib,
	       std::vector<std::string> mkfs, const std::string &mount_options);
	~LoopFs() { cleanup(); }
	LoopFs(const LoopFs &) = delete;
	LoopFs &operator=(const LoopFs &) = delete;

	// The usual ones: ext4 of 64 MiB, xfs of 300 MiB (xfsprogs 5.19 and later refuse a
	// smaller one), both -o dax=inode. `fstype` is "ext4" or "xfs".
	static std::unique_ptr<LoopFs> standard(const std::filesystem::path &dir,
	                                        const std::string &fstype);
	// What standard(fstype) needs besides root and loop devices.
	static std::vector<const char *> tools_for(const std::string &fstype);

	const std::filesystem::path &mount_point() const { return mount_point_; }
	std::string host(const std::string &volume_path) const
	{
		return mount_point_.string() + volume_path;
	}

      private:
	void cleanup();
	std::filesystem::path image_;
	std::filesystem::path mount_point_;
	std::string device_;
	bool mounted_ = false;
};

// A mount on `dir` (made if missing) for the life of the object, made by running `mount`, a
// mount(8) command line; lazily unmounted when it goes.
class ScopedMount
{
      public:
	ScopedMount(const std::filesystem::path &dir, std::vector<std::string> mount);
	~ScopedMount();
	ScopedMount(const ScopedMount &) = delete;
	ScopedMount &operator=(const ScopedMount &) = delete;
	bool mounted() const { return mounted_; }

      private:
	std::filesystem::path dir_;
	bool mounted_;
};

// A small tmpfs.
class TmpfsMount : public ScopedMount
{
      public:
	explicit TmpfsMount(const std::filesystem::path &dir)
	    : ScopedMount(dir, {"mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir.string()})
	{
	}
};

// `source` (a directory) seen at `dir` too.
class BindMount : public ScopedMount
{
      public:
	BindMount(const std::filesystem::path &source, const std::filesystem::path &dir)
	    : ScopedMount(dir, {"mount", "--bind", source.string(), dir.string()})
	{
	}
};

} // namespace daxpolicy::test
