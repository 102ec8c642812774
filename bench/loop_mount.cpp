// SPDX-License-Identifier: BSD-3-Clause
#include "bench/loop_mount.hpp"

#include "bench/process.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace daxpolicy::bench
{

LoopMount::LoopMount(const std::filesystem::path &dir, uint64_t size_mib, const Options &options)
    : image_(dir / (options.name + ".img")), mount_point_(dir / (options.name + ".mnt"))
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
		std::vector<std::string> mkfs{"mkfs.ext4", "-q", "-F"};
		mkfs.insert(mkfs.end(), options.mkfs_options.begin(), options.mkfs_options.end());
		mkfs.push_back(image_.string());
		if (auto why = run_program(mkfs); !why.empty())
			throw std::runtime_error(why);
		std::filesystem::create_directory(mount_point_);
		if (auto why = run_program({"mount", "-o", "loop" + options.mount_options,
		                            image_.string(), mount_point_.string()});
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
			if (auto why = run_program({"umount", mount_point_.string()});
			    !why.empty()) {
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
