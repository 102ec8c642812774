// SPDX-License-Identifier: BSD-3-Clause
// A reader-writer lock that prefers writers: once a writer waits, new readers wait behind it,
// as with the kernel's rw_semaphore. std::shared_mutex on glibc lets readers in ahead of a
// waiting writer, so a steady stream of reads (or of mapped accesses) could hold off a
// truncate, or a lease break past its timeout, for ever.
//
// Not recursive: a thread that holds it shared must not take it shared again, or it can
// deadlock behind a waiting writer; checked builds stop such a thread (they track which locks
// each thread holds shared, so that held_by_me() can be asserted). Meets the SharedMutex
// requirements, so std::unique_lock and std::shared_lock work with it.
#pragma once

#include "common/checks.hpp"

#include <atomic>
#include <pthread.h>
#include <system_error>
#include <thread>
#include <vector>

namespace daxpolicy::fscore
{

class RwLock
{
      public:
	RwLock()
	{
		pthread_rwlockattr_t attr;
		pthread_rwlockattr_init(&attr);
		pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		int rc = pthread_rwlock_init(&lock_, &attr);
		pthread_rwlockattr_destroy(&attr);
		if (rc != 0)
			throw std::system_error(rc, std::generic_category(), "pthread_rwlock_init");
	}
	~RwLock() { pthread_rwlock_destroy(&lock_); }
	RwLock(const RwLock &) = delete;
	RwLock &operator=(const RwLock &) = delete;

	void lock()
	{
		check(pthread_rwlock_wrlock(&lock_));
		writer_.store(std::this_thread::get_id(), std::memory_order_relaxed);
	}
	bool try_lock()
	{
		if (pthread_rwlock_trywrlock(&lock_) != 0)
			return false;
		writer_.store(std::this_thread::get_id(), std::memory_order_relaxed);
		return true;
	}
	void unlock()
	{
		writer_.store(std::thread::id(), std::memory_order_relaxed);
		pthread_rwlock_unlock(&lock_);
	}
	void lock_shared()
	{
		DAXPOLICY_CHECK(!read_by_me(), "an RwLock taken shared twice by one thread");
		check(pthread_rwlock_rdlock(&lock_));
		note_shared(true);
	}
	bool try_lock_shared()
	{
		if (pthread_rwlock_tryrdlock(&lock_) != 0)
			return false;
		note_shared(true);
		return true;
	}
	void unlock_shared()
	{
		note_shared(false);
		pthread_rwlock_unlock(&lock_);
	}
	// Whether this thread holds it exclusive.
	bool written_by_me() const
	{
		return writer_.load(std::memory_order_relaxed) == std::this_thread::get_id();
	}
	// Whether this thread holds it shared; known in checked builds only (always true
	// elsewhere, so that checks of it pass where nothing is tracked).
	bool read_by_me() const
	{
		if constexpr (!kChecks)
			return true;
		for (const RwLock *l : read_here())
			if (l == this)
				return true;
		return false;
	}
	// Whether this thread holds it at all (checked builds; always true elsewhere).
	bool held_by_me() const { return written_by_me() || read_by_me(); }

      private:
	// The locks this thread holds shared (checked builds only).
	static std::vector<const RwLock *> &read_here()
	{
		thread_local std::vector<const RwLock *> locks;
		return locks;
	}
	void note_shared(bool taken) const
	{
		if constexpr (kChecks) {
			auto &locks = read_here();
			if (taken)
				locks.push_back(this);
			else
				std::erase(locks, this);
		}
	}

	// Fails only on misuse (EDEADLK: this thread holds it already).
	static void check(int rc)
	{
		if (rc != 0)
			throw std::system_error(rc, std::generic_category(), "pthread_rwlock");
	}

	pthread_rwlock_t lock_;
	std::atomic<std::thread::id> writer_{};
};

#define DAXPOLICY_ASSERT_EXCLUSIVE(l)                                                              \
	DAXPOLICY_CHECK((l).written_by_me(), #l " held exclusive by this thread")
#define DAXPOLICY_ASSERT_LOCKED(l) DAXPOLICY_CHECK((l).held_by_me(), #l " held by this thread")

} // namespace daxpolicy::fscore
