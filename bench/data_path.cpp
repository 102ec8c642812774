// SPDX-License-Identifier: BSD-3-Clause
#include "bench/data_path.hpp"

#include "bench/interrupt.hpp"
#include "bench/stats.hpp"
#include "bench/timing.hpp"
#include "bench/turns.hpp"
#include "fscore/embedded/session.hpp"

#include <cstring>
#include <functional>
#include <iostream>
#include <random>
#include <span>
#include <stdexcept>

namespace daxpolicy::bench
{

namespace
{

constexpr uint64_t kChunk = 1 << 20;
constexpr uint64_t kSmall = 4096;

// Incompressible and never all-zero, so that no layer can shortcut the copy.
std::vector<std::byte> random_bytes(size_t len)
{
	std::mt19937_64 rng(0x5eed);
	std::vector<std::byte> out(len);
	for (size_t i = 0; i < len; i += sizeof(uint64_t)) {
		uint64_t word = rng();
		std::memcpy(out.data() + i, &word, std::min(sizeof word, len - i));
	}
	return out;
}

double mib_per_s(uint64_t chunks, double seconds)
{
	return static_cast<double>(chunks * kChunk) / double(1 << 20) / seconds;
}

// The unmeasured first pass over a file: 1 MiB pwrites from offset 0, each followed by fsync
// (a no-op for DAX, the write-back for the page cache, which the cap must bound too), until
// `max_chunks` or `cap_s`. Returns the MiB written: what the measured passes then cover.
uint64_t warm_up(fscore::Session &s, const std::string &path, std::span<const std::byte> chunk,
                 uint64_t max_chunks, double cap_s)
{
	int fd = s.open(path, false);
	auto start = Clock::now();
	uint64_t done = 0;
	while (done < max_chunks) {
		check_interrupted();
		s.pwrite(fd, done * kChunk, chunk);
		s.fsync(fd);
		done++;
		if (seconds_since(start) >= cap_s)
			break;
	}
	s.close(fd);
	return done;
}

// One pass of 1 MiB pwrites over the first `chunks` MiB of the file, then fsync (a no-op for
// DAX, the write-back for the page cache), as an application that wants its data durable
// would do.
double write_pass(fscore::Session &s, const std::string &path, std::span<const std::byte> chunk,
                  uint64_t chunks)
{
	int fd = s.open(path, false);
	auto start = Clock::now();
	for (uint64_t i = 0; i < chunks; i++) {
		check_interrupted();
		s.pwrite(fd, i * kChunk, chunk);
	}
	s.fsync(fd);
	double secs = seconds_since(start);
	s.close(fd);
	return mib_per_s(chunks, secs);
}

// The baseline of writes: what the pool's own primitive does with the same 1 MiB copies
// (non-temporal stores, then libpmem2's persist of the range).
double raw_write_pass(const fscore::PmemPool &raw, std::span<const std::byte> chunk,
                      uint64_t chunks)
{
	auto start = Clock::now();
	for (uint64_t i = 0; i < chunks; i++) {
		check_interrupted();
		raw.memcpy_persist(raw.base() + i * kChunk, chunk.data(), kChunk);
	}
	return mib_per_s(chunks, seconds_since(start));
}

// Seconds to pread the first `chunks` MiB of an open file, 1 MiB at a time into `buffer`,
// as the baseline reads into its reused buffer.
double file_read_pass(fscore::Session &s, int fd, std::span<std::byte> buffer, uint64_t chunks)
{
	auto start = Clock::now();
	for (uint64_t i = 0; i < chunks; i++) {
		check_interrupted();
		if (s.pread(fd, i * kChunk, buffer) != kChunk)
			throw std::runtime_error("short read");
		keep(buffer.data());
	}
	return seconds_since(start);
}

// The baseline of reads: seconds to memcpy the first `chunks` MiB out of the mapping.
double raw_read_pass(const fscore::PmemPool &raw, std::span<std::byte> buffer, uint64_t chunks)
{
	auto start = Clock::now();
	for (uint64_t i = 0; i < chunks; i++) {
		check_interrupted();
		std::memcpy(buffer.data(), raw.base() + i * kChunk, kChunk);
		keep(buffer.data());
	}
	return seconds_since(start);
}

// Repeats a read pass over `chunks` MiB (which returns its seconds) until `min_s` of reading
// has passed: a pass over a few MiB is too short to time alone.
double read_throughput(uint64_t chunks, double min_s, const std::function<double()> &pass)
{
	double secs = 0;
	uint64_t passes = 0;
	do {
		secs += pass();
		passes++;
	} while (secs < min_s);
	return mib_per_s(passes * chunks, secs);
}

uint64_t chunks_of(const Config &cfg)
{
	return (cfg.size_mib << 20) / kChunk;
}

void check_raw_pool(const Config &cfg, const fscore::PmemPool &raw)
{
	if (raw.size() < cfg.size_mib << 20)
		throw std::runtime_error(raw.path().string() + ": raw pool smaller than --size");
}

} // namespace

uint64_t volume_bytes(const Config &cfg)
{
	// Two data files, plus the inode table (1/256 of the pool), bitmap, journal and extent
	// blocks, with a generous margin: the pool is sparse, so the margin costs nothing.
	uint64_t data = 2 * (cfg.size_mib << 20);
	return data + data / 4 + (64ull << 20);
}

DataFiles make_data_files(fscore::EmbeddedVolume &vol)
{
	DataFiles files;
	vol.create(files.pagecache);
	vol.set_dax_flag("/", true);
	vol.create(files.dax);
	if (!vol.stat(files.dax).dax_effective)
		throw std::runtime_error(files.dax +
		                         ": not DAX-effective after inheriting the flag");
	if (vol.stat(files.pagecache).dax_effective)
		throw std::runtime_error(files.pagecache + ": unexpectedly DAX-effective");
	return files;
}

Sequential run_sequential(const Config &cfg, fscore::EmbeddedVolume &vol, const DataFiles &files,
                          const fscore::PmemPool &raw)
{
	check_raw_pool(cfg, raw);
	auto chunk = random_bytes(kChunk);
	std::vector<std::byte> buffer(kChunk);
	auto s = vol.open_session({});

	// Each fscore file covers what its warm-up wrote; each is compared with the raw pool
	// over the same MiB, so that both sides of a ratio copy the same amount of data (which
	// decides whether it fits in the CPU caches).
	uint64_t dax_mib = warm_up(*s, files.dax, chunk, chunks_of(cfg), cfg.seq_warmup_cap_s);
	uint64_t pc_mib = warm_up(*s, files.pagecache, chunk, chunks_of(cfg), cfg.seq_warmup_cap_s);
	raw_write_pass(raw, chunk, std::max(dax_mib, pc_mib));
	std::cerr << "sequential: DAX file " << dax_mib << " MiB, page-cache file " << pc_mib
	          << " MiB (of --size " << cfg.size_mib << ", within the " << cfg.seq_warmup_cap_s
	          << " s warm-up cap)\n";

	std::vector<double> w_dax, w_dax_raw, w_pc, w_pc_raw;
	for (int rep = 0; rep < cfg.seq_reps; rep++) {
		w_dax.push_back(write_pass(*s, files.dax, chunk, dax_mib));
		w_dax_raw.push_back(raw_write_pass(raw, chunk, dax_mib));
		w_pc.push_back(write_pass(*s, files.pagecache, chunk, pc_mib));
		w_pc_raw.push_back(raw_write_pass(raw, chunk, pc_mib));
	}

	auto raw_read = [&](uint64_t mib) {
		return read_throughput(mib, cfg.read_min_s,
		                       [&] { return raw_read_pass(raw, buffer, mib); });
	};
	std::vector<double> r_dax, r_dax_raw, r_pc_cold, r_pc_warm, r_pc_raw;
	for (int rep = 0; rep < cfg.seq_reps; rep++) {
		int fd = s->open(files.dax, false);
		r_dax.push_back(read_throughput(dax_mib, cfg.read_min_s, [&] {
			return file_read_pass(*s, fd, buffer, dax_mib);
		}));
		s->close(fd);
		r_dax_raw.push_back(raw_read(dax_mib));

		// Cold: each pass opens the file afresh, so the cache starts empty (the last
		// close dropped it) and every page is read in from the pool.
		r_pc_cold.push_back(read_throughput(pc_mib, cfg.read_min_s, [&] {
			int cold = s->open(files.pagecache, false);
			double secs = file_read_pass(*s, cold, buffer, pc_mib);
			s->close(cold);
			return secs;
		}));
		// Warm: after one pass that fills the cache, reads are served from DRAM.
		fd = s->open(files.pagecache, false);
		file_read_pass(*s, fd, buffer, pc_mib);
		r_pc_warm.push_back(read_throughput(pc_mib, cfg.read_min_s, [&] {
			return file_read_pass(*s, fd, buffer, pc_mib);
		}));
		s->close(fd);
		r_pc_raw.push_back(raw_read(pc_mib));
	}

	auto over = [](uint64_t mib) { return ", 1 MiB x " + std::to_string(mib); };
	const std::string raw_write = "raw pmem2 memcpy_persist";
	const std::string raw_read_what = "raw memcpy from the mapping";
	Sequential out;
	out.written_mib = std::min(dax_mib, pc_mib);
	out.figures = {
	    {"dax_seq_write_1m", "MiB/s", median(w_dax), median(w_dax_raw), Better::higher,
	     raw_write + over(dax_mib)},
	    {"dax_seq_read_1m", "MiB/s", median(r_dax), median(r_dax_raw), Better::higher,
	     raw_read_what + over(dax_mib)},
	    {"pagecache_seq_write_1m", "MiB/s", median(w_pc), median(w_pc_raw), Better::higher,
	     raw_write + over(pc_mib)},
	    {"pagecache_seq_read_1m", "MiB/s", median(r_pc_cold), median(r_pc_raw), Better::higher,
	     raw_read_what + over(pc_mib)},
	    {"pagecache_seq_read_1m_warm", "MiB/s", median(r_pc_warm), median(r_pc_raw),
	     Better::higher, raw_read_what + over(pc_mib)},
	};
	return out;
}

std::vector<Figure> run_random_write(const Config &cfg, fscore::EmbeddedVolume &vol,
                                     const DataFiles &files, const fscore::PmemPool &raw,
                                     uint64_t written_mib)
{
	check_raw_pool(cfg, raw);
	// Only where every variant has written already: each write is then an overwrite, with
	// no allocation (fscore) and no page fault that allocates blocks (the raw pool file).
	uint64_t blocks = (written_mib << 20) / kSmall;
	auto data = random_bytes(kSmall);
	// The same offsets for every variant, so none is luckier with its pages.
	std::mt19937_64 rng(0xb10c);
	std::uniform_int_distribution<uint64_t> pick(0, blocks - 1);
	std::vector<uint64_t> offsets(cfg.latency_max_samples);
	for (auto &off : offsets)
		off = pick(rng) * kSmall;

	auto s = vol.open_session({});
	int dax_fd = s->open(files.dax, false);
	int pc_fd = s->open(files.pagecache, false);
	// Every variant is a 4 KiB store that is durable when the timed call returns: for the
	// page cache that takes the fsync; for DAX the fsync is a no-op but kept for symmetry.
	Variant dax{[&](size_t i) {
		s->pwrite(dax_fd, offsets[i], data);
		s->fsync(dax_fd);
	}};
	Variant pc{[&](size_t i) {
		s->pwrite(pc_fd, offsets[i], data);
		s->fsync(pc_fd);
	}};
	Variant base{
	    [&](size_t i) { raw.memcpy_persist(raw.base() + offsets[i], data.data(), kSmall); }};
	take_turns({&dax, &pc, &base}, cfg.turn_s, cfg.latency_cap_s, offsets.size());
	s->close(dax_fd);
	s->close(pc_fd);
	std::cerr << "4 KiB random writes: samples: DAX " << dax.ops() << ", page cache "
	          << pc.ops() << ", raw " << base.ops() << "\n";

	auto us = [](const Variant &v, double p) { return percentile(v.op_us, p); };
	const std::string what = "raw pmem2 memcpy_persist, 4 KiB";
	double b50 = us(base, 50), b99 = us(base, 99);
	return {
	    {"dax_rand_write_4k_latency_p50", "us", us(dax, 50), b50, Better::lower,
	     what + ", p50"},
	    {"dax_rand_write_4k_latency_p99", "us", us(dax, 99), b99, Better::lower,
	     what + ", p99"},
	    {"pagecache_rand_write_4k_latency_p50", "us", us(pc, 50), b50, Better::lower,
	     what + ", p50"},
	    {"pagecache_rand_write_4k_latency_p99", "us", us(pc, 99), b99, Better::lower,
	     what + ", p99"},
	};
}

} // namespace daxpolicy::bench
