// SPDX-License-Identifier: BSD-3-Clause
// Names of enum values from one table each: a table lists every value once with its name, in
// the enum's order, and name_of finds it there. A value missing from its table fails to compile
// (tables are checked by names_in_order), so no switch falls through to a made-up name.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace daxpolicy
{

template <class Enum> using NameTable = std::pair<Enum, const char *>;

// Whether `table` lists the values 0, 1, 2, ... of its enum in order, `count` of them.
template <class Enum, size_t N>
constexpr bool names_in_order(const std::array<NameTable<Enum>, N> &table, size_t count)
{
	for (size_t i = 0; i < N; i++)
		if (static_cast<size_t>(table[i].first) != i)
			return false;
	return N == count;
}

template <class Enum, size_t N>
constexpr const char *name_of(const std::array<NameTable<Enum>, N> &table, Enum value)
{
	return table[static_cast<size_t>(value)].second;
}

template <class Enum, size_t N>
std::optional<Enum> value_of(const std::array<NameTable<Enum>, N> &table, std::string_view name)
{
	for (const auto &[value, n] : table)
		if (name == n)
			return value;
	return std::nullopt;
}

} // namespace daxpolicy
