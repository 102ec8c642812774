// SPDX-License-Identifier: BSD-3-Clause
// What the block device under a mount can do, from sysfs.
#pragma once

#include <filesystem>

namespace daxpolicy::fscore::host
{

// Whether the block device MAJ:MIN supports DAX: its request queue says so in
// /sys/dev/block/MAJ:MIN/queue/dax ("1" for pmem and device-mapper over pmem; "0" for a loop
// device or a disk). A partition has no queue of its own and answers for its whole disk. A
// device sysfs does not know (no block device: 0:N) cannot do DAX. `sysfs` is the mount point
// of sysfs, a parameter so that tests can give it a tree of their own.
bool block_device_dax_capable(unsigned major, unsigned minor,
                              const std::filesystem::path &sysfs = "/sys");

} // namespace daxpolicy::fscore::host
