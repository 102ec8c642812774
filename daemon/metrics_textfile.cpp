// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/metrics_textfile.hpp"

#include "common/error.hpp"
#include "daemon/log.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace daxpolicy::daemon
{

MetricsTextfile::MetricsTextfile(boost::asio::io_context &io, std::filesystem::path file,
                                 std::function<std::string()> render)
    : file_(std::move(file)), render_(std::move(render)), timer_(io)
{
	write();
	schedule();
}

void MetricsTextfile::write()
{
	std::string text = render_();
	std::string temp = file_.string() + ".tmp";
	int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		throw system_error("metrics_textfile " + temp, errno);
	ssize_t n = ::write(fd, text.data(), text.size());
	int error = n == static_cast<ssize_t>(text.size()) ? 0 : (n < 0 ? errno : ENOSPC);
	if (::close(fd) != 0 && !error)
		error = errno;
	if (!error && ::rename(temp.c_str(), file_.c_str()) != 0)
		error = errno;
	if (error) {
		::unlink(temp.c_str());
		throw system_error("metrics_textfile " + file_.string(), error);
	}
}

void MetricsTextfile::schedule()
{
	timer_.expires_after(kPeriod);
	timer_.async_wait([this](boost::system::error_code ec) {
		if (ec || stopped_)
			return;
		try {
			write();
		} catch (const std::exception &e) {
			// A full disk now is no reason to stop: the next period tries again.
			log(Priority::warning, e.what());
		}
		schedule();
	});
}

void MetricsTextfile::stop()
{
	if (stopped_)
		return;
	stopped_ = true;
	timer_.cancel();
	try {
		write();
	} catch (const std::exception &e) {
		log(Priority::warning, e.what());
	}
}

} // namespace daxpolicy::daemon
