// SPDX-License-Identifier: BSD-3-Clause
// Who may use the daemon: with reader_group, only root and the members of it and of
// admin_group connect; admin_group's members change things. Membership is the peer's own, as
// the kernel reports it when it connects, not what the user database says of its uid.
#include "tests/e2e/harness.hpp"

#include <fstream>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

namespace daxpolicy::test
{
namespace
{

// A group made for the test (groupadd) and removed after it; nobody is in it by the user
// database, so a process is a member only by the groups it runs with.
class TempGroup
{
      public:
	explicit TempGroup(const std::string &role)
	    : name_("dxp-" + role + "-" + std::to_string(getpid()))
	{
		Result r = run({"/usr/sbin/groupadd", name_});
		EXPECT_EQ(r.exit_code, 0) << r.err;
		const group *gr = getgrnam(name_.c_str());
		gid_ = gr ? gr->gr_gid : 0;
	}
	~TempGroup() { run({"/usr/sbin/groupdel", name_}); }
	TempGroup(const TempGroup &) = delete;
	TempGroup &operator=(const TempGroup &) = delete;
	const std::string &name() const { return name_; }
	gid_t gid() const { return gid_; }

      private:
	std::string name_;
	gid_t gid_ = 0;
};

Result as(const User &user, const Daemon &d, std::vector<std::string> args)
{
	args.insert(args.begin(), {cli_for_any_user(), "--socket", d.socket()});
	return run(args, "", user);
}

const std::vector<std::string> kAddRule = {"add-rule", "--name", "r", "--subtree",
                                           "pool0:/",  "--dax",  "on"};

TEST(Access, WithAReaderGroupOnlyItsMembersAndAdminsAreServed)
{
	DAXPOLICY_REQUIRE_ROOT("making groups and running the CLI as another user");
	TempGroup readers("readers"), admins("admins");
	// A socket anyone may open: the daemon's own check at connect is what keeps others out.
	Daemon d("socket_mode = \"0666\"\nreader_group = \"" + readers.name() +
	         "\"\nadmin_group = \"" + admins.name() + "\"\n");
	std::filesystem::permissions(d.dir().path(), std::filesystem::perms::all);

	Result outsider = as(nobody(), d, {"status"});
	EXPECT_EQ(outsider.exit_code, 1);
	EXPECT_EQ(error_of(outsider)["error"], "permission-denied");
	EXPECT_NE(outsider.err.find("'" + readers.name() + "' (reader_group)"), std::string::npos)
	    << outsider.err;

	User reader = nobody({readers.gid()});
	Result read = as(reader, d, {"status"});
	EXPECT_EQ(read.exit_code, 0) << read.err;
	Result write = as(reader, d, kAddRule);
	EXPECT_EQ(write.exit_code, 1);
	EXPECT_EQ(error_of(write)["error"], "permission-denied");
	EXPECT_TRUE(d.ok({"list-rules"}).empty());

	// An admin by a supplementary group the user database does not give nobody.
	Result admin = as(nobody({admins.gid()}), d, kAddRule);
	EXPECT_EQ(admin.exit_code, 0) << admin.err;
	EXPECT_EQ(d.ok({"list-rules"}).size(), 1u);
}

TEST(Access, TheSocketFileIsTheReaderGroupsAndAReloadFollowsAChange)
{
	DAXPOLICY_REQUIRE_ROOT("making groups and running the CLI as another user");
	TempGroup readers("readers");
	TempDir policy;
	std::string policy_dir = "policy_dir = \"" + policy.path().string() + "\"\n";
	Daemon d(policy_dir + "socket_mode = \"0666\"\n");
	std::filesystem::permissions(d.dir().path(), std::filesystem::perms::all);
	EXPECT_EQ(as(nobody(), d, {"status"}).exit_code, 0) << "without reader_group, all read";

	std::ofstream(d.dir() / "daxpolicyd.toml")
	    << policy_dir << "socket_mode = \"0666\"\nreader_group = \"" << readers.name()
	    << "\"\n";
	Result reload = d.cli({"reload"});
	ASSERT_EQ(reload.exit_code, 0) << reload.err;
	struct stat st {
	};
	ASSERT_EQ(stat(d.socket().c_str(), &st), 0);
	EXPECT_EQ(st.st_gid, readers.gid());
	EXPECT_EQ(reload.json()["restart_needed"], nlohmann::json::array());
	Result outsider = as(nobody(), d, {"status"});
	EXPECT_EQ(outsider.exit_code, 1);
	EXPECT_EQ(error_of(outsider)["error"], "permission-denied");
	Result reader = as(nobody({readers.gid()}), d, {"status"});
	EXPECT_EQ(reader.exit_code, 0) << reader.err;
}

TEST(Access, AGroupThatDoesNotExistIsAConfigErrorNamingTheKey)
{
	TempDir dir;
	auto config = dir / "daxpolicyd.toml";
	std::ofstream(config) << "state_dir = \"" << (dir / "s").string()
	                      << "\"\nreader_group = \"dxp-no-such-group\"\n";
	Result r = run({DAXPOLICYD_BIN, "--foreground", "--config", config.string(), "--socket",
	                (dir / "s.sock").string()});
	EXPECT_EQ(r.exit_code, 1);
	EXPECT_NE(r.err.find(config.string() + ":2:16: reader_group: there is no group "
	                                       "'dxp-no-such-group'"),
	          std::string::npos)
	    << r.err;
	EXPECT_FALSE(std::filesystem::exists(dir / "s.sock"));
}

} // namespace
} // namespace daxpolicy::test
