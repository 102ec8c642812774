// SPDX-License-Identifier: BSD-3-Clause
// What every fuzz target treats as a finding besides a sanitizer report: a broken invariant
// (check) or an exception that is not a daxpolicy::Error (run_guarded). Either aborts, so
// libFuzzer saves the input as a crash.
#pragma once

#include "common/error.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>

namespace daxpolicy::fuzz
{

[[noreturn]] inline void fail(const char *what, const char *detail = "")
{
	std::fprintf(stderr, "fuzz oracle: %s %s\n", what, detail);
	std::fflush(stderr);
	std::abort();
}

inline void check(bool ok, const char *what, const char *detail = "")
{
	if (!ok)
		fail(what, detail);
}

// Runs `body`; an Error is the code under test refusing the input, which is allowed (and
// returned, for the caller's oracle). Anything else thrown is a finding.
template <class Body> std::optional<Error> run_guarded(Body body)
{
	try {
		body();
		return std::nullopt;
	} catch (const Error &e) {
		return e;
	} catch (const std::exception &e) {
		fail("an exception other than daxpolicy::Error:", e.what());
	} catch (...) {
		fail("a non-standard exception");
	}
}

} // namespace daxpolicy::fuzz
