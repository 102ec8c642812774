// SPDX-License-Identifier: BSD-3-Clause
#include "bench/stats.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace daxpolicy::bench
{

double median(std::vector<double> values)
{
	if (values.empty())
		throw std::logic_error("median of nothing");
	std::sort(values.begin(), values.end());
	size_t mid = values.size() / 2;
	return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

double percentile(std::vector<double> values, double p)
{
	if (values.empty())
		throw std::logic_error("percentile of nothing");
	size_t rank = static_cast<size_t>(std::ceil(p / 100 * static_cast<double>(values.size())));
	size_t index = std::clamp<size_t>(rank, 1, values.size()) - 1;
	std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(index),
	                 values.end());
	return values[index];
}

} // namespace daxpolicy::bench
