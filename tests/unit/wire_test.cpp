// SPDX-License-Identifier: BSD-3-Clause
// The wire format both ends agree on.
#include "common/error.hpp"
#include "wire/varlink.hpp"

#include <gtest/gtest.h>

using namespace daxpolicy;

namespace
{

TEST(Wire, ErrorNamesRoundTripForEveryCode)
{
	EXPECT_EQ(wire::error_name(Errc::not_found), "io.daxpolicy.NotFound");
	EXPECT_EQ(wire::error_name(Errc::no_space), "io.daxpolicy.NoSpace");
	EXPECT_EQ(wire::error_name(Errc::invalid_argument), "io.daxpolicy.InvalidArgument");
	for (const auto &[c, name] : kErrcNames) {
		EXPECT_EQ(wire::errc_from_error_name(wire::error_name(c)), c);
		EXPECT_EQ(errc_from_name(name), c);
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

TEST(Wire, DeepMessagesAreRefusedWhileParsed)
{
	std::string at_limit =
	    std::string(wire::kMaxNesting, '[') + std::string(wire::kMaxNesting, ']');
	EXPECT_NO_THROW(wire::parse_message(at_limit));
	std::string deep = std::string(120000, '[') + std::string(120000, ']');
	try {
		wire::parse_message(deep);
		ADD_FAILURE() << "a message 120,000 deep was accepted";
	} catch (const Error &e) {
		EXPECT_EQ(e.code(), Errc::invalid_argument);
		EXPECT_NE(std::string(e.what()).find("deeper than 64"), std::string::npos)
		    << e.what();
	}
	EXPECT_THROW(wire::parse_message("{\"method\":"), Error);
}
} // namespace
