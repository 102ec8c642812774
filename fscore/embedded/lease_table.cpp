// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/lease_table.hpp"

#include "common/clock.hpp"
#include "fscore/embedded/session.hpp"

namespace daxpolicy::fscore
{

uint64_t LeaseTable::add(EmbeddedSession &session, uint64_t ino, uint64_t off, uint64_t len,
                         LeaseKind kind)
{
	DAXPOLICY_ASSERT_HELD(lock_);
	Lease l;
	l.id = next_id_++;
	l.ino = ino;
	l.offset = off;
	l.length = len;
	l.kind = kind;
	l.session = &session;
	l.pid = session.holder().pid;
	l.uid = session.holder().uid;
	l.since_ms = unix_now_ms();
	leases_.emplace(l.id, l);
	return l.id;
}

std::optional<Lease> LeaseTable::remove(uint64_t id)
{
	DAXPOLICY_ASSERT_HELD(lock_);
	auto it = leases_.find(id);
	if (it == leases_.end())
		return std::nullopt;
	Lease gone = it->second;
	leases_.erase(it);
	changed_.notify_all();
	return gone;
}

Lease *LeaseTable::find(uint64_t id)
{
	DAXPOLICY_ASSERT_HELD(lock_);
	auto it = leases_.find(id);
	return it == leases_.end() ? nullptr : &it->second;
}

const std::map<uint64_t, Lease> &LeaseTable::all() const
{
	DAXPOLICY_ASSERT_HELD(lock_);
	return leases_;
}

bool LeaseTable::has_revoked(uint64_t ino) const
{
	DAXPOLICY_ASSERT_HELD(lock_);
	for (const auto &[id, l] : leases_)
		if (l.ino == ino && l.state == LeaseState::revoked)
			return true;
	return false;
}

const Lease *LeaseTable::pin_over(uint64_t ino, uint64_t off, uint64_t len) const
{
	DAXPOLICY_ASSERT_HELD(lock_);
	for (const auto &[id, l] : leases_)
		if (l.kind == LeaseKind::pin && l.overlaps(ino, off, len))
			return &l;
	return nullptr;
}

std::vector<Lease *> LeaseTable::mappings_over(uint64_t ino, uint64_t off, uint64_t len,
                                               const EmbeddedSession *breaker)
{
	DAXPOLICY_ASSERT_HELD(lock_);
	std::vector<Lease *> out;
	for (auto &[id, l] : leases_)
		if (l.kind == LeaseKind::mapping && l.session != breaker &&
		    l.state == LeaseState::active && l.overlaps(ino, off, len))
			out.push_back(&l);
	return out;
}

bool LeaseTable::breaking(uint64_t ino) const
{
	DAXPOLICY_ASSERT_HELD(lock_);
	return breaking_.count(ino) > 0;
}

LeaseTable::Break::Break(LeaseTable &table, uint64_t ino) : table_(table), ino_(ino)
{
	DAXPOLICY_ASSERT_HELD(table_.lock_);
	table_.breaking_.insert(ino_);
}

LeaseTable::Break::~Break()
{
	table_.breaking_.erase(ino_);
	table_.changed_.notify_all();
}

void LeaseTable::notify()
{
	DAXPOLICY_ASSERT_HELD(lock_);
	changed_.notify_all();
}

} // namespace daxpolicy::fscore
