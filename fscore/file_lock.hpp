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

// The pid of a process holding a flock on the file open as `fd`, other than this one.
std::optional<int> flock_holder(int fd);

} // namespace daxpolicy::fscore
