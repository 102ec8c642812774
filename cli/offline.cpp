// SPDX-License-Identifier: BSD-3-Clause
// mkfs and fsck of an embedded pool, offline: they open the pool themselves, not through the
// daemon.
#include "cli/command.hpp"
#include "common/error.hpp"
#include "common/units.hpp"
#include "fscore/embedded/ondisk/fsck.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/embedded/populate.hpp"

#include <charconv>
#include <iostream>
#include <memory>
#include <optional>

namespace daxpolicy::cli
{

namespace
{

struct MkfsOptions {
	std::string pool, size = "1GiB";
	std::optional<std::string> inodes; // as given, when given
	std::optional<std::string> populate;
	bool force = false;
};

// A count of files as `--inodes` takes it: decimal digits only, within 64 bits.
uint64_t parse_inodes(const std::string &text)
{
	uint64_t n = 0;
	auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
	if (ec == std::errc::result_out_of_range)
		throw Error(Errc::invalid_argument,
		            "--inodes: '" + text + "' is too large a number");
	if (ec != std::errc() || end != text.data() + text.size())
		throw Error(Errc::invalid_argument,
		            "--inodes: '" + text + "' is not a number of files (65536)");
	return n;
}

int run_mkfs(const Globals &g, const MkfsOptions &o)
{
	auto size = parse_size(o.size);
	if (!size)
		throw Error(Errc::invalid_argument,
		            "--size: '" + o.size + "' is not a size (1GiB, 512m, 64M)");
	auto inodes = o.inodes ? std::optional(parse_inodes(*o.inodes)) : std::nullopt;
	if (o.populate && !std::filesystem::is_directory(*o.populate))
		throw Error(Errc::invalid_argument,
		            "--populate: '" + *o.populate + "' is not a directory");
	// A pool file this command makes and cannot fill is removed again: a failed mkfs
	// leaves nothing behind. (A device is formatted in place and stays so.)
	bool new_file = !std::filesystem::exists(o.pool);
	fscore::MkfsResult made = fscore::mkfs(o.pool, *size, o.force, inodes);
	nlohmann::json out = {{"pool", o.pool},
	                      {"size", *size},
	                      {"granularity", made.granularity},
	                      {"files", made.files},
	                      {"inodes", made.inodes}};
	if (o.populate) {
		try {
			auto vol = fscore::EmbeddedVolume::mount(o.pool, {});
			fscore::PopulateResult copied = fscore::populate(*vol, *o.populate);
			out["files"] = made.files + copied.files + copied.directories;
			out["bytes"] = copied.bytes;
			out["skipped"] = copied.skipped;
			out["notes"] = copied.notes;
			for (const auto &note : copied.notes)
				std::cerr << "mkfs: " << note << "\n";
		} catch (...) {
			if (new_file)
				std::filesystem::remove(o.pool);
			throw;
		}
	}
	g.out.object(out);
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

} // namespace

Action cmd_mkfs(CLI::App &cmd, const Globals &g)
{
	auto o = std::make_shared<MkfsOptions>();
	cmd.add_option("POOL", o->pool)->required();
	cmd.add_option("--size", o->size, "pool size (default 1GiB)");
	auto *inodes = cmd.add_option_function<std::string>(
	    "--inodes", [o](const std::string &text) { o->inodes = text; },
	    "files and directories the pool can hold (default: one per 16 KiB)");
	inodes->type_name("N");
	cmd.add_option_function<std::string>(
	       "--populate", [o](const std::string &dir) { o->populate = dir; },
	       "copy this host directory tree into the new pool, as mke2fs -d does")
	    ->type_name("DIR");
	cmd.add_flag("--force", o->force, "format a device that holds a pool already");
	return [&g, o] { return run_mkfs(g, *o); };
}

Action cmd_fsck(CLI::App &cmd, const Globals &g)
{
	auto pool = std::make_shared<std::string>();
	cmd.add_option("POOL", *pool)->required();
	return [&g, pool] { return run_fsck(g, *pool); };
}

} // namespace daxpolicy::cli
