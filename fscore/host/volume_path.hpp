// SPDX-License-Identifier: BSD-3-Clause
// Paths inside a host volume: "/db/x" names <mount point>/db/x. They are checked and split
// here, before any reaches the kernel, and resolved only beneath the volume's root.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace daxpolicy::fscore::host
{

// The names of an absolute volume path, "/" giving none. Empty components (a doubled or
// trailing slash) are dropped. Throws Error(invalid_argument) for a relative path, "." or
// "..", a NUL or a newline in a name (the engine's paths are lines), or a name longer than
// NAME_MAX.
std::vector<std::string> volume_path_names(std::string_view path);

// "/a/b" for {a, b}, "/" for none: the one spelling a path is reported and cached under.
std::string volume_path_of_names(const std::vector<std::string> &names);

// "a/b" for {a, b}, "." for none: what openat2 resolves beneath the root descriptor.
std::string relative_of_names(const std::vector<std::string> &names);

// Where `path` is now that the directory `from` has moved to `to`, when it lies strictly below
// `from` ("/a/x" is "/b/x" for "/a" -> "/b"; "/ab" is not below "/a"); nothing otherwise, and
// nothing for a move of the root, which moves nowhere.
std::optional<std::string> path_below_moved(const std::string &path, const std::string &from,
                                            const std::string &to);

// The volume path a host path names, when it lies under `mount_point` (the mount point
// itself is "/"): "/mnt/pmem0/db/x" under "/mnt/pmem0" is "/db/x". Purely by its spelling:
// "/mnt/pmem01" is not under "/mnt/pmem0", and nothing is resolved, so the result must still
// pass volume_path_names like any other.
std::optional<std::string> volume_path_under(std::string_view host_path,
                                             std::string_view mount_point);

} // namespace daxpolicy::fscore::host
