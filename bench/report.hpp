// SPDX-License-Identifier: BSD-3-Clause
// The figures of a run: one JSON line each on stdout, for machines, and a table on stderr,
// for people.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace daxpolicy::bench
{

enum class Better { higher, lower };

struct Figure {
	std::string name;
	std::string unit;
	double value = 0;
	// Measured in the same run; none when it could not be (the reason went to stderr).
	std::optional<double> baseline;
	Better better = Better::higher;
	std::string baseline_what; // for the table only: what the baseline is
};

// value/baseline, or baseline/value where lower is better: either way > 1 means better than
// the baseline.
std::optional<double> ratio(const Figure &figure);

// {"name", "unit", "value", "baseline", "ratio", "better"}, then a newline and a flush, so a
// reader sees each figure as soon as it is measured.
void print_json_line(std::ostream &out, const Figure &figure);
void print_table(std::ostream &out, const std::vector<Figure> &figures);

} // namespace daxpolicy::bench
