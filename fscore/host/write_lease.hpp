// SPDX-License-Identifier: BSD-3-Clause
// A write lease (fcntl(2) F_SETLEASE, F_WRLCK), taken for the few system calls of a flag
// change and given back at once. The kernel grants it only while no other open file
// description of the inode exists (fs/locks.c, lease_open_conflict / check_conflicting_open:
// i_readcount and i_writecount must be only the lease's own descriptor), and a mapping keeps
// the struct file it was made from, closed descriptor or not. So a granted write lease says:
// nobody has the file open or mapped. While it is held, every open of the file, by anyone,
// waits in break_lease() for it to go (do_dentry_open counts the opener first and then
// breaks leases, and generic_add_lease checks the counts again after adding the lease, so
// an open racing the grant is either counted or waits): no mapping can be made until it is
// released.
//
// The descriptor must be the only one the process has open on the file: the kernel counts
// the process's own opens like anyone's (O_PATH descriptors, which open nothing, do not
// count). Only the owner of the file or a holder of CAP_LEASE may take a lease; the daemon
// runs as root. /proc/sys/fs/leases-enable = 0 refuses every lease (EINVAL).
//
// A lease break is announced to the holder with a signal, SIGIO by default, whose default
// action terminates the process. We hold the lease for microseconds, and the opener that
// breaks it waits for us, not for the signal, so the signal is of no use to us: F_SETSIG
// makes it SIGURG, whose default action is to ignore it, so the kernel drops it when it is
// sent (sig_ignored) and nothing in the daemon needs to change its signal dispositions. A
// process that does handle SIGURG (for out-of-band socket data) would see a spurious one.
#pragma once

#include "fscore/host/unique_fd.hpp"

#include <string>

namespace daxpolicy::fscore::host
{

class WriteLease
{
      public:
	// Tries to take the lease on `fd` (a regular file opened O_RDONLY). held() says
	// whether the kernel granted it; a refusal (EAGAIN: the file is open elsewhere) is not
	// an error. Throws Error for a failure (EACCES without ownership or CAP_LEASE, EINVAL
	// where leases are disabled), naming `what`.
	WriteLease(int fd, const std::string &what);
	~WriteLease();
	WriteLease(const WriteLease &) = delete;
	WriteLease &operator=(const WriteLease &) = delete;

	bool held() const { return held_; }
	// Whether someone has opened the file while the lease was held, and waits for it
	// (F_GETLEASE then answers the type the lease is being broken down to).
	bool broken() const;
	// Gives the lease back now (the destructor would): a waiting opener goes on.
	void release();
	// Gives it back by closing `fd`, the descriptor it is held on (the kernel removes a
	// file's leases at its close, locks_remove_file): one system call where release and
	// the close are two.
	void release_by_closing(UniqueFd &fd);

      private:
	int fd_;
	bool held_ = false;
};

} // namespace daxpolicy::fscore::host
