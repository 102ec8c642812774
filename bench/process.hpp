// SPDX-License-Identifier: BSD-3-Clause
// Running a tool (mkfs.ext4, mount, chattr) as a child process, without a shell.
#pragma once

#include <string>
#include <vector>

namespace daxpolicy::bench
{

// Runs `argv` (looked up on PATH) and returns a description of its failure, or an empty
// string when it exited 0. With `quiet`, its stdout goes to /dev/null: a baseline whose output
// is the work (lsattr) must not be timed writing to a terminal.
std::string run_program(std::vector<std::string> argv, bool quiet = false);

} // namespace daxpolicy::bench
