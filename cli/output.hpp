// SPDX-License-Identifier: BSD-3-Clause
// How the CLI prints: JSON on stdout by default (objects for single things, arrays for lists),
// tables with -u/--human; errors on stderr as {"error", "message"} or "daxpolicy: message".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace daxpolicy::cli
{

struct Output {
	bool human = false;

	void object(const nlohmann::json &value) const;
	// A list, with the columns a table shows in human mode.
	void list(const nlohmann::json &items, const std::vector<std::string> &columns) const;
	void error(const std::string &code, const std::string &message) const;
};

// A value as a table cell: strings bare, null as "-", arrays joined with ",".
std::string cell(const nlohmann::json &value);

} // namespace daxpolicy::cli
