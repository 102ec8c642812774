// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/block_device.hpp"

#include <fstream>
#include <string>

namespace daxpolicy::fscore::host
{

namespace
{

// The first line of a sysfs attribute, or nothing when it cannot be read.
bool attribute_is_one(const std::filesystem::path &path)
{
	std::ifstream in(path);
	std::string line;
	return in && std::getline(in, line) && line == "1";
}

} // namespace

bool block_device_dax_capable(unsigned major, unsigned minor, const std::filesystem::path &sysfs)
{
	auto dev = sysfs / "dev" / "block" / (std::to_string(major) + ":" + std::to_string(minor));
	std::error_code ec;
	// /sys/dev/block/M:m links to the device's directory; a partition's sits inside its
	// disk's, next to the disk's queue/.
	if (std::filesystem::exists(dev / "partition", ec))
		return attribute_is_one(dev / ".." / "queue" / "dax");
	return attribute_is_one(dev / "queue" / "dax");
}

} // namespace daxpolicy::fscore::host
