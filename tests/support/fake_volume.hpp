// SPDX-License-Identifier: BSD-3-Clause
// A Volume in memory, for testing what sits above the interface (the policy engine) without
// a pool: the test plays the other processes, opening and mapping files and firing the
// notifications they would cause, and may run a hook just before a flag change lands.
#pragma once

#include "fscore/listener_set.hpp"
#include "fscore/volume.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace daxpolicy::test
{

class FakeVolume final : public fscore::Volume
{
      public:
	explicit FakeVolume(std::string name = "pool0",
	                    fscore::DaxMode mode = fscore::DaxMode::inode, bool dax_capable = true);

	fscore::VolumeInfo info() const override;
	fscore::FileInfo stat(const std::string &path) override;
	void walk(const std::string &path,
	          const std::function<void(const fscore::FileInfo &)> &visit) override;
	void set_dax_flag(const std::string &path, bool on) override;
	fscore::SetFlagResult set_dax_flag_if_unmapped(uint64_t ino, uint64_t generation,
	                                               bool on) override;
	// Volume's, one change at a time, counted (batch_calls).
	std::vector<fscore::SetFlagResult>
	set_dax_flags_if_unmapped(std::span<const fscore::FlagChange> changes) override;
	std::optional<std::string> path_of(uint64_t ino, uint64_t generation) override;
	[[nodiscard]] fscore::Subscription subscribe(fscore::VolumeListener listener) override;
	fscore::FileInfo mkdir(const std::string &path) override;
	void remove(const std::string &path) override;
	void rename(const std::string &from, const std::string &to) override;

	// What other processes do. A file is in use while opened or mapped; it inherits its
	// directory's flag when made, as FS_XFLAG_DAX does.
	fscore::FileInfo create(const std::string &path);
	// Something other than a file or a directory (a socket, say): it cannot carry the flag.
	fscore::FileInfo mknod(const std::string &path);
	void open(const std::string &path);
	void close(const std::string &path);
	void map(const std::string &path);
	void unmap(const std::string &path);
	// Every user goes at once, with no notification: a restart of everything above.
	void forget_users();

	// Runs once, just before the next flag change reaches the files, outside the volume's
	// lock: what another process may do between the engine's look at a file and its change.
	std::function<void()> before_flag_change;
	// How many flag changes landed: on any file, or on the file now at `path`.
	unsigned flag_changes() const;
	unsigned flag_changes(const std::string &path) const;
	// How often set_dax_flag_if_unmapped was called, and set_dax_flags_if_unmapped.
	unsigned single_calls() const { return flag_calls_ - batched_changes_; }
	unsigned batch_calls() const { return batch_calls_; }

      private:
	struct File {
		fscore::FileInfo info;
		uint32_t opens = 0;
		unsigned flag_changes = 0;
	};
	using Events = std::vector<fscore::VolumeEvent>;

	const File &find(const std::string &path) const; // not-found unless there
	File &find(const std::string &path);
	File &make(const std::string &path, fscore::FileType type); // exists, or no parent
	std::map<std::string, File>::iterator by_identity(uint64_t ino, uint64_t generation);
	void set_flag(File &file, bool on);
	// After a use ended: the effective state follows the flag once nobody uses the file.
	void settle(File &file, Events &events);
	void hook();
	void notify(const Events &events) const { listeners_.notify(events); }

	const std::string name_;
	const fscore::DaxMode mode_;
	const bool dax_capable_;
	mutable std::mutex mutex_;          // protects files_, next_ino_ and flag_changes_
	std::map<std::string, File> files_; // by path: a parent sorts before its children
	uint64_t next_ino_ = 1;
	// Calls of set_dax_flag_if_unmapped, and those a batch made.
	std::atomic<unsigned> flag_calls_ = 0, batched_changes_ = 0, batch_calls_ = 0;
	unsigned flag_changes_ = 0;
	fscore::ListenerSet listeners_;
};

} // namespace daxpolicy::test
