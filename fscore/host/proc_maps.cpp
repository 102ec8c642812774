// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/proc_maps.hpp"

#include <charconv>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace daxpolicy::fscore::host
{

namespace
{

// The next space-separated field of `line` from `pos`, or nothing at the end.
std::optional<std::string_view> field(std::string_view line, size_t &pos)
{
	while (pos < line.size() && line[pos] == ' ')
		pos++;
	if (pos >= line.size())
		return std::nullopt;
	size_t end = line.find(' ', pos);
	if (end == std::string_view::npos)
		end = line.size();
	auto f = line.substr(pos, end - pos);
	pos = end;
	return f;
}

template <class T> std::optional<T> number(std::string_view s, int base)
{
	T value{};
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size())
		return std::nullopt;
	return value;
}

std::optional<FileId> file_of_line(std::string_view line)
{
	size_t pos = 0;
	auto range = field(line, pos);
	auto perms = field(line, pos);
	auto offset = field(line, pos);
	auto dev = field(line, pos);
	auto ino = field(line, pos);
	if (!range || !perms || !offset || !dev || !ino)
		return std::nullopt;
	size_t colon = dev->find(':');
	if (colon == std::string_view::npos)
		return std::nullopt;
	auto major = number<unsigned>(dev->substr(0, colon), 16);
	auto minor = number<unsigned>(dev->substr(colon + 1), 16);
	auto inode = number<uint64_t>(*ino, 10);
	if (!major || !minor || !inode)
		return std::nullopt;
	return FileId{*major, *minor, *inode};
}

bool is_pid(const std::string &name)
{
	return !name.empty() && name.find_first_not_of("0123456789") == std::string::npos;
}

} // namespace

uint32_t count_mappings_in(std::istream &maps, const FileId &file)
{
	uint32_t count = 0;
	// Anonymous mappings have inode 0, which no file has.
	if (file.ino == 0)
		return 0;
	for (std::string line; std::getline(maps, line);)
		if (file_of_line(line) == file)
			count++;
	return count;
}

uint32_t count_mappings(const FileId &file, const std::filesystem::path &proc)
{
	uint32_t count = 0;
	std::error_code ec;
	for (std::filesystem::directory_iterator it(proc, ec), end; !ec && it != end;
	     it.increment(ec)) {
		if (!is_pid(it->path().filename().string()))
			continue;
		std::ifstream maps(it->path() / "maps");
		count += count_mappings_in(maps, file);
	}
	return count;
}

} // namespace daxpolicy::fscore::host
