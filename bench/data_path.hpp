// SPDX-License-Identifier: BSD-3-Clause
// The data-path figures: 1 MiB sequential writes and reads and 4 KiB random writes through a
// session, in a DAX file and in a page-cache file of the same volume, each next to raw pmem2
// copies into a scratch pool file of the same kind in the same directory.
#pragma once

#include "bench/config.hpp"
#include "bench/report.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/pmem_pool.hpp"

#include <string>
#include <vector>

namespace daxpolicy::bench
{

struct DataFiles {
	std::string dax = "/dax.dat";
	std::string pagecache = "/pagecache.dat";
};

// The pool size that holds both data files of `cfg.size_mib` with room for metadata.
uint64_t volume_bytes(const Config &cfg);

// Makes the two files on a freshly made volume: the page-cache one first, then sets the
// root's DAX flag so the DAX one inherits it, as a user of `daxpolicy` would. Checks that
// each file's effective mode is what its figures are named after.
DataFiles make_data_files(fscore::EmbeddedVolume &vol);

struct Sequential {
	// dax_seq_{write,read}_1m, pagecache_seq_{write,read}_1m, pagecache_seq_read_1m_warm.
	std::vector<Figure> figures;
	// The first MiB of both files and of the raw pool are written: up to --size, or less
	// where persisting is so slow that the warm-up's time cap stopped it.
	uint64_t written_mib = 0;
};
Sequential run_sequential(const Config &cfg, fscore::EmbeddedVolume &vol, const DataFiles &files,
                          const fscore::PmemPool &raw);
// {dax,pagecache}_rand_write_4k_latency_{p50,p99}: overwrites in the first `written_mib`.
std::vector<Figure> run_random_write(const Config &cfg, fscore::EmbeddedVolume &vol,
                                     const DataFiles &files, const fscore::PmemPool &raw,
                                     uint64_t written_mib);

} // namespace daxpolicy::bench
