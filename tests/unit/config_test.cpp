// SPDX-License-Identifier: BSD-3-Clause
// daxpolicyd.toml as an administrator writes it: every key, and errors that say where.
#include "common/error.hpp"
#include "common/group_id.hpp"
#include "common/units.hpp"
#include "policy/daemon_config.hpp"
#include "tests/support/temp_dir.hpp"

#include <fstream>
#include <gtest/gtest.h>

using namespace daxpolicy;

namespace
{

class ConfigTest : public ::testing::Test
{
      protected:
	policy::DaemonConfig load(const std::string &text)
	{
		std::ofstream(file_) << text;
		return policy::load_daemon_config(file_);
	}
	std::string error_of(const std::string &text)
	{
		try {
			load(text);
		} catch (const Error &e) {
			EXPECT_EQ(e.code(), Errc::invalid_argument);
			return e.what();
		}
		ADD_FAILURE() << "accepted: " << text;
		return {};
	}
	test::TempDir dir_;
	std::filesystem::path file_ = dir_ / "daxpolicyd.toml";
};

TEST_F(ConfigTest, EmptyFileIsTheEmbeddedDefault)
{
	policy::DaemonConfig c = load("");
	c.state_dir = "/srv/state";
	policy::finish_daemon_config(c);
	ASSERT_EQ(c.volumes.size(), 1u);
	EXPECT_EQ(c.volumes[0].name, "pool0");
	EXPECT_EQ(c.volumes[0].kind, fscore::VolumeKind::embedded);
	EXPECT_EQ(c.volumes[0].path, "/srv/state/pool0.pool");
	EXPECT_EQ(c.volumes[0].size.value_or(0), uint64_t{1} << 30);
	EXPECT_EQ(c.volumes[0].dax, fscore::DaxMode::inode);
	EXPECT_EQ(c.socket, kDefaultSocket);
	EXPECT_EQ(c.socket_mode, 0660u);
	EXPECT_EQ(c.lease_break_timeout, std::chrono::seconds(45));
	EXPECT_EQ(c.pending_recheck, std::chrono::seconds(30));
}

TEST_F(ConfigTest, EveryKeyOfTheInterfaceExample)
{
	policy::DaemonConfig c = load(R"(
state_dir = "/var/lib/daxpolicy"
socket = "/run/daxpolicy/daxpolicy.sock"
socket_mode = "0640"
admin_group = "root"
policy_dir = "/etc/daxpolicy/policy.d"
lease_break_timeout = "500ms"
pending_recheck = "5m"
[[volume]]
name = "pool0"
kind = "embedded"
path = "/var/lib/daxpolicy/pool0.pool"
size = "2GiB"
dax = "always"
[[volume]]
name = "pmem0"
kind = "host"
path = "/mnt/pmem0"
)");
	EXPECT_EQ(c.socket_mode, 0640u);
	EXPECT_EQ(c.admin_group, "root");
	EXPECT_EQ(c.admin_gid, gid_t(0));
	EXPECT_EQ(c.lease_break_timeout, std::chrono::milliseconds(500));
	EXPECT_EQ(c.pending_recheck, std::chrono::minutes(5));
	ASSERT_EQ(c.volumes.size(), 2u);
	EXPECT_EQ(c.volumes[0].size.value_or(0), uint64_t{2} << 30);
	EXPECT_EQ(c.volumes[0].dax, fscore::DaxMode::always);
	EXPECT_EQ(c.volumes[1].kind, fscore::VolumeKind::host);
}

TEST_F(ConfigTest, ErrorsNameFileLineAndColumn)
{
	EXPECT_NE(error_of("socket_mode = \"0999\"\n").find(":1:15: socket_mode"),
	          std::string::npos);
	EXPECT_NE(error_of("\nbogus = \"x\"\n").find(":2:9: unknown key \"bogus\""),
	          std::string::npos);
	EXPECT_NE(error_of("lease_break_timeout = \"soon\"\n").find("not a duration"),
	          std::string::npos);
	// Faster than the re-check of volumes without events, or slower than a day: refused.
	EXPECT_NE(error_of("pending_recheck = \"100ms\"\n").find(":1:19: pending_recheck"),
	          std::string::npos);
	EXPECT_NE(error_of("pending_recheck = \"2d\"\n").find("from 1s to 24h"), std::string::npos);
	// Issue 7, item 20: a deadline this far off overflowed the clock in a lease break.
	EXPECT_NE(error_of("lease_break_timeout = \"999999999999m\"\n").find("longer than 24h"),
	          std::string::npos);
	EXPECT_NE(error_of("[[volume]]\nname = \"a\"\nkind = \"nfs\"\n").find(":3:8: kind"),
	          std::string::npos);
	EXPECT_NE(error_of("[[volume]]\nname = \"a\"\nkind = \"embedded\"\nsize = \"lots\"\n")
	              .find("size"),
	          std::string::npos);
	EXPECT_NE(error_of("[[volume]]\nname = \"a\"\nkind = \"embedded\"\n[[volume]]\nname = "
	                   "\"a\"\nkind = \"embedded\"\n")
	              .find("defined twice"),
	          std::string::npos);
	EXPECT_NE(error_of("[[volume]]\nkind = \"embedded\"\n").find("needs a name"),
	          std::string::npos);
	EXPECT_NE(error_of("state_dir = [\n").find(file_.string() + ":"), std::string::npos);
	EXPECT_NE(error_of("socket = 5\n").find("socket: expected a string"), std::string::npos);
	EXPECT_NE(error_of("max_connections = 0\n").find(":1:19: max_connections"),
	          std::string::npos);
	EXPECT_NE(error_of("max_connections = \"many\"\n").find("max_connections"),
	          std::string::npos);
}

TEST_F(ConfigTest, MetricsListenAndTextfile)
{
	policy::DaemonConfig c =
	    load("metrics_listen = \"[::1]:9478\"\nmetrics_textfile = \"/var/lib/x.prom\"\n");
	EXPECT_EQ(c.metrics_listen.value_or(""), "[::1]:9478");
	EXPECT_EQ(c.metrics_textfile.value_or(""), "/var/lib/x.prom");
	EXPECT_EQ(policy::parse_listen_address("127.0.0.1:9478"),
	          std::pair(std::string("127.0.0.1"), uint16_t{9478}));
	EXPECT_EQ(policy::parse_listen_address("[::1]:9478"),
	          std::pair(std::string("::1"), uint16_t{9478}));
	EXPECT_FALSE(policy::parse_listen_address("db1:9478")) << "an address, not a host name";
	EXPECT_FALSE(policy::parse_listen_address("127.0.0.256:9478"));
	EXPECT_NE(error_of("metrics_listen = \"localhost\"\n").find(":1:18: metrics_listen"),
	          std::string::npos);
	EXPECT_NE(error_of("metrics_listen = \"127.0.0.1:99999\"\n").find("metrics_listen"),
	          std::string::npos);
	EXPECT_NE(error_of("metrics_textfile = \"relative.prom\"\n").find("metrics_textfile"),
	          std::string::npos);
}

TEST_F(ConfigTest, HostVolumesTakeTheirSizeAndModeFromTheMount)
{
	for (const char *key : {"size = \"1GiB\"", "dax = \"always\""}) {
		std::string text = "[[volume]]\nname = \"pmem0\"\nkind = \"host\"\npath = "
		                   "\"/mnt/pmem0\"\n" +
		                   std::string(key) + "\n";
		EXPECT_NE(error_of(text).find(":5:"), std::string::npos)
		    << key << ": " << error_of(text);
		EXPECT_NE(error_of(text).find("set by mkfs and the mount"), std::string::npos)
		    << error_of(text);
	}
}

TEST_F(ConfigTest, MaxConnections)
{
	EXPECT_EQ(load("").max_connections, 256u);
	EXPECT_EQ(load("max_connections = 16\n").max_connections, 16u);
}

TEST_F(ConfigTest, EventRetentionAndMax)
{
	// INTERFACE.md's defaults: a month, a million.
	EXPECT_EQ(load("").event_retention, std::chrono::hours(24 * 30));
	EXPECT_EQ(load("").event_max, 1000000);
	policy::DaemonConfig c = load("event_retention = \"12h\"\nevent_max = 5000\n");
	EXPECT_EQ(c.event_retention, std::chrono::hours(12));
	EXPECT_EQ(c.event_max, 5000);
	// Zero: no bound of that kind.
	EXPECT_EQ(load("event_retention = \"0\"\n").event_retention.count(), 0);
	EXPECT_EQ(load("event_max = 0\n").event_max, 0);
	EXPECT_NE(error_of("event_retention = \"a month\"\n").find(":1:19: event_retention"),
	          std::string::npos);
	EXPECT_NE(error_of("event_retention = 30\n").find("event_retention: expected a string"),
	          std::string::npos);
	EXPECT_NE(error_of("event_max = -1\n").find(":1:13: event_max"), std::string::npos);
	EXPECT_NE(error_of("event_max = \"lots\"\n").find("event_max: expected an integer"),
	          std::string::npos);
}

TEST_F(ConfigTest, UnknownVolumes)
{
	EXPECT_EQ(load("").unknown_volumes, policy::UnknownVolumes::error) << "typos stay fatal";
	EXPECT_EQ(load("unknown_volumes = \"ignore\"\n").unknown_volumes,
	          policy::UnknownVolumes::ignore);
	EXPECT_NE(error_of("unknown_volumes = \"skip\"\n")
	              .find(":1:19: unknown_volumes: expected \"error\" or \"ignore\""),
	          std::string::npos);
}

TEST(Units, SizesAndDurations)
{
	EXPECT_EQ(parse_size("4096"), 4096u);
	EXPECT_EQ(parse_size("4k"), 4096u);
	EXPECT_EQ(parse_size("2m"), 2u << 20);
	EXPECT_EQ(parse_size("1GiB"), 1u << 30);
	EXPECT_EQ(parse_size("1g"), 1u << 30);
	EXPECT_FALSE(parse_size(""));
	EXPECT_FALSE(parse_size("k"));
	EXPECT_FALSE(parse_size("-1"));
	EXPECT_FALSE(parse_size("1x"));
	EXPECT_FALSE(parse_size("99999999999999999999"));
	EXPECT_FALSE(parse_size("17179869184t")) << "overflow";
	EXPECT_EQ(parse_duration("45s"), std::chrono::seconds(45));
	EXPECT_EQ(parse_duration("2m"), std::chrono::minutes(2));
	EXPECT_EQ(parse_duration("24h"), std::chrono::hours(24));
	EXPECT_EQ(parse_duration("500ms"), std::chrono::milliseconds(500));
	EXPECT_EQ(parse_duration("30d"), std::chrono::hours(24 * 30));
	EXPECT_FALSE(parse_duration("1w"));
	EXPECT_FALSE(parse_duration("s"));
	EXPECT_FALSE(parse_duration("99999999999999999999h")) << "overflow";
}

} // namespace

TEST_F(ConfigTest, AdminAndReaderGroupsMustExist)
{
	policy::DaemonConfig c = load("admin_group = \"root\"\nreader_group = \"root\"\n");
	EXPECT_EQ(c.reader_group, "root");
	EXPECT_EQ(c.reader_gid, gid_t(0));
	EXPECT_EQ(policy::socket_gid(c), gid_t(0));
	std::string admin = error_of("\nadmin_group = \"daxpolicy-test-no-such-group\"\n");
	EXPECT_NE(
	    admin.find(":2:15: admin_group: there is no group 'daxpolicy-test-no-such-group'"),
	    std::string::npos)
	    << admin;
	std::string reader = error_of("reader_group = \"daxpolicy-test-no-such-group\"\n");
	EXPECT_NE(reader.find(":1:16: reader_group: there is no group"), std::string::npos)
	    << reader;
}

TEST_F(ConfigTest, TheDefaultAdminGroupMayBeMissing)
{
	// The package's sysusers makes group daxpolicy; a daemon run without the package (or
	// before it) still starts, and then only root changes things.
	policy::DaemonConfig c = load("");
	policy::finish_daemon_config(c);
	EXPECT_EQ(c.admin_group, "daxpolicy");
	EXPECT_EQ(c.admin_gid, group_id("daxpolicy"));
	EXPECT_EQ(c.reader_gid, std::nullopt);
	EXPECT_EQ(policy::socket_gid(c), c.admin_gid);
}
