// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/ondisk/pool_image.hpp"

#include "common/error.hpp"
#include "fscore/embedded/ondisk/file_lock.hpp"
#include "fscore/embedded/ondisk/layout.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace daxpolicy::fscore
{

PoolImage::PoolImage(const std::filesystem::path &path)
{
	fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd_ < 0)
		throw system_error(path.string() + ": open", errno);
	try {
		lock_file(fd_, LockMode::shared, path.string());
		struct stat st {
		};
		if (fstat(fd_, &st) != 0)
			throw system_error(path.string() + ": stat", errno);
		uint64_t size = 0;
		if (S_ISREG(st.st_mode)) {
			size = static_cast<uint64_t>(st.st_size);
		} else if (S_ISCHR(st.st_mode)) {
			off_t end = lseek(fd_, 0, SEEK_END);
			size = end > 0 ? static_cast<uint64_t>(end) : 0;
		} else {
			throw Error(Errc::invalid_argument,
			            path.string() +
			                ": not a usable daxpolicy pool: not a regular file or a "
			                "devdax device");
		}
		if (size < kMinPoolFileSize)
			throw Error(Errc::invalid_argument,
			            path.string() + ": not a usable daxpolicy pool: " +
			                std::to_string(size) + " bytes is too small");
		size_ = size;
		writable_ = S_ISREG(st.st_mode);
		void *p = mmap(nullptr, size_, writable_ ? PROT_READ | PROT_WRITE : PROT_READ,
		               writable_ ? MAP_PRIVATE : MAP_SHARED, fd_, 0);
		if (p == MAP_FAILED)
			throw Error(Errc::invalid_argument,
			            path.string() +
			                ": not a usable daxpolicy pool: cannot map it: " +
			                std::strerror(errno));
		base_ = static_cast<std::byte *>(p);
	} catch (...) {
		close(fd_);
		throw;
	}
}

PoolImage::~PoolImage()
{
	munmap(base_, size_);
	close(fd_);
}

} // namespace daxpolicy::fscore
