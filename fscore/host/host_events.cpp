// SPDX-License-Identifier: BSD-3-Clause
// HostVolume's events: what the fanotify watcher reads (fanotify_records.hpp), turned into
// VolumeEvents with volume paths and told to the listeners, on the watcher's thread.
//
// An event names directories by file handle: each is opened with open_by_handle_at through
// the volume's own mount, its path read from /proc/self/fd/N, and that path checked by
// opening it again beneath the root (openat2, as every path of the volume is) and comparing
// the inode: a directory outside the mount's root (the filesystem is mounted elsewhere too),
// behind another mount, or moved meanwhile does not pass as a volume path. The object's
// identity comes from its own handle where its type says how to read it (file_handle.hpp),
// else from a stat of its path.
#include "common/error.hpp"
#include "fscore/host/fanotify_group.hpp"
#include "fscore/host/file_handle.hpp"
#include "fscore/host/host_volume.hpp"
#include "fscore/host/inotify_records.hpp"
#include "fscore/host/kernel_calls.hpp"
#include "fscore/host/volume_path.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace daxpolicy::fscore
{

namespace
{

// The path the kernel has for a descriptor's dentry now, through the mount it was opened on.
std::optional<std::string> link_of(int fd)
{
	char buf[PATH_MAX + 1];
	ssize_t n = ::readlink(host::proc_fd_path(fd).c_str(), buf, sizeof buf);
	if (n <= 0 || static_cast<size_t>(n) >= sizeof buf)
		return std::nullopt; // failed, or cut short
	return std::string(buf, static_cast<size_t>(n));
}

std::string child_of(const std::string &dir, const std::string &name)
{
	if (name == ".")
		return dir; // an event on the directory itself
	return dir == "/" ? "/" + name : dir + "/" + name;
}

std::optional<struct stat> stat_of(int fd)
{
	struct stat st;
	if (::fstat(fd, &st) != 0)
		return std::nullopt;
	return st;
}

constexpr uint64_t kClose = FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE;

} // namespace

void HostVolume::start_events()
{
	using Events = Options::Events;
	if (options_.events == Events::none) {
		events_unavailable_ = "events are off (HostVolume::Options::events)";
		return;
	}
	self_ = ::getpid();
	if (options_.events == Events::inotify)
		events_unavailable_ = "fanotify is not used (HostVolume::Options::events)";
	else if (start_fanotify())
		return;
	start_inotify();
}

bool HostVolume::start_fanotify()
{
	struct statfs sfs = {};
	if (!events_root_ || ::fstatfs(events_root_.get(), &sfs) != 0) {
		events_unavailable_ =
		    std::string("opening the mount's root: ") + std::strerror(errno);
		return false;
	}
	static_assert(sizeof sfs.f_fsid == sizeof fsid_);
	std::memcpy(fsid_.data(), &sfs.f_fsid, sizeof fsid_);
	host::FanotifyGroup group = host::open_fanotify_group(events_root_.get());
	if (!group.fd) {
		events_unavailable_ = std::move(group.unavailable);
		return false;
	}
	// The copy of the mount tree flag changes open their files through (by handle).
	quiet_tree_ = host::quiet_mount_tree(group.fd.get(), root_.get());
	if (quiet_tree_)
		quiet_root_ = host::UniqueFd(
		    ::openat(quiet_tree_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	try {
		watcher_ = std::make_unique<host::EventWatcher>(
		    std::move(group.fd),
		    [this](std::span<const std::byte> bytes, const std::atomic<bool> &stopping) {
			    read_fanotify(bytes, stopping);
		    },
		    [this] { lost_events(); });
		return true;
	} catch (const std::exception &e) {
		events_unavailable_ = std::string("starting the event watcher: ") + e.what();
		return false;
	}
}

void HostVolume::start_inotify()
{
	host::UniqueFd instance = host::InotifyWatches::open_instance();
	if (!instance) {
		events_unavailable_ += std::string("; inotify_init1: ") + std::strerror(errno);
		return;
	}
	auto watches =
	    std::make_unique<host::InotifyWatches>(instance.get(), options_.inotify_watches);
	try {
		watcher_ = std::make_unique<host::EventWatcher>(
		    std::move(instance),
		    [this](std::span<const std::byte> bytes, const std::atomic<bool> &stopping) {
			    read_inotify(bytes, stopping);
		    },
		    [this] { lost_events(); });
	} catch (const std::exception &e) {
		events_unavailable_ += std::string("; starting the inotify watcher: ") + e.what();
		return;
	}
	inotify_ = std::move(watches);
}

void HostVolume::lost_events()
{
	listeners_.notify({VolumeEvent{VolumeEvent::Kind::overflow, 0, 0, {}, {}, {}}});
}

void HostVolume::read_fanotify(std::span<const std::byte> bytes, const std::atomic<bool> &stopping)
{
	host::ParsedEvents parsed = host::parse_fanotify_events(bytes);
	for (const auto &event : parsed.events) {
		if (stopping)
			return;
		try {
			on_kernel_event(event);
		} catch (...) {
			// The listener's or the volume's trouble with this one event; the next
			// ones are still worth handing on.
		}
	}
	if (parsed.garbled || parsed.cut)
		lost_events();
}

std::string HostVolume::events_unavailable() const
{
	if (watcher_ && !watcher_->running())
		return "the event watcher stopped: reading its notifications failed";
	if (!inotify_)
		return events_unavailable_;
	return events_unavailable_ +
	       "; created, moved and removed files are heard through inotify "
	       "on the directories walked (" +
	       std::to_string(inotify_->watched()) + " of at most " +
	       std::to_string(options_.inotify_watches) + ", " +
	       std::to_string(inotify_->refused()) + " refused), released ones are not";
}

bool HostVolume::ours(const host::FidRecord &record) const
{
	return record.fsid == fsid_;
}

HostVolume::Place HostVolume::place_of(const host::FidRecord &dir) const
{
	if (!ours(dir))
		return {Place::Where::outside, {}};
	host::UniqueFd fd = host::open_handle(events_root_.get(), dir.handle, O_PATH | O_DIRECTORY);
	if (!fd)
		return {Place::Where::unknown, {}};
	return place_of_fd(fd.get());
}

HostVolume::Place HostVolume::place_of_fd(int fd) const
{
	using Where = Place::Where;
	auto st = stat_of(fd);
	if (!st || st->st_nlink == 0)
		return {Where::unknown, {}};
	// A rename between the readlink and the check makes them disagree: the path is read
	// again until it stays the same.
	std::optional<std::string> last;
	for (;;) {
		auto link = link_of(fd);
		if (!link || link == last)
			return {Where::outside, {}};
		last = link;
		auto vpath = volume_path(*link);
		if (!vpath)
			return {Where::outside, {}};
		std::vector<std::string> names;
		try {
			names = host::volume_path_names(*vpath);
		} catch (const Error &) {
			return {Where::outside, {}};
		}
		host::UniqueFd check = host::open_beneath(
		    root_.get(), host::relative_of_names(names), O_PATH | O_NOFOLLOW);
		if (!check && errno != ENOENT && errno != ENOTDIR)
			return {Where::outside, {}}; // behind a symbolic link or another mount
		auto there = check ? stat_of(check.get()) : std::nullopt;
		if (there && there->st_ino == st->st_ino && there->st_dev == st->st_dev)
			return {Where::inside, host::volume_path_of_names(names)};
	}
}

std::optional<host::InodeIdentity> HostVolume::identity_of(const host::FanotifyEvent &event,
                                                           const std::string &path)
{
	if (event.object && ours(*event.object))
		if (auto id = host::identity_of_handle(event.object->handle))
			return id;
	// A handle of a type the volume cannot read: the file is looked at where it is.
	if (path.empty())
		return std::nullopt;
	try {
		FileInfo fi = stat(path);
		return host::InodeIdentity{fi.ino, fi.generation};
	} catch (const Error &) {
		return std::nullopt;
	}
}

void HostVolume::on_kernel_event(const host::FanotifyEvent &e)
{
	using Kind = VolumeEvent::Kind;
	using Where = Place::Where;
	if (e.mask & FAN_Q_OVERFLOW) {
		listeners_.notify({VolumeEvent{Kind::overflow, 0, 0, {}, {}, {}}});
		return;
	}
	bool on_dir = e.mask & FAN_ONDIR;
	std::vector<VolumeEvent> out;
	auto event = [&](Kind kind, const std::optional<host::InodeIdentity> &id, std::string path,
	                 std::string old_path = {}) {
		out.push_back({kind,
		               id ? id->ino : 0,
		               id ? id->generation : 0,
		               std::move(path),
		               std::move(old_path),
		               {}});
	};
	// Create, close and delete name the entry in one record, read once. The kernel merges
	// events on one entry that it has not handed out yet (FAN_CREATE | FAN_CLOSE_WRITE of
	// a new file): they are told in the order they happen.
	std::optional<Place> entry_place;
	auto entry = [&]() -> const Place & {
		if (!entry_place)
			entry_place = place_of(*e.dir);
		return *entry_place;
	};

	if ((e.mask & FAN_CREATE) && e.dir && entry().where == Where::inside) {
		std::string path = child_of(entry().path, e.dir->name);
		auto id = identity_of(e, path);
		// A stat since the create, if any, saw the file more lately than this: the
		// directory's path is read now, the name is the create's.
		if (id)
			paths_.learn_if_unknown(id->ino, id->generation, path);
		event(Kind::created, id, path);
	}

	if ((e.mask & FAN_RENAME) && e.old_dir && e.new_dir) {
		Place from = place_of(*e.old_dir);
		Place to = place_of(*e.new_dir);
		std::string old_path =
		    from.where == Where::inside ? child_of(from.path, e.old_dir->name) : "";
		std::string new_path =
		    to.where == Where::inside ? child_of(to.path, e.new_dir->name) : "";
		auto id = identity_of(e, new_path);
		if (to.where == Where::inside) {
			if (id) {
				// Below a directory, the cache holds paths as it last knew the
				// directory's: those move with the path it has for it.
				auto cached = paths_.find(id->ino, id->generation);
				std::string below = cached ? *cached : old_path;
				paths_.learn(id->ino, id->generation, new_path);
				if (on_dir && !below.empty() && below != new_path)
					paths_.rename_below(below, new_path);
			}
			// From outside the mount's root (or from a directory gone since): new
			// here, as far as the volume can tell.
			if (from.where == Where::inside)
				event(Kind::renamed, id, new_path, old_path);
			else
				event(Kind::created, id, new_path);
		} else if (to.where == Where::outside && from.where == Where::inside) {
			if (id)
				paths_.forget(id->ino, id->generation);
			event(Kind::removed, id, old_path);
		}
		// Into a directory gone since: the file has moved on or gone, and its event
		// for that follows.
	}

	if ((e.mask & kClose) && !on_dir && e.pid != self_ && e.dir &&
	    entry().where == Where::inside) {
		std::string path = child_of(entry().path, e.dir->name);
		if (auto id = identity_of(e, path))
			event(Kind::released, id, path);
	}

	if ((e.mask & FAN_DELETE) && e.dir && entry().where != Where::outside) {
		std::optional<host::InodeIdentity> id;
		bool still_linked = false;
		if (e.object && ours(*e.object)) {
			id = host::identity_of_handle(e.object->handle);
			// One name of a file with others: the file stays.
			host::UniqueFd fd = host::open_handle(events_root_.get(), e.object->handle,
			                                      O_PATH | O_NOFOLLOW);
			auto st = fd ? stat_of(fd.get()) : std::nullopt;
			still_linked = st && st->st_nlink > 0;
		}
		std::string path;
		if (entry().where == Where::inside)
			path = child_of(entry().path, e.dir->name);
		else if (id)
			path = paths_.find(id->ino, id->generation).value_or("");
		if (!still_linked && (id || !path.empty())) {
			if (id)
				paths_.forget(id->ino, id->generation);
			event(Kind::removed, id, path);
		}
	}
	listeners_.notify(out);
}

// An IN_MOVED_FROM waiting for its IN_MOVED_TO (the same cookie). The kernel queues the two
// one after the other, but another event may come between them.
struct HostVolume::Move {
	uint32_t cookie = 0;
	std::string path;
	bool directory = false;
};

void HostVolume::read_inotify(std::span<const std::byte> bytes, const std::atomic<bool> &stopping)
{
	host::ParsedInotify parsed = host::parse_inotify_events(bytes);
	std::vector<Move> moves;
	for (const auto &event : parsed.events) {
		if (stopping)
			return;
		std::vector<VolumeEvent> out;
		try {
			on_inotify_event(event, moves, out);
		} catch (...) {
			// As for fanotify: this event is lost, the next ones are not.
		}
		listeners_.notify(out);
	}
	// Moved out of every watched directory (or its half came in a later read): gone from
	// where the volume watches, as far as it can tell.
	std::vector<VolumeEvent> out;
	for (auto &m : moves)
		out.push_back({VolumeEvent::Kind::removed, 0, 0, std::move(m.path), {}, {}});
	listeners_.notify(out);
	if (parsed.garbled || parsed.cut)
		lost_events();
}

void HostVolume::on_inotify_event(const host::InotifyEvent &e, std::vector<Move> &moves,
                                  std::vector<VolumeEvent> &out)
{
	using Kind = VolumeEvent::Kind;
	if (e.mask & IN_Q_OVERFLOW) {
		out.push_back({Kind::overflow, 0, 0, {}, {}, {}});
		return;
	}
	if (e.mask & IN_IGNORED) {
		inotify_->forget(e.wd);
		return;
	}
	auto dir = inotify_->dir_of(e.wd);
	if (!dir || e.name.empty())
		return;
	// The directory must still be where its watch says: one moved unheard (its parent
	// not watched) has another path now, which inotify does not tell, and loses its watch.
	host::UniqueFd there = host::open_beneath(
	    root_.get(), host::relative_of_names(host::volume_path_names(dir->path)),
	    O_PATH | O_DIRECTORY | O_NOFOLLOW);
	auto st = there ? stat_of(there.get()) : std::nullopt;
	if (!st || st->st_ino != dir->ino) {
		inotify_->drop(e.wd);
		return;
	}
	std::string path = child_of(dir->path, e.name);
	bool directory = e.mask & IN_ISDIR;
	auto identity = [&]() -> std::optional<host::InodeIdentity> {
		try {
			FileInfo fi = stat(path); // learns the path
			return host::InodeIdentity{fi.ino, fi.generation};
		} catch (const Error &) {
			return std::nullopt; // gone again
		}
	};
	auto event = [&](Kind kind, const std::optional<host::InodeIdentity> &id,
	                 std::string old_path = {}) {
		out.push_back({kind,
		               id ? id->ino : 0,
		               id ? id->generation : 0,
		               path,
		               std::move(old_path),
		               {}});
	};
	if (e.mask & IN_CREATE) {
		event(Kind::created, identity());
	} else if (e.mask & IN_MOVED_FROM) {
		moves.push_back({e.cookie, path, directory});
	} else if (e.mask & IN_MOVED_TO) {
		auto from = std::find_if(moves.begin(), moves.end(),
		                         [&](const Move &m) { return m.cookie == e.cookie; });
		if (from == moves.end()) {
			event(Kind::created, identity()); // from a directory not watched
			return;
		}
		Move m = std::move(*from);
		moves.erase(from);
		if (m.directory) {
			paths_.rename_below(m.path, path);
			inotify_->moved(m.path, path);
		}
		event(Kind::renamed, identity(), std::move(m.path));
	} else if (e.mask & IN_DELETE) {
		// The inode is gone with its name: inotify names neither.
		event(Kind::removed, std::nullopt);
	}
}

} // namespace daxpolicy::fscore
