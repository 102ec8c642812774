// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/notify.hpp"

#include <ctime>
#include <systemd/sd-daemon.h>

namespace daxpolicy::daemon
{

namespace
{

// A STATUS= value is one line.
std::string one_line(const std::string &text)
{
	return text.substr(0, text.find('\n'));
}

void notify(const std::string &state)
{
	sd_notify(0, state.c_str());
}

} // namespace

void notify_ready(const std::string &status)
{
	notify("READY=1\nSTATUS=" + one_line(status));
}

void notify_reloading(const std::string &status)
{
	timespec now{};
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t usec =
	    static_cast<uint64_t>(now.tv_sec) * 1000000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
	notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) +
	       "\nSTATUS=" + one_line(status));
}

void notify_status(const std::string &status)
{
	notify("STATUS=" + one_line(status));
}

void notify_stopping()
{
	notify("STOPPING=1\nSTATUS=stopping");
}

} // namespace daxpolicy::daemon
