// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/lease_info.hpp"

#include "common/enum_names.hpp"

namespace daxpolicy::fscore
{

namespace
{
constexpr std::array<NameTable<LeaseKind>, 2> kLeaseKindNames{{
    {LeaseKind::mapping, "mapping"},
    {LeaseKind::pin, "pin"},
}};
static_assert(names_in_order(kLeaseKindNames, 2));

constexpr std::array<NameTable<LeaseState>, 3> kLeaseStateNames{{
    {LeaseState::active, "active"},
    {LeaseState::breaking, "breaking"},
    {LeaseState::revoked, "revoked"},
}};
static_assert(names_in_order(kLeaseStateNames, 3));
} // namespace

const char *lease_kind_name(LeaseKind kind)
{
	return name_of(kLeaseKindNames, kind);
}

const char *lease_state_name(LeaseState state)
{
	return name_of(kLeaseStateNames, state);
}

} // namespace daxpolicy::fscore
