// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/volume_spec.hpp"

#include "common/enum_names.hpp"

namespace daxpolicy::fscore
{

namespace
{

constexpr std::array<NameTable<VolumeKind>, 2> kVolumeKindNames{{
    {VolumeKind::embedded, "embedded"},
    {VolumeKind::host, "host"},
}};
static_assert(names_in_order(kVolumeKindNames, 2));

} // namespace

const char *volume_kind_name(VolumeKind kind)
{
	return name_of(kVolumeKindNames, kind);
}

std::optional<VolumeKind> volume_kind_from_name(std::string_view name)
{
	return value_of(kVolumeKindNames, name);
}

} // namespace daxpolicy::fscore
