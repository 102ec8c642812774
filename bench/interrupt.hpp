// SPDX-License-Identifier: BSD-3-Clause
// Ctrl-C, SIGTERM and SIGPIPE end a run by an exception from the measuring loops, so that
// destructors still unmount the loop mount and remove the temporary directory.
#pragma once

#include <stdexcept>

namespace daxpolicy::bench
{

struct Interrupted : std::runtime_error {
	Interrupted() : std::runtime_error("interrupted") {}
};

void install_interrupt_handlers();
// Throws Interrupted once one of those signals has arrived.
void check_interrupted();

} // namespace daxpolicy::bench
