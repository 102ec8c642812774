// SPDX-License-Identifier: BSD-3-Clause
#include "cli/output.hpp"

#include <algorithm>
#include <iostream>

namespace daxpolicy::cli
{

std::string cell(const nlohmann::json &v)
{
	if (v.is_null())
		return "-";
	if (v.is_string())
		return v.get<std::string>();
	if (v.is_array()) {
		std::string out;
		for (const auto &item : v) {
			if (!out.empty())
				out += ',';
			out += cell(item);
		}
		return out.empty() ? "-" : out;
	}
	return v.dump();
}

void Output::object(const nlohmann::json &value) const
{
	if (!human) {
		std::cout << value.dump(2) << "\n";
		return;
	}
	size_t width = 0;
	for (const auto &[k, v] : value.items())
		width = std::max(width, k.size());
	for (const auto &[k, v] : value.items()) {
		if (v.is_object() || (v.is_array() && !v.empty() && v[0].is_object())) {
			std::cout << k << ":\n" << v.dump(2) << "\n";
			continue;
		}
		std::cout << k << std::string(width - k.size() + 2, ' ') << cell(v) << "\n";
	}
}

void Output::list(const nlohmann::json &items, const std::vector<std::string> &columns) const
{
	if (!human) {
		std::cout << items.dump(2) << "\n";
		return;
	}
	std::vector<std::vector<std::string>> rows;
	std::vector<size_t> widths;
	std::vector<std::string> header;
	for (const auto &c : columns) {
		std::string h = c;
		std::transform(h.begin(), h.end(), h.begin(), ::toupper);
		header.push_back(h);
		widths.push_back(h.size());
	}
	for (const auto &item : items) {
		std::vector<std::string> row;
		for (size_t i = 0; i < columns.size(); i++) {
			row.push_back(cell(item.value(columns[i], nlohmann::json())));
			widths[i] = std::max(widths[i], row.back().size());
		}
		rows.push_back(std::move(row));
	}
	auto print = [&](const std::vector<std::string> &row) {
		for (size_t i = 0; i < row.size(); i++)
			std::cout << row[i]
			          << (i + 1 < row.size()
			                  ? std::string(widths[i] - row[i].size() + 2, ' ')
			                  : "\n");
	};
	print(header);
	for (const auto &row : rows)
		print(row);
}

void Output::error(const std::string &code, const std::string &message) const
{
	if (human)
		std::cerr << "daxpolicy: " << message << "\n";
	else
		std::cerr << nlohmann::json{{"error", code}, {"message", message}}.dump() << "\n";
}

} // namespace daxpolicy::cli
