// SPDX-License-Identifier: BSD-3-Clause
// Advisory whole-file locks (flock(2)) that keep two processes off one pool or state dir: a
// daemon holds its pools and state dir exclusively for as long as it runs, fsck holds a
// pool shared, mkfs exclusively. A lock lasts as long as the descriptor it was taken on.
#pragma once

#include <optional>
#include <string>

namespace daxpolicy::fscore
{

enum class LockMode { shared, exclusive };

// Takes the lock without waiting. Throws `busy` naming `what` and, where /proc/locks says,
// the pid that holds it.
void lock_file(int fd, LockMode mode, const std::string &what);

// A file opened (created if missing, never through a symlink) and locked for as long as the
// object lives: the daemon's hold on its state dir.
class LockedFile
{
      public:
	LockedFile(const std::string &path, LockMode mode, const std::string &what);
	~LockedFile();
	LockedFile(const LockedFile &) = delete;
	LockedFile &operator=(const LockedFile &) = delete;

      private:
	int fd_ = -1;
};

// The pid of a process holding a flock on the file open as `fd`, other than this one.
std::optional<int> flock_holder(int fd);

} // namespace daxpolicy::fscore
