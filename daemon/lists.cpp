// SPDX-License-Identifier: BSD-3-Clause
#include "daemon/lists.hpp"

#include "daemon/views.hpp"
#include "fscore/lease_info.hpp"
#include "policy/engine.hpp"

#include <algorithm>
#include <deque>

namespace daxpolicy::daemon
{

namespace
{

using nlohmann::json;
using Pull = ItemSource::Pull;

// Rows a page of the store holds: a few hundred items, well under a reply's part.
constexpr int64_t kPageRows = 256;
// Event ids one step of an event list looks at: with a narrow filter over a long log, no step
// reads more than this many rows, and the loop turns between steps.
constexpr int64_t kEventWindow = 16384;

// The files of one tree, parents first. Until the walk stream (a walk on a worker thread into
// a bounded queue) is in, the tree is walked when its turn comes and its FileInfo kept; the
// views and replies are still made a part at a time.
class TreeWalk
{
      public:
	TreeWalk(fscore::Volume &vol, const std::string &path)
	{
		vol.walk(path, [&](const fscore::FileInfo &fi) { files_.push_back(fi); });
	}
	const fscore::FileInfo *next()
	{
		if (!files_.empty() && taken_)
			files_.pop_front();
		taken_ = true;
		return files_.empty() ? nullptr : &files_.front();
	}

      private:
	std::deque<fscore::FileInfo> files_;
	bool taken_ = false;
};

class FileSource : public ItemSource
{
      public:
	FileSource(policy::Engine &engine, std::vector<std::pair<std::string, std::string>> targets,
	           bool recursive, FileItem item, bool missing_is_item)
	    : engine_(engine), targets_(std::move(targets)), recursive_(recursive),
	      item_(std::move(item)), missing_is_item_(missing_is_item)
	{
	}

	Pull next(json &out) override
	{
		while (next_ < targets_.size()) {
			const auto &[volume, path] = targets_[next_];
			std::optional<json> item;
			try {
				item = next_item(volume, path);
			} catch (const Error &e) {
				if (!missing_is_item_ || e.code() != Errc::not_found || walk_)
					throw;
				if (recursive_)  // (a single one has moved on already)
					next_++; // this target is missing; the others are listed
				item = json{{"path", file_name(volume, path)},
				            {"error", errc_name(e.code())},
				            {"message", e.what()}};
			}
			if (item) {
				out = std::move(*item);
				return Pull::item;
			}
		}
		return Pull::end;
	}

      private:
	// The target's next item, or nothing (it is done, or the item was left out).
	std::optional<json> next_item(const std::string &volume, const std::string &path)
	{
		if (!recursive_) {
			next_++;
			return item_({volume, path, nullptr});
		}
		if (!walk_) {
			engine_.volume(volume).stat(path); // not-found for this target alone
			walk_.emplace(engine_.volume(volume), path);
		}
		const fscore::FileInfo *file = walk_->next();
		if (!file) {
			walk_.reset();
			next_++;
			return std::nullopt;
		}
		return item_({volume, file->path, file});
	}

	policy::Engine &engine_;
	std::vector<std::pair<std::string, std::string>> targets_;
	bool recursive_;
	FileItem item_;
	bool missing_is_item_;
	size_t next_ = 0; // the target under way
	std::optional<TreeWalk> walk_;
};

} // namespace

std::unique_ptr<ItemSource> file_source(policy::Engine &engine,
                                        std::vector<std::pair<std::string, std::string>> targets,
                                        bool recursive, FileItem item, bool missing_is_item)
{
	return std::make_unique<FileSource>(engine, std::move(targets), recursive, std::move(item),
	                                    missing_is_item);
}

std::unique_ptr<ItemSource> rule_source(policy::Store &store)
{
	return std::make_unique<PagedSource>([&store, after = std::string()](auto &page) mutable {
		auto rules = store.rules_page(after, kPageRows);
		if (!rules.empty())
			after = rules.back().name;
		for (const auto &r : rules)
			page.push_back(rule_json(r));
		return int64_t(rules.size()) == kPageRows;
	});
}

std::unique_ptr<ItemSource> pending_source(policy::Engine &engine, policy::Store &store)
{
	return std::make_unique<PagedSource>(
	    [&engine, &store, after = std::optional<policy::PendingKey>()](auto &page) mutable {
		    auto changes = store.pending_page(after, kPageRows);
		    if (!changes.empty())
			    after = policy::PendingKey::of(changes.back());
		    for (auto &c : changes) {
			    engine.locate(c);
			    page.push_back(pending_json(c));
		    }
		    return int64_t(changes.size()) == kPageRows;
	    });
}

std::unique_ptr<ItemSource> event_source(policy::Store &store, policy::EventQuery query,
                                         int64_t after_id)
{
	policy::EventRange range = store.event_range(query);
	range.after = std::max(range.after, after_id);
	return std::make_unique<PagedSource>(
	    [&store, query = std::move(query), range](auto &page) mutable {
		    policy::EventRange window{range.after,
		                              std::min(range.through, range.after + kEventWindow)};
		    auto events = store.events_page(query, window, kPageRows);
		    range.after =
		        int64_t(events.size()) == kPageRows ? events.back().id : window.through;
		    for (const auto &e : events)
			    page.push_back(e.to_json());
		    return range.after < range.through;
	    });
}

std::unique_ptr<ItemSource> lease_source(policy::Engine &engine,
                                         std::optional<std::string> only_volume,
                                         std::optional<std::string> path)
{
	std::vector<std::string> volumes;
	for (const auto &[name, vol] : engine.volumes())
		if ((!only_volume || name == *only_volume) && vol->info().can.layout_leases)
			volumes.push_back(name);
	// A page a volume: its lease table is in memory already, and bounded by its mappings.
	return std::make_unique<PagedSource>([&engine, volumes = std::move(volumes),
	                                      path = std::move(path),
	                                      next = size_t(0)](auto &page) mutable {
		if (next == volumes.size())
			return false;
		const std::string &name = volumes[next++];
		for (const auto &l : engine.volume(name).leases(path))
			page.push_back({{"path", file_name(name, l.path)},
			                {"ino", l.ino},
			                {"holder", {{"pid", l.holder.pid}, {"uid", l.holder.uid}}},
			                {"range", {{"offset", l.offset}, {"length", l.length}}},
			                {"since", policy::rfc3339_from_ms(l.since_ms)},
			                {"kind", fscore::lease_kind_name(l.kind)},
			                {"state", fscore::lease_state_name(l.state)}});
		return next < volumes.size();
	});
}

} // namespace daxpolicy::daemon
