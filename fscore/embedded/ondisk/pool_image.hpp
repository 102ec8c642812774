// SPDX-License-Identifier: BSD-3-Clause
// A pool opened for checking only: the file is opened read-only (so fsck works on a read-only
// image) and locked shared (so it cannot be checked while a daemon has it mounted), and mapped
// copy-on-write, so that the journal can be replayed into a private copy exactly as mount
// would replay it, without changing the pool.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>

namespace daxpolicy::fscore
{

class PoolImage
{
      public:
	explicit PoolImage(const std::filesystem::path &path);
	~PoolImage();
	PoolImage(const PoolImage &) = delete;
	PoolImage &operator=(const PoolImage &) = delete;

	std::span<std::byte> bytes() const { return {base_, size_}; }
	// False for a devdax device, which cannot be mapped privately: its image is read-only.
	bool writable() const { return writable_; }

      private:
	int fd_ = -1;
	std::byte *base_ = nullptr;
	size_t size_ = 0;
	bool writable_ = false;
};

} // namespace daxpolicy::fscore
