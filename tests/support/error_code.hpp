// SPDX-License-Identifier: BSD-3-Clause
// The code of the daxpolicy::Error an operation throws, for tests that expect one.
#pragma once

#include "common/error.hpp"

#include <gtest/gtest.h>

namespace daxpolicy::test
{

template <class F> Errc error_code_of(F &&f)
{
	try {
		f();
	} catch (const Error &e) {
		return e.code();
	}
	ADD_FAILURE() << "no daxpolicy::Error thrown";
	return Errc::internal;
}

} // namespace daxpolicy::test
