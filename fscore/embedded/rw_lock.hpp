// SPDX-License-Identifier: BSD-3-Clause
// A reader-writer lock that prefers writers: once a writer waits, new readers wait behind it,
// as with the kernel's rw_semaphore. std::shared_mutex on glibc lets readers in ahead of a
// waiting writer, so a steady stream of reads (or of mapped accesses) could hold off a
// truncate, or a lease break past its timeout, for ever.
//
// Not recursive: a thread that holds it shared must not take it shared again, or it can
// deadlock behind a waiting writer. Meets the SharedMutex requirements, so std::unique_lock
// and std::shared_lock work with it.
#pragma once

#include "common/checks.hpp"

#include <atomic>
#include <pthread.h>
#include <system_error>
#include <thread>

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
	void lock_shared() { check(pthread_rwlock_rdlock(&lock_)); }
	bool try_lock_shared() { return pthread_rwlock_tryrdlock(&lock_) == 0; }
	void unlock_shared() { pthread_rwlock_unlock(&lock_); }
	// Whether this thread holds it exclusive. (Who holds it shared is not tracked.)
	bool written_by_me() const
	{
		return writer_.load(std::memory_order_relaxed) == std::this_thread::get_id();
	}

      private:
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

} // namespace daxpolicy::fscore
