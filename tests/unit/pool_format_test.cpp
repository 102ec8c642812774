// SPDX-License-Identifier: BSD-3-Clause
// The pool's inode count as mkfs chooses it (`--inodes`, by default one per 16 KiB as ext4
// makes them) and the superblock checks that follow it; a pool of format version 1, whose
// inode count was a function of its size alone, still mounts.
#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/fsck.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/embedded/ondisk/superblock.hpp"
#include "tests/support/pool_image.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

using namespace daxpolicy;
using namespace daxpolicy::fscore;

namespace
{

class PoolFormatTest : public ::testing::Test
{
      protected:
	uint64_t inodes_of_mounted()
	{
		return EmbeddedVolume::mount(pool_, {})->info().usage->inodes;
	}
	Errc mkfs_error(uint64_t size, uint64_t inodes)
	{
		try {
			mkfs(pool_, size, false, inodes);
		} catch (const Error &e) {
			return e.code();
		}
		ADD_FAILURE() << "mkfs with " << inodes << " inodes succeeded";
		return Errc::internal;
	}
	test::TempDir dir_;
	std::filesystem::path pool_ = dir_ / "pool";
};

TEST_F(PoolFormatTest, ByDefaultAPoolHoldsOneFilePer16KiB)
{
	MkfsResult made = mkfs(pool_, 1ull << 30);
	EXPECT_GE(made.inodes, (1ull << 30) / (16 << 10) - 1);
	EXPECT_EQ(inodes_of_mounted(), made.inodes);
}

TEST_F(PoolFormatTest, InodesAskedForCanAllBeUsed)
{
	// Five times the default of a 16 MiB pool.
	MkfsResult made = mkfs(pool_, kMinPoolSize, false, 5000);
	ASSERT_GE(made.inodes, 5000u);
	auto vol = EmbeddedVolume::mount(pool_, {});
	EXPECT_EQ(vol->info().usage->inodes, made.inodes);
	vol->mkdir("/d");
	for (uint64_t i = 2; i < made.inodes; i++)
		vol->create("/d/" + std::to_string(i));
	try {
		vol->create("/d/one-too-many");
		FAIL() << "a pool holds no more than its inodes";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Errc::no_space) << e.what();
	}
	EXPECT_TRUE(vol->check_invariants().empty());
	vol.reset();
	EXPECT_TRUE(fsck(pool_).clean());
	EXPECT_EQ(EmbeddedVolume::mount(pool_, {})->info().files, made.inodes);
}

TEST_F(PoolFormatTest, ABadInodeCountIsRefusedAndMakesNothing)
{
	EXPECT_EQ(mkfs_error(kMinPoolSize, 0), Errc::invalid_argument);
	// A quarter of 16 MiB in 256-byte inodes is 16,384.
	EXPECT_EQ(mkfs_error(kMinPoolSize, 16384), Errc::invalid_argument);
	EXPECT_EQ(mkfs_error(kMinPoolSize, UINT64_MAX), Errc::invalid_argument);
	EXPECT_EQ(mkfs_error(uint64_t{1} << 62, UINT64_MAX - 1), Errc::invalid_argument);
	EXPECT_FALSE(std::filesystem::exists(pool_)) << "a refused mkfs leaves no pool file";
	mkfs(pool_, kMinPoolSize, false, 16383);
	EXPECT_EQ(inodes_of_mounted(), 16383u);
}

TEST_F(PoolFormatTest, AVersion1PoolStillMounts)
{
	// Version 1's layout is version 2's with the inode count of its size: made so, and the
	// version set back, it is byte for byte what the previous release made.
	uint64_t blocks = (64ull << 20) / kBlockSize;
	mkfs(pool_, 64ull << 20, false, legacy_inode_count(blocks) - 1);
	test::Image image = test::read_image(pool_);
	test::superblock(image).version = 1;
	test::write_image(pool_, image);
	{
		auto vol = EmbeddedVolume::mount(pool_, {});
		EXPECT_EQ(vol->info().usage->inodes, legacy_inode_count(blocks) - 1);
		vol->mkdir("/d");
		vol->create("/d/f");
		vol->set_dax_flag("/d/f", true);
	}
	EXPECT_TRUE(fsck(pool_).clean());
	auto vol = EmbeddedVolume::mount(pool_, {});
	EXPECT_TRUE(vol->stat("/d/f").dax_flag);
	vol.reset();
	EXPECT_EQ(test::superblock(image = test::read_image(pool_)).version, 1u)
	    << "mount leaves the format as it found it";
}

TEST_F(PoolFormatTest, AVersion1PoolWithAnotherInodeCountIsDamaged)
{
	mkfs(pool_, 64ull << 20, false, 5000);
	test::Image image = test::read_image(pool_);
	test::superblock(image).version = 1;
	test::write_image(pool_, image);
	try {
		EmbeddedVolume::mount(pool_, {});
		FAIL();
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Errc::corrupted);
		EXPECT_NE(std::string(e.what()).find("inode count"), std::string::npos) << e.what();
	}
}

TEST_F(PoolFormatTest, AnInodeCountPastWhatThePoolCanHoldIsDamaged)
{
	mkfs(pool_, 64ull << 20);
	test::Image image = test::read_image(pool_);
	uint64_t blocks = test::superblock(image).total_blocks;
	for (uint64_t count : {max_inode_count(blocks) + 16, uint64_t{1} << 60, uint64_t{0}}) {
		test::superblock(image).inode_count = count;
		test::write_image(pool_, image);
		EXPECT_THROW(EmbeddedVolume::mount(pool_, {}), Error) << count;
		EXPECT_THROW(fsck(pool_), Error) << count;
	}
}

TEST_F(PoolFormatTest, AFutureVersionIsUnsupported)
{
	mkfs(pool_, kMinPoolSize);
	test::Image image = test::read_image(pool_);
	test::superblock(image).version = kFormatVersion + 1;
	test::write_image(pool_, image);
	try {
		EmbeddedVolume::mount(pool_, {});
		FAIL();
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Errc::unsupported) << e.what();
	}
}

} // namespace
