// SPDX-License-Identifier: BSD-3-Clause
#include "common/group_id.hpp"

#include "common/error.hpp"

#include <cerrno>
#include <grp.h>
#include <vector>

namespace daxpolicy
{

std::optional<gid_t> group_id(const std::string &name)
{
	std::vector<char> buf(16384);
	group grp{}, *found = nullptr;
	for (;;) {
		int rc = getgrnam_r(name.c_str(), &grp, buf.data(), buf.size(), &found);
		if (rc == ERANGE && buf.size() < (size_t(1) << 24)) {
			buf.resize(buf.size() * 4); // a group with many members
			continue;
		}
		if (rc != 0 && rc != ENOENT && rc != ESRCH)
			throw system_error("looking up group '" + name + "'", rc);
		return found ? std::optional(found->gr_gid) : std::nullopt;
	}
}

} // namespace daxpolicy
