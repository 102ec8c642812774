// Errors of every layer below the wire: an exception that carries one of the error codes of
// INTERFACE.md, so the daemon can hand it to the CLI unchanged.
#pragma once

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
	corrupted,
	internal,
};

// The code as the CLI prints it: "not-found", "no-space", ...
const char *errc_name(Errc code);
std::optional<Errc> errc_from_name(std::string_view name);

class Error : public std::runtime_error
{
      public:
	Error(Errc code, const std::string &message) : std::runtime_error(message), code_(code) {}
	Errc code() const { return code_; }

      private:
	Errc code_;
};

} // namespace daxpolicy
