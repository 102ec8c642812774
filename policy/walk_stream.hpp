// SPDX-License-Identifier: BSD-3-Clause
// A volume walk on a thread of its own, into a bounded queue that the event loop takes files
// from in batches. The walk of a million-file tree neither stalls the loop (it runs beside
// it) nor holds the tree in memory (the walker waits while the queue is full).
//
// Threading: the walker thread calls only Volume::walk and the filter. Everything else is
// called from one consumer thread. Volume::walk must therefore tolerate other calls on the
// volume from the consumer meanwhile (both volume kinds take their own locks per batch and
// visit with none held).
#pragma once

#include "fscore/volume.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace daxpolicy::policy
{

class WalkStream
{
      public:
	// Runs on the walker thread for each file: only those it keeps are queued (the rest are
	// counted in visited() and dropped). It must use nothing the consumer changes.
	using Filter = std::function<bool(const fscore::FileInfo &)>;

	// `rate`: at most that many files a second walked (0: as fast as it goes), which
	// bounds what a reconcile asks of a production machine's disks.
	WalkStream(fscore::Volume &volume, std::string path, Filter keep, uint64_t rate = 0,
	           size_t capacity = 4096);
	// Stops the walk (at its next file) and joins the walker.
	~WalkStream();
	WalkStream(const WalkStream &) = delete;
	WalkStream &operator=(const WalkStream &) = delete;

	// Moves up to `max` queued files to the end of `out`; never blocks. Returns how many.
	size_t take(std::vector<fscore::FileInfo> &out, size_t max);
	// Blocks until a file is queued or the walk has ended.
	void wait();
	// `ready` is called once, from the walker thread or at once from this one, when a file
	// is queued or the walk has ended. A later call replaces an earlier one not yet made.
	void when_ready(std::function<void()> ready);
	// The walk has ended and every file it queued has been taken.
	bool drained() const;
	// Files the walk has passed, kept or not, that are no longer in the queue: what a
	// consumer that has handled every file taken has seen.
	uint64_t done() const;
	// Rethrows what stopped the walk early (the path went, the volume failed), if anything.
	void rethrow_error() const;

      private:
	void run(fscore::Volume &volume, const std::string &path, const Filter &keep);
	// The walker's visit: queues the file, waiting while the queue is full.
	void offer(fscore::FileInfo file);
	void notify_locked(std::unique_lock<std::mutex> &lock);
	// Sleeps while the walk is ahead of its rate.
	void pace();

	const size_t capacity_;
	const uint64_t rate_;
	std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
	// mutex_ protects queue_, ended_, error_, ready_ and stop_; the walker waits on
	// space_, the consumer (wait) on filled_.
	mutable std::mutex mutex_;
	std::condition_variable space_;
	std::condition_variable filled_;
	std::deque<fscore::FileInfo> queue_;
	std::function<void()> ready_;
	std::exception_ptr error_;
	bool ended_ = false;
	bool stop_ = false;
	std::atomic<uint64_t> visited_{0};
	// stop_ for the walker's files that the filter drops, which it passes without the lock.
	std::atomic<bool> stopping_{false};
	std::thread walker_; // last: started once everything it uses is made
};

} // namespace daxpolicy::policy
