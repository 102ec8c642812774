// SPDX-License-Identifier: BSD-3-Clause
// The Volume interface: what the policy engine needs of any filesystem it manages, whether
// the embedded pmem core or a host ext4/xfs mount. Paths are absolute and inside the volume.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace daxpolicy::fscore
{

// The kernel's dax= mount option.
enum class DaxMode { always, never, inode };
const char *dax_mode_name(DaxMode mode);
std::optional<DaxMode> dax_mode_from_name(std::string_view name);

enum class FileType { regular, directory, other };
const char *file_type_name(FileType type);

// `mapped` and `in_use` are what a volume may not know: without
// VolumeCapabilities::reports_mappings (a host volume cannot see other processes' opens and
// mappings) they stay 0 and false, and set_dax_flag_if_unmapped finds out at the change.
// Nor need it know when a use ends: a host volume hears of it only while its fanotify
// watcher runs (use_events), and then as `released` for every open file description that
// goes (a mapping holds one), never as `unmapped`, and its listeners run on the watcher's
// thread some time after the change, not before the change returns. Without use_events
// whoever waits for a file must ask again from time to time.
struct FileInfo {
	std::string path;
	uint64_t ino = 0;
	uint64_t generation = 0; // with ino, names one file for ever (inode slots are reused)
	FileType type = FileType::other;
	uint64_t size = 0;
	bool dax_flag = false;      // FS_XFLAG_DAX, on disk, inherited at create
	bool dax_effective = false; // S_DAX: what I/O and mappings do now
	uint32_t mapped = 0;        // live mappings
	bool in_use = false;        // open or mapped by anyone
	std::string unsupported;    // why the file cannot carry the flag; empty when it can
};

// What a volume can do, beyond what every Volume does. The daemon and the engine ask these,
// never the kind.
struct VolumeCapabilities {
	bool reports_mappings = false; // FileInfo::mapped counts live mappings
	bool use_events = false;       // unmapped and released are sent when they happen
	bool layout_leases = false;    // leases() lists them, breaks are sent as events
	bool io_sessions = false;      // open_session() and the namespace calls work
};

// Space and inodes, as statfs(2) counts them.
struct VolumeUsage {
	uint64_t size_bytes = 0;
	uint64_t used_bytes = 0;
	uint64_t inodes = 0;
	uint64_t inodes_used = 0;
};

struct VolumeInfo {
	std::string name;
	std::string kind; // "embedded" or "host": for people; code asks `can`
	VolumeCapabilities can;
	std::string path;
	std::string fstype;               // ext4, xfs; "daxpolicy" for an embedded pool
	std::string device;               // "MAJ:MIN" of a host volume's block device
	std::optional<VolumeUsage> usage; // when the volume could tell
	DaxMode dax_mode = DaxMode::inode;
	bool dax_capable = false;
	std::string granularity;
	uint64_t files = 0;
	// How a host volume changes flags: "file_setattr" (Linux 6.17) or "FS_IOC_FSSETXATTR"
	// (older kernels); empty for other kinds.
	std::string flag_interface;
};

// What happened to a file, for those who wait on it (the policy scheduler).
struct VolumeEvent {
	enum class Kind {
		unmapped, // its last mapping went
		released, // it is no longer in use: its effective state may now follow its flag
		created,
		renamed, // `old_path` -> `path`
		removed,
		lease_break, // a layout lease was broken: `lease` says how it ended
		lease_revoked,
		// Events were lost (a host volume's fanotify queue overflowed, or its watcher
		// stopped): any file may have been released, created, moved or removed unheard
		// of. No file is named; whoever relies on events looks at everything again.
		overflow,
	};
	struct LeaseBreak {
		std::string op; // truncate, punch-hole, ... (layout_op_name)
		int pid = 0;    // the holder's
		unsigned uid = 0;
		uint64_t offset = 0;
		uint64_t length = 0;
		int64_t waited_ms = 0;
		// released, revoked; also notified (an allocation: nobody waits) and busy (a
		// pin outlasted lease_break_timeout and the operation failed, changing nothing)
		std::string outcome;
		// Who broke it, where that is not the operation's own caller: the process whose
		// open broke a host volume's lease (as /proc/locks names it); 0 when unknown.
		int breaker_pid = 0;
	};
	Kind kind;
	uint64_t ino = 0;
	uint64_t generation = 0;
	std::string path;
	std::string old_path;
	std::optional<LeaseBreak> lease;
};

using VolumeListener = std::function<void(const VolumeEvent &)>;

// What Volume::set_dax_flag_if_unmapped did.
struct SetFlagResult {
	enum class Status {
		applied,   // the flag changed
		unchanged, // it was so already
		mapped,    // the file is mapped: nothing changed (`mappings` says how often)
		in_use,    // open by someone else, mapped or not as far as the volume can tell (a
		           // host file whose write lease was refused): nothing changed
		gone,      // no such file (removed, or its inode reused): nothing changed
	};
	Status status = Status::unchanged;
	uint32_t mappings = 0;
};

// One change of a batch: the flag of the file (ino, generation) to `on`.
struct FlagChange {
	uint64_t ino;
	uint64_t generation;
	bool on;
};

// Keeps a listener subscribed while it lives.
class Subscription
{
      public:
	Subscription() = default;
	explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
	Subscription(Subscription &&other) noexcept : cancel_(std::exchange(other.cancel_, {})) {}
	Subscription &operator=(Subscription &&other) noexcept;
	~Subscription();

      private:
	std::function<void()> cancel_;
};

class Session;
struct Holder;
struct LeaseInfo;

class Volume
{
      public:
	virtual ~Volume() = default;
	virtual VolumeInfo info() const = 0;
	// Throws Error(not_found) when there is no such file.
	virtual FileInfo stat(const std::string &path) = 0;
	// `path`, then (for a directory) everything below it, parents before children.
	virtual void walk(const std::string &path,
	                  const std::function<void(const FileInfo &)> &visit) = 0;
	// Sets or clears FS_XFLAG_DAX at once, as FS_IOC_FSSETXATTR does; the effective state
	// follows only when the file is not in use.
	virtual void set_dax_flag(const std::string &path, bool on) = 0;
	// The same for the file (ino, generation), wherever it is now, and only if it is not
	// mapped: the check and the change are one step under the volume's lock, so a mapping
	// made after the caller looked is never flipped under (the kernel's crash).
	virtual SetFlagResult set_dax_flag_if_unmapped(uint64_t ino, uint64_t generation,
	                                               bool on) = 0;
	// The same for each change, with the results in the order of `changes`: what one call
	// of set_dax_flag_if_unmapped per change would do, but a volume may make many changes
	// durable at once (the embedded core: one journal transaction for many files). By
	// default, one call per change. Should one throw, the changes before it are made.
	virtual std::vector<SetFlagResult>
	set_dax_flags_if_unmapped(std::span<const FlagChange> changes);
	// Where the file (ino, generation) is now, or nothing when it is gone.
	virtual std::optional<std::string> path_of(uint64_t ino, uint64_t generation) = 0;
	// Listeners run after the change, with no volume lock held: on the thread that made it
	// (the embedded core), or on the volume's own watcher thread (a host volume, whose
	// changes are made by other processes). They must be quick: post, do not work.
	[[nodiscard]] virtual Subscription subscribe(VolumeListener listener) = 0;
	// The volume's path of a host path ("/mnt/pmem0/db/x" is "/db/x" on a host volume
	// mounted there), or nothing when the host path is not in the volume. By default,
	// nothing: an embedded volume has no host paths.
	virtual std::optional<std::string> volume_path(const std::string &host_path) const;
	// Why the volume cannot serve now (a host volume whose mount went away: unmounted, or
	// its device gone), or nothing when it can. Asked when the mount table changes.
	virtual std::optional<std::string> unavailable() const;
	// Fills `file`'s mapped and in_use from what the system shows of other processes, for a
	// volume that does not report them (no reports_mappings): costly (a host volume scans
	// /proc), so for one file a user asked about, never for a walk. By default nothing.
	virtual void count_uses(FileInfo &file);

	// With VolumeCapabilities::io_sessions: a session for one client, and the namespace
	// calls of `daxpolicy io`. Without, each throws unsupported.
	virtual std::unique_ptr<Session> open_session(Holder holder);
	virtual FileInfo mkdir(const std::string &path);
	// A file or an empty directory. A file still in use keeps its blocks until its last
	// user goes.
	virtual void remove(const std::string &path);
	// Within the volume; replaces a file with a file, or an empty directory with a
	// directory. The flag goes with the file.
	virtual void rename(const std::string &from, const std::string &to);
	// With VolumeCapabilities::layout_leases: the live leases and pins of one file, or of
	// all. Without, unsupported.
	virtual std::vector<LeaseInfo> leases(const std::optional<std::string> &path);
};

} // namespace daxpolicy::fscore
