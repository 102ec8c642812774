// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/volume.hpp"

#include "common/enum_names.hpp"
#include "common/error.hpp"
#include "fscore/lease_info.hpp"
#include "fscore/session.hpp"

namespace daxpolicy::fscore
{

namespace
{
constexpr std::array<NameTable<DaxMode>, 3> kDaxModeNames{{
    {DaxMode::always, "always"},
    {DaxMode::never, "never"},
    {DaxMode::inode, "inode"},
}};
static_assert(names_in_order(kDaxModeNames, 3));

constexpr std::array<NameTable<FileType>, 3> kFileTypeNames{{
    {FileType::regular, "file"},
    {FileType::directory, "directory"},
    {FileType::other, "other"},
}};
static_assert(names_in_order(kFileTypeNames, 3));

[[noreturn]] void unsupported(const Volume &volume, const char *what)
{
	VolumeInfo info = volume.info();
	throw Error(Errc::unsupported,
	            "volume '" + info.name + "' (" + info.kind + ") has no " + what);
}
} // namespace

const char *dax_mode_name(DaxMode mode)
{
	return name_of(kDaxModeNames, mode);
}

std::optional<DaxMode> dax_mode_from_name(std::string_view name)
{
	return value_of(kDaxModeNames, name);
}

const char *file_type_name(FileType type)
{
	return name_of(kFileTypeNames, type);
}

std::unique_ptr<Session> Volume::open_session(Holder)
{
	unsupported(*this, "io sessions");
}

FileInfo Volume::mkdir(const std::string &)
{
	unsupported(*this, "io sessions");
}

void Volume::remove(const std::string &)
{
	unsupported(*this, "io sessions");
}

void Volume::rename(const std::string &, const std::string &)
{
	unsupported(*this, "io sessions");
}

std::vector<LeaseInfo> Volume::leases(const std::optional<std::string> &)
{
	unsupported(*this, "layout leases");
}

std::optional<std::string> Volume::volume_path(const std::string &) const
{
	return std::nullopt;
}

std::optional<std::string> Volume::unavailable() const
{
	return std::nullopt;
}

void Volume::count_uses(FileInfo &) {}

std::vector<SetFlagResult> Volume::set_dax_flags_if_unmapped(std::span<const FlagChange> changes)
{
	std::vector<SetFlagResult> results;
	results.reserve(changes.size());
	for (const FlagChange &c : changes)
		results.push_back(set_dax_flag_if_unmapped(c.ino, c.generation, c.on));
	return results;
}

Subscription &Subscription::operator=(Subscription &&other) noexcept
{
	if (this != &other) {
		if (cancel_)
			cancel_();
		cancel_ = std::exchange(other.cancel_, {});
	}
	return *this;
}

Subscription::~Subscription()
{
	if (cancel_)
		cancel_();
}

} // namespace daxpolicy::fscore
