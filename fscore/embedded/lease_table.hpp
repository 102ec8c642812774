// SPDX-License-Identifier: BSD-3-Clause
// The embedded volume's table of layout leases (lease.hpp says what one is), the files whose
// layout a break is changing, and the condition variable their waiters sleep on. It knows
// nothing of what a break does (EmbeddedVolume::break_layout, lease.cpp): it is the state
// those breaks and the sessions' mappings and pins share, under the volume lock.
#pragma once

#include "common/owned_mutex.hpp"
#include "fscore/embedded/lease.hpp"
#include "fscore/lease_info.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_set>
#include <vector>

namespace daxpolicy::fscore
{

class EmbeddedSession;

class LeaseTable
{
      public:
	// `volume_lock` guards everything here: each member asserts it is held.
	explicit LeaseTable(const OwnedMutex &volume_lock) : lock_(volume_lock) {}
	LeaseTable(const LeaseTable &) = delete;
	LeaseTable &operator=(const LeaseTable &) = delete;

	// A new active lease of `session` on [off, off+len) of `ino`; returns its id.
	uint64_t add(EmbeddedSession &session, uint64_t ino, uint64_t off, uint64_t len,
	             LeaseKind kind);
	// Removes the lease and wakes its waiters; returns it as it was, or nothing when it is
	// gone already.
	std::optional<Lease> remove(uint64_t id);
	Lease *find(uint64_t id);
	const std::map<uint64_t, Lease> &all() const;
	// Whether a revoked lease of `ino` is left: then blocks freed from the file may still
	// be reached through it.
	bool has_revoked(uint64_t ino) const;
	// A pin over the range, or nullptr.
	const Lease *pin_over(uint64_t ino, uint64_t off, uint64_t len) const;
	// The active mapping leases over the range, but for `breaker`'s own.
	std::vector<Lease *> mappings_over(uint64_t ino, uint64_t off, uint64_t len,
	                                   const EmbeddedSession *breaker);

	// Breaks under way, one a file at a time. While one runs, new mappings and pins of the
	// file wait, and so do other breaks of it.
	bool breaking(uint64_t ino) const;
	class Break
	{
	      public:
		Break(LeaseTable &table, uint64_t ino);
		~Break(); // the break is over: its waiters wake
		Break(const Break &) = delete;
		Break &operator=(const Break &) = delete;

	      private:
		LeaseTable &table_;
		uint64_t ino_;
	};

	// Waits with `lock` (which holds the volume lock, perhaps with others) let go until
	// `pred`, or `deadline`. Woken whenever a lease goes or changes state, a break ends, or
	// notify() is called.
	template <class Lock, class Pred> void wait(Lock &lock, Pred pred)
	{
		DAXPOLICY_ASSERT_HELD(lock_);
		changed_.wait(lock, pred);
	}
	template <class Lock>
	std::cv_status wait_until(Lock &lock, std::chrono::steady_clock::time_point deadline)
	{
		DAXPOLICY_ASSERT_HELD(lock_);
		return changed_.wait_until(lock, deadline);
	}
	void notify();

      private:
	const OwnedMutex &lock_;
	std::map<uint64_t, Lease> leases_;
	uint64_t next_id_ = 1;
	std::unordered_set<uint64_t> breaking_;
	std::condition_variable_any changed_;
};

} // namespace daxpolicy::fscore
