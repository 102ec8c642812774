// SPDX-License-Identifier: BSD-3-Clause
// read_test_switches: the daemon's test-only environment variables.
#include "daemon/test_switches.hpp"

#include "common/error.hpp"
#include "common/units.hpp"

#include <cstdlib>
#include <string>

namespace daxpolicy::daemon
{

void read_test_switches(policy::DaemonConfig &config)
{
	if (const char *how = std::getenv("DAXPOLICY_TEST_HOST_SETATTR")) {
		std::string value = how;
		if (value != "ioctl" && value != "file_setattr")
			throw Error(Errc::invalid_argument,
			            "DAXPOLICY_TEST_HOST_SETATTR: \"" + value +
			                "\" is neither \"ioctl\" nor \"file_setattr\"");
		config.test.host_force_ioctl = value == "ioctl";
	}
	if (const char *hold = std::getenv("DAXPOLICY_TEST_HOST_HOLD_LEASE")) {
		auto d = parse_duration(hold);
		if (!d || *d > std::chrono::minutes(1))
			throw Error(Errc::invalid_argument,
			            std::string("DAXPOLICY_TEST_HOST_HOLD_LEASE: \"") + hold +
			                "\" is not a duration of at most 1m (500ms, 3s)");
		config.test.host_hold_lease = *d;
	}
}

} // namespace daxpolicy::daemon
