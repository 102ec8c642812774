#include "fscore/error.hpp"

#include <array>
#include <cerrno>
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

Errc errc_from_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		return Errc::not_found;
	case EEXIST:
		return Errc::exists;
	case EINVAL:
	case ENAMETOOLONG:
	case ELOOP:
		return Errc::invalid_argument;
	case EACCES:
	case EPERM:
	case EROFS:
		return Errc::permission_denied;
	case EBUSY:
	case EWOULDBLOCK:
	case ETXTBSY:
		return Errc::busy;
	case ETIMEDOUT:
		return Errc::timeout;
	case ENOTTY:
	case EOPNOTSUPP:
	case ENODEV:
		return Errc::unsupported;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return Errc::no_space;
	case EUCLEAN: // EFSCORRUPTED, as xfs and ext4 return it
		return Errc::corrupted;
	default:
		return Errc::internal;
	}
}

} // namespace daxpolicy
