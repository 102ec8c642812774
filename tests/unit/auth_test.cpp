// SPDX-License-Identifier: BSD-3-Clause
// Who may do what: the decision from a peer's credentials (uid, primary gid, supplementary
// groups as SO_PEERCRED and SO_PEERGROUPS give them) to its role.
#include "common/group_id.hpp"
#include "daemon/auth.hpp"

#include <gtest/gtest.h>

namespace daxpolicy::daemon
{
namespace
{

constexpr gid_t kAdmins = 1001, kReaders = 1002, kOther = 1003;

Peer peer(uid_t uid, gid_t gid, std::vector<gid_t> groups = {})
{
	return {1234, uid, gid, std::move(groups)};
}

TEST(Auth, RootIsAdminWhateverItsGroups)
{
	EXPECT_EQ(role_of(peer(0, 0), {kAdmins, kReaders}), Role::admin);
	EXPECT_EQ(role_of(peer(0, kOther), {std::nullopt, kReaders}), Role::admin);
}

TEST(Auth, TheAdminGroupCountsAsPrimaryOrSupplementary)
{
	Access access{kAdmins, kReaders};
	EXPECT_EQ(role_of(peer(500, kAdmins), access), Role::admin);
	EXPECT_EQ(role_of(peer(500, kOther, {kOther, kAdmins}), access), Role::admin);
	// An admin need not be a reader too.
	EXPECT_EQ(role_of(peer(500, kAdmins), {kAdmins, kReaders}), Role::admin);
}

TEST(Auth, WithoutAReaderGroupEveryPeerReads)
{
	EXPECT_EQ(role_of(peer(500, kOther, {kOther}), {kAdmins, std::nullopt}), Role::reader);
	// No admin group on this machine: only root changes things.
	EXPECT_EQ(role_of(peer(500, kAdmins), {std::nullopt, std::nullopt}), Role::reader);
}

TEST(Auth, WithAReaderGroupOnlyItsMembersAndAdminsAreServed)
{
	Access access{kAdmins, kReaders};
	EXPECT_EQ(role_of(peer(500, kReaders), access), Role::reader);
	EXPECT_EQ(role_of(peer(500, kOther, {kReaders}), access), Role::reader);
	EXPECT_EQ(role_of(peer(500, kOther, {kOther}), access), Role::none);
	EXPECT_EQ(role_of(peer(500, kOther), {std::nullopt, kReaders}), Role::none);
}

TEST(Auth, GroupIdsComeFromTheGroupDatabaseAndAMissingGroupIsNone)
{
	EXPECT_EQ(group_id("root"), gid_t(0));
	EXPECT_EQ(group_id("daxpolicy-test-no-such-group"), std::nullopt);
}

} // namespace
} // namespace daxpolicy::daemon
