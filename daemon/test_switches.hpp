// SPDX-License-Identifier: BSD-3-Clause
#pragma once

#include "policy/daemon_config.hpp"

namespace daxpolicy::daemon
{

// The switches tests give the daemon through its environment (DEVELOPERS.md, "Test
// switches"), into `config.test`; throws Error(invalid_argument) naming a variable whose
// value is not one it takes. Nothing a user sets: they only slow the daemon down or keep it
// from the kernel's better interface.
void read_test_switches(policy::DaemonConfig &config);

} // namespace daxpolicy::daemon
