// SPDX-License-Identifier: BSD-3-Clause
// How a host volume changes FS_XFLAG_DAX of one file: file_getattr(2) / file_setattr(2) where
// the kernel has them (Linux 6.17), else FS_IOC_FSGETXATTR / FS_IOC_FSSETXATTR. On a
// descriptor opened O_RDONLY where the caller has one open already (a flag change under a
// write lease: neither call needs write access, the kernel checks ownership or CAP_FOWNER),
// which names the file without a lookup; else file_setattr by name, which opens nothing, or
// the ioctls on a descriptor opened for them.
#pragma once

#include <atomic>
#include <optional>
#include <string>

namespace daxpolicy::fscore::host
{

class DaxFlagWriter
{
      public:
	// `force_ioctl`: always the ioctls, as on a kernel without file_setattr (tests; the
	// daemon's DAXPOLICY_TEST_HOST_SETATTR=ioctl).
	explicit DaxFlagWriter(bool force_ioctl) : use_ioctl_(force_ioctl) {}

	// Asks the kernel once, of the file `path_fd` (O_PATH) refers to, whether it has
	// file_getattr, so that interface() is right before the first change.
	void probe(int path_fd);
	// "file_setattr" or "FS_IOC_FSSETXATTR": what changes flags now.
	const char *interface() const;

	// Sets (or clears) the flag of the regular file or directory `path_fd` (O_PATH) refers
	// to, reading every attribute and writing them back with only FS_XFLAG_DAX changed, so
	// that project ids, extent size hints and other flags are kept. `open_fd` is a
	// descriptor of the same file opened O_RDONLY, or -1 (then `path_fd` must be given):
	// the caller that holds a lease must pass the one it holds it with (a second open
	// would break its own lease). Returns whether the flag changed; throws Error, naming
	// `what`.
	bool set(int path_fd, int open_fd, bool is_directory, bool on, const std::string &what);

      private:
	// file_setattr, or nothing when the kernel has none (ENOSYS).
	std::optional<bool> set_by_file_setattr(int path_fd, int open_fd, bool on,
	                                        const std::string &what);

	// Becomes true at the first ENOSYS: the kernel does not change while we run.
	std::atomic<bool> use_ioctl_;
};

} // namespace daxpolicy::fscore::host
