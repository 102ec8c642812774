// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/proc_fds.hpp"

#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace daxpolicy::fscore::host
{

bool opened_elsewhere(const FileId &file, pid_t self, const std::filesystem::path &proc)
{
	std::error_code ec;
	for (std::filesystem::directory_iterator pids(proc, ec), end; !ec && pids != end;
	     pids.increment(ec)) {
		std::string name = pids->path().filename().string();
		if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos ||
		    name == std::to_string(self))
			continue;
		std::error_code fd_ec;
		for (std::filesystem::directory_iterator fds(pids->path() / "fd", fd_ec), fd_end;
		     !fd_ec && fds != fd_end; fds.increment(fd_ec)) {
			// stat follows the magic link to the open file itself, whatever its name.
			struct stat st;
			if (::stat(fds->path().c_str(), &st) == 0 && st.st_ino == file.ino &&
			    major(st.st_dev) == file.dev_major &&
			    minor(st.st_dev) == file.dev_minor)
				return true;
		}
	}
	return false;
}

} // namespace daxpolicy::fscore::host
