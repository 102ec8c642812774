#include "fscore/session.hpp"

#include "fscore/error.hpp"

namespace daxpolicy::fscore
{

Session::~Session()
{
	// Mappings and pins first, then files, as a dying process's exit_mmap precedes its
	// file close. Each step may raise notifications; EventFlush delivers them unlocked.
	EventFlush flush(vol_);
	std::lock_guard lock(vol_.mutex_);
	for (uint64_t pin : pins_)
		vol_.drop_lease(pin);
	for (const auto &[id, m] : maps_) {
		vol_.drop_lease(m.lease);
		if (m.revoked)
			continue; // already stopped counting when it was revoked
		try {
			vol_.put_in_core(m.ino, true);
		} catch (const Error &) {
			// Write-back failed (the pool is full): the in-core state, and with it the
			// cached data and the effective mode, stay until it can be written.
		}
	}
	for (const auto &[fd, f] : files_) {
		try {
			vol_.put_in_core(f.ino, false);
		} catch (const Error &) {
			// As above.
		}
	}
}

const Session::OpenFile &Session::file(int fd) const
{
	auto it = files_.find(fd);
	if (it == files_.end())
		throw Error(Errc::invalid_argument, "no open file " + std::to_string(fd));
	return it->second;
}

Session::Mapping &Session::mapping(int map)
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
	EventFlush flush(vol_);
	std::lock_guard lock(vol_.mutex_);
	uint64_t ino;
	try {
		ino = vol_.resolve(path);
	} catch (const Error &e) {
		if (!create || e.code() != Errc::not_found)
			throw;
		ino = vol_.make_node(path, InodeType::regular);
	}
	vol_.get_in_core(ino).opens++;
	int fd = next_id_++;
	files_.emplace(fd, OpenFile{ino, path});
	return fd;
}

void Session::close(int fd)
{
	EventFlush flush(vol_);
	std::lock_guard lock(vol_.mutex_);
	uint64_t ino = file(fd).ino;
	files_.erase(fd);
	vol_.put_in_core(ino, false);
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

void Session::write_locked(uint64_t ino, uint64_t off, std::span<const std::byte> data)
{
	// A write that allocates under someone's mapping breaks their lease (BREAK_WRITE):
	// they are told, and see the new blocks on their next access.
	if (vol_.in_core_.at(ino).effective_dax)
		vol_.break_for_allocation(this, ino, ExtentMap(*vol_.pool_, vol_.inode(ino)), off,
		                          data.size(), LayoutOp::write);
	vol_.write_file(ino, off, data);
}

void Session::pwrite(int fd, uint64_t off, std::span<const std::byte> data)
{
	EventFlush flush(vol_);
	std::lock_guard lock(vol_.mutex_);
	write_locked(regular_file(fd), off, data);
}

void Session::fsync(int fd)
{
	std::lock_guard lock(vol_.mutex_);
	vol_.writeback(file(fd).ino);
}

void Session::truncate(int fd, uint64_t size)
{
	EventFlush flush(vol_);
	std::unique_lock lock(vol_.mutex_);
	uint64_t ino = regular_file(fd);
	// Shrinking removes blocks: the holders of what lies past the new end must let go.
	if (size < vol_.file_size(ino))
		vol_.break_layout(lock, this, ino, size, kToEnd, LayoutOp::truncate,
		                  BreakKind::unmap);
	vol_.truncate_locked(ino, size);
}

void Session::fallocate(int fd, LayoutOp op, uint64_t off, uint64_t len, bool keep_size)
{
	EventFlush flush(vol_);
	std::unique_lock lock(vol_.mutex_);
	uint64_t ino = regular_file(fd);
	// Every operation that changes the extent map breaks the leases over what it changes,
	// by the same function: removal and shifts wait, allocation only tells.
	switch (op) {
	case LayoutOp::allocate:
		vol_.break_for_allocation(this, ino, ExtentMap(*vol_.pool_, vol_.inode(ino)), off,
		                          len, op);
		break;
	case LayoutOp::punch_hole:
	case LayoutOp::zero_range:
		vol_.break_layout(lock, this, ino, off, len, op, BreakKind::unmap);
		break;
	case LayoutOp::collapse_range:
	case LayoutOp::insert_range:
		vol_.break_layout(lock, this, ino, off, kToEnd, op, BreakKind::unmap);
		break;
	default:
		throw Error(Errc::invalid_argument,
		            std::string(layout_op_name(op)) + ": not a fallocate mode");
	}
	vol_.fallocate_locked(ino, op, off, len, keep_size);
}

void Session::set_dax_flag(int fd, bool on)
{
	EventFlush flush(vol_);
	std::string path;
	{
		std::lock_guard lock(vol_.mutex_);
		uint64_t ino = file(fd).ino;
		path = vol_.path_of_locked(ino);
		// The mode a mapping was made with does not change under it; its holders are
		// told the flag moved, so they know what the next use will get.
		if ((vol_.inode(ino).flags & kInodeFlagDax) != (on ? kInodeFlagDax : 0))
			vol_.break_layout_write(this, ino, 0, kToEnd, LayoutOp::flag_change);
	}
	vol_.set_dax_flag(path, on);
}

int Session::mmap(int fd, uint64_t off, uint64_t len, bool writable)
{
	std::unique_lock lock(vol_.mutex_);
	uint64_t ino = regular_file(fd);
	if (len == 0)
		throw Error(Errc::invalid_argument, "mmap: length must not be zero");
	if (off % kBlockSize)
		throw Error(Errc::invalid_argument, "mmap: offset must be a multiple of 4096");
	// A break of this file's layout is under way: wait for it, as a fault waits on the
	// invalidate lock, so the breaker never misses a mapping made meanwhile.
	vol_.leases_changed_.wait(lock, [&] { return !vol_.layout_breaking_.count(ino); });
	vol_.get_in_core(ino).maps++;
	int id = next_id_++;
	uint64_t lease = vol_.add_lease(*this, ino, off, len, LeaseKind::mapping);
	maps_.emplace(id, Mapping{ino, off, len, writable, lease});
	return id;
}

void Session::revoke_mapping(uint64_t lease)
{
	for (auto &[id, m] : maps_)
		if (m.lease == lease)
			m.revoked = true;
}

void Session::check_mapped_access(const Mapping &m, uint64_t off, size_t len) const
{
	if (m.revoked)
		throw Error(Errc::revoked, "the mapping's layout lease was revoked");
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
	// Every access looks the blocks up again: a hole filled since the last access shows
	// its new data, never a zero page left over from before.
	auto data = vol_.read_file(m.ino, m.off + off, len);
	data.resize(len); // past EOF in the last page reads zeros, as a mapping does
	return data;
}

void Session::mwrite(int map, uint64_t off, std::span<const std::byte> data)
{
	EventFlush flush(vol_);
	std::lock_guard lock(vol_.mutex_);
	const Mapping &m = mapping(map);
	check_mapped_access(m, off, data.size());
	if (!m.writable)
		throw Error(Errc::permission_denied, "mwrite: the mapping is read-only");
	// A store through the mapping does not move end-of-file.
	uint64_t size = vol_.file_size(m.ino);
	uint64_t start = m.off + off;
	if (start >= size)
		return;
	write_locked(m.ino, start, data.first(std::min<uint64_t>(data.size(), size - start)));
}

void Session::munmap(int map)
{
	EventFlush flush(vol_);
	std::lock_guard lock(vol_.mutex_);
	Mapping m = mapping(map);
	maps_.erase(map);
	vol_.drop_lease(m.lease);
	if (!m.revoked)
		vol_.put_in_core(m.ino, true);
}

void Session::pin(int fd, uint64_t off, uint64_t len)
{
	std::lock_guard lock(vol_.mutex_);
	uint64_t ino = regular_file(fd);
	if (len == 0)
		throw Error(Errc::invalid_argument, "pin: length must not be zero");
	pins_.push_back(vol_.add_lease(*this, ino, off, len, LeaseKind::pin));
}

void Session::unpin()
{
	std::lock_guard lock(vol_.mutex_);
	for (uint64_t pin : pins_)
		vol_.drop_lease(pin);
	pins_.clear();
}

std::vector<LeaseNotice> Session::take_notices()
{
	std::lock_guard lock(vol_.mutex_);
	return std::exchange(notices_, {});
}

void Session::cancel()
{
	std::lock_guard lock(vol_.mutex_);
	cancelled_ = true;
	vol_.leases_changed_.notify_all();
}

} // namespace daxpolicy::fscore
