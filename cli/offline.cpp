// The commands that need no daemon: mkfs and fsck of an embedded pool, check of policy files.
#include "cli/commands.hpp"
#include "common/error.hpp"
#include "common/units.hpp"
#include "fscore/embedded/ondisk/fsck.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "policy/policy_file.hpp"

#include <iostream>

namespace daxpolicy::cli
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

int run_check(const Globals &g, const std::vector<std::string> &paths)
{
	nlohmann::json files = nlohmann::json::array();
	bool valid = true;
	for (const auto &path : paths) {
		auto load = policy::load_policy_path(path);
		nlohmann::json errors = nlohmann::json::array();
		for (const auto &e : load.errors) {
			std::cerr << e.to_string() << "\n";
			errors.push_back(e.to_string());
		}
		nlohmann::json rules = nlohmann::json::array();
		for (const auto &r : load.rules)
			rules.push_back(r.name);
		valid = valid && load.ok();
		files.push_back(
		    {{"path", path}, {"valid", load.ok()}, {"rules", rules}, {"errors", errors}});
	}
	g.out.list(files, {"path", "valid", "rules"});
	return valid ? 0 : 1;
}

} // namespace daxpolicy::cli
