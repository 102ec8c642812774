// SPDX-License-Identifier: BSD-3-Clause
#include "cli/progress.hpp"

#include "cli/call.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace daxpolicy::cli
{

namespace
{

constexpr auto kPollEvery = std::chrono::milliseconds(250);

std::string duration_text(double seconds)
{
	auto s = static_cast<long>(seconds + 0.5);
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	return buf;
}

} // namespace

JobProgress::JobProgress(const Globals &g)
{
	if (isatty(STDERR_FILENO))
		poller_ = std::thread([this, &g] { run(g); });
}

JobProgress::~JobProgress()
{
	if (!poller_.joinable())
		return;
	{
		std::lock_guard lock(mutex_);
		stop_ = true;
	}
	wake_.notify_all();
	poller_.join();
	if (drawn_)
		std::fputs("\r\033[K", stderr);
}

void JobProgress::run(const Globals &g)
{
	auto started = std::chrono::steady_clock::now();
	std::unique_lock lock(mutex_);
	while (!wake_.wait_for(lock, kPollEvery, [&] { return stop_; })) {
		lock.unlock();
		json job;
		try {
			job = call(g, Method::status)[reply::reconcile];
		} catch (const std::exception &) {
			// A progress line is a nicety: the command's own call reports what failed.
		}
		lock.lock();
		if (stop_ || !job.is_object() || job.value("state", "") != "running")
			continue;
		double elapsed =
		    std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
		        .count();
		auto done = job.value("done", uint64_t{0});
		double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
		std::string line = "reconcile: " + std::to_string(done);
		if (job["total"].is_number()) {
			auto total = job["total"].get<uint64_t>();
			line += "/" + std::to_string(total);
			if (rate > 0 && total > done)
				line += " files, " +
				        duration_text(static_cast<double>(total - done) / rate) +
				        " left";
			else
				line += " files";
		} else {
			line += " files";
		}
		line += ", " + std::to_string(static_cast<uint64_t>(rate)) + "/s";
		if (auto queued = job.value("queued", 0); queued > 0)
			line += ", " + std::to_string(queued) + " more queued";
		std::fprintf(stderr, "\r\033[K%s", line.c_str());
		std::fflush(stderr);
		drawn_ = true;
	}
}

} // namespace daxpolicy::cli
