// SPDX-License-Identifier: BSD-3-Clause
// Policy files: the [[rule]] tables of /etc/daxpolicy/policy.d/*.toml, read with every problem
// reported at its place, as `daxpolicy check` shows them.
#pragma once

#include "policy/rule.hpp"

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace daxpolicy::policy
{

struct PolicyError {
	std::string file;
	int line = 0;   // 1-based; 0 when the problem is the whole file (it cannot be read)
	int column = 0; // 1-based
	std::string message;

	// "file:line:col: message", or "file: message" when there is no line.
	std::string to_string() const;
};

// A place in a policy file (the file is the rule's `source`); 1-based.
struct PolicyPosition {
	int line = 0;
	int column = 0;
};

// What a load found. Callers use the rules only when there are no errors; a file with any error
// contributes no rules at all.
struct PolicyLoad {
	std::vector<Rule> rules;
	std::vector<PolicyError> errors; // in file order, then position order
	// Where each rule's `volume = ...` is written, by rule name (unique in a load): what a
	// check against the volumes of a daemon config points at.
	std::map<std::string, PolicyPosition, std::less<>> volume_at;
	bool ok() const { return errors.empty(); }
};

// Parses one document; `file_name` goes into errors and into each rule's `source`.
PolicyLoad parse_policy_text(std::string_view text, const std::string &file_name);

// Policy files are small: a file larger than this, or a folder of more drop-ins, is refused.
inline constexpr std::size_t kMaxPolicyFileBytes = 4 << 20;
inline constexpr std::size_t kMaxPolicyFiles = 1024;

// Which files are read. `any` reads what the path names, pipes too (`daxpolicy check
// <(generate-policy)`); `regular` (the daemon, reading as root what a request names) opens
// without blocking and refuses anything but a regular file, naming it. The drop-ins of a
// folder are always read as `regular`.
enum class FileKinds { any, regular };

PolicyLoad load_policy_file(const std::filesystem::path &file, FileKinds kinds = FileKinds::any);

// A file, or a drop-in folder: every *.toml file in it, in byte order of name (like
// /etc/daxpolicy/policy.d). A rule name may be defined only once in the whole folder.
// A missing path gives one error naming it.
PolicyLoad load_policy_path(const std::filesystem::path &path, FileKinds kinds = FileKinds::any);

} // namespace daxpolicy::policy
