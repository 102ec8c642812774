// SPDX-License-Identifier: BSD-3-Clause
// The priority each event is logged at: what needs an operator's look is a warning or worse.
#include "daemon/log.hpp"

#include <gtest/gtest.h>

using namespace daxpolicy;
using daxpolicy::daemon::event_priority;
using daxpolicy::daemon::Priority;

namespace
{

policy::Event event(const std::string &type, nlohmann::json data)
{
	policy::Event e;
	e.type = type;
	e.volume = "pool0";
	e.path = "/f";
	e.data = std::move(data);
	return e;
}

TEST(LogPriority, LeaseRevocationsAndFailedBreaksAreWarnings)
{
	EXPECT_EQ(event_priority(event("lease-revoked", {{"holder", {{"pid", 1}}}})),
	          Priority::warning);
	EXPECT_EQ(event_priority(event("lease-break", {{"outcome", "revoked"}})),
	          Priority::warning);
	EXPECT_EQ(event_priority(event("lease-break", {{"outcome", "busy"}})), Priority::warning);
	EXPECT_EQ(event_priority(event("lease-break", {{"outcome", "released"}})), Priority::info);
}

TEST(LogPriority, AVolumeGoingAwayIsAWarningAndAFailedReloadAnError)
{
	EXPECT_EQ(event_priority(event("volume", {{"action", "unavailable"}})), Priority::warning);
	EXPECT_EQ(event_priority(event("volume", {{"action", "mounted"}})), Priority::notice);
	EXPECT_EQ(event_priority(event("reload", {{"outcome", "failed"}})), Priority::err);
	EXPECT_EQ(event_priority(event("reload", {{"outcome", "ok"}})), Priority::info);
	EXPECT_EQ(event_priority(event("flag-change", {{"cause", "rule"}})), Priority::info);
}

} // namespace
