// SPDX-License-Identifier: BSD-3-Clause
#include "bench/loop_mount.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace daxpolicy::bench
{

namespace
{

// Runs a command without a shell (paths are passed as they are, whatever they contain) and
// returns a description of its failure, or an empty string when it exited 0.
std::string run(std::vector<std::string> argv)
{
	std::vector<char *> args;
	for (auto &a : argv)
		args.push_back(a.data());
	args.push_back(nullptr);
	pid_t pid;
	if (int err = posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ))
		return argv[0] + ": " + std::strerror(err);
	int status = 0;
	// Retry on EINTR: the child got the same Ctrl-C and is about to exit, and it must be
	// reaped before the caller unwinds and cleans up.
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return argv[0] + ": waitpid: " + std::strerror(errno);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return {};
	if (WIFEXITED(status))
		return argv[0] + " exited with status " + std::to_string(WEXITSTATUS(status));
	return argv[0] + " was killed by signal " + std::to_string(WTERMSIG(status));
}

} // namespace

LoopMount::LoopMount(const std::filesystem::path &dir, uint64_t size_mib)
    : image_(dir / "ext4.img"), mount_point_(dir / "ext4.mnt")
{
	if (geteuid() != 0)
		throw std::runtime_error("not root: cannot loop-mount ext4");
	try {
		int fd = ::open(image_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			throw std::runtime_error(image_.string() + ": " + std::strerror(errno));
		int rc = ftruncate(fd, static_cast<off_t>(size_mib << 20));
		int err = errno;
		::close(fd);
		if (rc != 0)
			throw std::runtime_error(image_.string() + ": " + std::strerror(err));
		if (auto why = run({"mkfs.ext4", "-q", "-F", image_.string()}); !why.empty())
			throw std::runtime_error(why);
		std::filesystem::create_directory(mount_point_);
		if (auto why = run({"mount", "-o", "loop", image_.string(), mount_point_.string()});
		    !why.empty())
			throw std::runtime_error(why);
		mounted_ = true;
	} catch (...) {
		cleanup();
		throw;
	}
}

LoopMount::~LoopMount()
{
	cleanup();
}

void LoopMount::cleanup() noexcept
{
	try {
		if (mounted_) {
			if (auto why = run({"umount", mount_point_.string()}); !why.empty()) {
				// Leave the image and mount point: removing the directory under a
				// live mount would fail anyway, and this says what to clean up.
				std::cerr << "daxpolicy_bench: " << why
				          << "; still mounted: " << mount_point_.string() << "\n";
				return;
			}
			mounted_ = false;
		}
		std::error_code ec;
		std::filesystem::remove(mount_point_, ec);
		std::filesystem::remove(image_, ec);
	} catch (...) {
		// A destructor must not throw; the temporary directory's removal reports leftovers.
	}
}

} // namespace daxpolicy::bench
