// SPDX-License-Identifier: BSD-3-Clause
// Space operations against a model of the file's bytes, in the manner of fsx: random writes,
// mapped writes, truncates and every fallocate mode, in DAX and page-cache mode, with the
// mode switched between rounds. After every step the file must read exactly as the model.
#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/fsck.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/embedded/session.hpp"
#include "tests/support/bytes.hpp"
#include "tests/support/file_model.hpp"
#include "tests/support/pool_test.hpp"

#include <gtest/gtest.h>
#include <random>

using namespace daxpolicy;
using namespace daxpolicy::fscore;

namespace
{

constexpr uint64_t kMaxSize = 1 << 20;

using test::filled;

class SpaceTest : public test::PoolTest
{
      protected:
	void SetUp() override
	{
		PoolTest::SetUp();
		s_ = vol_->open_session({});
		fd_ = s_->open("/f", true);
	}
	void expect_model(const std::string &step)
	{
		ASSERT_EQ(s_->fstat(fd_).size, model_.size()) << step;
		auto got = s_->pread(fd_, 0, model_.size());
		ASSERT_EQ(got.size(), model_.size()) << step;
		for (size_t i = 0; i < got.size(); i++)
			ASSERT_EQ(got[i], model_.bytes()[i]) << step << ": byte " << i;
	}
	void expect_invalid(const std::function<void()> &op, const std::string &step)
	{
		try {
			op();
			FAIL() << step << " succeeded";
		} catch (const Error &e) {
			EXPECT_EQ(e.code(), Errc::invalid_argument) << step << ": " << e.what();
		}
	}

	std::unique_ptr<Session> s_;
	int fd_ = -1;
	test::FileModel model_;
};

TEST_F(SpaceTest, KernelRulesForAlignmentAndRange)
{
	s_->pwrite(fd_, 0, filled(3 * kBlockSize, 'a'));
	expect_invalid([&] { s_->fallocate(fd_, LayoutOp::collapse_range, 100, 4096); },
	               "unaligned collapse");
	expect_invalid([&] { s_->fallocate(fd_, LayoutOp::insert_range, 4096, 100); },
	               "unaligned insert");
	expect_invalid([&] { s_->fallocate(fd_, LayoutOp::collapse_range, 4096, 8192); },
	               "collapse to EOF");
	expect_invalid([&] { s_->fallocate(fd_, LayoutOp::insert_range, 3 * 4096, 4096); },
	               "insert at EOF");
	expect_invalid([&] { s_->fallocate(fd_, LayoutOp::punch_hole, 0, 0); }, "zero length");
	expect_invalid([&] { s_->fallocate(fd_, LayoutOp::allocate, ~0ull - 10, 100); },
	               "overflow");
	expect_invalid([&] { s_->truncate(fd_, ~0ull); }, "huge truncate");
	model_.write(0, 3 * kBlockSize, std::byte('a'));
	expect_model("after refused operations");
}

TEST_F(SpaceTest, KeepSizePreallocationIsNotDamage)
{
	s_->pwrite(fd_, 0, filled(100, 'a'));
	s_->fallocate(fd_, LayoutOp::allocate, 0, 1 << 20, true);
	EXPECT_EQ(s_->fstat(fd_).size, 100u);
	s_.reset();
	vol_.reset();
	auto report = fsck(pool_);
	EXPECT_TRUE(report.clean()) << (report.problems.empty() ? "" : report.problems[0]);
}

TEST_F(SpaceTest, TruncateDownThenUpReadsZeros)
{
	s_->pwrite(fd_, 0, filled(8192, 'x'));
	s_->truncate(fd_, 100);
	s_->truncate(fd_, 8192);
	model_.write(0, 8192, std::byte('x'));
	model_.truncate(100);
	model_.truncate(8192);
	expect_model("truncate down and up");
	s_->truncate(fd_, 50);
	s_->pwrite(fd_, 6000, filled(10, 'y'));
	model_.truncate(50);
	model_.write(6000, 10, std::byte('y'));
	expect_model("write past a shrunk end");
}

class SpaceModel : public SpaceTest, public ::testing::WithParamInterface<uint64_t>
{
};

TEST_P(SpaceModel, RandomOperationsMatchTheModel)
{
	std::mt19937_64 rng(GetParam());
	auto pick = [&](uint64_t n) { return n ? rng() % n : 0; };
	for (int round = 0; round < 6; round++) {
		// Switch the effective mode between rounds: flag now, mode at last close.
		s_->set_dax_flag(fd_, round % 2 == 0);
		s_.reset();
		s_ = vol_->open_session({});
		fd_ = s_->open("/f", false);
		ASSERT_EQ(s_->fstat(fd_).dax_effective, round % 2 == 0);
		expect_model("after the switch of round " + std::to_string(round));
		int map = s_->mmap(fd_, 0, kMaxSize, true);
		for (int i = 0; i < 60; i++) {
			uint64_t size = model_.size();
			uint64_t off = pick(kMaxSize), len = 1 + pick(64 * 1024);
			uint64_t aoff = off / kBlockSize * kBlockSize;
			uint64_t alen =
			    std::max<uint64_t>(kBlockSize, len / kBlockSize * kBlockSize);
			int c = int(pick(255)) + 1;
			std::string step =
			    "round " + std::to_string(round) + " op " + std::to_string(i);
			switch (pick(9)) {
			case 0:
			case 1:
				len = std::min(len, kMaxSize - off);
				s_->pwrite(fd_, off, filled(len, c));
				model_.write(off, len, std::byte(c));
				step += " pwrite";
				break;
			case 2:
				if (size == 0)
					continue;
				off = pick(size);
				len = model_.store(off, len, std::byte(c));
				s_->mwrite(map, off, filled(len, c));
				step += " mwrite";
				break;
			case 3:
				s_->truncate(fd_, off);
				model_.truncate(off);
				step += " truncate";
				break;
			case 4: {
				bool keep = pick(2);
				len = std::min(len, kMaxSize - off);
				s_->fallocate(fd_, LayoutOp::allocate, off, len, keep);
				model_.allocate(off, len, keep);
				step += " allocate";
				break;
			}
			case 5:
				s_->fallocate(fd_, LayoutOp::punch_hole, off, len);
				model_.punch(off, len);
				step += " punch";
				break;
			case 6:
				len = std::min(len, kMaxSize - off);
				s_->fallocate(fd_, LayoutOp::zero_range, off, len);
				model_.zero(off, len);
				step += " zero";
				break;
			case 7:
				if (!model_.can_collapse(aoff, alen)) {
					expect_invalid(
					    [&] {
						    s_->fallocate(fd_, LayoutOp::collapse_range,
						                  aoff, alen);
					    },
					    step);
					continue;
				}
				s_->fallocate(fd_, LayoutOp::collapse_range, aoff, alen);
				model_.collapse(aoff, alen);
				step += " collapse";
				break;
			case 8:
				if (!model_.can_insert(aoff, alen) || size + alen > kMaxSize) {
					if (!model_.can_insert(aoff, alen))
						expect_invalid(
						    [&] {
							    s_->fallocate(fd_,
							                  LayoutOp::insert_range,
							                  aoff, alen);
						    },
						    step);
					continue;
				}
				s_->fallocate(fd_, LayoutOp::insert_range, aoff, alen);
				model_.insert(aoff, alen);
				step += " insert";
				break;
			}
			expect_model(step);
			if (HasFatalFailure())
				return;
		}
		s_->munmap(map);
	}
	s_.reset();
	vol_.reset();
	auto report = fsck(pool_);
	EXPECT_TRUE(report.clean()) << (report.problems.empty() ? "" : report.problems[0]);
	vol_ = EmbeddedVolume::mount(pool_, {});
	s_ = vol_->open_session({});
	fd_ = s_->open("/f", false);
	expect_model("after remount");
}

INSTANTIATE_TEST_SUITE_P(Seeds, SpaceModel, ::testing::Values(1, 2, 3, 4));

} // namespace
