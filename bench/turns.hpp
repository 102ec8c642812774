// SPDX-License-Identifier: BSD-3-Clause
// Variants of one measurement run in turns of a fixed time slice, so that a noisy neighbour on
// a shared machine slows each of them alike rather than whichever happened to be running, and
// so that the whole measurement ends after a fixed time however slow the storage is.
#pragma once

#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

namespace daxpolicy::bench
{

struct Variant {
	explicit Variant(std::function<void(size_t)> op) : op(std::move(op)) {}

	// The i-th operation of this variant (i counts from 0 across turns).
	std::function<void(size_t i)> op;
	std::vector<double> op_us; // the duration of each operation done
	double seconds = 0;        // their sum

	size_t ops() const { return op_us.size(); }
};

// Each turn, each variant runs operations until `slice_s` has passed (at least one), until
// `max_ops` are done, or for `cap_s` altogether.
void take_turns(const std::vector<Variant *> &variants, double slice_s, double cap_s,
                size_t max_ops);

} // namespace daxpolicy::bench
