// SPDX-License-Identifier: BSD-3-Clause
// A test with one embedded pool in a fresh folder, made and mounted before it runs.
#pragma once

#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/fsck.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "tests/support/temp_dir.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <memory>

namespace daxpolicy::test
{

class PoolTest : public ::testing::Test
{
      protected:
	static constexpr uint64_t kPoolSize = 64ull << 20;

	void SetUp() override
	{
		make_pool();
		mount();
	}
	// Unmounts what is mounted and makes a new pool in its place.
	void make_pool(uint64_t size = kPoolSize)
	{
		vol_.reset();
		std::filesystem::remove(pool_);
		fscore::mkfs(pool_, size);
	}
	void mount(fscore::EmbeddedVolume::Options options = {})
	{
		vol_.reset();
		vol_ = fscore::EmbeddedVolume::mount(pool_, std::move(options));
	}
	// fsck refuses a mounted pool (busy): unmount first, as an administrator must.
	fscore::FsckReport unmounted_fsck()
	{
		vol_.reset();
		return fscore::fsck(pool_);
	}

	TempDir dir_;
	std::filesystem::path pool_ = dir_ / "pool0.pool";
	std::unique_ptr<fscore::EmbeddedVolume> vol_;
};

} // namespace daxpolicy::test
