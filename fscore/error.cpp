#include "fscore/error.hpp"

#include <array>
#include <utility>

namespace daxpolicy
{

namespace
{
constexpr std::array<std::pair<Errc, const char *>, 11> kNames{{
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
} // namespace

const char *errc_name(Errc code)
{
	for (const auto &[c, name] : kNames)
		if (c == code)
			return name;
	return "internal";
}

std::optional<Errc> errc_from_name(std::string_view name)
{
	for (const auto &[c, n] : kNames)
		if (name == n)
			return c;
	return std::nullopt;
}

} // namespace daxpolicy
