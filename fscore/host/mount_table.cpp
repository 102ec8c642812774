// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/mount_table.hpp"

#include <charconv>

namespace daxpolicy::fscore::host
{

namespace
{

// Fields are separated by single spaces; empty fields (two spaces) are kept, so that a
// malformed line fails the parse rather than shifting every field after it.
std::vector<std::string_view> split(std::string_view text, char sep)
{
	std::vector<std::string_view> parts;
	size_t pos = 0;
	for (;;) {
		size_t end = text.find(sep, pos);
		if (end == std::string_view::npos) {
			parts.push_back(text.substr(pos));
			return parts;
		}
		parts.push_back(text.substr(pos, end - pos));
		pos = end + 1;
	}
}

template <class T> std::optional<T> number(std::string_view s)
{
	T value{};
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size())
		return std::nullopt;
	return value;
}

bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

std::optional<MountEntry> parse_line(std::string_view line)
{
	auto fields = split(line, ' ');
	// Fields 1-6, optional fields (any number, none included), "-", then three more.
	constexpr size_t kBefore = 6, kAfter = 3;
	if (fields.size() < kBefore + 1 + kAfter)
		return std::nullopt;
	size_t dash = kBefore;
	while (dash < fields.size() && fields[dash] != "-")
		dash++;
	if (dash + 1 + kAfter != fields.size())
		return std::nullopt;
	auto dev = split(fields[2], ':');
	if (dev.size() != 2)
		return std::nullopt;
	auto id = number<uint64_t>(fields[0]);
	auto parent = number<uint64_t>(fields[1]);
	auto major = number<unsigned>(dev[0]);
	auto minor = number<unsigned>(dev[1]);
	if (!id || !parent || !major || !minor)
		return std::nullopt;
	MountEntry e;
	e.mount_id = *id;
	e.parent_id = *parent;
	e.dev_major = *major;
	e.dev_minor = *minor;
	e.root = unescape_mount_field(fields[3]);
	e.mount_point = unescape_mount_field(fields[4]);
	e.mount_options = unescape_mount_field(fields[5]);
	e.fstype = unescape_mount_field(fields[dash + 1]);
	e.source = unescape_mount_field(fields[dash + 2]);
	e.super_options = unescape_mount_field(fields[dash + 3]);
	// Paths are absolute, and no path holds a NUL (an escaped \000 would make one).
	auto is_path = [](const std::string &p) {
		return !p.empty() && p[0] == '/' && p.find('\0') == std::string::npos;
	};
	if (!is_path(e.root) || !is_path(e.mount_point) || e.fstype.empty())
		return std::nullopt;
	return e;
}

} // namespace

std::string unescape_mount_field(std::string_view field)
{
	std::string out;
	out.reserve(field.size());
	for (size_t i = 0; i < field.size(); i++) {
		// \ooo: at most \377, one byte.
		if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' &&
		    field[i + 1] <= '3' && is_octal(field[i + 2]) && is_octal(field[i + 3])) {
			out.push_back(static_cast<char>((field[i + 1] - '0') * 64 +
			                                (field[i + 2] - '0') * 8 +
			                                (field[i + 3] - '0')));
			i += 3;
			continue;
		}
		out.push_back(field[i]);
	}
	return out;
}

std::vector<MountEntry> parse_mountinfo(std::string_view text)
{
	std::vector<MountEntry> entries;
	for (auto line : split(text, '\n'))
		if (auto e = parse_line(line))
			entries.push_back(std::move(*e));
	return entries;
}

std::optional<DaxMode> dax_mode_of_options(std::string_view super_options)
{
	std::optional<DaxMode> mode = DaxMode::inode;
	// The last one given wins, as the kernel's option parser does.
	for (auto option : split(super_options, ',')) {
		if (option == "dax")
			mode = DaxMode::always;
		else if (option.starts_with("dax="))
			mode = dax_mode_from_name(option.substr(4));
	}
	return mode;
}

} // namespace daxpolicy::fscore::host
