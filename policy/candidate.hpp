// SPDX-License-Identifier: BSD-3-Clause
// Whether a file a walk saw may need a change, knowing only what the walk saw: asked by a
// job's walker (policy/walk_stream.hpp), which queues only such files, and again by the
// step that takes them.
#pragma once

#include "fscore/volume.hpp"
#include "policy/matcher.hpp"

#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace daxpolicy::policy
{

struct Candidate {
	std::optional<Decision> decision; // the rule that decides the file
	bool inherited = false;           // no rule: its flag came from a directory the pass clears
};

// Whether the file can carry no flag: not a regular file or directory, or one the kernel
// refuses it (a host file with inline data, encrypted, verity; FileInfo::unsupported says
// why). A rule passes over it; it is `unsupported`, never `out-of-sync`.
inline bool refuses_flag(const fscore::FileInfo &file)
{
	return file.type == fscore::FileType::other || !file.unsupported.empty();
}

// Directories whose flag the pass takes away (parents come before their children in a
// walk) are kept in `cleared`: a file in one of them that no rule covers had the flag from
// the directory, the only way such a file gets it but set-dax, so it goes too.
std::optional<Candidate> candidate(const Matcher &matcher, const std::string &volume,
                                   const fscore::FileInfo &file,
                                   std::set<std::string, std::less<>> &cleared);

std::string_view parent_of(std::string_view path);

} // namespace daxpolicy::policy
