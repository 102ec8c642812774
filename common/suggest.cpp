// SPDX-License-Identifier: BSD-3-Clause
#include "common/suggest.hpp"

#include <algorithm>
#include <vector>

namespace daxpolicy
{

size_t edit_distance(std::string_view a, std::string_view b)
{
	// Three rows of the dynamic-programming table: the swap looks two rows back.
	std::vector<size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
	for (size_t j = 0; j <= b.size(); j++)
		prev[j] = j;
	for (size_t i = 1; i <= a.size(); i++) {
		cur[0] = i;
		for (size_t j = 1; j <= b.size(); j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				cur[j] = std::min(cur[j], before[j - 2] + 1);
		}
		std::swap(before, prev);
		std::swap(prev, cur);
	}
	return prev[b.size()];
}

std::optional<std::string> closest_name(std::string_view word,
                                        std::span<const std::string_view> candidates)
{
	if (word.empty() ||
	    std::find(candidates.begin(), candidates.end(), word) != candidates.end())
		return std::nullopt;
	// A word that begins exactly one name is that name, however short ("list-vol").
	std::optional<std::string_view> prefixed;
	bool ambiguous = false;
	for (auto c : candidates) {
		if (!c.starts_with(word))
			continue;
		ambiguous = prefixed.has_value();
		prefixed = c;
	}
	if (prefixed && !ambiguous)
		return std::string(*prefixed);
	const size_t allowed = std::max<size_t>(1, word.size() / 3);
	std::optional<std::string_view> best;
	size_t best_distance = allowed + 1;
	for (auto c : candidates) {
		size_t d = edit_distance(word, c);
		if (d < best_distance) {
			best = c;
			best_distance = d;
		}
	}
	if (best)
		return std::string(*best);
	return std::nullopt;
}

} // namespace daxpolicy
