// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/session.hpp"

#include "common/error.hpp"
#include "fscore/embedded/range.hpp"
#include "fscore/embedded/space.hpp"

#include <shared_mutex> // std::shared_lock, over RwLock

namespace daxpolicy::fscore
{

EmbeddedSession::~EmbeddedSession()
{
	// Mappings and pins first, then files, as a dying process's exit_mmap precedes its
	// file close. Each step may raise notifications; EventFlush delivers them unlocked.
	EventFlush flush(vol_);
	std::lock_guard lock(vol_.volume_lock());
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

const EmbeddedSession::OpenFile &EmbeddedSession::file(int fd) const
{
	DAXPOLICY_ASSERT_HELD(vol_.volume_lock());
	auto it = files_.find(fd);
	if (it == files_.end())
		throw Error(Errc::invalid_argument, "no open file " + std::to_string(fd));
	return it->second;
}

EmbeddedSession::Mapping &EmbeddedSession::mapping(int map)
{
	DAXPOLICY_ASSERT_HELD(vol_.volume_lock());
	auto it = maps_.find(map);
	if (it == maps_.end())
		throw Error(Errc::invalid_argument, "no mapping " + std::to_string(map));
	return it->second;
}

uint64_t EmbeddedSession::regular_file(int fd) const
{
	DAXPOLICY_ASSERT_HELD(vol_.volume_lock());
	const OpenFile &f = file(fd);
	if (vol_.type_of(f.ino) != InodeType::regular)
		throw Error(Errc::invalid_argument, f.path + ": is a directory");
	return f.ino;
}

int EmbeddedSession::open(const std::string &path, bool create)
{
	EventFlush flush(vol_);
	std::lock_guard lock(vol_.volume_lock());
	uint64_t ino = vol_.lookup_or_create(path, create);
	vol_.get_in_core(ino).opens++;
	int fd = next_id_++;
	files_.emplace(fd, OpenFile{ino, path});
	return fd;
}

void EmbeddedSession::close(int fd)
{
	EventFlush flush(vol_);
	std::lock_guard lock(vol_.volume_lock());
	uint64_t ino = file(fd).ino;
	files_.erase(fd);
	vol_.put_in_core(ino, false);
}

FileInfo EmbeddedSession::fstat(int fd)
{
	std::lock_guard lock(vol_.volume_lock());
	const OpenFile &f = file(fd);
	return vol_.info_of_open(f.ino, f.path);
}

EmbeddedVolume::InodeRef EmbeddedSession::use_file(int fd) const
{
	std::lock_guard lock(vol_.volume_lock());
	return EmbeddedVolume::InodeRef(vol_, regular_file(fd));
}

EmbeddedVolume::InodeRef EmbeddedSession::use_open(int fd) const
{
	std::lock_guard lock(vol_.volume_lock());
	return EmbeddedVolume::InodeRef(vol_, file(fd).ino);
}

size_t EmbeddedSession::pread(int fd, uint64_t off, std::span<std::byte> out)
{
	EventFlush flush(vol_);
	auto ref = use_file(fd);
	std::shared_lock io(ref->io_lock);
	EmbeddedVolume::DataReadLock data(*ref);
	return vol_.read_file(ref.ino(), *ref, off, out);
}

std::vector<std::byte> EmbeddedSession::pread(int fd, uint64_t off, size_t len)
{
	uint64_t size = fstat(fd).size;
	std::vector<std::byte> out(off < size ? std::min<uint64_t>(len, size - off) : 0);
	out.resize(pread(fd, off, std::span(out))); // shorter if the file shrank meanwhile
	return out;
}

void EmbeddedSession::pwrite(int fd, uint64_t off, std::span<const std::byte> data)
{
	EventFlush flush(vol_);
	auto ref = use_file(fd);
	std::unique_lock io(ref->io_lock);
	std::unique_lock ilock(ref->ilock);
	vol_.write_file(this, ref.ino(), *ref, off, data);
}

void EmbeddedSession::fsync(int fd)
{
	EventFlush flush(vol_);
	auto ref = use_open(fd);
	std::unique_lock ilock(ref->ilock);
	std::lock_guard lock(vol_.volume_lock());
	vol_.sync_file(ref.ino(), *ref);
}

void EmbeddedSession::truncate(int fd, uint64_t size)
{
	EventFlush flush(vol_);
	auto ref = use_file(fd);
	check_truncate(size);
	LayoutLocks locks(ref->io_lock, ref->invalidate_lock, ref->ilock, vol_.volume_lock());
	// Shrinking removes blocks: the holders of what lies past the new end must let go.
	if (size < vol_.file_size(ref.ino()))
		vol_.break_layout(locks, this, ref.ino(), size, kToEnd, LayoutOp::truncate,
		                  BreakKind::unmap);
	vol_.truncate_locked(ref.ino(), size);
}

void EmbeddedSession::fallocate(int fd, LayoutOp op, uint64_t off, uint64_t len, bool keep_size)
{
	EventFlush flush(vol_);
	auto ref = use_file(fd);
	uint64_t ino = ref.ino();
	LayoutLocks locks(ref->io_lock, ref->invalidate_lock, ref->ilock, vol_.volume_lock());
	// A call bound to fail fails before it breaks anyone's lease.
	check_fallocate(op, off, len, vol_.file_size(ino));
	// Every operation that changes the extent map breaks the leases over what it changes,
	// by the same function: removal and shifts wait, allocation only tells.
	switch (op) {
	case LayoutOp::allocate:
		vol_.break_for_allocation(this, ino, off, len, op);
		break;
	case LayoutOp::punch_hole:
	case LayoutOp::zero_range:
		vol_.break_layout(locks, this, ino, off, len, op, BreakKind::unmap);
		break;
	case LayoutOp::collapse_range:
	case LayoutOp::insert_range:
		vol_.break_layout(locks, this, ino, off, kToEnd, op, BreakKind::unmap);
		break;
	default:
		throw Error(Errc::invalid_argument,
		            std::string(layout_op_name(op)) + ": not a fallocate mode");
	}
	vol_.fallocate_locked(ino, op, off, len, keep_size);
}

void EmbeddedSession::set_dax_flag(int fd, bool on)
{
	EventFlush flush(vol_);
	// The file this session has open, by inode: it may have been renamed, or removed (an
	// orphan has no path) since it was opened.
	auto ref = use_open(fd);
	std::unique_lock ilock(ref->ilock);
	std::lock_guard lock(vol_.volume_lock());
	// The mode a mapping was made with does not change under it; its holders are told the
	// flag moved, so they know what the next use will get.
	if (vol_.dax_flag_of(ref.ino()) != on)
		vol_.break_layout_write(this, ref.ino(), 0, kToEnd, LayoutOp::flag_change);
	vol_.change_dax_flag(ref.ino(), on);
}

template <class AddLease>
void EmbeddedSession::when_no_break(EmbeddedVolume::InodeRef &ref, std::string_view waiting,
                                    AddLease add_lease)
{
	for (;;) {
		// The invalidate lock keeps out a change of the extent map; a break of this
		// file's layout that is waiting for holders has let go of it, so wait for that
		// too, as a fault waits on the kernel's invalidate lock: the breaker never misses
		// a lease made meanwhile.
		std::shared_lock invalidate(ref->invalidate_lock);
		std::unique_lock lock(vol_.volume_lock());
		if (cancelled_)
			throw Error(Errc::timeout, "cancelled, the session is ending");
		if (!vol_.lease_table().breaking(ref.ino())) {
			add_lease();
			return;
		}
		invalidate.unlock();
		vol_.note_wait_for_break(ref.ino(), waiting);
		vol_.lease_table().wait(
		    lock, [&] { return !vol_.lease_table().breaking(ref.ino()) || cancelled_; });
	}
}

int EmbeddedSession::mmap(int fd, uint64_t off, uint64_t len, bool writable)
{
	auto ref = use_file(fd);
	if (len == 0)
		throw Error(Errc::invalid_argument, "mmap: length must not be zero");
	range_end("mmap", off, len);
	if (off % kBlockSize)
		throw Error(Errc::invalid_argument, "mmap: offset must be a multiple of 4096");
	int id = 0;
	when_no_break(ref, "mmap", [&] {
		id = next_id_++;
		ref->maps++;
		uint64_t lease =
		    vol_.lease_table().add(*this, ref.ino(), off, len, LeaseKind::mapping);
		maps_.emplace(id, Mapping{ref.ino(), off, len, writable, lease});
	});
	return id;
}

void EmbeddedSession::revoke_mapping(uint64_t lease)
{
	DAXPOLICY_ASSERT_HELD(vol_.volume_lock());
	for (auto &[id, m] : maps_)
		if (m.lease == lease)
			m.revoked = true;
}

EmbeddedVolume::InodeRef EmbeddedSession::use_mapping(int map, Mapping &out)
{
	std::lock_guard lock(vol_.volume_lock());
	out = mapping(map);
	// A revoked mapping is no use of the file: its in-core state may be gone.
	if (out.revoked)
		throw Error(Errc::revoked, "the mapping's layout lease was revoked");
	return EmbeddedVolume::InodeRef(vol_, out.ino);
}

uint64_t EmbeddedSession::check_mapped_access(int map, uint64_t off, size_t len)
{
	// Called with the invalidate lock shared: a revocation (which needs it exclusive)
	// cannot happen until the access is over, nor can the file shrink.
	std::lock_guard lock(vol_.volume_lock());
	const Mapping &m = mapping(map);
	if (m.revoked)
		throw Error(Errc::revoked, "the mapping's layout lease was revoked");
	range_end("access through a mapping", off, len, m.len);
	// Past the page that holds end-of-file a mapping has nothing behind it (SIGBUS).
	uint64_t size = vol_.file_size(m.ino);
	uint64_t limit = (size + kBlockSize - 1) / kBlockSize * kBlockSize;
	if (m.off + off + len > limit)
		throw Error(Errc::invalid_argument,
		            "access beyond end of file through a mapping (SIGBUS)");
	return size;
}

std::vector<std::byte> EmbeddedSession::mread(int map, uint64_t off, size_t len)
{
	EventFlush flush(vol_);
	Mapping m;
	auto ref = use_mapping(map, m);
	std::shared_lock invalidate(ref->invalidate_lock);
	check_mapped_access(map, off, len);
	EmbeddedVolume::DataReadLock data(*ref);
	// Every access looks the blocks up again: a hole filled since the last access shows
	// its new data, never a zero page left over from before. Past EOF in the last page
	// reads zeros, as a mapping does.
	std::vector<std::byte> out(len);
	vol_.read_file(ref.ino(), *ref, m.off + off, out);
	return out;
}

void EmbeddedSession::mwrite(int map, uint64_t off, std::span<const std::byte> data)
{
	EventFlush flush(vol_);
	Mapping m;
	auto ref = use_mapping(map, m);
	std::shared_lock invalidate(ref->invalidate_lock);
	uint64_t size = check_mapped_access(map, off, data.size());
	if (!m.writable)
		throw Error(Errc::permission_denied, "mwrite: the mapping is read-only");
	// A store through the mapping does not move end-of-file.
	uint64_t start = m.off + off;
	if (start >= size)
		return;
	std::unique_lock ilock(ref->ilock);
	vol_.write_file(this, ref.ino(), *ref, start,
	                data.first(std::min<uint64_t>(data.size(), size - start)));
}

void EmbeddedSession::munmap(int map)
{
	EventFlush flush(vol_);
	std::lock_guard lock(vol_.volume_lock());
	Mapping m = mapping(map);
	maps_.erase(map);
	vol_.drop_lease(m.lease);
	if (!m.revoked)
		vol_.put_in_core(m.ino, true);
}

void EmbeddedSession::pin(int fd, uint64_t off, uint64_t len)
{
	auto ref = use_file(fd);
	if (len == 0)
		throw Error(Errc::invalid_argument, "pin: length must not be zero");
	range_end("pin", off, len);
	// A pin made while a break waits for mappings would not be seen by it.
	when_no_break(ref, "pin", [&] {
		pins_.push_back(vol_.lease_table().add(*this, ref.ino(), off, len, LeaseKind::pin));
	});
}

void EmbeddedSession::unpin()
{
	std::lock_guard lock(vol_.volume_lock());
	for (uint64_t pin : pins_)
		vol_.drop_lease(pin);
	pins_.clear();
}

std::vector<LeaseNotice> EmbeddedSession::take_notices()
{
	std::lock_guard lock(vol_.volume_lock());
	return std::exchange(notices_, {});
}

void EmbeddedSession::cancel()
{
	std::lock_guard lock(vol_.volume_lock());
	cancelled_ = true;
	vol_.lease_table().notify();
}

void EmbeddedSession::add_notice(LeaseNotice notice)
{
	DAXPOLICY_ASSERT_HELD(vol_.volume_lock());
	notices_.push_back(std::move(notice));
}

bool EmbeddedSession::cancelled() const
{
	DAXPOLICY_ASSERT_HELD(vol_.volume_lock());
	return cancelled_;
}

} // namespace daxpolicy::fscore
