// SPDX-License-Identifier: BSD-3-Clause
// One place that knows the kinds of volume: it makes a Volume from its spec (a [[volume]] of
// the daemon's config). Everything else holds volumes as Volume and asks their capabilities.
#pragma once

#include "fscore/volume.hpp"
#include "fscore/volume_spec.hpp"

#include <chrono>
#include <memory>

namespace daxpolicy::fscore
{

// How the volume came up, for the daemon's `volume` event.
struct MountReport {
	bool created = false;          // its pool was made now
	bool unclean = false;          // it was not unmounted cleanly (a crash)
	bool journal_replayed = false; // and its journal was replayed
};

struct OpenedVolume {
	std::unique_ptr<Volume> volume;
	MountReport report;
};

// What the daemon's config and environment say of every volume it opens.
struct OpenOptions {
	std::chrono::milliseconds lease_break_timeout{45000}; // embedded
	// Tests only, from the daemon's environment (DEVELOPERS.md, test switches): host volumes
	// change flags with FS_IOC_FSSETXATTR even where file_setattr exists, and hold each
	// flag change's write lease this long before the change, so that a test can open the
	// file meanwhile and see its lease-break event.
	bool host_force_ioctl = false;
	std::chrono::milliseconds host_hold_lease{0};
};

// Mounts (making the pool first where the spec allows) and returns the volume. Throws Error:
// not-found for a missing pool without a size, unsupported for a kind this build cannot serve,
// corrupted or busy as mount does.
OpenedVolume open_volume(const VolumeSpec &spec, const OpenOptions &options);

} // namespace daxpolicy::fscore
