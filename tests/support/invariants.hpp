// SPDX-License-Identifier: BSD-3-Clause
// EXPECT_TRUE(test::invariants_hold(vol)): the embedded volume's in-core state agrees with its
// pool and with itself, or the failure lists what does not.
#pragma once

#include "fscore/embedded/embedded_volume.hpp"

#include <gtest/gtest.h>

namespace daxpolicy::test
{

inline ::testing::AssertionResult invariants_hold(const fscore::EmbeddedVolume &vol)
{
	auto problems = vol.check_invariants();
	if (problems.empty())
		return ::testing::AssertionSuccess();
	auto failure = ::testing::AssertionFailure() << problems.size() << " invariants broken:";
	for (size_t i = 0; i < problems.size() && i < 8; i++)
		failure << "\n  " << problems[i];
	return failure;
}

} // namespace daxpolicy::test
