// The wire format both ends agree on.
#include "daemon/views.hpp"
#include "daemon/wire/varlink.hpp"
#include "fscore/error.hpp"

#include <gtest/gtest.h>

using namespace daxpolicy;

namespace
{

TEST(Wire, ErrorNamesRoundTripForEveryCode)
{
	EXPECT_EQ(wire::error_name(Errc::not_found), "io.daxpolicy.NotFound");
	EXPECT_EQ(wire::error_name(Errc::no_space), "io.daxpolicy.NoSpace");
	EXPECT_EQ(wire::error_name(Errc::invalid_argument), "io.daxpolicy.InvalidArgument");
	for (Errc c : {Errc::not_found, Errc::exists, Errc::invalid_argument,
	               Errc::permission_denied, Errc::busy, Errc::timeout, Errc::revoked,
	               Errc::unsupported, Errc::no_space, Errc::corrupted, Errc::internal}) {
		EXPECT_EQ(wire::errc_from_error_name(wire::error_name(c)), c);
		EXPECT_EQ(errc_from_name(errc_name(c)), c);
	}
	EXPECT_FALSE(wire::errc_from_error_name("io.daxpolicy.Whatever"));
}

TEST(Wire, MessagesAreNulTerminatedJson)
{
	std::string f = wire::frame(wire::make_call("io.daxpolicy.List", {{"paths", {"pool0:/"}}}));
	ASSERT_EQ(f.back(), '\0');
	EXPECT_EQ(f.find('\0'), f.size() - 1);
	auto j = nlohmann::json::parse(f.substr(0, f.size() - 1));
	EXPECT_EQ(j["method"], "io.daxpolicy.List");
	EXPECT_FALSE(j.contains("more"));
	EXPECT_EQ(wire::make_call("io.daxpolicy.Monitor", {}, true)["more"], true);
	auto err = wire::make_error(Errc::busy, "pinned");
	EXPECT_EQ(err["error"], "io.daxpolicy.Busy");
	EXPECT_EQ(err["parameters"]["message"], "pinned");
	// A path with invalid UTF-8 is still sent, not thrown on.
	EXPECT_NO_THROW(wire::frame(wire::make_reply({{"path", std::string("\xff\xfe")}})));
}

TEST(Wire, FileNames)
{
	using daemon::split_file_name;
	EXPECT_EQ(split_file_name("pool0:/db/wal"),
	          std::make_pair(std::string("pool0"), std::string("/db/wal")));
	EXPECT_EQ(split_file_name("pool0:/db//wal/").second, "/db/wal");
	EXPECT_EQ(split_file_name("pool0:/").second, "/");
	for (const char *bad : {"pool0", "pool0:", ":/x", "pool0:x", "/abs/path", "pool0:/a/../b"})
		EXPECT_THROW(split_file_name(bad), Error) << bad;
}

} // namespace
