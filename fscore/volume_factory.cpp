// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/volume_factory.hpp"

#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/host/host_volume.hpp"

namespace daxpolicy::fscore
{

namespace
{

OpenedVolume open_embedded(const VolumeSpec &spec, std::chrono::milliseconds lease_break_timeout)
{
	OpenedVolume opened;
	if (!std::filesystem::exists(spec.path)) {
		if (!spec.size)
			throw Error(Errc::not_found,
			            "volume '" + spec.name + "': pool " + spec.path.string() +
			                " does not exist (give the volume a size to have "
			                "daxpolicyd make it)");
		mkfs(spec.path, *spec.size);
		opened.report.created = true;
	}
	auto vol = EmbeddedVolume::mount(spec.path, {spec.name, spec.dax, lease_break_timeout});
	opened.report.unclean = vol->was_unclean();
	opened.report.journal_replayed = vol->replayed_journal();
	opened.volume = std::move(vol);
	return opened;
}

OpenedVolume open_host(const VolumeSpec &spec)
{
	// The mount's own dax= option decides; the spec's `dax` is for embedded pools, whose
	// mount option the daemon is.
	return {HostVolume::open({.name = spec.name, .path = spec.path}), {}};
}

} // namespace

OpenedVolume open_volume(const VolumeSpec &spec, std::chrono::milliseconds lease_break_timeout)
{
	switch (spec.kind) {
	case VolumeKind::embedded:
		return open_embedded(spec, lease_break_timeout);
	case VolumeKind::host:
		return open_host(spec);
	}
	throw Error(Errc::internal, "volume '" + spec.name + "': unknown kind");
}

} // namespace daxpolicy::fscore
