// SPDX-License-Identifier: BSD-3-Clause
// The "did you mean" the CLI offers for a mistyped command.
#include "common/suggest.hpp"

#include <gtest/gtest.h>

using namespace daxpolicy;

namespace
{

constexpr std::string_view kNames[] = {"status",       "list",   "list-events", "list-rules",
                                       "list-volumes", "reload", "apply"};

std::optional<std::string> closest(std::string_view word)
{
	return closest_name(word, kNames);
}

} // namespace

TEST(EditDistance, CountsASwapOfNeighboursAsOneEdit)
{
	EXPECT_EQ(edit_distance("status", "status"), 0u);
	EXPECT_EQ(edit_distance("stauts", "status"), 1u);
	EXPECT_EQ(edit_distance("", "apply"), 5u);
	EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(ClosestName, FindsATypo)
{
	EXPECT_EQ(closest("stauts"), "status");
	EXPECT_EQ(closest("lst"), "list");
	EXPECT_EQ(closest("relaod"), "reload");
	EXPECT_EQ(closest("list-event"), "list-events");
}

TEST(ClosestName, FindsTheOneCommandAWordBegins)
{
	EXPECT_EQ(closest("list-vol"), "list-volumes");
	EXPECT_EQ(closest("list-r"), "list-rules");
	// "li" begins four of them and is two edits from each: no guess.
	EXPECT_EQ(closest("li"), std::nullopt);
}

TEST(ClosestName, SaysNothingForAKnownNameOrAFarOne)
{
	EXPECT_EQ(closest("status"), std::nullopt);
	EXPECT_EQ(closest("frobnicate"), std::nullopt);
	EXPECT_EQ(closest(""), std::nullopt);
	EXPECT_EQ(closest("x"), std::nullopt);
}
