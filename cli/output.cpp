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
	ListPrinter printer(*this, columns);
	printer.add(items);
	printer.finish();
}

ListPrinter::ListPrinter(const Output &out, std::vector<std::string> columns)
    : human_(out.human), columns_(std::move(columns))
{
	for (const auto &c : columns_)
		widths_.push_back(c.size());
}

void ListPrinter::row(const std::vector<std::string> &cells)
{
	for (size_t i = 0; i < cells.size(); i++) {
		widths_[i] = std::max(widths_[i], cells[i].size());
		std::cout << cells[i]
		          << (i + 1 < cells.size()
		                  ? std::string(widths_[i] - cells[i].size() + 2, ' ')
		                  : "\n");
	}
}

void ListPrinter::add(const nlohmann::json &items)
{
	if (human_) {
		// The header once; the widths of a part's rows from that part (and those before).
		std::vector<std::vector<std::string>> rows;
		for (const auto &item : items) {
			std::vector<std::string> cells;
			for (size_t i = 0; i < columns_.size(); i++) {
				cells.push_back(cell(item.value(columns_[i], nlohmann::json())));
				widths_[i] = std::max(widths_[i], cells.back().size());
			}
			rows.push_back(std::move(cells));
		}
		if (!started_) {
			std::vector<std::string> header;
			for (auto h : columns_) {
				std::transform(h.begin(), h.end(), h.begin(), ::toupper);
				header.push_back(h);
			}
			row(header);
		}
		started_ = true;
		for (const auto &cells : rows)
			row(cells);
		return;
	}
	// As dump(2) writes an array: each element on its own lines, indented by two.
	for (const auto &item : items) {
		std::string text = item.dump(2);
		std::string indented = "  ";
		for (char c : text) {
			indented += c;
			if (c == '\n') // strings escape their newlines: this is the layout's
				indented += "  ";
		}
		std::cout << (started_ ? ",\n" : "[\n") << indented;
		started_ = true;
	}
}

void ListPrinter::finish()
{
	if (human_) {
		if (!started_)
			add(nlohmann::json::array()); // the header alone
		return;
	}
	std::cout << (started_ ? "\n]\n" : "[]\n");
}

void Output::error(const std::string &code, const std::string &message) const
{
	if (human)
		std::cerr << "daxpolicy: " << message << "\n";
	else
		std::cerr << nlohmann::json{{"error", code}, {"message", message}}.dump() << "\n";
}

} // namespace daxpolicy::cli
