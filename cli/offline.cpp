// SPDX-License-Identifier: BSD-3-Clause
// mkfs and fsck of an embedded pool, offline: they open the pool themselves, not through the
// daemon.
#include "cli/command.hpp"
#include "common/error.hpp"
#include "common/units.hpp"
#include "fscore/embedded/ondisk/fsck.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"

#include <iostream>
#include <memory>

namespace daxpolicy::cli
{

namespace
{

int run_mkfs(const Globals &g, const std::string &pool, const std::string &size_text, bool force)
{
	auto size = parse_size(size_text);
	if (!size)
		throw Error(Errc::invalid_argument,
		            "--size: '" + size_text + "' is not a size (1GiB, 512m, 64M)");
	fscore::MkfsResult made = fscore::mkfs(pool, *size, force);
	g.out.object({{"pool", pool},
	              {"size", *size},
	              {"granularity", made.granularity},
	              {"files", made.files}});
	return 0;
}

int run_fsck(const Globals &g, const std::string &pool)
{
	fscore::FsckReport r = fscore::fsck(pool);
	g.out.object({{"pool", pool},
	              {"clean", r.clean()},
	              {"problems", r.problems},
	              {"notes", r.notes},
	              {"files", r.files},
	              {"directories", r.directories},
	              {"blocks_used", r.blocks_used},
	              {"blocks_total", r.blocks_total}});
	for (const auto &p : r.problems)
		std::cerr << pool << ": " << p << "\n";
	return r.clean() ? 0 : 1;
}

struct MkfsOptions {
	std::string pool, size = "1GiB";
	bool force = false;
};

} // namespace

Action cmd_mkfs(CLI::App &cmd, const Globals &g)
{
	auto o = std::make_shared<MkfsOptions>();
	cmd.add_option("POOL", o->pool)->required();
	cmd.add_option("--size", o->size, "pool size (default 1GiB)");
	cmd.add_flag("--force", o->force, "format a device that holds a pool already");
	return [&g, o] { return run_mkfs(g, o->pool, o->size, o->force); };
}

Action cmd_fsck(CLI::App &cmd, const Globals &g)
{
	auto pool = std::make_shared<std::string>();
	cmd.add_option("POOL", *pool)->required();
	return [&g, pool] { return run_fsck(g, *pool); };
}

} // namespace daxpolicy::cli
