// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/io_session.hpp"

#include "common/error.hpp"

#include <functional>
#include <memory>

namespace daxpolicy::daemon
{

IoSession::IoSession(fscore::Volume &volume, std::string volume_name, std::string path,
                     fscore::Holder holder)
    : target_(volume, std::move(volume_name), std::move(path), volume.open_session(holder)),
      worker_([this] { work(); })
{
}

IoSession::~IoSession()
{
	{
		std::lock_guard lock(mutex_);
		stopping_ = true;
	}
	target_.session->cancel();
	wake_.notify_all();
	worker_.join();
}

void IoSession::submit(std::vector<std::string> argv, bool create, Done done)
{
	{
		std::lock_guard lock(mutex_);
		jobs_.push_back([this, argv = std::move(argv), create, done = std::move(done)] {
			IoResult result;
			try {
				target_.create = target_.create || create;
				IoOutput o = run_io_command(target_, argv);
				result.out = std::move(o.out);
				result.flag_was = o.flag_was;
				if (o.shows_file)
					result.file = target_.file_info();
				// What this session's holders were told since its last command.
				nlohmann::json notices = nlohmann::json::array();
				for (const auto &n : target_.session->take_notices())
					notices.push_back(
					    {{"path", target_.volume_name + ":" + n.path},
					     {"op", n.op},
					     {"offset", n.offset},
					     {"length", n.length},
					     {"must_release", n.must_release}});
				if (!notices.empty())
					result.out["notices"] = notices;
			} catch (const Error &e) {
				result.error.emplace(e.code(), e.what());
			} catch (const std::exception &e) {
				result.error.emplace(Errc::internal, e.what());
			}
			done(std::move(result));
		});
	}
	wake_.notify_one();
}

void IoSession::work()
{
	for (;;) {
		std::function<void()> job;
		{
			std::unique_lock lock(mutex_);
			wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
			if (stopping_)
				return; // queued commands of a client that is gone are dropped
			job = std::move(jobs_.front());
			jobs_.pop_front();
		}
		job();
	}
}

} // namespace daxpolicy::daemon
