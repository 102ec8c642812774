// SPDX-License-Identifier: BSD-3-Clause
// The load generator's side of a Unix stream socket: send one NUL-terminated varlink message,
// read one NUL-terminated reply. The same bytes go to the daemon and to the bare server, so
// the client's own cost is the same on both sides of a comparison.
#pragma once

#include <string>
#include <string_view>

namespace daxpolicy::bench
{

class UnixClient
{
      public:
	explicit UnixClient(const std::string &socket_path);
	~UnixClient();
	UnixClient(const UnixClient &) = delete;
	UnixClient &operator=(const UnixClient &) = delete;

	// Sends `message` (without its NUL) and returns the reply (without its NUL).
	std::string call(std::string_view message);

      private:
	int fd_ = -1;
	std::string buffer_; // bytes read past the last reply's NUL
};

} // namespace daxpolicy::bench
