// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/host_volume.hpp"

#include "common/error.hpp"
#include "fscore/dax_model.hpp"
#include "fscore/host/block_device.hpp"
#include "fscore/host/host_error.hpp"
#include "fscore/host/inode_probe.hpp"
#include "fscore/host/kernel_calls.hpp"
#include "fscore/host/proc_fds.hpp"
#include "fscore/host/proc_locks.hpp"
#include "fscore/host/proc_maps.hpp"
#include "fscore/host/volume_path.hpp"
#include "fscore/host/write_lease.hpp"
#include "fscore/layout_op.hpp"

#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <linux/fs.h>
#include <shared_mutex>
#include <sstream>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace daxpolicy::fscore
{

namespace
{

std::string read_mountinfo()
{
	std::ifstream in("/proc/self/mountinfo");
	std::ostringstream text;
	if (in)
		text << in.rdbuf();
	if (!in || text.str().empty())
		throw Error(Errc::internal, "cannot read /proc/self/mountinfo (a host volume needs "
		                            "/proc mounted)");
	return std::move(text).str();
}

// Why a filesystem cannot be a host volume, or nothing when it can.
std::optional<std::string> refusal_of(const std::string &fstype)
{
	if (fstype == "ext4" || fstype == "xfs")
		return std::nullopt;
	if (fstype == "ext2")
		return "ext2 has no per-file DAX flag (only -o dax, for the whole mount)";
	return "a host volume is an ext4 or xfs mount, the filesystems with a per-file DAX flag "
	       "(FS_XFLAG_DAX)";
}

} // namespace

struct HostVolume::Found {
	std::shared_lock<RwLock> opening; // first: let go after the descriptors close
	host::UniqueFd path_fd;
	host::ProbedInode probed;
};

struct HostVolume::Target {
	host::UniqueFd opened; // O_RDONLY | O_NONBLOCK: the lease is taken on it
	FileType type = FileType::other;
	uint64_t size = 0;
	host::FileId id;
};

std::unique_ptr<HostVolume> HostVolume::open(Options options)
{
	const std::string what = "volume '" + options.name + "': " + options.path.string();
	host::UniqueFd root(::open(options.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (!root)
		throw host::host_error(what, errno);
	// The mount is found by its id, not its spelling: the configured path may hold
	// symbolic links, and several mounts may be stacked on one mount point (the
	// descriptor is on the top one, which is what a path lookup reaches).
	struct statx stx = {};
	if (::statx(root.get(), "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) != 0)
		throw host::host_error(what + ": statx", errno);
	if (!(stx.stx_mask & STATX_MNT_ID) || !(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		throw Error(Errc::unsupported,
		            what + ": this kernel's statx names no mounts (Linux 5.8 does)");
	std::optional<host::MountEntry> mount;
	for (auto &entry : host::parse_mountinfo(read_mountinfo()))
		if (entry.mount_id == stx.stx_mnt_id)
			mount = std::move(entry);
	if (!mount)
		throw Error(Errc::internal, what + ": its mount (id " +
		                                std::to_string(stx.stx_mnt_id) +
		                                ") is not in /proc/self/mountinfo");
	if (!(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		throw Error(Errc::invalid_argument,
		            what + " is not a mount point: it is inside the " + mount->fstype +
		                " mount at " + mount->mount_point +
		                " (a host volume is a whole mount: give its mount point)");
	if (auto why = refusal_of(mount->fstype))
		throw Error(Errc::unsupported,
		            what + " is a " + mount->fstype + " mount, and " + *why);
	auto mode = host::dax_mode_of_options(mount->super_options);
	if (!mode)
		throw Error(Errc::unsupported, what + ": the mount's options '" +
		                                   mount->super_options +
		                                   "' give a dax= mode this version does not know");
	bool capable = host::block_device_dax_capable(mount->dev_major, mount->dev_minor);
	std::unique_ptr<HostVolume> vol(
	    new HostVolume(std::move(options), std::move(root), std::move(*mount), *mode, capable));
	vol->flag_writer_.probe(vol->root_.get());
	vol->events_root_ = host::reopen(vol->root_.get(), O_RDONLY | O_DIRECTORY);
	vol->start_events();
	vol->learn_handles();
	return vol;
}

HostVolume::~HostVolume()
{
	// Before anything the watcher's handler uses goes.
	watcher_.reset();
}

HostVolume::HostVolume(Options options, host::UniqueFd root, host::MountEntry mount, DaxMode mode,
                       bool dax_capable)
    : options_(std::move(options)), root_(std::move(root)), mount_(std::move(mount)),
      dax_mode_(mode),
      dax_capable_(dax_capable), rules_{mode, dax_capable, mount_.fstype == "ext4"},
      flag_writer_(options_.force_ioctl_fallback), paths_(options_.path_cache_files)
{
}

std::string HostVolume::what(const std::string &path) const
{
	return "volume '" + options_.name + "': " + path;
}

std::vector<std::string> HostVolume::names_of(const std::string &path) const
{
	try {
		return host::volume_path_names(path);
	} catch (const Error &e) {
		throw Error(e.code(), "volume '" + options_.name + "': " + e.what());
	}
}

host::UniqueFd HostVolume::resolve(const std::vector<std::string> &names,
                                   const std::string &path) const
{
	host::UniqueFd fd =
	    host::open_beneath(root_.get(), host::relative_of_names(names), O_PATH | O_NOFOLLOW);
	if (!fd)
		throw host::host_error(what(path) + ": openat2", errno);
	return fd;
}

RwLock &HostVolume::opens_of(uint64_t ino) const
{
	// Fibonacci hashing: neighbouring inodes (a directory's files) land apart.
	return own_opens_[(ino * 0x9E3779B97F4A7C15ull) >> 56];
}

host::ProbedInode HostVolume::probe(int path_fd, std::string path,
                                    std::shared_lock<RwLock> &opening)
{
	std::string w = what(path);
	struct statx stx = host::stat_inode(path_fd, w);
	RwLock &lock = opens_of(stx.stx_ino);
	DAXPOLICY_CHECK(!opening.owns_lock(), "probe: a stripe of own_opens_ held already");
	if (!lock.written_by_me())
		opening = std::shared_lock(lock);
	// It opens a regular file to read it.
	DAXPOLICY_ASSERT_LOCKED(lock);
	return learned(host::probe_inode(path_fd, stx, std::move(path), rules_, w));
}

host::ProbedInode HostVolume::learned(host::ProbedInode p)
{
	// Only files whose generation was read: (ino, 0) names nothing for ever.
	if (p.opened)
		paths_.learn(p.info.ino, p.info.generation, p.info.path);
	return p;
}

void HostVolume::learn_handles()
{
	// The root's handle as the filesystem makes it, against the one made of the root's
	// identity: the same bytes say that this filesystem's handles are (ino, generation)
	// and nothing else. Then one open by it, which needs CAP_DAC_READ_SEARCH.
	if (!events_root_)
		return;
	int generation = 0;
	struct statx stx = {};
	if (::ioctl(events_root_.get(), FS_IOC_GETVERSION, &generation) != 0 ||
	    ::statx(root_.get(), "", AT_EMPTY_PATH, STATX_INO, &stx) != 0)
		return;
	auto made = host::handle_of_fd(root_.get());
	if (!made)
		return;
	auto ours = host::handle_of_identity(
	    made->type, {stx.stx_ino, static_cast<uint64_t>(static_cast<uint32_t>(generation))});
	if (ours != made)
		return;
	host::UniqueFd check = host::open_handle(events_root_.get(), *made, O_PATH);
	if (!check)
		return;
	handle_type_ = made->type;
	// A handle reaches the whole filesystem: only a mount of all of it holds every file
	// one can name.
	handles_for_changes_ = mount_.root == "/";
}

std::optional<host::FileHandle> HostVolume::handle_of(uint64_t ino, uint64_t generation,
                                                      bool for_paths) const
{
	// ext4 decodes a handle of generation 0 as "any generation" (ext4_nfs_get_inode): such
	// a file is checked by its path instead.
	if (!handle_type_ || generation == 0 || (!for_paths && !handles_for_changes_))
		return std::nullopt;
	return host::handle_of_identity(*handle_type_, {ino, generation});
}

VolumeInfo HostVolume::info() const
{
	VolumeInfo vi;
	vi.name = options_.name;
	vi.kind = "host";
	// Releases, creates and renames while the fanotify watcher runs; never mappings or
	// uses (FileInfo), layout leases or io sessions, which a host kernel does not offer.
	vi.can = {};
	vi.can.use_events = watcher_ && !inotify_ && watcher_->running();
	vi.path = options_.path.string();
	vi.dax_mode = dax_mode_;
	vi.dax_capable = dax_capable_;
	// pmem under a DAX mount persists a store once its cache line is flushed; anything
	// else only at fsync, a page at a time. (Whether the platform flushes caches on power
	// loss, which would make it "byte", is the region's persistence_domain, not known here.)
	vi.granularity = dax_capable_ ? "cache-line" : "page";
	vi.fstype = mount_.fstype;
	vi.device = device_name();
	vi.flag_interface = flag_writer_.interface();
	struct statfs sfs = {};
	if (::fstatfs(root_.get(), &sfs) == 0) {
		VolumeUsage u;
		u.size_bytes = static_cast<uint64_t>(sfs.f_blocks) * sfs.f_frsize;
		u.used_bytes =
		    static_cast<uint64_t>(sfs.f_blocks - std::min(sfs.f_bfree, sfs.f_blocks)) *
		    sfs.f_frsize;
		u.inodes = sfs.f_files;
		u.inodes_used = sfs.f_files - std::min(sfs.f_ffree, sfs.f_files);
		vi.files = u.inodes_used;
		vi.usage = u;
	}
	return vi;
}

std::string HostVolume::device_name() const
{
	return std::to_string(mount_.dev_major) + ":" + std::to_string(mount_.dev_minor);
}

std::optional<std::string> HostVolume::unavailable() const
{
	std::string table;
	try {
		table = read_mountinfo();
	} catch (const Error &e) {
		return std::string("cannot read the mount table: ") + e.what();
	}
	bool mounted = false;
	for (const auto &entry : host::parse_mountinfo(table))
		mounted = mounted || entry.mount_id == mount_.mount_id;
	// A device hot-removed under a mounted filesystem leaves the mount (failing every
	// I/O) but not its sysfs node.
	std::error_code ec;
	if (mounted && !std::filesystem::exists("/sys/dev/block/" + device_name(), ec) && !ec)
		return "its device " + device_name() + " (" + mount_.source + ") is gone";
	if (mounted)
		return std::nullopt;
	return "its " + mount_.fstype + " mount at " + mount_.mount_point + " (" + mount_.source +
	       ") is gone: unmounted, or its device went away";
}

std::optional<std::string> HostVolume::volume_path(const std::string &host_path) const
{
	// The mount point as the kernel spells it, and as the configuration does (which may
	// differ by a symbolic link or a trailing slash).
	if (auto p = host::volume_path_under(host_path, mount_.mount_point))
		return p;
	return host::volume_path_under(host_path, options_.path.lexically_normal().string());
}

FileInfo HostVolume::stat(const std::string &path)
{
	auto names = names_of(path);
	std::string vpath = host::volume_path_of_names(names);
	host::UniqueFd fd = resolve(names, vpath);
	std::shared_lock<RwLock> opening; // before the probe: let go after its descriptor closes
	return probe(fd.get(), vpath, opening).info;
}

void HostVolume::set_dax_flag(const std::string &path, bool on)
{
	auto names = names_of(path);
	std::string vpath = host::volume_path_of_names(names);
	host::UniqueFd fd = resolve(names, vpath);
	struct statx stx = host::stat_inode(fd.get(), what(vpath));
	FileType type = host::file_type_of(stx);
	if (!can_carry_dax_flag(type))
		throw Error(Errc::unsupported, what(vpath) + ": a " + host::other_kind_of(stx) +
		                                   " cannot carry the DAX flag");
	// The fallback without file_setattr opens the file.
	std::shared_lock opening(opens_of(stx.stx_ino));
	flag_writer_.set(fd.get(), -1, type == FileType::directory, on, what(vpath));
}

std::optional<HostVolume::Found> HostVolume::find(uint64_t ino, uint64_t generation)
{
	auto path = paths_.find(ino, generation);
	if (!path)
		return std::nullopt;
	std::string w = what(*path);
	// Cached paths are volume paths the volume made itself.
	host::UniqueFd fd =
	    host::open_beneath(root_.get(), host::relative_of_names(host::volume_path_names(*path)),
	                       O_PATH | O_NOFOLLOW);
	if (!fd) {
		// Nothing there any more, or no longer reachable without following a symbolic
		// link or crossing a mount: the file is not where it was.
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == EXDEV) {
			paths_.forget(ino, generation);
			return std::nullopt;
		}
		throw host::host_error(w + ": openat2", errno);
	}
	// The inode number first, from statx, so that a file that is not this one is never
	// opened.
	struct statx stx = host::stat_inode(fd.get(), w);
	if (stx.stx_ino != ino || !can_carry_dax_flag(host::file_type_of(stx))) {
		paths_.forget(ino, generation);
		return std::nullopt;
	}
	std::shared_lock<RwLock> opening;
	host::ProbedInode probed = probe(fd.get(), *path, opening);
	if (!probed.opened || probed.info.generation != generation) {
		// Its inode was freed and used again for the file there now.
		paths_.forget(ino, generation);
		return std::nullopt;
	}
	return Found{std::move(opening), std::move(fd), std::move(probed)};
}

std::optional<std::string> HostVolume::path_of(uint64_t ino, uint64_t generation)
{
	auto handle = handle_of(ino, generation, true);
	if (!handle) {
		auto found = find(ino, generation);
		if (!found)
			return std::nullopt;
		return found->probed.info.path;
	}
	// The file itself, by its identity; then where it is: at its cached path if that still
	// leads to it, else where the kernel's dentry says, checked from the root. A regular
	// file whose inode the kernel let go since (a flag change evicts it, so that S_DAX
	// follows the flag) comes back with a dentry of no known parent, whose path reads as
	// "/": then only the cache can say where it is.
	host::UniqueFd fd = host::open_handle(events_root_.get(), *handle, O_PATH);
	struct stat st = {};
	if (!fd || ::fstat(fd.get(), &st) != 0 || st.st_nlink == 0) {
		paths_.forget(ino, generation);
		return std::nullopt;
	}
	if (auto cached = paths_.find(ino, generation)) {
		host::UniqueFd there = host::open_beneath(
		    root_.get(), host::relative_of_names(host::volume_path_names(*cached)),
		    O_PATH | O_NOFOLLOW);
		struct stat at = {};
		if (there && ::fstat(there.get(), &at) == 0 && at.st_ino == st.st_ino &&
		    at.st_dev == st.st_dev)
			return cached;
	}
	Place place = place_of_fd(fd.get());
	if (place.where != Place::Where::inside) {
		paths_.forget(ino, generation);
		return std::nullopt;
	}
	paths_.learn(ino, generation, place.path);
	return place.path;
}

std::optional<HostVolume::Target> HostVolume::open_identity(uint64_t ino, uint64_t generation)
{
	DAXPOLICY_ASSERT_EXCLUSIVE(opens_of(ino));
	auto handle = handle_of(ino, generation, false);
	if (!handle) {
		auto found = find(ino, generation);
		if (!found)
			return std::nullopt;
		host::ProbedInode &p = found->probed;
		return Target{std::move(p.opened), p.info.type, p.info.size, p.id};
	}
	int mount_fd = quiet_root_ ? quiet_root_.get() : events_root_.get();
	host::UniqueFd fd = host::open_handle(mount_fd, *handle, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	std::string w = what("inode " + std::to_string(ino));
	if (!fd) {
		if (errno == ESTALE || errno == ENOENT) {
			paths_.forget(ino, generation);
			return std::nullopt;
		}
		if (errno == EWOULDBLOCK)
			throw Error(Errc::busy,
			            w + ": held under a write lease by another process");
		throw host::host_error(w + ": open_by_handle_at", errno);
	}
	struct statx stx = host::stat_inode(fd.get(), w);
	FileType type = host::file_type_of(stx);
	// Unlinked, and kept only by someone's open: gone as far as names go.
	if (stx.stx_nlink == 0 || !can_carry_dax_flag(type))
		return std::nullopt;
	return Target{std::move(fd), type, stx.stx_size,
	              host::FileId{stx.stx_dev_major, stx.stx_dev_minor, stx.stx_ino}};
}

struct HostVolume::Attempt {
	SetFlagResult::Status status = SetFlagResult::Status::gone;
	host::FileId id; // the file's, to count its mappings by
	uint64_t size = 0;
	std::optional<int> breaker; // an open came during the change: its pid, or 0
};

HostVolume::Attempt HostVolume::change_under_lease(uint64_t ino, uint64_t generation, bool on)
{
	using Status = SetFlagResult::Status;
	// Held until the file is closed again: no other open of the volume's own is made while
	// the lease is asked for, and the leased descriptor is closed before another is.
	std::unique_lock changing(opens_of(ino));
	std::optional<Target> file;
	try {
		file = open_identity(ino, generation);
	} catch (const Error &e) {
		// Another process holds the file under a write lease (the open was refused): it
		// has the file open, which is all the volume can tell.
		if (e.code() != Errc::busy)
			throw;
		return {Status::in_use, {}, 0, std::nullopt};
	}
	if (!file)
		return {};
	std::string w = what(paths_.find(ino, generation).value_or("inode " + std::to_string(ino)));
	// A directory can be neither leased nor mapped, and its flag only says what its new
	// children get.
	if (file->type == FileType::directory) {
		bool changed = flag_writer_.set(-1, file->opened.get(), true, on, w);
		return {changed ? Status::applied : Status::unchanged, file->id, 0, std::nullopt};
	}
	// file->opened is this process's only open of the file (own_opens_ keeps the others
	// out), so the lease is granted exactly when nobody else has it open or mapped.
	host::WriteLease lease(file->opened.get(), w);
	if (!lease.held())
		return {Status::in_use, file->id, file->size, std::nullopt};
	// Under the lease: no open, and so no mapping, can begin until it is given back.
	if (options_.while_leased)
		options_.while_leased();
	bool changed = flag_writer_.set(-1, file->opened.get(), false, on, w);
	Attempt done{changed ? Status::applied : Status::unchanged, file->id, file->size,
	             std::nullopt};
	// An open that came meanwhile waited for the change, as the kernel's opens wait for a
	// lease break; /proc/locks names it while it waits (0 when it does not).
	if (lease.broken())
		done.breaker = host::lease_breaker(::getpid(), file->id).value_or(0);
	lease.release_by_closing(file->opened);
	return done;
}

SetFlagResult HostVolume::set_dax_flag_if_unmapped(uint64_t ino, uint64_t generation, bool on)
{
	using Status = SetFlagResult::Status;
	Attempt done = change_under_lease(ino, generation, on);
	// Refused: open elsewhere, or mapped (with the mappings /proc/*/maps shows), counted
	// with no lock held, as it reads every process's maps.
	if (done.status == Status::in_use && done.id.ino != 0) {
		uint32_t mappings = host::count_mappings(done.id);
		return {mappings ? Status::mapped : Status::in_use, mappings};
	}
	if (done.breaker) {
		// Logged like any break of a lease: the lease was this process's; the opener
		// broke it.
		VolumeEvent e{VolumeEvent::Kind::lease_break,        ino, generation,
		              path_of(ino, generation).value_or(""), {},  std::nullopt};
		e.lease = VolumeEvent::LeaseBreak{layout_op_name(LayoutOp::flag_change),
		                                  ::getpid(),
		                                  ::getuid(),
		                                  0,
		                                  done.size,
		                                  0,
		                                  "released",
		                                  *done.breaker};
		listeners_.notify({e});
	}
	return {done.status, 0};
}

void HostVolume::count_uses(FileInfo &file)
{
	if (file.type != FileType::regular)
		return;
	host::FileId id{mount_.dev_major, mount_.dev_minor, file.ino};
	file.mapped = host::count_mappings(id);
	file.in_use = file.mapped > 0 || host::opened_elsewhere(id, ::getpid());
}

Subscription HostVolume::subscribe(VolumeListener listener)
{
	return listeners_.add(std::move(listener));
}

} // namespace daxpolicy::fscore
