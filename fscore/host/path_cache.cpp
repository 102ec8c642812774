// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/path_cache.hpp"

#include "fscore/host/volume_path.hpp"

namespace daxpolicy::fscore::host
{

void PathCache::learn(uint64_t ino, uint64_t generation, const std::string &path)
{
	std::lock_guard lock(mutex_);
	Key key{ino, generation};
	if (auto it = index_.find(key); it != index_.end()) {
		it->second->second = path;
		lru_.splice(lru_.begin(), lru_, it->second);
		return;
	}
	add(key, path);
}

void PathCache::learn_if_unknown(uint64_t ino, uint64_t generation, const std::string &path)
{
	std::lock_guard lock(mutex_);
	Key key{ino, generation};
	if (!index_.count(key))
		add(key, path);
}

void PathCache::add(const Key &key, const std::string &path)
{
	if (lru_.size() == capacity_) {
		index_.erase(lru_.back().first);
		lru_.pop_back();
	}
	lru_.emplace_front(key, path);
	index_.emplace(key, lru_.begin());
}

std::optional<std::string> PathCache::find(uint64_t ino, uint64_t generation)
{
	std::lock_guard lock(mutex_);
	auto it = index_.find({ino, generation});
	if (it == index_.end())
		return std::nullopt;
	lru_.splice(lru_.begin(), lru_, it->second);
	return it->second->second;
}

void PathCache::forget(uint64_t ino, uint64_t generation)
{
	std::lock_guard lock(mutex_);
	auto it = index_.find({ino, generation});
	if (it == index_.end())
		return;
	lru_.erase(it->second);
	index_.erase(it);
}

void PathCache::rename_below(const std::string &from, const std::string &to)
{
	std::lock_guard lock(mutex_);
	for (auto &[key, path] : lru_)
		if (auto moved = path_below_moved(path, from, to))
			path = std::move(*moved);
}

size_t PathCache::size() const
{
	std::lock_guard lock(mutex_);
	return lru_.size();
}

} // namespace daxpolicy::fscore::host
