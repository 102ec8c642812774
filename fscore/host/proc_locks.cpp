// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/proc_locks.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace daxpolicy::fscore::host
{

namespace
{

std::vector<std::string_view> fields_of(std::string_view line)
{
	std::vector<std::string_view> fields;
	size_t pos = 0;
	while (pos < line.size()) {
		size_t start = line.find_first_not_of(' ', pos);
		if (start == std::string_view::npos)
			break;
		size_t end = line.find(' ', start);
		end = end == std::string_view::npos ? line.size() : end;
		fields.push_back(line.substr(start, end - start));
		pos = end;
	}
	return fields;
}

template <class T> std::optional<T> number(std::string_view s, int base = 10)
{
	T v{};
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size())
		return std::nullopt;
	return v;
}

// "fe:00:10952883": the device in hex, the inode in decimal.
std::optional<FileId> file_of(std::string_view f)
{
	size_t a = f.find(':'), b = a == std::string_view::npos ? a : f.find(':', a + 1);
	if (b == std::string_view::npos)
		return std::nullopt;
	auto major = number<unsigned>(f.substr(0, a), 16);
	auto minor = number<unsigned>(f.substr(a + 1, b - a - 1), 16);
	auto ino = number<uint64_t>(f.substr(b + 1));
	if (!major || !minor || !ino)
		return std::nullopt;
	return FileId{*major, *minor, *ino};
}

} // namespace

std::optional<pid_t> lease_breaker_in(std::string_view locks, pid_t holder, const FileId &file)
{
	std::string_view ours; // the "N:" of our lease, once found
	size_t pos = 0;
	while (pos < locks.size()) {
		size_t end = locks.find('\n', pos);
		end = end == std::string_view::npos ? locks.size() : end;
		auto f = fields_of(locks.substr(pos, end - pos));
		pos = end + 1;
		// N: LEASE STATE TYPE PID DEV:INO START END, and waiters: N: -> LEASE ...
		if (f.size() >= 6 && f[1] == "LEASE") {
			auto pid = number<pid_t>(f[4]);
			auto id = file_of(f[5]);
			ours =
			    pid && *pid == holder && id && *id == file ? f[0] : std::string_view();
		} else if (!ours.empty() && f.size() >= 6 && f[0] == ours && f[1] == "->" &&
		           f[2] == "LEASE") {
			if (auto pid = number<pid_t>(f[5]))
				return pid;
		}
	}
	return std::nullopt;
}

std::optional<pid_t> lease_breaker(pid_t holder, const FileId &file)
{
	std::ifstream in("/proc/locks");
	std::ostringstream text;
	text << in.rdbuf();
	return lease_breaker_in(text.str(), holder, file);
}

} // namespace daxpolicy::fscore::host
