// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/dir_index.hpp"

#include "common/error.hpp"
#include "fscore/embedded/ondisk/layout.hpp"

#include <string_view>

namespace daxpolicy::fscore
{

namespace
{

std::vector<std::string> components(const std::string &path)
{
	if (path.empty() || path[0] != '/')
		throw Error(Errc::invalid_argument, "path '" + path + "' is not absolute");
	std::vector<std::string> parts;
	size_t pos = 1;
	while (pos <= path.size()) {
		size_t end = path.find('/', pos);
		if (end == std::string::npos)
			end = path.size();
		std::string part = path.substr(pos, end - pos);
		if (part == "." || part == "..")
			throw Error(Errc::invalid_argument,
			            "path '" + path + "' must not contain '.' or '..'");
		if (part.find_first_of(std::string_view("\0\n", 2)) != std::string::npos)
			throw Error(Errc::invalid_argument,
			            "path '" + path + "': names must not hold a NUL or a newline");
		if (part.size() > kNameMax)
			throw Error(Errc::invalid_argument, "name '" + part + "' is longer than " +
			                                        std::to_string(kNameMax) +
			                                        " bytes");
		if (!part.empty())
			parts.push_back(std::move(part));
		pos = end + 1;
	}
	return parts;
}

} // namespace

uint64_t DirIndex::resolve(const std::string &path) const
{
	DAXPOLICY_ASSERT_HELD(lock_);
	uint64_t ino = kRootIno;
	for (const auto &part : components(path)) {
		auto dir = dirs_.find(ino);
		if (dir == dirs_.end())
			throw Error(Errc::not_found, path + ": a component is not a directory");
		auto it = dir->second.entries.find(part);
		if (it == dir->second.entries.end())
			throw Error(Errc::not_found, path + ": no such file or directory");
		ino = it->second.ino;
	}
	return ino;
}

std::pair<uint64_t, std::string> DirIndex::resolve_parent(const std::string &path) const
{
	DAXPOLICY_ASSERT_HELD(lock_);
	auto parts = components(path);
	if (parts.empty())
		throw Error(Errc::invalid_argument, "the root directory cannot be named here");
	std::string name = parts.back();
	std::string parent = "/";
	for (size_t i = 0; i + 1 < parts.size(); i++)
		parent += (i ? "/" : "") + parts[i];
	uint64_t dir = resolve(parent);
	if (!dirs_.count(dir))
		throw Error(Errc::not_found, parent + ": not a directory");
	return {dir, name};
}

std::string DirIndex::path_of(uint64_t ino) const
{
	DAXPOLICY_ASSERT_HELD(lock_);
	std::string path;
	while (ino != kRootIno) {
		const Parent &p = parents_.at(ino);
		path = "/" + p.name + path;
		ino = p.dir;
	}
	return path.empty() ? "/" : path;
}

bool DirIndex::is_directory(uint64_t ino) const
{
	DAXPOLICY_ASSERT_HELD(lock_);
	return dirs_.count(ino) > 0;
}

const DirIndex::Directory *DirIndex::find(uint64_t ino) const
{
	DAXPOLICY_ASSERT_HELD(lock_);
	auto it = dirs_.find(ino);
	return it == dirs_.end() ? nullptr : &it->second;
}

DirIndex::Directory &DirIndex::at(uint64_t ino)
{
	DAXPOLICY_ASSERT_HELD(lock_);
	return dirs_.at(ino);
}

const std::unordered_map<uint64_t, DirIndex::Directory> &DirIndex::directories() const
{
	DAXPOLICY_ASSERT_HELD(lock_);
	return dirs_;
}

const std::unordered_map<uint64_t, DirIndex::Parent> &DirIndex::parents() const
{
	DAXPOLICY_ASSERT_HELD(lock_);
	return parents_;
}

const DirIndex::Parent &DirIndex::parent(uint64_t ino) const
{
	DAXPOLICY_ASSERT_HELD(lock_);
	return parents_.at(ino);
}

DirIndex::Directory &DirIndex::add_directory(uint64_t ino)
{
	DAXPOLICY_ASSERT_HELD(lock_);
	return dirs_[ino];
}

void DirIndex::remove_directory(uint64_t ino)
{
	DAXPOLICY_ASSERT_HELD(lock_);
	dirs_.erase(ino);
}

void DirIndex::link(uint64_t dir, const std::string &name, uint64_t ino, uint64_t slot)
{
	DAXPOLICY_ASSERT_HELD(lock_);
	dirs_.at(dir).entries.emplace(name, Entry{ino, slot});
	parents_[ino] = Parent{dir, name};
}

DirIndex::Entry DirIndex::unlink(uint64_t dir, const std::string &name)
{
	DAXPOLICY_ASSERT_HELD(lock_);
	auto &entries = dirs_.at(dir).entries;
	auto it = entries.find(name);
	if (it == entries.end())
		throw Error(Errc::internal, "unlinking '" + name + "', which is not there");
	Entry entry = it->second;
	entries.erase(it);
	parents_.erase(entry.ino);
	return entry;
}

} // namespace daxpolicy::fscore
