// SPDX-License-Identifier: BSD-3-Clause
// Who maps a file, from /proc/PID/maps (proc(5)): the kernel offers no other way to ask
// another process's mappings of one inode.
#pragma once

#include <cstdint>
#include <filesystem>
#include <istream>

namespace daxpolicy::fscore::host
{

struct FileId {
	unsigned dev_major = 0;
	unsigned dev_minor = 0;
	uint64_t ino = 0;
	bool operator==(const FileId &) const = default;
};

// How many lines of one process's maps map `file`, read a line at a time (a process may
// have tens of thousands of mappings). A line is
//   7f2c4a000000-7f2c4a001000 rw-s 00000000 07:00 12 /mnt/x (deleted)
// address range, permissions, offset, device (hex MAJ:MIN), inode (decimal), path; it is
// matched by device and inode, never by the path, which may be stale or hold spaces. Lines
// that do not parse are not counted.
uint32_t count_mappings_in(std::istream &maps, const FileId &file);

// The mappings of `file` in every process under `proc`, each mapping (VMA) once. Processes
// that exit or deny access while being read are skipped: the count is what could be seen.
uint32_t count_mappings(const FileId &file, const std::filesystem::path &proc = "/proc");

} // namespace daxpolicy::fscore::host
