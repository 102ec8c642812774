// SPDX-License-Identifier: BSD-3-Clause
#include "policy/walk_stream.hpp"

namespace daxpolicy::policy
{

namespace
{

// Thrown through Volume::walk to end it early: the walk keeps no lock while it visits,
// so unwinding from the visitor leaves the volume as it was.
struct Stopped {
};

} // namespace

WalkStream::WalkStream(fscore::Volume &volume, std::string path, Filter keep, uint64_t rate,
                       size_t capacity)
    : capacity_(capacity ? capacity : 1), rate_(rate),
      walker_([this, &volume, path = std::move(path), keep = std::move(keep)] {
	      run(volume, path, keep);
      })
{
}

WalkStream::~WalkStream()
{
	{
		std::lock_guard lock(mutex_);
		stop_ = true;
		ready_ = nullptr;
	}
	stopping_.store(true, std::memory_order_relaxed);
	space_.notify_all();
	walker_.join();
}

void WalkStream::run(fscore::Volume &volume, const std::string &path, const Filter &keep)
{
	std::exception_ptr error;
	try {
		volume.walk(path, [&](const fscore::FileInfo &file) {
			if (stopping_.load(std::memory_order_relaxed))
				throw Stopped{};
			if (rate_)
				pace();
			if (keep && !keep(file)) {
				visited_.fetch_add(1, std::memory_order_relaxed);
				return;
			}
			offer(file);
		});
	} catch (const Stopped &) {
		// The consumer went: nothing more is wanted.
	} catch (...) {
		error = std::current_exception();
	}
	std::unique_lock lock(mutex_);
	ended_ = true;
	error_ = error;
	notify_locked(lock);
}

void WalkStream::pace()
{
	auto due =
	    started_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
	                   std::chrono::duration<double>(
	                       static_cast<double>(visited_.load(std::memory_order_relaxed)) /
	                       static_cast<double>(rate_)));
	if (due <= std::chrono::steady_clock::now())
		return;
	std::unique_lock lock(mutex_);
	space_.wait_until(lock, due, [&] { return stop_; });
	if (stop_)
		throw Stopped{};
}

void WalkStream::offer(fscore::FileInfo file)
{
	std::unique_lock lock(mutex_);
	space_.wait(lock, [&] { return stop_ || queue_.size() < capacity_; });
	if (stop_)
		throw Stopped{};
	queue_.push_back(std::move(file));
	visited_.fetch_add(1, std::memory_order_relaxed);
	notify_locked(lock);
}

void WalkStream::notify_locked(std::unique_lock<std::mutex> &lock)
{
	filled_.notify_all();
	if (!ready_)
		return;
	// Called without the lock: `ready` may post to a loop that calls take() at once.
	auto ready = std::move(ready_);
	ready_ = nullptr;
	lock.unlock();
	ready();
	lock.lock();
}

size_t WalkStream::take(std::vector<fscore::FileInfo> &out, size_t max)
{
	size_t n = 0;
	{
		std::lock_guard lock(mutex_);
		while (n < max && !queue_.empty()) {
			out.push_back(std::move(queue_.front()));
			queue_.pop_front();
			n++;
		}
	}
	if (n)
		space_.notify_one();
	return n;
}

void WalkStream::wait()
{
	std::unique_lock lock(mutex_);
	filled_.wait(lock, [&] { return ended_ || !queue_.empty(); });
}

void WalkStream::when_ready(std::function<void()> ready)
{
	std::unique_lock lock(mutex_);
	if (ended_ || !queue_.empty()) {
		lock.unlock();
		ready();
		return;
	}
	ready_ = std::move(ready);
}

bool WalkStream::drained() const
{
	std::lock_guard lock(mutex_);
	return ended_ && queue_.empty();
}

uint64_t WalkStream::done() const
{
	std::lock_guard lock(mutex_);
	return visited_.load(std::memory_order_relaxed) - queue_.size();
}

void WalkStream::rethrow_error() const
{
	std::lock_guard lock(mutex_);
	if (error_)
		std::rethrow_exception(error_);
}

} // namespace daxpolicy::policy
