// SPDX-License-Identifier: BSD-3-Clause
// The kernel's table of mounts, /proc/self/mountinfo (proc(5)), read as text so that what it
// says can be tested without mounting anything.
#pragma once

#include "fscore/volume.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace daxpolicy::fscore::host
{

// One line of mountinfo:
//   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//   (1)(2)(3)  (4)   (5)         (6)       (7)      (8) (9)  (10)      (11)
// with every path field unescaped (the kernel writes space, tab, newline and backslash as
// \040, \011, \012, \134).
struct MountEntry {
	uint64_t mount_id = 0; // statx's STATX_MNT_ID names the same mount
	uint64_t parent_id = 0;
	unsigned dev_major = 0; // st_dev of files on it
	unsigned dev_minor = 0;
	std::string root;        // the directory of the filesystem mounted here ("/" unless bound)
	std::string mount_point; // relative to this process's root
	std::string mount_options;
	std::string fstype;
	std::string source;
	std::string super_options; // per superblock: where ext4 and xfs say dax=
};

// The well-formed lines of `text`. A line that is not (too few fields, no "-" separator, a
// number that is not one, a path that is not absolute or holds a NUL) is left out: nothing in it is
// trusted, and the one entry a caller looks for is then simply not found.
std::vector<MountEntry> parse_mountinfo(std::string_view text);

// One field with the kernel's octal escapes undone. A backslash not followed by three octal
// digits is kept as it is.
std::string unescape_mount_field(std::string_view field);

// The dax= mode of a mount's super options: dax=always|never|inode, or bare `dax` (the old
// spelling of always). Without one, ext4 and xfs use inode (Documentation/filesystems/dax.rst:
// "dax=inode" is the default). Nothing for a dax= value this kernel interface does not define.
std::optional<DaxMode> dax_mode_of_options(std::string_view super_options);

} // namespace daxpolicy::fscore::host
