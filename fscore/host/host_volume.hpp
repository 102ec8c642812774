// SPDX-License-Identifier: BSD-3-Clause
// A host volume: an ext4 or xfs mount of the running kernel (normally -o dax=inode), whose
// files carry FS_XFLAG_DAX on disk and whose S_DAX the kernel reports through statx.
//
// Every path is looked up beneath the volume's root descriptor with openat2 (RESOLVE_BENEATH,
// RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV): a symbolic link is reported as itself and never
// followed, one in the middle of a path is refused, and nothing on another mount (a mount
// below the volume included) is reached. Files are held by O_PATH descriptors, which open
// nothing; regular files and directories are opened O_RDONLY | O_NONBLOCK only for the
// ioctls that need it (the generation, the flags), never devices or fifos.
//
// What a host volume cannot know (fscore/volume.hpp, FileInfo): other processes' opens and
// mappings. `mapped` stays 0 and `in_use` false; set_dax_flag_if_unmapped asks the kernel
// instead, at the moment of the change, with a write lease (write_lease.hpp).
//
// Files by identity: set_dax_flag_if_unmapped and path_of open the file (ino, generation) by
// a file handle they make of it (open_by_handle_at; file_handle.hpp), which the filesystem
// decodes and checks the generation of itself: no path is looked up, and no cache of paths
// has to hold every file of a walk. Used where open() found that the filesystem's handles are
// that identity and nothing else (ext4; xfs), that open_by_handle_at works
// (CAP_DAC_READ_SEARCH) and, for flag changes, that the mount is the whole filesystem (a bind
// mount of a directory holds only part of it, and a handle reaches every part). Elsewhere they
// find the file at the path the path cache has for it, as before.
//
// The volume's own opens: a walk opens every regular file and directory it reports, and a
// flag change the file it changes. They go through a private copy of the mount tree
// (fanotify_group.hpp, quiet_mount_tree) whose close events the fanotify group ignores in the
// kernel, so the watcher neither reads them nor loses other events to a queue they filled.
// (stat and the watcher's own look-ups open through the mount itself; their closes are
// left out by the event's pid.)
//
// Threads: every method may be called from any thread, and walk runs alongside the others
// (the policy engine walks on a worker while its loop changes flags). What open() sets up is
// not changed after it (descriptors, the mount, the handle type); what changes has a lock of
// its own, never held across a system call that can wait on another process:
//   own_opens_               (RwLocks, preferring writers, one for each of kOpenLockStripes
//                            stripes of inode numbers; outermost) the volume's own
//                            opens of regular files against its write leases. A lease is
//                            granted only while the leased descriptor is the file's only
//                            open, the process's own opens counted: a walk's open of a file
//                            at the moment a change leases it would make the change look
//                            in use. So every open of a regular file for reading (a walk's,
//                            stat's, path_of's, a by-path change's) is made and closed with
//                            the file's stripe held shared, and a flag change by identity
//                            opens, leases, changes and closes with it held exclusive (a walk
//                            and the changes of files it has passed run side by side; one
//                            lock for the volume made them take turns, which doubled a
//                            100,000-file rule's time): microseconds of
//                            system calls that wait on nobody (O_NONBLOCK opens, a lease
//                            that is granted or refused at once). Never held while a visitor
//                            or listener runs, so a walk blocked on its consumer holds off
//                            no change. Directories are opened without it: nobody leases
//                            them. A walk takes the stripe of the inode its directory entry
//                            names; an entry replaced between getdents64 and the open is
//                            opened once under another file's stripe and looked at again
//                            under its own (a change of the newcomer in those microseconds
//                            may be refused, and is tried again).
//   PathCache::mutex_        the path cache (stat, walk, path_of, the watcher's renames)
//   InotifyWatches::mutex_   the inotify fallback's watches (walk adds, the watcher reads)
//   ListenerSet's mutex      the listeners
//   DaxFlagWriter            an atomic: whether file_setattr exists
// A walk's own state (its directory descriptors, its copy of the mount tree) is its own. The
// kernel serialises flag changes of one inode (inode_lock in vfs_fileattr_set); a file renamed
// under a walk is reported at one path, at the other, or not at all, never twice at one.
//
// Events (host_events.cpp): a watcher thread, started by open() and joined by the destructor,
// reads a fanotify group marked on the whole filesystem (fanotify_group.hpp says which mark
// and why) and tells listeners, on that thread and with no lock of the volume held:
//   released  an open file description of a regular file went (FAN_CLOSE_*: its last
//             reference, a mapping's included, so after the munmap, not at the close of a
//             descriptor while the mapping lives). Each one, not only the file's last user:
//             the listener asks set_dax_flag_if_unmapped again, which sees the rest. The
//             volume's own opens (stat, walk, flag changes) are left out, by the event's pid:
//             a listener that retries on released would otherwise hear its own retry.
//   created, renamed, removed  a directory entry, with volume paths; renames keep path_of's
//             cache right (a directory's moves the paths of everything cached below it).
//   overflow  events were lost (the kernel's queue was full, or the watcher failed): look
//             again at everything.
// Events are asynchronous: a listener hears of a change some time after it is visible, and
// paths are those at the time the watcher reads the event (a directory's handle is turned into
// its path then), so a path may already be gone again. Nothing outside the mount's root is
// reported (other mounts of the filesystem; another mount below the volume is another
// filesystem, and no mark of ours). A file replaced by a rename is not reported removed: the
// kernel reports only its link count (FAN_ATTRIB). No unmapped: the kernel says when a
// file's last reference goes, not its last mapping.
//
// Without fanotify (no CAP_SYS_ADMIN, a kernel before 5.17; Options::events) files created
// in, moved into, moved within or removed from the directories walks went through are heard
// through inotify (inotify_watches.hpp: bounded, IN_Q_OVERFLOW is overflow) as created,
// renamed and removed, but nothing is released: inotify does not say who closed a file, and
// the volume's own closes would be heard as everyone's. VolumeInfo::can.use_events is false
// then, as without events at all: whoever waits for a release must look again from time to
// time. events_unavailable() says why there is no fanotify.
#pragma once

#include "fscore/host/dax_flag_writer.hpp"
#include "fscore/host/event_watcher.hpp"
#include "fscore/host/fanotify_records.hpp"
#include "fscore/host/file_handle.hpp"
#include "fscore/host/inode_probe.hpp"
#include "fscore/host/inotify_records.hpp"
#include "fscore/host/inotify_watches.hpp"
#include "fscore/host/mount_table.hpp"
#include "fscore/host/path_cache.hpp"
#include "fscore/host/unique_fd.hpp"
#include "fscore/listener_set.hpp"
#include "fscore/rw_lock.hpp"
#include "fscore/volume.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <sys/types.h>
#include <vector>

namespace daxpolicy::fscore
{

class HostVolume final : public Volume
{
      public:
	struct Options {
		std::string name = "host0";
		std::filesystem::path path; // the mount point
		// How many files path_of can find by identity; each costs a path's bytes.
		size_t path_cache_files = size_t{1} << 16;
		// Tests: change flags with FS_IOC_FSSETXATTR even where file_setattr exists.
		bool force_ioctl_fallback = false;
		// fanotify, or inotify where fanotify cannot be had; inotify (tests: the
		// fallback on a kernel that has fanotify); none (use_events false, no events).
		enum class Events { fanotify_or_inotify, inotify, none };
		Events events = Events::fanotify_or_inotify;
		// How many directories the inotify fallback watches at most.
		size_t inotify_watches = 8192;
		// Tests: runs while a flag change holds its write lease, before the change.
		std::function<void()> while_leased = {};
	};

	// Throws Error: not-found when `path` does not exist; invalid-argument when it is not
	// a mount point (naming the mount that holds it); unsupported for a filesystem other
	// than ext4 or xfs, or a dax= option this version does not know.
	static std::unique_ptr<HostVolume> open(Options options);
	// Stops the watcher and waits for it: after it returns no listener is called. Must not
	// run on the watcher's thread (from a listener).
	~HostVolume() override;

	VolumeInfo info() const override;
	FileInfo stat(const std::string &path) override;
	// Depth first, parents before children, reading each directory with getdents64 from
	// its own descriptor and opening children beneath it; never below another mount (its
	// mount point is left out too; a walk of a directory sees the mounts that were there
	// when it began) and never through a symbolic link. Directories are held open down the
	// current branch, at most kMaxWalkDepth of them: a deeper tree is refused
	// (invalid-argument) rather than walked in part; nothing else grows with the tree. A
	// file another process holds under a write lease stops it with busy (inode_probe.hpp);
	// its holder has been told to let go.
	//
	// Per entry: a regular file or directory (by the entry's d_type) is opened once, O_RDONLY
	// | O_NONBLOCK | O_NOFOLLOW beneath its directory (openat2, as every lookup), and read
	// from that descriptor: statx, the generation, the flags (inode_probe.hpp), then closed
	// before the visitor sees it. Anything else is looked at through O_PATH and never
	// opened. A regular file swapped for a device node between the directory's read and the
	// open (by someone with CAP_MKNOD) would be opened and closed at once, with O_NOCTTY:
	// the price of not opening each file twice.
	void walk(const std::string &path,
	          const std::function<void(const FileInfo &)> &visit) override;
	// By file_setattr(2) where the kernel has it, else FS_IOC_FSSETXATTR (dax_flag_writer).
	// A file other than a regular file or directory is unsupported.
	void set_dax_flag(const std::string &path, bool on) override;
	// Only while nobody else has the file open or mapped: mapped (with the mappings
	// /proc/*/maps shows) or in_use when another process has it open (or leased), else
	// applied or unchanged. Directories, which cannot be leased nor mapped, are changed at
	// once. Throws unsupported for a file the kernel refuses the flag.
	SetFlagResult set_dax_flag_if_unmapped(uint64_t ino, uint64_t generation, bool on) override;
	// Where stat or walk last saw (ino, generation), or the watcher last heard it created or
	// moved, if the file is still there; else, by its handle (where the volume has them),
	// where the kernel's dentry of it is, if that is in the volume; nothing otherwise.
	// Without handles, a rename the volume has not heard of (without events, or not yet
	// read) makes a file look gone until a walk or stat sees it again.
	std::optional<std::string> path_of(uint64_t ino, uint64_t generation) override;
	Subscription subscribe(VolumeListener listener) override;

	// By spelling, as the user typed it, under the mount point as the kernel or the
	// configuration spells it; the result is then looked up like any volume path.
	std::optional<std::string> volume_path(const std::string &host_path) const override;
	// While its mount (by id) is in this process's mount table. After a lazy unmount the
	// descriptors still reach the detached filesystem, but nobody else does: the volume
	// is reported gone rather than served as if nothing happened.
	std::optional<std::string> unavailable() const override;
	// From /proc/*/maps and /proc/*/fd of every process but this one, as far as it may
	// read them (root reads all).
	void count_uses(FileInfo &file) override;
	const host::MountEntry &mount() const { return mount_; }
	// Why there are no fanotify events ("fanotify_mark: EPERM ..."; what the inotify
	// fallback hears, if it runs), or empty while they run.
	std::string events_unavailable() const;

	static constexpr size_t kMaxWalkDepth = 256;

      private:
	HostVolume(Options options, host::UniqueFd root, host::MountEntry mount, DaxMode mode,
	           bool dax_capable);

	std::string device_name() const; // MAJ:MIN
	// "volume 'NAME': PATH", the start of every error message.
	std::string what(const std::string &path) const;
	std::vector<std::string> names_of(const std::string &path) const;
	// An O_PATH | O_NOFOLLOW descriptor of the file at `names`; throws Error.
	host::UniqueFd resolve(const std::vector<std::string> &names,
	                       const std::string &path) const;
	// The file at `path_fd` (O_PATH), opened to read it with its stripe of own_opens_ held
	// in `opening` (unless this thread holds it exclusive): `opening` must outlive the
	// result's descriptor.
	host::ProbedInode probe(int path_fd, std::string path, std::shared_lock<RwLock> &opening);
	RwLock &opens_of(uint64_t ino) const;
	host::ProbedInode learned(host::ProbedInode p);
	// The file (ino, generation) at the path the cache has for it, if it is still there.
	struct Found;
	// With own_opens_ held (it opens the file to read its generation).
	std::optional<Found> find(uint64_t ino, uint64_t generation);
	// The file (ino, generation) opened O_RDONLY | O_NONBLOCK for a flag change, by handle
	// where the volume can, else through find(); nothing when it is gone. With own_opens_
	// held exclusive.
	struct Target;
	std::optional<Target> open_identity(uint64_t ino, uint64_t generation);
	// The change of set_dax_flag_if_unmapped, made with own_opens_ held exclusive: what
	// came of it, and who opened the file meanwhile.
	struct Attempt;
	Attempt change_under_lease(uint64_t ino, uint64_t generation, bool on);
	// The handle of (ino, generation), where flag changes or path_of (`for_paths`) use them.
	std::optional<host::FileHandle> handle_of(uint64_t ino, uint64_t generation,
	                                          bool for_paths) const;
	void learn_handles();
	// A walk of the directory (or file) at `names` beneath `base`.
	void walk_beneath(int base, const std::vector<std::string> &names,
	                  const std::function<void(const FileInfo &)> &visit);

	// Events (host_events.cpp).
	struct Place {
		enum class Where {
			inside,  // `path` is its volume path
			outside, // not under the mount's root, or not reachable from it
			unknown, // gone (removed, or its handle stale) before it was looked at
		};
		Where where = Where::unknown;
		std::string path;
	};
	void start_events();
	bool start_fanotify();
	void start_inotify();
	void lost_events();
	void read_fanotify(std::span<const std::byte> bytes, const std::atomic<bool> &stopping);
	void on_kernel_event(const host::FanotifyEvent &event);
	struct Move;
	void read_inotify(std::span<const std::byte> bytes, const std::atomic<bool> &stopping);
	void on_inotify_event(const host::InotifyEvent &event, std::vector<Move> &moves,
	                      std::vector<VolumeEvent> &out);
	// Where a directory record of an event is in the volume now.
	Place place_of(const host::FidRecord &dir) const;
	// Where the file `fd` (opened through events_root_'s mount) is in the volume now.
	Place place_of_fd(int fd) const;
	std::optional<host::InodeIdentity> identity_of(const host::FanotifyEvent &event,
	                                               const std::string &path);
	bool ours(const host::FidRecord &record) const;

	Options options_;
	host::UniqueFd root_; // O_PATH of the mount's root
	host::MountEntry mount_;
	DaxMode dax_mode_;
	bool dax_capable_;
	host::ProbeRules rules_;
	// The threads section above says what they order.
	static constexpr size_t kOpenLockStripes = 256;
	mutable std::array<RwLock, kOpenLockStripes> own_opens_;
	host::DaxFlagWriter flag_writer_;
	host::PathCache paths_;
	ListenerSet listeners_;
	// The mount's root opened O_RDONLY, for open_by_handle_at and fanotify_mark, which
	// refuse an O_PATH descriptor; and the filesystem's fsid, as events name it.
	host::UniqueFd events_root_;
	std::array<int32_t, 2> fsid_ = {};
	pid_t self_ = 0;
	// The type of the filesystem's handles of (ino, generation) (file_handle.hpp), when
	// path_of may open files by them, and whether flag changes may.
	std::optional<int32_t> handle_type_;
	bool handles_for_changes_ = false;
	// The volume's copy of the mount tree whose closes the fanotify group ignores (O_PATH),
	// and its root opened O_RDONLY, for open_by_handle_at; empty without fanotify, where
	// handles are opened through events_root_.
	host::UniqueFd quiet_tree_;
	host::UniqueFd quiet_root_;
	std::string events_unavailable_;
	std::unique_ptr<host::InotifyWatches> inotify_;
	std::unique_ptr<host::EventWatcher> watcher_; // last: stopped before the rest goes
};

} // namespace daxpolicy::fscore
