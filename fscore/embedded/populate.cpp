// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/populate.hpp"

#include "common/error.hpp"
#include "fscore/embedded/ondisk/layout.hpp"
#include "fscore/session.hpp"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <memory>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace daxpolicy::fscore
{

namespace
{

constexpr size_t kCopyChunk = 1 << 20;

struct Fd {
	int fd = -1;
	explicit Fd(int f) : fd(f) {}
	~Fd()
	{
		if (fd >= 0)
			::close(fd);
	}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	int release() { return std::exchange(fd, -1); }
};

struct DirCloser {
	void operator()(DIR *d) const { closedir(d); }
};

// A directory being copied: its open stream (which owns its descriptor) and its pool path.
struct Level {
	std::unique_ptr<DIR, DirCloser> dir;
	std::string host;
	std::string pool;
};

std::string child_of(const std::string &dir, const std::string &name)
{
	return (dir == "/" ? "" : dir) + "/" + name;
}

// FS_XFLAG_DAX of an open file; false where the filesystem has no such flag (tmpfs).
bool has_dax_flag(int fd)
{
	struct fsxattr fa {
	};
	return ioctl(fd, FS_IOC_FSGETXATTR, &fa) == 0 && (fa.fsx_xflags & FS_XFLAG_DAX);
}

const char *unsupported_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFLNK:
		return "a symbolic link";
	case S_IFCHR:
	case S_IFBLK:
		return "a device";
	case S_IFIFO:
		return "a fifo";
	case S_IFSOCK:
		return "a socket";
	default:
		return "of an unknown type";
	}
}

class Copier
{
      public:
	Copier(EmbeddedVolume &vol) : vol_(vol), session_(vol.open_session({})) {}

	PopulateResult run(const std::filesystem::path &source)
	{
		int root = ::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			throw system_error("--populate " + source.string() + ": open", errno);
		push(root, source.string(), "/");
		while (!stack_.empty())
			step();
		if (dropped_)
			result_.notes.push_back("... and " + std::to_string(dropped_) +
			                        " more skipped");
		return std::move(result_);
	}

      private:
	// Takes `fd` (an open directory) and copies its flag to `pool`, which exists.
	void push(int fd, std::string host, std::string pool)
	{
		bool dax = has_dax_flag(fd);
		DIR *d = fdopendir(fd);
		if (!d) {
			int err = errno;
			::close(fd);
			throw system_error(host + ": opendir", err);
		}
		stack_.push_back({std::unique_ptr<DIR, DirCloser>(d), std::move(host), pool});
		if (vol_.stat(pool).dax_flag != dax)
			vol_.set_dax_flag(pool, dax);
	}

	// The next entry of the innermost directory, or the end of it.
	void step()
	{
		Level &level = stack_.back();
		errno = 0;
		struct dirent *e = readdir(level.dir.get());
		if (!e) {
			if (errno)
				throw system_error(level.host + ": readdir", errno);
			stack_.pop_back();
			return;
		}
		std::string name = e->d_name;
		if (name == "." || name == "..")
			return;
		std::string host = level.host + "/" + name;
		std::string pool = child_of(level.pool, name);
		int parent = dirfd(level.dir.get());
		struct stat st {
		};
		if (fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
			throw system_error(host + ": stat", errno);
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
			return skip(host, unsupported_type(st.st_mode));
		if (name.size() > kNameMax || name.find('\n') != std::string::npos)
			return skip(host,
			            "a name the pool cannot hold (a newline, or longer than " +
			                std::to_string(kNameMax) + " bytes)");
		// Opened relative to its parent, not following a link swapped in since the stat;
		// O_NONBLOCK so that nothing swapped in can make the open wait.
		int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
		if (S_ISDIR(st.st_mode))
			flags |= O_DIRECTORY;
		Fd opened(openat(parent, name.c_str(), flags));
		if (opened.fd < 0)
			throw system_error(host + ": open", errno);
		if (S_ISDIR(st.st_mode)) {
			vol_.mkdir(pool);
			result_.directories++;
			// After this, `level` may have moved.
			push(opened.release(), std::move(host), std::move(pool));
			return;
		}
		copy_file(opened.fd, host, pool);
	}

	void copy_file(int fd, const std::string &host, const std::string &pool)
	{
		struct stat st {
		};
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
			return skip(host, "no longer a regular file");
		// The flag first, so that the data goes where the file's mode will have it.
		FileInfo made = vol_.create(pool);
		bool dax = has_dax_flag(fd);
		if (made.dax_flag != dax)
			vol_.set_dax_flag(pool, dax);
		int out = session_->open(pool, false);
		struct Close {
			Session &s;
			int fd;
			~Close()
			{
				try {
					s.close(fd);
				} catch (const Error &) {
					// Write-back failed: the error that made it is what is
					// thrown.
				}
			}
		} close_out{*session_, out};
		buffer_.resize(kCopyChunk);
		uint64_t off = 0, written_to = 0;
		for (;;) {
			ssize_t n = ::pread(fd, buffer_.data(), buffer_.size(), off_t(off));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				throw system_error(host + ": read", errno);
			if (n == 0)
				break;
			std::span<const std::byte> chunk(buffer_.data(), size_t(n));
			// A chunk of zeros is left a hole, as the source most likely has it.
			if (std::any_of(chunk.begin(), chunk.end(),
			                [](std::byte b) { return b != std::byte{0}; })) {
				session_->pwrite(out, off, chunk);
				written_to = off + chunk.size();
			}
			off += uint64_t(n);
		}
		if (off > written_to)
			session_->truncate(out, off); // a file ending in a hole keeps its size
		result_.files++;
		result_.bytes += off;
	}

	void skip(const std::string &host, const std::string &why)
	{
		result_.skipped++;
		if (result_.notes.size() < kMaxPopulateNotes)
			result_.notes.push_back(host + ": skipped, " + why);
		else
			dropped_++;
	}

	EmbeddedVolume &vol_;
	std::unique_ptr<Session> session_;
	std::vector<Level> stack_;
	std::vector<std::byte> buffer_;
	PopulateResult result_;
	uint64_t dropped_ = 0;
};

} // namespace

PopulateResult populate(EmbeddedVolume &vol, const std::filesystem::path &source)
{
	return Copier(vol).run(source);
}

} // namespace daxpolicy::fscore
