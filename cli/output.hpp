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

// A list printed as its parts arrive, holding none of it: in JSON, the very text that
// Output::list prints of the whole array ("[" first, each element as it comes, "]" at the
// end); in a table, rows whose columns widen as longer cells come. A list that fails part
// way ends without its "]", so that no script takes the part for the whole.
class ListPrinter
{
      public:
	ListPrinter(const Output &out, std::vector<std::string> columns);
	void add(const nlohmann::json &items);
	void finish();

      private:
	void row(const std::vector<std::string> &cells);

	bool human_;
	std::vector<std::string> columns_;
	std::vector<size_t> widths_;
	bool started_ = false;
};

// A value as a table cell: strings bare, null as "-", arrays joined with ",".
std::string cell(const nlohmann::json &value);

} // namespace daxpolicy::cli
