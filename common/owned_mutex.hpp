// SPDX-License-Identifier: BSD-3-Clause
// A mutex that knows which thread holds it, so that "with mutex_ held" is an assertion
// (xfs_isilocked(), RocksDB's mutex_.AssertHeld()) rather than a comment. Meets the Lockable
// requirements: std::unique_lock and std::condition_variable_any work with it.
#pragma once

#include "common/checks.hpp"

#include <atomic>
#include <mutex>
#include <thread>

namespace daxpolicy
{

class OwnedMutex
{
      public:
	void lock()
	{
		mutex_.lock();
		owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
	}
	bool try_lock()
	{
		if (!mutex_.try_lock())
			return false;
		owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
		return true;
	}
	void unlock()
	{
		owner_.store(std::thread::id(), std::memory_order_relaxed);
		mutex_.unlock();
	}
	// Relaxed is enough: only the owner writes its own id, and a thread reads back
	// what it wrote itself or something that is not its id.
	bool held_by_me() const
	{
		return owner_.load(std::memory_order_relaxed) == std::this_thread::get_id();
	}

      private:
	std::mutex mutex_;
	std::atomic<std::thread::id> owner_{};
};

} // namespace daxpolicy

#define DAXPOLICY_ASSERT_HELD(m) DAXPOLICY_CHECK((m).held_by_me(), #m " held by this thread")
