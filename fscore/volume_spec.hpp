// SPDX-License-Identifier: BSD-3-Clause
// What a [[volume]] of the daemon's config says: the data only, so that whatever reads a config
// (the daemon, `daxpolicy check --config`) needs no kind of volume's code to do it.
#pragma once

#include "fscore/volume.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace daxpolicy::fscore
{

enum class VolumeKind { embedded, host };
const char *volume_kind_name(VolumeKind kind);
std::optional<VolumeKind> volume_kind_from_name(std::string_view name);

struct VolumeSpec {
	std::string name;
	VolumeKind kind = VolumeKind::embedded;
	std::filesystem::path path; // embedded: the pool; host: the mount point
	// Embedded: the pool is made (at this size) when it does not exist, and only then if a
	// size is given, so that a mistyped path is an error rather than a new empty pool.
	std::optional<uint64_t> size;
	DaxMode dax = DaxMode::inode;
};

} // namespace daxpolicy::fscore
