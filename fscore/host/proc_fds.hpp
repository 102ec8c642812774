// SPDX-License-Identifier: BSD-3-Clause
// Who has a file open, from /proc/PID/fd (proc(5)): for reporting one file's `in_use` on a
// host volume, where the kernel offers no cheaper way to ask.
#pragma once

#include "fscore/host/proc_maps.hpp"

#include <filesystem>
#include <sys/types.h>

namespace daxpolicy::fscore::host
{

// Whether a process under `proc` other than `self` holds a descriptor of `file`. Processes
// that exit or deny access while being read are skipped: the answer is what could be seen.
bool opened_elsewhere(const FileId &file, pid_t self, const std::filesystem::path &proc = "/proc");

} // namespace daxpolicy::fscore::host
