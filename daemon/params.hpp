// SPDX-License-Identifier: BSD-3-Clause
// Reading a call's parameters, with errors that name the parameter.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace daxpolicy::daemon
{

class Params
{
      public:
	explicit Params(const nlohmann::json &j) : j_(j) {}
	std::string string(const char *key) const;
	std::optional<std::string> opt_string(const char *key) const;
	bool boolean(const char *key, bool fallback = false) const;
	std::optional<int64_t> opt_integer(const char *key) const;
	std::vector<std::string> strings(const char *key) const; // missing: empty

      private:
	const nlohmann::json *find(const char *key) const;
	[[noreturn]] void bad(const char *key, const char *expected) const;
	const nlohmann::json &j_;
};

} // namespace daxpolicy::daemon
