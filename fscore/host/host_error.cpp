// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/host_error.hpp"

#include <cerrno>

namespace daxpolicy::fscore::host
{

Error host_error(const std::string &what, int err)
{
	switch (err) {
	case ELOOP:
		return Error(Errc::unsupported,
		             what + ": symbolic link in path (a host volume never follows one)");
	case EXDEV:
		// About the tree the path met, not a malformed request: exit 1, not 2.
		return invalid_content(what + ": crosses a mount (the path leaves this volume)");
	default:
		return system_error(what, err);
	}
}

} // namespace daxpolicy::fscore::host
