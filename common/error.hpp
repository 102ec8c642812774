// SPDX-License-Identifier: BSD-3-Clause
// Errors of every layer: an exception that carries one of the error codes of the interface, so
// the daemon can hand it to the CLI unchanged and the CLI can print it as it came.
#pragma once

#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace daxpolicy
{

enum class Errc {
	not_found,
	exists,
	invalid_argument,
	permission_denied,
	busy,
	timeout,
	revoked,
	unsupported,
	no_space,
	corrupted, // a pool or database fails a consistency check: run fsck
	internal,
};

struct ErrcName {
	Errc code;
	const char *name; // as the CLI prints it: "not-found", "no-space", ...
};

// Every code with its name, in the enum's order: the one table the wire's error names, the
// metrics' labels and the tests iterate.
inline constexpr std::array<ErrcName, 11> kErrcNames{{
    {Errc::not_found, "not-found"},
    {Errc::exists, "exists"},
    {Errc::invalid_argument, "invalid-argument"},
    {Errc::permission_denied, "permission-denied"},
    {Errc::busy, "busy"},
    {Errc::timeout, "timeout"},
    {Errc::revoked, "revoked"},
    {Errc::unsupported, "unsupported"},
    {Errc::no_space, "no-space"},
    {Errc::corrupted, "corrupted"},
    {Errc::internal, "internal"},
}};

const char *errc_name(Errc code);
std::optional<Errc> errc_from_name(std::string_view name);

// The code for a failed system call's errno: ENOENT is not-found, EACCES and EPERM are
// permission-denied, ENOSPC no-space, EBUSY busy, ...; what has no better code is internal.
Errc errc_from_errno(int err);

class Error : public std::runtime_error
{
      public:
	// An invalid-argument is wrong usage unless said otherwise.
	Error(Errc code, const std::string &message)
	    : Error(code, message, code == Errc::invalid_argument)
	{
	}
	Error(Errc code, const std::string &message, bool usage)
	    : std::runtime_error(message), code_(code), usage_(usage)
	{
	}
	Errc code() const { return code_; }
	// The request itself was malformed (the CLI's exit 2), rather than refused for what it
	// met: an invalid policy file, a rule that lives in one. Only invalid-argument is.
	bool usage() const { return usage_; }

      private:
	Errc code_;
	bool usage_;
};

// An invalid-argument about what the request met, not about the request (exit 1).
inline Error invalid_content(const std::string &message)
{
	return Error(Errc::invalid_argument, message, false);
}

// The Error for a failed system call: `what` ("open /pool") with strerror(err) after it, and
// the code errc_from_errno gives.
Error system_error(const std::string &what, int err);

} // namespace daxpolicy
