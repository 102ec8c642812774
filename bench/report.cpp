// SPDX-License-Identifier: BSD-3-Clause
#include "bench/report.hpp"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

namespace daxpolicy::bench
{

namespace
{

// Three decimals are well below the run-to-run noise; more would only suggest precision.
double rounded(double x)
{
	return std::round(x * 1000) / 1000;
}

std::string fixed(double x, int decimals)
{
	char buf[64];
	std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
	return buf;
}

} // namespace

std::optional<double> ratio(const Figure &figure)
{
	if (!figure.baseline || *figure.baseline <= 0 || figure.value <= 0)
		return std::nullopt;
	return figure.better == Better::higher ? figure.value / *figure.baseline
	                                       : *figure.baseline / figure.value;
}

void print_json_line(std::ostream &out, const Figure &figure)
{
	// Ordered, so that every line reads in the same order as the schema is described.
	nlohmann::ordered_json j;
	j["name"] = figure.name;
	j["unit"] = figure.unit;
	j["value"] = rounded(figure.value);
	j["baseline"] =
	    figure.baseline ? nlohmann::ordered_json(rounded(*figure.baseline)) : nullptr;
	auto r = ratio(figure);
	j["ratio"] = r ? nlohmann::ordered_json(rounded(*r)) : nullptr;
	j["better"] = figure.better == Better::higher ? "higher" : "lower";
	out << j.dump() << std::endl;
}

void print_table(std::ostream &out, const std::vector<Figure> &figures)
{
	char line[256];
	std::snprintf(line, sizeof line, "%-40s %12s %12s %-6s %7s  %s\n", "figure", "value",
	              "baseline", "unit", "ratio", "baseline is");
	out << line;
	for (const auto &f : figures) {
		auto r = ratio(f);
		int decimals = f.unit == "us" ? 2 : 0;
		std::snprintf(line, sizeof line, "%-40s %12s %12s %-6s %7s  %s\n", f.name.c_str(),
		              fixed(f.value, decimals).c_str(),
		              f.baseline ? fixed(*f.baseline, decimals).c_str() : "-",
		              f.unit.c_str(), r ? (fixed(*r, 2) + "x").c_str() : "-",
		              f.baseline_what.c_str());
		out << line;
	}
	out << "ratio > 1 is better than the baseline (baseline/value for latencies)\n";
}

} // namespace daxpolicy::bench
