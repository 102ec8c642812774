// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/volume_factory.hpp"

#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/mkfs.hpp"
#include "fscore/host/host_volume.hpp"

#include <thread>

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

OpenedVolume open_host(const VolumeSpec &spec, const OpenOptions &options)
{
	// The mount's own dax= option decides; the spec's `dax` is for embedded pools, whose
	// mount option the daemon is.
	HostVolume::Options o{.name = spec.name, .path = spec.path};
	o.force_ioctl_fallback = options.host_force_ioctl;
	if (auto hold = options.host_hold_lease; hold.count() > 0)
		o.while_leased = [hold] { std::this_thread::sleep_for(hold); };
	return {HostVolume::open(std::move(o)), {}};
}

} // namespace

OpenedVolume open_volume(const VolumeSpec &spec, const OpenOptions &options)
{
	switch (spec.kind) {
	case VolumeKind::embedded:
		return open_embedded(spec, options.lease_break_timeout);
	case VolumeKind::host:
		return open_host(spec, options);
	}
	throw Error(Errc::internal, "volume '" + spec.name + "': unknown kind");
}

} // namespace daxpolicy::fscore
