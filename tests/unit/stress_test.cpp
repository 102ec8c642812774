// SPDX-License-Identifier: BSD-3-Clause
// Threads racing on the same files, as fsx under flag toggles (the seed crash): pwrite,
// mapped writes, truncate and every fallocate mode, reads and mapped reads, holders of
// mappings that the layout changes break, and DAX flag changes by path as the policy engine
// makes them, so the effective mode switches under the workload whenever a file falls idle.
// A model of each file says what every read must see; at the end fsck must be clean and a
// remount must hold exactly the models.
#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/fsck.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/embedded/session.hpp"
#include "tests/support/bytes.hpp"
#include "tests/support/file_model.hpp"
#include "tests/support/invariants.hpp"
#include "tests/support/temp_dir.hpp"

#include <atomic>
#include <gtest/gtest.h>
#include <random>
#include <shared_mutex>
#include <thread>

using namespace daxpolicy;
using namespace daxpolicy::fscore;

namespace
{

constexpr uint64_t kMaxSize = 512 * 1024;
constexpr int kFiles = 3;
constexpr int kWorkers = 4;
constexpr int kOpsPerWorker = 250;
// A bound on the run on slow builds (sanitizers); an ordinary build ends by the op count.
constexpr auto kTimeCap = std::chrono::seconds(10);

// One file under test. `lock` orders the test's view, not the volume's: an operation and
// its model update happen under it exclusively, reads under it shared, so the model is what
// every read must see; the volume is free to run the shared holders in parallel.
struct StressFile {
	std::string path;
	test::FileModel model;
	std::shared_mutex lock;
	std::atomic<int> dax_opens{0}, cache_opens{0};
};

class Stress : public ::testing::Test
{
      protected:
	void SetUp() override
	{
		fscore::mkfs(pool_, 128ull << 20);
		EmbeddedVolume::Options options;
		options.lease_break_timeout = std::chrono::milliseconds(20);
		vol_ = EmbeddedVolume::mount(pool_, options);
		for (int i = 0; i < kFiles; i++) {
			files_[i].path = "/f" + std::to_string(i);
			vol_->create(files_[i].path);
		}
		deadline_ = std::chrono::steady_clock::now() + kTimeCap;
	}

	bool time_left() const { return std::chrono::steady_clock::now() < deadline_; }

	// Every byte of the file, read through `s`, against the model.
	static void expect_matches(Session &s, int fd, const StressFile &f, const std::string &step)
	{
		auto got = s.pread(fd, 0, kMaxSize * 2);
		ASSERT_EQ(got.size(), f.model.size()) << f.path << " after " << step;
		auto diff = std::mismatch(got.begin(), got.end(), f.model.bytes().begin());
		ASSERT_TRUE(diff.first == got.end())
		    << f.path << " after " << step << ": first wrong byte at "
		    << diff.first - got.begin();
	}

	// One worker: opens a file, does one operation, closes it, so that files fall idle
	// and take up a new effective mode now and then.
	void worker(int seed)
	{
		std::mt19937_64 rng(static_cast<uint64_t>(seed));
		auto pick = [&](uint64_t n) { return n ? rng() % n : 0; };
		auto session = vol_->open_session({1000 + seed, 0});
		for (int op = 0; op < kOpsPerWorker && time_left() && !HasFatalFailure(); op++) {
			StressFile &f = files_[pick(kFiles)];
			int fd = session->open(f.path, false);
			(session->fstat(fd).dax_effective ? f.dax_opens : f.cache_opens)++;
			if (pick(10) < 3)
				read_some(*session, fd, f, pick);
			else
				change(*session, fd, f, pick);
			session->close(fd);
		}
	}

	template <class Pick> void read_some(Session &s, int fd, StressFile &f, Pick &pick)
	{
		std::shared_lock lock(f.lock);
		if (pick(2) || f.model.size() == 0) {
			expect_matches(s, fd, f, "a shared read");
			return;
		}
		uint64_t off = pick(f.model.size()), len = 1 + pick(f.model.size() - off);
		int map = s.mmap(fd, 0, kMaxSize * 2, false);
		auto got = s.mread(map, off, len);
		s.munmap(map);
		EXPECT_TRUE(std::equal(got.begin(), got.end(), f.model.bytes().begin() + off))
		    << f.path << ": mread " << off << "+" << len;
	}

	template <class Pick> void change(Session &s, int fd, StressFile &f, Pick &pick)
	{
		std::unique_lock lock(f.lock);
		uint64_t size = f.model.size();
		uint64_t off = pick(kMaxSize), len = 1 + pick(64 * 1024);
		uint64_t aoff = off / kBlockSize * kBlockSize;
		uint64_t alen = std::max<uint64_t>(kBlockSize, len / kBlockSize * kBlockSize);
		auto c = std::byte(1 + pick(255));
		std::string step;
		switch (pick(8)) {
		case 0:
		case 1:
			len = std::min(len, kMaxSize - off);
			s.pwrite(fd, off, test::filled(len, int(c)));
			f.model.write(off, len, c);
			step = "pwrite";
			break;
		case 2: {
			if (size == 0)
				return;
			off = pick(size);
			int map = s.mmap(fd, 0, kMaxSize * 2, true);
			len = f.model.store(off, len, c);
			s.mwrite(map, off, test::filled(len, int(c)));
			s.munmap(map);
			step = "mwrite";
			break;
		}
		case 3:
			s.truncate(fd, off);
			f.model.truncate(off);
			step = "truncate";
			break;
		case 4:
			s.fallocate(fd, LayoutOp::punch_hole, off, len);
			f.model.punch(off, len);
			step = "punch";
			break;
		case 5:
			len = std::min(len, kMaxSize - off);
			s.fallocate(fd, LayoutOp::zero_range, off, len);
			f.model.zero(off, len);
			step = "zero-range";
			break;
		case 6:
			if (!f.model.can_collapse(aoff, alen))
				return;
			s.fallocate(fd, LayoutOp::collapse_range, aoff, alen);
			f.model.collapse(aoff, alen);
			step = "collapse";
			break;
		case 7:
			if (!f.model.can_insert(aoff, alen) || size + alen > kMaxSize)
				return;
			s.fallocate(fd, LayoutOp::insert_range, aoff, alen);
			f.model.insert(aoff, alen);
			step = "insert";
			break;
		}
		expect_matches(s, fd, f, step);
	}

	// Holds a mapping of a file across other threads' layout changes, reading through it
	// while it lasts. A break waits for it or revokes it; either way, no read through it
	// may see anything but the model.
	void holder(int seed)
	{
		std::mt19937_64 rng(static_cast<uint64_t>(seed));
		auto session = vol_->open_session({2000 + seed, 0});
		while (time_left() && !stop_.load() && !HasFatalFailure()) {
			StressFile &f = files_[rng() % kFiles];
			int fd = session->open(f.path, false);
			int map = session->mmap(fd, 0, kMaxSize * 2, false);
			for (int i = 0; i < 20; i++) {
				// A worker is changing the file: mostly let go at once, as a holder
				// told of a break does; now and then hang on and be revoked.
				std::shared_lock lock(f.lock, std::try_to_lock);
				if (!lock.owns_lock() && rng() % 4) {
					session->munmap(map);
					lock.lock();
					map = session->mmap(fd, 0, kMaxSize * 2, false);
				} else if (!lock.owns_lock()) {
					lock.lock();
				}
				if (f.model.size() == 0)
					continue;
				uint64_t off = rng() % f.model.size();
				uint64_t len = 1 + rng() % (f.model.size() - off);
				try {
					auto got = session->mread(map, off, len);
					EXPECT_TRUE(std::equal(got.begin(), got.end(),
					                       f.model.bytes().begin() + off))
					    << f.path << ": held mread " << off << "+" << len;
				} catch (const Error &e) {
					ASSERT_EQ(e.code(), Errc::revoked) << e.what();
					revoked_++;
					break;
				}
			}
			session->munmap(map);
			session->close(fd);
		}
	}

	// Flips the DAX flag by path, as the policy engine does, with no regard for use.
	void toggler(int seed)
	{
		std::mt19937_64 rng(static_cast<uint64_t>(seed));
		for (unsigned n = 0; time_left() && !stop_.load(); n++) {
			vol_->set_dax_flag(files_[rng() % kFiles].path, rng() % 2);
			// Whenever the volume lock is free, the in-core state agrees with the pool.
			if (n % 16 == 0) {
				EXPECT_TRUE(test::invariants_hold(*vol_));
			}
			std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
		}
	}

	test::TempDir dir_;
	std::filesystem::path pool_ = dir_ / "pool";
	std::unique_ptr<EmbeddedVolume> vol_;
	StressFile files_[kFiles];
	std::chrono::steady_clock::time_point deadline_;
	std::atomic<bool> stop_{false};
	std::atomic<int> revoked_{0};
};

TEST_F(Stress, ThreadsOnTheSameFilesMatchTheModel)
{
	std::vector<std::thread> background, workers;
	background.emplace_back([&] { toggler(7); });
	background.emplace_back([&] { holder(8); });
	background.emplace_back([&] { holder(9); });
	for (int w = 0; w < kWorkers; w++)
		workers.emplace_back([&, w] { worker(w + 1); });
	for (auto &t : workers)
		t.join();
	stop_ = true;
	for (auto &t : background)
		t.join();
	if (HasFatalFailure())
		return;

	// The toggles took effect under the workload: files were used in both modes.
	int dax = 0, cache = 0;
	for (const auto &f : files_) {
		dax += f.dax_opens;
		cache += f.cache_opens;
	}
	EXPECT_GT(dax, 0);
	EXPECT_GT(cache, 0);
	RecordProperty("revoked_holders", revoked_.load());
	EXPECT_TRUE(test::invariants_hold(*vol_));

	vol_.reset();
	auto report = fsck(pool_);
	EXPECT_TRUE(report.clean()) << (report.problems.empty() ? "" : report.problems[0]);
	vol_ = EmbeddedVolume::mount(pool_, {});
	auto s = vol_->open_session({});
	for (auto &f : files_) {
		int fd = s->open(f.path, false);
		expect_matches(*s, fd, f, "remount");
	}
}

} // namespace
