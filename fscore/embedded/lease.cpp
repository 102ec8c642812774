// SPDX-License-Identifier: BSD-3-Clause
// Layout leases of the embedded core: breaking them, the same way for every operation that
// changes a file's extent map, and keeping freed blocks from reuse while a revoked holder
// may still reach them.
#include "common/clock.hpp"
#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/superblock.hpp"
#include "fscore/embedded/session.hpp"

#include <chrono>
#include <map>

namespace daxpolicy::fscore
{

EventFlush::~EventFlush()
{
	vol_.flush_events();
}

void EmbeddedVolume::flush_events()
{
	std::vector<VolumeEvent> events;
	{
		std::lock_guard lock(mutex_);
		events.swap(queued_events_);
	}
	listeners_.notify(events);
}

void EmbeddedVolume::drop_lease(uint64_t id)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	std::optional<Lease> gone = leases_.remove(id);
	if (!gone)
		return;
	// The last revoked lease of the file is gone: nothing can reach its freed blocks now.
	auto q = quarantine_.find(gone->ino);
	if (q != quarantine_.end() && !leases_.has_revoked(gone->ino)) {
		for (const Extent &e : q->second)
			alloc_->end_quarantine(e.pblk, e.len);
		quarantine_.erase(q);
	}
}

void EmbeddedVolume::release_or_quarantine(Transaction &txn, uint64_t ino,
                                           const std::vector<Extent> &runs)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	bool revoked = leases_.has_revoked(ino);
	for (const Extent &e : runs)
		alloc_->release(txn, e.pblk, e.len, revoked);
	if (!revoked)
		return;
	auto &q = quarantine_[ino];
	size_t before = q.size();
	q.insert(q.end(), runs.begin(), runs.end());
	txn.on_abort([this, ino, before] { quarantine_[ino].resize(before); });
}

void EmbeddedVolume::note_wait_for_break(uint64_t ino, std::string_view waiting)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	if (options_.waits_for_break && leases_.breaking(ino))
		options_.waits_for_break(waiting);
}

void EmbeddedVolume::queue_lease_event(const Lease &l, LayoutOp op, int64_t waited_ms,
                                       const char *outcome)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	const DiskInode &di = inode(l.ino);
	VolumeEvent e{VolumeEvent::Kind::lease_break,
	              l.ino,
	              di.generation,
	              di.nlink ? names_.path_of(l.ino) : std::string(),
	              {},
	              std::nullopt};
	e.lease = VolumeEvent::LeaseBreak{layout_op_name(op), l.pid,     l.uid,  l.offset,
	                                  l.length,           waited_ms, outcome};
	queued_events_.push_back(e);
	if (std::string(outcome) == "revoked") {
		e.kind = VolumeEvent::Kind::lease_revoked;
		queued_events_.push_back(e);
	}
}

void EmbeddedVolume::break_for_allocation(EmbeddedSession *breaker, uint64_t ino,
                                          const ExtentMap &map, uint64_t off, uint64_t len,
                                          LayoutOp op)
{
	if (len == 0)
		return;
	uint64_t end = len > kToEnd - off ? kToEnd : off + len;
	if (!map.covers(off / kBlockSize, std::min(blocks_for(end), kMaxFileBlocks)))
		break_layout_write(breaker, ino, off, len, op);
}

void EmbeddedVolume::break_for_allocation(EmbeddedSession *breaker, uint64_t ino, uint64_t off,
                                          uint64_t len, LayoutOp op)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	break_for_allocation(breaker, ino, ExtentMap(*pool_, inode(ino)), off, len, op);
}

void EmbeddedVolume::break_layout_write(EmbeddedSession *breaker, uint64_t ino, uint64_t off,
                                        uint64_t len, LayoutOp op)
{
	DAXPOLICY_ASSERT_HELD(mutex_);
	std::string path = inode(ino).nlink ? names_.path_of(ino) : std::string();
	for (Lease *l : leases_.mappings_over(ino, off, len, breaker)) {
		l->session->add_notice({path, layout_op_name(op), off, len, false});
		queue_lease_event(*l, op, 0, "notified");
	}
}

void EmbeddedVolume::break_layout(LayoutLocks &locks, EmbeddedSession *breaker, uint64_t ino,
                                  uint64_t off, uint64_t len, LayoutOp op, BreakKind kind)
{
	if (kind == BreakKind::write) {
		break_layout_write(breaker, ino, off, len, op);
		return;
	}
	auto cancelled = [&] { return breaker && breaker->cancelled(); };
	auto cancel_error = [&] {
		return Error(Errc::timeout, std::string(layout_op_name(op)) +
		                                ": cancelled, the session is ending");
	};
	// One break of a file at a time. A break waiting for holders has let go of the file's
	// locks, so another operation can get here meanwhile; it must not pass over the leases
	// the first one is waiting on (they are `breaking`, not `active`) and take their
	// blocks from under them.
	note_wait_for_break(ino, layout_op_name(op));
	leases_.wait(locks, [&] { return !leases_.breaking(ino) || cancelled(); });
	if (cancelled())
		throw cancel_error();

	using Clock = std::chrono::steady_clock;
	const auto start = Clock::now();
	const auto deadline = start + std::min(options_.lease_break_timeout, kMaxLeaseBreakTimeout);
	auto waited = [&] {
		return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)
		    .count();
	};
	// While this break runs, new mappings and pins of the file wait
	// (EmbeddedSession::when_no_break), and so do other breaks of it.
	LeaseTable::Break under_way(leases_, ino);

	// 1. Pins are DMA in flight: they cannot be revoked. Wait for them to go, or give up
	//    with `busy` having changed nothing.
	auto pinned = [&] { return leases_.pin_over(ino, off, len); };
	while (const Lease *pin = pinned()) {
		if (cancelled())
			throw cancel_error();
		if (leases_.wait_until(locks, deadline) == std::cv_status::timeout &&
		    (pin = pinned())) {
			queue_lease_event(*pin, op, waited(), "busy");
			throw Error(Errc::busy, std::string(layout_op_name(op)) +
			                            ": blocks in range are pinned (in-flight DMA) "
			                            "past lease_break_timeout");
		}
	}

	// 2. Mappings of other sessions: tell each holder, wait for them to let go.
	std::string path = inode(ino).nlink ? names_.path_of(ino) : std::string();
	std::vector<Lease> broken; // as they were: a released lease leaves the table
	for (Lease *l : leases_.mappings_over(ino, off, len, breaker)) {
		l->state = LeaseState::breaking;
		l->session->add_notice({path, layout_op_name(op), off, len, true});
		broken.push_back(*l);
	}
	std::map<uint64_t, int64_t> released_ms;
	auto sweep = [&] {
		bool outstanding = false;
		for (const Lease &l : broken) {
			if (leases_.find(l.id))
				outstanding = true;
			else if (!released_ms.count(l.id))
				released_ms[l.id] = waited();
		}
		return outstanding;
	};
	while (sweep()) {
		if (cancelled()) {
			for (const Lease &l : broken)
				if (Lease *left = leases_.find(l.id))
					left->state = LeaseState::active;
			throw cancel_error();
		}
		if (leases_.wait_until(locks, deadline) == std::cv_status::timeout) {
			sweep();
			break;
		}
	}
	// 3. Who let go is released; who did not is revoked: its mapping fails from now on,
	//    and stops counting as a mapping of the file.
	for (const Lease &l : broken) {
		if (released_ms.count(l.id)) {
			queue_lease_event(l, op, released_ms[l.id], "released");
			continue;
		}
		Lease &held = *leases_.find(l.id);
		held.state = LeaseState::revoked;
		held.session->revoke_mapping(l.id);
		queue_lease_event(held, op, waited(), "revoked");
		put_in_core(ino, true);
	}
}

std::vector<LeaseInfo> EmbeddedVolume::leases(const std::optional<std::string> &path)
{
	std::lock_guard lock(mutex_);
	std::optional<uint64_t> only;
	if (path)
		only = names_.resolve(*path);
	std::vector<LeaseInfo> out;
	for (const auto &[id, l] : leases_.all()) {
		if (only && l.ino != *only)
			continue;
		LeaseInfo info;
		info.path = inode(l.ino).nlink ? names_.path_of(l.ino) : std::string();
		info.ino = l.ino;
		info.holder = {l.pid, l.uid};
		info.offset = l.offset;
		info.length = l.length;
		info.since_ms = l.since_ms;
		info.kind = l.kind;
		info.state = l.state;
		out.push_back(info);
	}
	return out;
}

} // namespace daxpolicy::fscore
