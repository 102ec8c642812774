// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/dirent_reader.hpp"

#include "common/error.hpp"
#include "fscore/host/load_bytes.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>

namespace daxpolicy::fscore::host
{

namespace
{

// struct linux_dirent64's layout (include/linux/dirent.h): the name starts at byte 19.
constexpr size_t kInoOffset = 0;
constexpr size_t kReclenOffset = 16;
constexpr size_t kTypeOffset = 18;
constexpr size_t kNameOffset = 19;

} // namespace

std::optional<std::vector<Dirent>> parse_dirents(std::span<const std::byte> buffer)
{
	std::vector<Dirent> entries;
	size_t pos = 0;
	while (pos < buffer.size()) {
		auto rest = buffer.subspan(pos);
		if (rest.size() < kNameOffset)
			return std::nullopt;
		auto reclen = load_bytes<uint16_t>(rest, kReclenOffset);
		// At least the header and one byte of name (its NUL), and within the buffer.
		if (reclen <= kNameOffset || reclen > rest.size())
			return std::nullopt;
		auto name_bytes = rest.subspan(kNameOffset, reclen - kNameOffset);
		const char *name = reinterpret_cast<const char *>(name_bytes.data());
		const void *nul = std::memchr(name, '\0', name_bytes.size());
		if (!nul)
			return std::nullopt;
		std::string_view n(name, static_cast<const char *>(nul) - name);
		if (n.empty())
			return std::nullopt;
		if (n != "." && n != "..")
			entries.push_back({load_bytes<uint64_t>(rest, kInoOffset),
			                   load_bytes<unsigned char>(rest, kTypeOffset), n});
		pos += reclen;
	}
	return entries;
}

std::optional<Dirent> DirentReader::next()
{
	while (next_ == entries_.size()) {
		if (end_)
			return std::nullopt;
		ssize_t got = ::getdents64(fd_, buffer_.data(), buffer_.size());
		if (got < 0)
			throw system_error(what_ + ": getdents64", errno);
		if (got == 0) {
			end_ = true;
			return std::nullopt;
		}
		// The kernel never returns more than it was given room for.
		if (static_cast<size_t>(got) > buffer_.size())
			throw Error(Errc::internal,
			            what_ + ": getdents64 returned more than asked");
		auto parsed = parse_dirents(std::span(buffer_).first(static_cast<size_t>(got)));
		if (!parsed)
			throw Error(Errc::internal,
			            what_ + ": getdents64 returned a malformed record");
		entries_ = std::move(*parsed);
		next_ = 0;
	}
	return entries_[next_++];
}

} // namespace daxpolicy::fscore::host
