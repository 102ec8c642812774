// SPDX-License-Identifier: BSD-3-Clause
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>

namespace daxpolicy
{

// The gid of group `name`, or nothing when there is no such group. Asks the user database
// (NSS: files, LDAP, sssd), so it may wait: for reading a config, never on an event loop.
std::optional<gid_t> group_id(const std::string &name);

} // namespace daxpolicy
