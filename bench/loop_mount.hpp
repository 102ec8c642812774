// SPDX-License-Identifier: BSD-3-Clause
// The kernel baseline's filesystem: ext4 made on a sparse image file and loop-mounted, so the
// kernel's figures come from the same machine and disk as the embedded core's. Needs root.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace daxpolicy::bench
{

class LoopMount
{
      public:
	struct Options {
		std::string name = "ext4"; // of the image, NAME.img, and the mount point, NAME.mnt
		std::vector<std::string> mkfs_options;
		std::string mount_options; // appended to "loop": ",dax=inode"
	};
	// Creates `dir`/NAME.img of `size_mib` (sparse), runs `mkfs.ext4 -q -F` on it and
	// `mount -o loop` onto `dir`/NAME.mnt. Throws std::runtime_error saying why when any
	// step fails, having undone the steps before it.
	LoopMount(const std::filesystem::path &dir, uint64_t size_mib, const Options &options);
	LoopMount(const std::filesystem::path &dir, uint64_t size_mib)
	    : LoopMount(dir, size_mib, Options{})
	{
	}
	// Unmounts (which also frees the loop device mount(8) attached) and removes the image.
	~LoopMount();
	LoopMount(const LoopMount &) = delete;
	LoopMount &operator=(const LoopMount &) = delete;

	const std::filesystem::path &mount_point() const { return mount_point_; }

      private:
	void cleanup() noexcept;

	std::filesystem::path image_;
	std::filesystem::path mount_point_;
	bool mounted_ = false;
};

} // namespace daxpolicy::bench
