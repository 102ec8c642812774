// SPDX-License-Identifier: BSD-3-Clause
#include "common/error.hpp"

#include <cerrno>
#include <cstring>

namespace daxpolicy
{

namespace
{
constexpr bool in_enum_order()
{
	for (size_t i = 0; i < kErrcNames.size(); i++)
		if (static_cast<size_t>(kErrcNames[i].code) != i)
			return false;
	return static_cast<size_t>(Errc::internal) + 1 == kErrcNames.size();
}
static_assert(in_enum_order(), "kErrcNames names every code, in the enum's order");
} // namespace

const char *errc_name(Errc code)
{
	for (const auto &[c, name] : kErrcNames)
		if (c == code)
			return name;
	return "internal";
}

std::optional<Errc> errc_from_name(std::string_view name)
{
	for (const auto &[c, n] : kErrcNames)
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

Error system_error(const std::string &what, int err)
{
	return Error(errc_from_errno(err), what + ": " + std::strerror(err));
}

} // namespace daxpolicy
