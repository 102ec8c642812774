// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/ondisk/file_lock.hpp"

#include "common/error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace daxpolicy::fscore
{

std::optional<int> flock_holder(int fd)
{
	struct stat st {
	};
	if (fstat(fd, &st) != 0)
		return std::nullopt;
	// /proc/locks: "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF", the file as
	// major:minor:inode with the device numbers in hex.
	std::ostringstream id;
	id << std::hex << major(st.st_dev) << ":" << minor(st.st_dev) << ":" << std::dec
	   << st.st_ino;
	std::ifstream locks("/proc/locks");
	std::string line;
	while (std::getline(locks, line)) {
		std::istringstream fields(line);
		std::string number, type, advisory, access, pid, file;
		if (!(fields >> number >> type))
			continue;
		if (type == "->") // a waiter: the fields shift by one
			fields >> type;
		if (type != "FLOCK" || !(fields >> advisory >> access >> pid >> file))
			continue;
		// Device fields may be zero-padded ("fd:01"): compare them as numbers.
		unsigned maj = 0, min = 0;
		unsigned long ino = 0;
		if (std::sscanf(file.c_str(), "%x:%x:%lu", &maj, &min, &ino) != 3)
			continue;
		if (maj == major(st.st_dev) && min == minor(st.st_dev) && ino == st.st_ino &&
		    std::stoi(pid) != getpid())
			return std::stoi(pid);
	}
	return std::nullopt;
}

void lock_file(int fd, LockMode mode, const std::string &what)
{
	int op = (mode == LockMode::exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
	while (flock(fd, op) != 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			throw system_error(what + ": flock", errno);
		std::string holder;
		if (auto pid = flock_holder(fd))
			holder = " (by pid " + std::to_string(*pid) + ")";
		throw Error(Errc::busy, what + ": in use" + holder +
		                            (mode == LockMode::exclusive
		                                 ? ""
		                                 : "; stop the daemon that has it mounted first"));
	}
}

LockedFile::LockedFile(const std::string &path, LockMode mode, const std::string &what)
{
	fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd_ < 0)
		throw system_error(path + ": open", errno);
	try {
		lock_file(fd_, mode, what);
	} catch (...) {
		close(fd_);
		throw;
	}
}

LockedFile::~LockedFile()
{
	close(fd_);
}

} // namespace daxpolicy::fscore
