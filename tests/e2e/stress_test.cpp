// SPDX-License-Identifier: BSD-3-Clause
// Several client processes on the same files through the real daemon: `daxpolicy io`
// sessions writing, storing through mappings, truncating, punching, zeroing, collapsing and
// inserting; sessions holding mappings across those changes; and `set-dax` / `clear-dax`
// flipping the files' flags all the while. Every read is checked against a model of each
// file; at the end each file must hold exactly its model and fsck must be clean.
#include "tests/e2e/harness.hpp"
#include "tests/support/file_model.hpp"

#include <atomic>
#include <cstdio>
#include <openssl/evp.h>
#include <random>
#include <shared_mutex>
#include <thread>

using namespace daxpolicy::test;
using nlohmann::json;

namespace
{

constexpr uint64_t kMaxSize = 128 * 1024;
constexpr int kFiles = 2;
constexpr int kWritersPerFile = 2;
constexpr int kBatches = 8;     // io processes per writer, one after another
constexpr int kOpsPerBatch = 8; // commands of each

// The digest `pread` and `mread` report, of the model's bytes [off, off+len).
std::string sha256_of(const std::vector<std::byte> &bytes, uint64_t off, uint64_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	if (!EVP_Digest(bytes.data() + off, len, md, &md_len, EVP_sha256(), nullptr))
		throw std::runtime_error("sha256 failed");
	std::string out;
	char pair[3];
	for (unsigned i = 0; i < md_len; i++) {
		std::snprintf(pair, sizeof(pair), "%02x", md[i]);
		out += pair;
	}
	return out;
}

// One file under test: `lock` orders the test's view (a change and its model update under it
// exclusively, reads under it shared), so the model is what every read must see.
struct SharedFile {
	std::string path;
	FileModel model;
	std::shared_mutex lock;
	std::atomic<int> dax_sessions{0}, cache_sessions{0};
};

class ProcessStress : public ::testing::Test
{
      protected:
	ProcessStress() : d_("lease_break_timeout = \"100ms\"\n") {}

	void SetUp() override
	{
		ASSERT_EQ(d_.cli({"io", "-f", "-c", "mkdir", "pool0:/s"}).exit_code, 0);
		for (int i = 0; i < kFiles; i++) {
			files_[i].path = "pool0:/s/f" + std::to_string(i);
			ASSERT_EQ(d_.cli({"io", "-f", "-c", "open", files_[i].path}).exit_code, 0);
		}
	}

	// Sends a command that must succeed.
	static json must(IoProcess &io, const std::string &cmd)
	{
		json r = io.command(cmd);
		EXPECT_FALSE(r.is_null() || r.contains("error")) << cmd << ": " << r.dump();
		return r;
	}

	static void expect_file(IoProcess &io, const SharedFile &f, const std::string &step)
	{
		json r = must(io, "pread 0 " + std::to_string(kMaxSize * 2));
		ASSERT_EQ(r.value("bytes", uint64_t{0}), f.model.size())
		    << f.path << " after " << step;
		ASSERT_EQ(r["sha256"], sha256_of(f.model.bytes(), 0, f.model.size()))
		    << f.path << " after " << step;
	}

	// A writer: batches of commands, each batch one `daxpolicy io` process, so that the
	// file falls idle between them and may come back in the other mode.
	void writer(SharedFile &f, int seed)
	{
		std::mt19937_64 rng(static_cast<uint64_t>(seed));
		auto pick = [&](uint64_t n) { return n ? rng() % n : 0; };
		for (int b = 0; b < kBatches && !HasFatalFailure(); b++) {
			auto io = d_.io(f.path, false);
			json opened = must(*io, "open");
			(opened["file"]["dax_effective"] == true ? f.dax_sessions
			                                         : f.cache_sessions)++;
			opened_++;
			for (int i = 0; i < kOpsPerBatch && !HasFatalFailure(); i++) {
				// The seed crash: the flag flipped on the open file, under the
				// workload. The mode stays until the file falls idle.
				if (pick(8) == 0)
					must(*io, pick(2) ? "chattr +x" : "chattr -x");
				// The last command is a write, so that the session ends with data
				// in the page cache that only write-back at last close saves.
				if (i + 1 == kOpsPerBatch)
					change(*io, f, pick, 0);
				else if (pick(4))
					change(*io, f, pick, pick(7));
				else
					read(*io, f, pick);
			}
			EXPECT_EQ(io->finish(), 0);
		}
	}

	template <class Pick> void read(IoProcess &io, SharedFile &f, Pick &pick)
	{
		std::shared_lock lock(f.lock);
		if (pick(2) || f.model.size() == 0) {
			expect_file(io, f, "a shared read");
			return;
		}
		uint64_t off = pick(f.model.size()), len = 1 + pick(f.model.size() - off);
		must(io, "mmap -r 0 " + std::to_string(kMaxSize * 2));
		json r = must(io, "mread " + std::to_string(off) + " " + std::to_string(len));
		must(io, "munmap");
		EXPECT_EQ(r["sha256"], sha256_of(f.model.bytes(), off, len)) << f.path << ": mread";
	}

	template <class Pick> void change(IoProcess &io, SharedFile &f, Pick &pick, uint64_t kind)
	{
		std::unique_lock lock(f.lock);
		uint64_t size = f.model.size();
		uint64_t off = pick(kMaxSize), len = 1 + pick(32 * 1024);
		uint64_t aoff = off / FileModel::kBlock * FileModel::kBlock;
		uint64_t alen =
		    std::max(FileModel::kBlock, len / FileModel::kBlock * FileModel::kBlock);
		unsigned c = 1 + unsigned(pick(255));
		char fill[8];
		std::snprintf(fill, sizeof(fill), "0x%02x", c);
		auto range = [](uint64_t o, uint64_t l) {
			return std::to_string(o) + " " + std::to_string(l);
		};
		std::string cmd;
		switch (kind) {
		case 0:
			len = std::min(len, kMaxSize - off);
			cmd = std::string("pwrite -S ") + fill + " " + range(off, len);
			must(io, cmd);
			f.model.write(off, len, std::byte(c));
			break;
		case 1:
			if (size == 0)
				return;
			off = pick(size);
			len = f.model.store(off, len, std::byte(c));
			cmd = std::string("mwrite -S ") + fill + " " + range(off, len);
			must(io, "mmap 0 " + std::to_string(kMaxSize * 2));
			must(io, cmd);
			must(io, "munmap");
			break;
		case 2:
			cmd = "truncate " + std::to_string(off);
			must(io, cmd);
			f.model.truncate(off);
			break;
		case 3:
			cmd = "fpunch " + range(off, len);
			must(io, cmd);
			f.model.punch(off, len);
			break;
		case 4:
			len = std::min(len, kMaxSize - off);
			cmd = "fzero " + range(off, len);
			must(io, cmd);
			f.model.zero(off, len);
			break;
		case 5:
			if (!f.model.can_collapse(aoff, alen))
				return;
			cmd = "fcollapse " + range(aoff, alen);
			must(io, cmd);
			f.model.collapse(aoff, alen);
			break;
		case 6:
			if (!f.model.can_insert(aoff, alen) || size + alen > kMaxSize)
				return;
			cmd = "finsert " + range(aoff, alen);
			must(io, cmd);
			f.model.insert(aoff, alen);
			break;
		}
		expect_file(io, f, cmd);
	}

	// A holder: maps the file and reads through the mapping while writers change it under
	// it. When a writer is busy with the file it mostly lets go at once, as a holder told of
	// a break does, and sometimes hangs on until the break revokes its mapping. Reads must
	// match the model until then; the first access after a revocation fails (and, as any
	// failed command does, ends that io process).
	void holder(SharedFile &f, int seed)
	{
		std::mt19937_64 rng(static_cast<uint64_t>(seed));
		const std::string map = "mmap -r 0 " + std::to_string(kMaxSize * 2);
		while (!stop_ && !HasFatalFailure()) {
			auto io = d_.io(f.path, false);
			must(*io, map);
			bool revoked = false;
			for (int i = 0; i < 10 && !stop_ && !revoked; i++) {
				std::shared_lock lock(f.lock, std::try_to_lock);
				if (!lock.owns_lock() && rng() % 4) {
					must(*io, "munmap");
					lock.lock();
					must(*io, map);
				} else if (!lock.owns_lock()) {
					lock.lock();
				}
				if (f.model.size() == 0)
					continue;
				uint64_t off = rng() % f.model.size();
				uint64_t len =
				    1 + rng() % std::min<uint64_t>(f.model.size() - off, 4096);
				json r = io->command("mread " + std::to_string(off) + " " +
				                     std::to_string(len));
				revoked = r.value("error", "") == "revoked";
				if (!revoked) {
					EXPECT_EQ(r["sha256"], sha256_of(f.model.bytes(), off, len))
					    << f.path << ": held mread " << r.dump();
				}
			}
			revoked_ += revoked;
			EXPECT_EQ(io->finish(), revoked ? 1 : 0);
		}
	}

	// Flips the files' flags through the policy engine, as an administrator would, once
	// every writer has opened its file in the mode the phase began with.
	void toggler()
	{
		while (opened_ < kFiles * kWritersPerFile && !stop_)
			std::this_thread::sleep_for(std::chrono::milliseconds(5));
		for (int round = 0; !stop_ && !HasFatalFailure(); round++) {
			const char *verb = (round / kFiles) % 2 ? "clear-dax" : "set-dax";
			Result r = d_.cli({verb, files_[round % kFiles].path});
			EXPECT_EQ(r.exit_code, 0) << r.err;
			std::this_thread::sleep_for(std::chrono::milliseconds(20));
		}
	}

	// Writers, holders and the toggler together, until the writers are done.
	void run_phase()
	{
		stop_ = false;
		opened_ = 0;
		std::vector<std::thread> writers, background;
		background.emplace_back([&] { toggler(); });
		for (int i = 0; i < kFiles; i++) {
			background.emplace_back([&, i] { holder(files_[i], 100 + i + seed_); });
			for (int w = 0; w < kWritersPerFile; w++)
				writers.emplace_back(
				    [&, i, w] { writer(files_[i], 10 * i + w + 1 + seed_); });
		}
		for (auto &t : writers)
			t.join();
		stop_ = true;
		for (auto &t : background)
			t.join();
		seed_ += 1000;
	}

	Daemon d_;
	SharedFile files_[kFiles];
	std::atomic<bool> stop_{false};
	std::atomic<int> revoked_{0};
	std::atomic<int> opened_{0};
	int seed_ = 0;
};

TEST_F(ProcessStress, ClientProcessesOnTheSameFilesMatchTheModel)
{
	// Two phases: the files start in the page cache, then, set DAX while idle, in DAX.
	// Within each, toggles switch the mode whenever a file falls idle.
	run_phase();
	for (auto &f : files_) {
		ASSERT_EQ(d_.cli({"set-dax", f.path}).exit_code, 0);
		ASSERT_EQ(d_.wait_state(f.path, "unmanaged")["dax_effective"], true);
	}
	run_phase();
	if (HasFatalFailure())
		return;
	int dax = 0, cache = 0;
	for (const auto &f : files_) {
		dax += f.dax_sessions;
		cache += f.cache_sessions;
	}
	EXPECT_GT(dax, 0) << "no writer session found its file DAX";
	EXPECT_GT(cache, 0) << "no writer session found its file in the page cache";
	RecordProperty("revoked_holders", revoked_.load());

	for (auto &f : files_) {
		auto io = d_.io(f.path, false);
		expect_file(*io, f, "the run");
		EXPECT_EQ(io->finish(), 0);
	}
	d_.stop();
	Result fsck = run({DAXPOLICY_BIN, "fsck", d_.pool()});
	EXPECT_EQ(fsck.exit_code, 0) << fsck.out;
}

} // namespace
