// SPDX-License-Identifier: BSD-3-Clause
#include "bench/turns.hpp"

#include "bench/interrupt.hpp"
#include "bench/timing.hpp"

namespace daxpolicy::bench
{

void take_turns(const std::vector<Variant *> &variants, double slice_s, double cap_s,
                size_t max_ops)
{
	auto start = Clock::now();
	for (;;) {
		bool more = false;
		for (Variant *v : variants) {
			auto turn = Clock::now();
			while (v->ops() < max_ops) {
				check_interrupted();
				auto t0 = Clock::now();
				v->op(v->ops());
				double secs = seconds_since(t0);
				v->op_us.push_back(secs * 1e6);
				v->seconds += secs;
				if (seconds_since(turn) >= slice_s)
					break;
			}
			more |= v->ops() < max_ops;
		}
		if (!more || seconds_since(start) >= cap_s)
			return;
	}
}

} // namespace daxpolicy::bench
