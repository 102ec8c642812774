// SPDX-License-Identifier: BSD-3-Clause
// What systemd hears of the daemon's life (sd_notify): ready, reloading, stopping, and a
// STATUS= line `systemctl status` shows. Outside systemd (no $NOTIFY_SOCKET) each is a no-op.
#pragma once

#include <string>

namespace daxpolicy::daemon
{

void notify_ready(const std::string &status);
// With MONOTONIC_USEC=, which systemd 253+ needs to tell this reload from an earlier one.
void notify_reloading(const std::string &status);
void notify_status(const std::string &status);
void notify_stopping();

} // namespace daxpolicy::daemon
