// SPDX-License-Identifier: BSD-3-Clause
// Policy files (policy/policy_file.cpp): any text gives rules and diagnostics, never a crash
// or an exception. A load without errors holds only valid, uniquely named rules, which the
// Matcher must then accept; every diagnostic points into the text.
#include "policy/matcher.hpp"
#include "policy/policy_file.hpp"
#include "policy/rule.hpp"
#include "tests/fuzz/oracle.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string_view>

using namespace daxpolicy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::string_view text(reinterpret_cast<const char *>(data), size);
	policy::PolicyLoad load;
	try {
		load = policy::parse_policy_text(text, "fuzz.toml");
	} catch (const std::exception &e) {
		fuzz::fail("parse_policy_text threw:", e.what());
	}
	auto lines = 1 + std::count(text.begin(), text.end(), '\n');
	for (const auto &e : load.errors) {
		fuzz::check(e.file == "fuzz.toml", "a diagnostic names another file");
		fuzz::check(e.line >= 1 && e.line <= lines && e.column >= 1,
		            "a diagnostic points outside the text:", e.to_string().c_str());
		fuzz::check(!e.message.empty(), "a diagnostic without a message");
	}
	if (!load.ok())
		return 0;
	std::set<std::string> names;
	for (const auto &r : load.rules) {
		fuzz::check(!policy::validate_rule(r),
		            "an invalid rule was loaded:", r.name.c_str());
		fuzz::check(names.insert(r.name).second,
		            "a rule name loaded twice:", r.name.c_str());
		fuzz::check(r.source == "fuzz.toml", "a rule without its source");
	}
	policy::Matcher matcher(load.rules);
	for (const auto &r : load.rules) {
		const policy::Rule *m = matcher.match(r.volume, r.subtree, true);
		fuzz::check(m != nullptr,
		            "a rule does not decide its own subtree:", r.name.c_str());
		matcher.match(r.volume, r.subtree == "/" ? "/x" : r.subtree + "/x", false);
	}
	return 0;
}
