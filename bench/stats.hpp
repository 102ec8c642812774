// SPDX-License-Identifier: BSD-3-Clause
// Summaries of repeated measurements.
#pragma once

#include <vector>

namespace daxpolicy::bench
{

// The median; of an even count, the mean of the two middle values.
double median(std::vector<double> values);
// Nearest-rank percentile, p in (0, 100].
double percentile(std::vector<double> values, double p);

} // namespace daxpolicy::bench
