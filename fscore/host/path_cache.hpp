// SPDX-License-Identifier: BSD-3-Clause
// Where the host volume last saw each file, by identity. A host kernel has no lookup from an
// inode back to a path (open_by_handle_at needs CAP_DAC_READ_SEARCH, and the dentry it gives
// may be disconnected, so its path is not known either), so the volume remembers what stat
// and walk saw, and what the fanotify watcher hears of creates and renames, and checks an
// entry before it believes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace daxpolicy::fscore::host
{

class PathCache
{
      public:
	// Holds at most `capacity` (at least 1) files; the one used least recently goes first.
	explicit PathCache(size_t capacity) : capacity_(capacity ? capacity : 1) {}

	void learn(uint64_t ino, uint64_t generation, const std::string &path);
	// The same for a file not known yet; a path already cached (a stat's, since) stays.
	void learn_if_unknown(uint64_t ino, uint64_t generation, const std::string &path);
	std::optional<std::string> find(uint64_t ino, uint64_t generation);
	void forget(uint64_t ino, uint64_t generation);
	// A directory moved from `from` to `to`: every file cached strictly below `from` is
	// now below `to` ("/a/x" becomes "/b/x" for "/a" -> "/b"; "/ab" stays). Looks at
	// every entry, so only for directories.
	void rename_below(const std::string &from, const std::string &to);
	size_t size() const;

      private:
	struct Key {
		uint64_t ino;
		uint64_t generation;
		bool operator==(const Key &) const = default;
	};
	struct KeyHash {
		size_t operator()(const Key &k) const
		{
			return std::hash<uint64_t>()(k.ino) ^
			       (std::hash<uint64_t>()(k.generation) << 1);
		}
	};
	using Lru = std::list<std::pair<Key, std::string>>; // most recently used first
	// A key not in the index; with mutex_ held.
	void add(const Key &key, const std::string &path);

	size_t capacity_;
	mutable std::mutex mutex_; // protects lru_ and index_
	Lru lru_;
	std::unordered_map<Key, Lru::iterator, KeyHash> index_;
};

} // namespace daxpolicy::fscore::host
