// SPDX-License-Identifier: BSD-3-Clause
#include "bench/interrupt.hpp"

#include <csignal>

namespace daxpolicy::bench
{

namespace
{

volatile std::sig_atomic_t interrupted = 0;

extern "C" void on_signal(int)
{
	interrupted = 1;
}

} // namespace

void install_interrupt_handlers()
{
	struct sigaction sa {
	};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	// No SA_RESTART: a wait for mkfs.ext4 or mount returns EINTR and the caller re-checks.
	sigaction(SIGINT, &sa, nullptr);
	sigaction(SIGTERM, &sa, nullptr);
	// A reader that goes away (`daxpolicy_bench | head -3`) must not kill the run before
	// it has cleaned up: the write fails instead and the run stops at the next check.
	sigaction(SIGPIPE, &sa, nullptr);
}

void check_interrupted()
{
	if (interrupted)
		throw Interrupted();
}

} // namespace daxpolicy::bench
