// SPDX-License-Identifier: BSD-3-Clause
// The embedded volume's namespace mirror: every directory's entries by name and every linked
// file's parent, in DRAM, as the pool's directory blocks hold them. Path lookup runs here
// alone; the volume (namespace.cpp) stages each change of a directory block in a transaction
// and changes the mirror to match, undoing it should the transaction be abandoned.
#pragma once

#include "common/owned_mutex.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace daxpolicy::fscore
{

class DirIndex
{
      public:
	struct Entry {
		uint64_t ino;
		uint64_t slot; // of the directory's Dirent array
	};
	struct Directory {
		std::map<std::string, Entry, std::less<>> entries;
		std::vector<uint64_t> free_slots; // taken from the back
		uint64_t slots = 0;               // size / kDirentSize
		// The pool block of each of its blocks, so that finding a slot costs no load of
		// its extent map, which grows with the directory.
		std::vector<uint64_t> blocks;
	};
	struct Parent {
		uint64_t dir;
		std::string name;
	};

	// `volume_lock` guards everything here: each member asserts it is held.
	explicit DirIndex(const OwnedMutex &volume_lock) : lock_(volume_lock) {}
	DirIndex(const DirIndex &) = delete;
	DirIndex &operator=(const DirIndex &) = delete;

	// The file `path` names; not_found when there is none, invalid_argument when the path
	// is not one a volume takes (relative, '.', '..', NUL, newline, a name too long).
	uint64_t resolve(const std::string &path) const;
	// The directory that holds what `path` names, and the last name.
	std::pair<uint64_t, std::string> resolve_parent(const std::string &path) const;
	// The path of a linked file.
	std::string path_of(uint64_t ino) const;

	bool is_directory(uint64_t ino) const;
	// nullptr when `ino` is not a directory.
	const Directory *find(uint64_t ino) const;
	Directory &at(uint64_t ino);
	const std::unordered_map<uint64_t, Directory> &directories() const;
	const std::unordered_map<uint64_t, Parent> &parents() const;
	const Parent &parent(uint64_t ino) const;

	Directory &add_directory(uint64_t ino);
	void remove_directory(uint64_t ino);
	// Adds the entry `name` of `dir` at `slot`, and `ino`'s parent link. The directory's
	// free slots are the caller's to keep.
	void link(uint64_t dir, const std::string &name, uint64_t ino, uint64_t slot);
	// Removes the entry and its file's parent link, and returns the entry.
	Entry unlink(uint64_t dir, const std::string &name);

      private:
	const OwnedMutex &lock_;
	std::unordered_map<uint64_t, Directory> dirs_;
	std::unordered_map<uint64_t, Parent> parents_;
};

} // namespace daxpolicy::fscore
