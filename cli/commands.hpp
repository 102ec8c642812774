// The CLI's commands. Each returns the process exit code (0 done, 1 failed) or throws
// wire::Unreachable (exit 3) / Error (exit 1).
#pragma once

#include "cli/output.hpp"

#include <string>
#include <vector>

namespace daxpolicy::cli
{

struct Globals {
	std::string socket;
	Output out;
};

// `io [-f] [-c CMD]... PATH`: commands from -c, or one a line from stdin.
int run_io(const Globals &g, const std::string &path, const std::vector<std::string> &commands,
           bool create);
// Offline: no daemon involved.
int run_mkfs(const Globals &g, const std::string &pool, const std::string &size, bool force);
int run_fsck(const Globals &g, const std::string &pool);
int run_check(const Globals &g, const std::vector<std::string> &paths);

} // namespace daxpolicy::cli
