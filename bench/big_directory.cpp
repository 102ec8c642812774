// SPDX-License-Identifier: BSD-3-Clause
#include "bench/big_directory.hpp"

#include "bench/interrupt.hpp"
#include "bench/timing.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/session.hpp"

#include <iostream>
#include <random>
#include <string>

namespace daxpolicy::bench
{

namespace
{

// A tree copied in puts file data between a directory's blocks: every so many files here
// get a block of it, so the directory's extents interleave with data as they would.
constexpr uint64_t kDataEvery = 16;

std::string name_of(uint64_t i)
{
	return "/d/file-" + std::to_string(i);
}

struct Tenth {
	double create_per_s = 0;
	double lookup_per_s = 0;
};

// Stats `count` random names of the first `filled`: lookups in a directory that size.
double lookups_per_s(fscore::EmbeddedVolume &vol, uint64_t filled, uint64_t count)
{
	std::mt19937_64 rng(filled);
	auto start = Clock::now();
	for (uint64_t i = 0; i < count; i++) {
		fscore::FileInfo fi = vol.stat(name_of(rng() % filled));
		keep(&fi);
	}
	return double(count) / seconds_since(start);
}

} // namespace

std::vector<Figure> run_big_directory(const Config &cfg, const std::filesystem::path &scratch)
{
	uint64_t n = cfg.big_dir_entries;
	auto pool = scratch / "big-directory.pool";
	uint64_t data_bytes = n / kDataEvery * 4096, dirent_bytes = n * 256, inode_bytes = n * 256;
	uint64_t size = 2 * (data_bytes + dirent_bytes + inode_bytes) + (64ull << 20);
	fscore::mkfs(pool, size, false, n + 16);
	auto vol = fscore::EmbeddedVolume::mount(pool, {"pool0", fscore::DaxMode::inode});
	vol->set_dax_flag("/", true); // data written straight into the pool
	vol->mkdir("/d");
	auto session = vol->open_session({});
	const std::vector<std::byte> block(4096, std::byte{0x5a});

	// The first and the last tenth, timed; the lookups at each are what the sizes cost.
	Tenth first, last;
	uint64_t tenth = std::max<uint64_t>(n / 10, 1);
	auto started = Clock::now();
	uint64_t made = 0;
	for (; made < n; made++) {
		if (made % 1024 == 0) {
			check_interrupted();
			if (seconds_since(started) > cfg.big_dir_cap_s)
				break; // slow enough to say so: the figures are of what was reached
		}
		bool timed = made < tenth || made >= n - tenth;
		auto t0 = timed ? Clock::now() : Clock::time_point{};
		if (made % kDataEvery == 0) {
			int fd = session->open(name_of(made), true);
			session->pwrite(fd, 0, block);
			session->close(fd);
		} else {
			vol->create(name_of(made));
		}
		if (timed) {
			double s = seconds_since(t0);
			(made < tenth ? first : last).create_per_s += s; // seconds, for now
		}
		if (made + 1 == tenth)
			first.lookup_per_s = lookups_per_s(*vol, made + 1, cfg.big_dir_lookups);
	}
	if (made < n)
		std::cerr << "big_dir: stopped after " << made << " of " << n << " entries ("
		          << cfg.big_dir_cap_s << " s cap)\n";
	uint64_t last_count = made > n - tenth ? made - (n - tenth) : 0;
	first.create_per_s = double(std::min(made, tenth)) / first.create_per_s;
	last.create_per_s = last_count ? double(last_count) / last.create_per_s : 0;
	last.lookup_per_s = lookups_per_s(*vol, made, cfg.big_dir_lookups);
	std::cerr << "big_dir: " << made << " entries in " << seconds_since(started) << " s\n";
	std::string at = std::to_string(made) + " entries";
	std::string base = "the same directory at " + std::to_string(tenth) + " entries";
	session.reset();
	vol.reset();
	std::filesystem::remove(pool);
	return {{"big_dir_create_per_s", "ops/s", last.create_per_s, first.create_per_s,
	         Better::higher, base + " (value: the last tenth, to " + at + ")"},
	        {"big_dir_lookup_per_s", "ops/s", last.lookup_per_s, first.lookup_per_s,
	         Better::higher, base + " (value: at " + at + ")"}};
}

} // namespace daxpolicy::bench
