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

TEST(Wire, ListRepliesAreTheJsonTheyWeigh)
{
	wire::ListReply part("files");
	std::string empty = part.take(false);
	EXPECT_EQ(nlohmann::json::parse(empty.substr(0, empty.size() - 1)),
	          (nlohmann::json{{"parameters", {{"files", nlohmann::json::array()}}}}));
	nlohmann::json items = {{{"path", "pool0:/a"}, {"n", 1}}, {{"path", "p\"q\n"}}};
	for (const auto &item : items)
		part.add(item);
	EXPECT_EQ(part.items(), 2u);
	size_t weighed = part.bytes();
	std::string framed = part.take(true);
	EXPECT_EQ(framed.size(), weighed);
	EXPECT_EQ(framed.back(), '\0');
	EXPECT_EQ(framed.find('\0'), framed.size() - 1);
	auto j = nlohmann::json::parse(framed.substr(0, framed.size() - 1));
	EXPECT_EQ(j, (nlohmann::json{{"parameters", {{"files", items}}}, {"continues", true}}));
	// Taken, it starts again empty.
	EXPECT_EQ(part.items(), 0u);
	EXPECT_EQ(part.bytes(), empty.size() + std::string(",\"continues\":true").size());
	// Past a message's bound it is refused, as any reply is.
	part.add(std::string(wire::kMaxMessage, 'x'));
	EXPECT_THROW(part.take(false), Error);
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
