// SPDX-License-Identifier: BSD-3-Clause
// How a host volume changes FS_XFLAG_DAX of one file: FS_IOC_FSGETXATTR / FS_IOC_FSSETXATTR on
// a descriptor opened O_RDONLY where the caller has one open already (a flag change under a
// write lease; the ioctls need no write access: the kernel checks ownership, or CAP_FOWNER);
// else file_setattr(2) where the kernel has it (Linux 6.17), which reads and writes the flags
// by name without opening the file; else the ioctls on a descriptor opened for them.
#pragma once

#include <atomic>
#include <string>

namespace daxpolicy::fscore::host
{

class DaxFlagWriter
{
      public:
	// `force_ioctl`: always the ioctls, as on a kernel without file_setattr (tests).
	explicit DaxFlagWriter(bool force_ioctl) : use_ioctl_(force_ioctl) {}

	// Sets (or clears) the flag of the regular file or directory `path_fd` (O_PATH) refers
	// to, reading every attribute and writing them back with only FS_XFLAG_DAX changed, so
	// that project ids, extent size hints and other flags are kept. `open_fd` is a
	// descriptor of the same file opened O_RDONLY, or -1 (then `path_fd` must be given):
	// the caller that holds a lease must pass the one it holds it with (a second open
	// would break its own lease). Returns whether the flag changed; throws Error, naming
	// `what`.
	bool set(int path_fd, int open_fd, bool is_directory, bool on, const std::string &what);

      private:
	// Becomes true at the first ENOSYS: the kernel does not change while we run.
	std::atomic<bool> use_ioctl_;
};

} // namespace daxpolicy::fscore::host
