// SPDX-License-Identifier: BSD-3-Clause
// The places INTERFACE.md fixes, named once for every program that defaults to one.
#pragma once

namespace daxpolicy
{

inline constexpr const char *kDefaultSocket = "/run/daxpolicy/daxpolicy.sock";
inline constexpr const char *kDefaultConfig = "/etc/daxpolicy/daxpolicyd.toml";
inline constexpr const char *kDefaultStateDir = "/var/lib/daxpolicy";
inline constexpr const char *kDefaultPolicyDir = "/etc/daxpolicy/policy.d";

} // namespace daxpolicy
