// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/volume_path.hpp"

#include "common/error.hpp"

#include <climits>

namespace daxpolicy::fscore::host
{

std::vector<std::string> volume_path_names(std::string_view path)
{
	auto refuse = [&](const std::string &why) {
		return Error(Errc::invalid_argument, "path '" + std::string(path) + "' " + why);
	};
	if (path.empty() || path[0] != '/')
		throw refuse("is not absolute");
	std::vector<std::string> names;
	size_t pos = 1;
	while (pos <= path.size()) {
		size_t end = path.find('/', pos);
		if (end == std::string_view::npos)
			end = path.size();
		std::string_view name = path.substr(pos, end - pos);
		pos = end + 1;
		if (name.empty())
			continue;
		if (name == "." || name == "..")
			throw refuse("must not contain '.' or '..'");
		if (name.find_first_of(std::string_view("\0\n", 2)) != std::string_view::npos)
			throw refuse("has a name holding a NUL or a newline");
		if (name.size() > NAME_MAX)
			throw refuse("has a name longer than " + std::to_string(NAME_MAX) +
			             " bytes");
		names.emplace_back(name);
	}
	return names;
}

std::string volume_path_of_names(const std::vector<std::string> &names)
{
	if (names.empty())
		return "/";
	std::string path;
	for (const auto &name : names)
		path += "/" + name;
	return path;
}

std::string relative_of_names(const std::vector<std::string> &names)
{
	if (names.empty())
		return ".";
	std::string path = names.front();
	for (size_t i = 1; i < names.size(); i++)
		path += "/" + names[i];
	return path;
}

std::optional<std::string> path_below_moved(const std::string &path, const std::string &from,
                                            const std::string &to)
{
	if (from == "/" || to == "/")
		return std::nullopt;
	if (path.size() <= from.size() + 1 || path.compare(0, from.size(), from) != 0 ||
	    path[from.size()] != '/')
		return std::nullopt;
	return to + path.substr(from.size());
}

std::optional<std::string> volume_path_under(std::string_view host_path,
                                             std::string_view mount_point)
{
	while (mount_point.size() > 1 && mount_point.back() == '/')
		mount_point.remove_suffix(1);
	if (mount_point.empty() || mount_point[0] != '/' || !host_path.starts_with(mount_point))
		return std::nullopt;
	std::string_view rest = host_path.substr(mount_point.size());
	if (mount_point == "/")
		return std::string(host_path);
	if (rest.empty())
		return "/";
	if (rest[0] != '/')
		return std::nullopt;
	return std::string(rest);
}

} // namespace daxpolicy::fscore::host
