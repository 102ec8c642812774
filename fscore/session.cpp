#include "fscore/session.hpp"

#include "fscore/error.hpp"

namespace daxpolicy::fscore
{

Session::~Session()
{
	// Mappings first, then files, as a dying process's exit_mmap precedes its file close.
	std::vector<VolumeEvent> events;
	{
		std::lock_guard lock(vol_.mutex_);
		for (const auto &[id, m] : maps_) {
			try {
				vol_.put_in_core(m.ino, true, events);
			} catch (const Error &) {
				// Write-back failed: the in-core state stays (see put_in_core).
			}
		}
		for (const auto &[fd, f] : files_) {
			try {
				vol_.put_in_core(f.ino, false, events);
			} catch (const Error &) {
			}
		}
	}
	vol_.listeners_.notify(events);
}

const Session::OpenFile &Session::file(int fd) const
{
	auto it = files_.find(fd);
	if (it == files_.end())
		throw Error(Errc::invalid_argument, "no open file " + std::to_string(fd));
	return it->second;
}

const Session::Mapping &Session::mapping(int map) const
{
	auto it = maps_.find(map);
	if (it == maps_.end())
		throw Error(Errc::invalid_argument, "no mapping " + std::to_string(map));
	return it->second;
}

uint64_t Session::regular_file(int fd) const
{
	const OpenFile &f = file(fd);
	if (vol_.inode(f.ino).type != InodeType::regular)
		throw Error(Errc::invalid_argument, f.path + ": is a directory");
	return f.ino;
}

int Session::open(const std::string &path, bool create)
{
	std::vector<VolumeEvent> events;
	int fd;
	{
		std::lock_guard lock(vol_.mutex_);
		uint64_t ino;
		try {
			ino = vol_.resolve(path);
		} catch (const Error &e) {
			if (!create || e.code() != Errc::not_found)
				throw;
			ino = vol_.make_node(path, InodeType::regular, events);
		}
		vol_.get_in_core(ino).opens++;
		fd = next_id_++;
		files_.emplace(fd, OpenFile{ino, path});
	}
	vol_.listeners_.notify(events);
	return fd;
}

void Session::close(int fd)
{
	std::vector<VolumeEvent> events;
	{
		std::lock_guard lock(vol_.mutex_);
		uint64_t ino = file(fd).ino;
		files_.erase(fd);
		vol_.put_in_core(ino, false, events);
	}
	vol_.listeners_.notify(events);
}

FileInfo Session::fstat(int fd)
{
	std::lock_guard lock(vol_.mutex_);
	const OpenFile &f = file(fd);
	std::string path = vol_.inode(f.ino).nlink ? vol_.path_of_locked(f.ino) : f.path;
	return vol_.info_of(f.ino, path);
}

std::vector<std::byte> Session::pread(int fd, uint64_t off, size_t len)
{
	std::lock_guard lock(vol_.mutex_);
	return vol_.read_file(regular_file(fd), off, len);
}

void Session::pwrite(int fd, uint64_t off, std::span<const std::byte> data)
{
	std::lock_guard lock(vol_.mutex_);
	vol_.write_file(regular_file(fd), off, data);
}

void Session::truncate(int fd, uint64_t size)
{
	std::lock_guard lock(vol_.mutex_);
	vol_.truncate_locked(regular_file(fd), size);
}

void Session::fallocate(int fd, LayoutOp op, uint64_t off, uint64_t len, bool keep_size)
{
	std::lock_guard lock(vol_.mutex_);
	vol_.fallocate_locked(regular_file(fd), op, off, len, keep_size);
}

void Session::fsync(int fd)
{
	std::lock_guard lock(vol_.mutex_);
	vol_.writeback(file(fd).ino);
}

void Session::set_dax_flag(int fd, bool on)
{
	std::string path;
	{
		std::lock_guard lock(vol_.mutex_);
		path = vol_.path_of_locked(file(fd).ino);
	}
	vol_.set_dax_flag(path, on);
}

int Session::mmap(int fd, uint64_t off, uint64_t len, bool writable)
{
	std::lock_guard lock(vol_.mutex_);
	uint64_t ino = regular_file(fd);
	if (len == 0)
		throw Error(Errc::invalid_argument, "mmap: length must not be zero");
	if (off % kBlockSize)
		throw Error(Errc::invalid_argument, "mmap: offset must be a multiple of 4096");
	vol_.get_in_core(ino).maps++;
	int id = next_id_++;
	maps_.emplace(id, Mapping{ino, off, len, writable});
	return id;
}

void Session::check_mapped_access(const Mapping &m, uint64_t off, size_t len) const
{
	if (off + len > m.len)
		throw Error(Errc::invalid_argument, "access beyond the end of the mapping");
	// Past the page that holds end-of-file a mapping has nothing behind it (SIGBUS).
	uint64_t size = vol_.file_size(m.ino);
	uint64_t limit = (size + kBlockSize - 1) / kBlockSize * kBlockSize;
	if (m.off + off + len > limit)
		throw Error(Errc::invalid_argument,
		            "access beyond end of file through a mapping (SIGBUS)");
}

std::vector<std::byte> Session::mread(int map, uint64_t off, size_t len)
{
	std::lock_guard lock(vol_.mutex_);
	const Mapping &m = mapping(map);
	check_mapped_access(m, off, len);
	// Reads through the page covering EOF see zeros past it, as a mapping does.
	auto data = vol_.read_file(m.ino, m.off + off, len);
	data.resize(len);
	return data;
}

void Session::mwrite(int map, uint64_t off, std::span<const std::byte> data)
{
	std::lock_guard lock(vol_.mutex_);
	const Mapping &m = mapping(map);
	if (!m.writable)
		throw Error(Errc::permission_denied, "mwrite: the mapping is read-only");
	check_mapped_access(m, off, data.size());
	// A store through the mapping does not move end-of-file.
	uint64_t size = vol_.file_size(m.ino);
	uint64_t start = m.off + off;
	if (start >= size)
		return;
	vol_.write_file(m.ino, start, data.first(std::min<uint64_t>(data.size(), size - start)));
}

void Session::munmap(int map)
{
	std::vector<VolumeEvent> events;
	{
		std::lock_guard lock(vol_.mutex_);
		uint64_t ino = mapping(map).ino;
		maps_.erase(map);
		vol_.put_in_core(ino, true, events);
	}
	vol_.listeners_.notify(events);
}

} // namespace daxpolicy::fscore
