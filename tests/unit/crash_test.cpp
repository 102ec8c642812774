// SPDX-License-Identifier: BSD-3-Clause
// Crash images: every flush and fence of the pool is recorded while random operations run;
// then, for each fence, the images a power loss there could leave are built (what was
// drained, plus random subsets of what was only on its way), recovered, and checked: fsck
// is clean and the volume holds exactly the state before or after the operation in flight
// (a write in flight may leave its data torn, block by block, as on any filesystem), so every
// acknowledged operation is there and no metadata change is half there.
// DAXPOLICY_CRASH_SUBSETS=N tries N subsets a fence instead of 4.
#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/fsck.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/embedded/session.hpp"
#include "tests/support/invariants.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/workload.hpp"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <iostream>
#include <iterator>
#include <map>
#include <random>

using namespace daxpolicy;
using namespace daxpolicy::fscore;
using daxpolicy::test::read_state;
using daxpolicy::test::State;
using daxpolicy::test::Workload;

namespace
{

constexpr uint64_t kPoolSize = kMinPoolSize;
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
// Sanitizers make every image tens of times slower: fewer operations, the same checks.
constexpr int kOperations = 15;
constexpr size_t kMinImages = 100;
#else
constexpr int kOperations = 80;
constexpr size_t kMinImages = 1000;
#endif

class Recorder : public PersistObserver
{
      public:
	struct Flush {
		uint64_t offset;
		std::vector<std::byte> bytes;
		size_t fence; // drains before it
	};
	void flushed(uint64_t offset, std::span<const std::byte> bytes) override
	{
		flushes.push_back({offset, {bytes.begin(), bytes.end()}, fences});
	}
	void drained() override { fences++; }

	std::vector<Flush> flushes;
	size_t fences = 0;
};

std::vector<std::byte> read_image(const std::filesystem::path &p)
{
	std::ifstream in(p, std::ios::binary);
	std::vector<char> chars((std::istreambuf_iterator<char>(in)),
	                        std::istreambuf_iterator<char>());
	std::vector<std::byte> out(chars.size());
	std::memcpy(out.data(), chars.data(), chars.size());
	return out;
}

// Whether `got` is the state before or after a write in flight with its data torn: the same
// as both but for one file, whose size is one of theirs and each of whose blocks holds what
// one of them holds. No filesystem makes a write's data atomic (a write that overwrites some
// blocks and fills holes stores the first in place before its transaction commits); only
// its metadata is.
bool torn_write(const State &got, const State &before, const State &after)
{
	if (got.size() != before.size() || before.size() != after.size())
		return false;
	int torn = 0;
	for (const auto &[path, v] : got) {
		auto b = before.find(path), a = after.find(path);
		if (b == before.end() || a == after.end())
			return false;
		if (v == b->second || v == a->second)
			continue;
		if (++torn > 1 || (v.size() != b->second.size() && v.size() != a->second.size()))
			return false;
		// "f+" or "f-" (type and flag), then the contents: compared block by block.
		if (v.compare(0, 2, b->second, 0, 2) != 0 && v.compare(0, 2, a->second, 0, 2) != 0)
			return false;
		for (size_t at = 2; at < v.size(); at += 4096) {
			std::string mine = v.substr(at, 4096);
			if (mine != b->second.substr(std::min(at, b->second.size()), mine.size()) &&
			    mine != a->second.substr(std::min(at, a->second.size()), mine.size()))
				return false;
		}
	}
	return true;
}

// The first path where two states differ, and how, for a failure message.
std::string first_difference(const State &got, const State &want)
{
	for (const auto &[path, v] : want) {
		auto it = got.find(path);
		if (it == got.end())
			return path + " is missing";
		if (it->second != v)
			return path + " differs (" + std::to_string(it->second.size()) + " vs " +
			       std::to_string(v.size()) + " bytes)";
	}
	for (const auto &[path, v] : got)
		if (!want.count(path))
			return path + " should not be there";
	return "none";
}

void write_image(const std::filesystem::path &p, const std::vector<std::byte> &image)
{
	std::ofstream out(p, std::ios::binary | std::ios::trunc);
	out.write(reinterpret_cast<const char *>(image.data()), std::streamsize(image.size()));
}

TEST(CrashImages, EveryImageRecoversToAnAcknowledgedState)
{
	test::TempDir dir;
	auto pool = dir / "pool";
	fscore::mkfs(pool, kPoolSize);
	const std::vector<std::byte> base = read_image(pool);

	Recorder rec;
	std::vector<State> states; // states[j]: after j operations
	std::vector<size_t> acked; // acked[j]: fences when operation j had returned
	{
		EmbeddedVolume::Options o;
		o.observer = &rec;
		o.free_step_extents = 2; // frees of fragmented files take several steps
		o.free_step_blocks = 3;
		auto vol = EmbeddedVolume::mount(pool, o);
		vol->set_dax_flag("/", true); // new files are DAX: writes are durable at return
		auto s = vol->open_session({});
		Workload work(42);
		states.push_back(read_state(*vol));
		acked.push_back(rec.fences);
		for (int op = 0; op < kOperations; op++) {
			work.step(*vol, *s);
			if (std::getenv("DAXPOLICY_CRASH_TRACE"))
				std::cout << "operation " << op + 1 << ": " << work.last() << "\n";
			states.push_back(read_state(*vol));
			acked.push_back(rec.fences);
		}
		s.reset();
		// Destroyed without unmounting, as a crash would leave it: the recording ends here.
		vol.reset();
	}

	const char *env = std::getenv("DAXPOLICY_CRASH_SUBSETS");
	const int subsets = env ? std::max(1, std::atoi(env)) : 4;
	// Images are written and mapped by the thousand: on tmpfs where there is one.
	test::TempDir scratch(std::filesystem::is_directory("/dev/shm")
	                          ? std::filesystem::path("/dev/shm")
	                          : std::filesystem::temp_directory_path());
	auto image_path = scratch.path() / "image";
	std::mt19937_64 rng(7);
	std::vector<std::byte> durable = base; // everything drained before fence k
	size_t next_flush = 0, images = 0;
	for (size_t k = acked[0]; k <= rec.fences; k++) {
		for (; next_flush < rec.flushes.size() && rec.flushes[next_flush].fence < k;
		     next_flush++) {
			const auto &f = rec.flushes[next_flush];
			std::copy(f.bytes.begin(), f.bytes.end(),
			          durable.begin() + std::ptrdiff_t(f.offset));
		}
		size_t in_flight_end = next_flush;
		while (in_flight_end < rec.flushes.size() && rec.flushes[in_flight_end].fence == k)
			in_flight_end++;
		// The operation in flight at this fence: its state before or after is allowed.
		size_t j = 0;
		while (j < acked.size() && acked[j] <= k)
			j++;
		for (int trial = 0; trial <= subsets; trial++) {
			std::vector<std::byte> image = durable;
			// Trial 0 drops everything in flight; the others keep a random subset.
			for (size_t i = next_flush; trial > 0 && i < in_flight_end; i++) {
				if (rng() % 2)
					continue;
				const auto &f = rec.flushes[i];
				std::copy(f.bytes.begin(), f.bytes.end(),
				          image.begin() + std::ptrdiff_t(f.offset));
			}
			write_image(image_path, image);
			images++;
			SCOPED_TRACE("fence " + std::to_string(k) + " trial " +
			             std::to_string(trial));
			State got;
			{
				auto vol = EmbeddedVolume::mount(image_path, {});
				ASSERT_TRUE(test::invariants_hold(*vol));
				got = read_state(*vol);
			}
			bool before = j > 0 && got == states[j - 1];
			bool after = j < states.size() && got == states[j];
			bool torn =
			    j > 0 && j < states.size() && torn_write(got, states[j - 1], states[j]);
			ASSERT_TRUE(before || after || torn)
			    << "recovered a state no acknowledged sequence had "
			       "(operation "
			    << j << "); against the state before: "
			    << (j > 0 ? first_difference(got, states[j - 1]) : "-") << "; after: "
			    << (j < states.size() ? first_difference(got, states[j]) : "-");
			auto report = fsck(image_path);
			ASSERT_TRUE(report.clean()) << report.problems[0];
			if (trial > 0 && in_flight_end == next_flush)
				break; // nothing in flight: one image is all there is
		}
	}
	RecordProperty("images", int(images));
	std::cout << "crash images checked: " << images << " over " << rec.fences << " fences\n";
	EXPECT_GT(images, kMinImages);
}

// A batch of flag changes is a few journal transactions (here of 8 files each), not one a
// file: at every fence of it, and with any subset of what was on its way, each file has its
// old flag or its new one, whole transactions of them in batch order, and the pool is sound.
TEST(CrashImages, ABatchOfFlagChangesLeavesEachFileWithItsOldOrNewFlag)
{
	constexpr size_t kFiles = 40, kPerTransaction = 8;
	test::TempDir dir;
	auto pool = dir / "pool";
	fscore::mkfs(pool, kPoolSize);
	std::vector<FlagChange> changes;
	std::vector<std::string> paths;
	{
		auto vol = EmbeddedVolume::mount(pool, {});
		vol->mkdir("/d");
		for (size_t i = 0; i < kFiles; i++) {
			paths.push_back("/d/f" + std::to_string(i));
			FileInfo fi = vol->create(paths.back());
			if (i % 3 == 0)
				vol->set_dax_flag(paths.back(), true);
			changes.push_back({fi.ino, fi.generation, i % 3 != 0}); // each one flips
		}
	}
	const std::vector<std::byte> base = read_image(pool);

	Recorder rec;
	{
		EmbeddedVolume::Options o;
		o.observer = &rec;
		o.flag_batch_files = kPerTransaction;
		auto vol = EmbeddedVolume::mount(pool, o);
		size_t mounted = rec.fences;
		auto results = vol->set_dax_flags_if_unmapped(changes);
		ASSERT_EQ(results.size(), kFiles);
		for (const auto &r : results)
			ASSERT_EQ(r.status, SetFlagResult::Status::applied);
		// A transaction makes its records durable, commits, applies and releases the
		// journal: a few fences each, not a few for every file.
		EXPECT_LE(rec.fences - mounted, (kFiles / kPerTransaction) * 4);
		vol.reset();
	}

	test::TempDir scratch(std::filesystem::is_directory("/dev/shm")
	                          ? std::filesystem::path("/dev/shm")
	                          : std::filesystem::temp_directory_path());
	auto image_path = scratch.path() / "image";
	std::mt19937_64 rng(11);
	std::vector<std::byte> durable = base;
	size_t next_flush = 0, images = 0;
	for (size_t k = 0; k <= rec.fences; k++) {
		for (; next_flush < rec.flushes.size() && rec.flushes[next_flush].fence < k;
		     next_flush++) {
			const auto &f = rec.flushes[next_flush];
			std::copy(f.bytes.begin(), f.bytes.end(),
			          durable.begin() + std::ptrdiff_t(f.offset));
		}
		size_t in_flight_end = next_flush;
		while (in_flight_end < rec.flushes.size() && rec.flushes[in_flight_end].fence == k)
			in_flight_end++;
		for (int trial = 0; trial <= 4; trial++) {
			std::vector<std::byte> image = durable;
			for (size_t i = next_flush; trial > 0 && i < in_flight_end; i++) {
				if (rng() % 2)
					continue;
				const auto &f = rec.flushes[i];
				std::copy(f.bytes.begin(), f.bytes.end(),
				          image.begin() + std::ptrdiff_t(f.offset));
			}
			write_image(image_path, image);
			images++;
			SCOPED_TRACE("fence " + std::to_string(k) + " trial " +
			             std::to_string(trial));
			size_t flipped = 0;
			{
				auto vol = EmbeddedVolume::mount(image_path, {});
				ASSERT_TRUE(test::invariants_hold(*vol));
				for (size_t i = 0; i < kFiles; i++) {
					bool now = vol->stat(paths[i]).dax_flag;
					if (now == changes[i].on)
						flipped++;
					// Old or new, and new only for a prefix of the batch.
					ASSERT_EQ(now, i < flipped ? changes[i].on : !changes[i].on)
					    << paths[i];
				}
			}
			EXPECT_EQ(flipped % kPerTransaction, 0u)
			    << "a transaction's files flip together";
			auto report = fsck(image_path);
			ASSERT_TRUE(report.clean()) << report.problems[0];
			if (trial > 0 && in_flight_end == next_flush)
				break;
		}
	}
	std::cout << "batch crash images checked: " << images << " over " << rec.fences
	          << " fences\n";
}

} // namespace
