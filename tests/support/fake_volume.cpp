// SPDX-License-Identifier: BSD-3-Clause
#include "tests/support/fake_volume.hpp"

#include "common/error.hpp"
#include "fscore/dax_model.hpp"

#include <utility>

namespace daxpolicy::test
{

using fscore::FileInfo;
using fscore::FileType;
using fscore::SetFlagResult;
using fscore::VolumeEvent;

namespace
{

std::string parent_of(const std::string &path)
{
	auto slash = path.rfind('/');
	return slash == 0 ? "/" : path.substr(0, slash);
}

bool is_below(const std::string &path, const std::string &dir)
{
	return dir == "/" ? path != "/" : path.rfind(dir + "/", 0) == 0;
}

VolumeEvent event(VolumeEvent::Kind kind, const FileInfo &file, std::string old_path = {})
{
	return {kind, file.ino, file.generation, file.path, std::move(old_path), std::nullopt};
}

FileInfo new_file(const std::string &path, uint64_t ino, FileType type)
{
	FileInfo fi;
	fi.path = path;
	fi.ino = ino;
	fi.generation = 1;
	fi.type = type;
	return fi;
}

} // namespace

FakeVolume::FakeVolume(std::string name, fscore::DaxMode mode, bool dax_capable)
    : name_(std::move(name)), mode_(mode), dax_capable_(dax_capable)
{
	File root;
	root.info = new_file("/", next_ino_++, FileType::directory);
	files_.emplace("/", root);
}

fscore::VolumeInfo FakeVolume::info() const
{
	std::lock_guard lock(mutex_);
	fscore::VolumeInfo vi;
	vi.name = name_;
	vi.kind = "fake";
	vi.can.reports_mappings = true;
	vi.can.use_events = true;
	vi.path = "/fake/" + name_;
	vi.dax_mode = mode_;
	vi.dax_capable = dax_capable_;
	vi.files = files_.size();
	return vi;
}

const FakeVolume::File &FakeVolume::find(const std::string &path) const
{
	auto it = files_.find(path);
	if (it == files_.end())
		throw Error(Errc::not_found, name_ + ":" + path + ": no such file");
	return it->second;
}

FakeVolume::File &FakeVolume::find(const std::string &path)
{
	return const_cast<File &>(std::as_const(*this).find(path));
}

FakeVolume::File &FakeVolume::make(const std::string &path, FileType type)
{
	if (files_.count(path))
		throw Error(Errc::exists, name_ + ":" + path + ": exists");
	const File &parent = find(parent_of(path));
	if (parent.info.type != FileType::directory)
		throw Error(Errc::not_found, name_ + ":" + parent_of(path));
	File f;
	// The flag is inherited from the directory when the file is made, and only then.
	f.info = new_file(path, next_ino_++, type);
	f.info.dax_flag = fscore::can_carry_dax_flag(type) && parent.info.dax_flag;
	f.info.dax_effective = fscore::effective_dax(mode_, dax_capable_, type, f.info.dax_flag);
	if (!fscore::can_carry_dax_flag(type))
		f.info.unsupported = "not a regular file or directory";
	return files_.emplace(path, f).first->second;
}

std::map<std::string, FakeVolume::File>::iterator FakeVolume::by_identity(uint64_t ino,
                                                                          uint64_t generation)
{
	for (auto it = files_.begin(); it != files_.end(); ++it)
		if (it->second.info.ino == ino && it->second.info.generation == generation)
			return it;
	return files_.end();
}

FileInfo FakeVolume::stat(const std::string &path)
{
	std::lock_guard lock(mutex_);
	return find(path).info;
}

void FakeVolume::walk(const std::string &path, const std::function<void(const FileInfo &)> &visit)
{
	// Copied out first: `visit` may call back into the volume. Paths sort parents first.
	std::vector<FileInfo> subtree;
	{
		std::lock_guard lock(mutex_);
		subtree.push_back(find(path).info);
		for (auto it = files_.upper_bound(path); it != files_.end(); ++it)
			if (is_below(it->first, path))
				subtree.push_back(it->second.info);
	}
	for (const auto &fi : subtree)
		visit(fi);
}

void FakeVolume::hook()
{
	if (auto run = std::exchange(before_flag_change, nullptr))
		run();
}

void FakeVolume::set_flag(File &file, bool on)
{
	file.info.dax_flag = on;
	++file.flag_changes;
	++flag_changes_;
	if (file.opens == 0 && file.info.mapped == 0)
		file.info.dax_effective =
		    fscore::effective_dax(mode_, dax_capable_, file.info.type, on);
}

void FakeVolume::set_dax_flag(const std::string &path, bool on)
{
	hook();
	std::lock_guard lock(mutex_);
	File &f = find(path);
	if (!fscore::can_carry_dax_flag(f.info.type))
		throw Error(Errc::unsupported, name_ + ":" + path + ": " + f.info.unsupported);
	if (f.info.dax_flag != on)
		set_flag(f, on);
}

SetFlagResult FakeVolume::set_dax_flag_if_unmapped(uint64_t ino, uint64_t generation, bool on)
{
	flag_calls_++;
	hook();
	std::lock_guard lock(mutex_);
	auto it = by_identity(ino, generation);
	if (it == files_.end())
		return {SetFlagResult::Status::gone, 0};
	File &f = it->second;
	if (f.info.mapped)
		return {SetFlagResult::Status::mapped, f.info.mapped};
	if (f.info.dax_flag == on)
		return {SetFlagResult::Status::unchanged, 0};
	set_flag(f, on);
	return {SetFlagResult::Status::applied, 0};
}

std::optional<std::string> FakeVolume::path_of(uint64_t ino, uint64_t generation)
{
	std::lock_guard lock(mutex_);
	auto it = by_identity(ino, generation);
	return it == files_.end() ? std::nullopt : std::optional(it->first);
}

fscore::Subscription FakeVolume::subscribe(fscore::VolumeListener listener)
{
	return listeners_.add(std::move(listener));
}

FileInfo FakeVolume::mkdir(const std::string &path)
{
	FileInfo made;
	{
		std::lock_guard lock(mutex_);
		made = make(path, FileType::directory).info;
	}
	notify({event(VolumeEvent::Kind::created, made)});
	return made;
}

FileInfo FakeVolume::create(const std::string &path)
{
	FileInfo made;
	{
		std::lock_guard lock(mutex_);
		made = make(path, FileType::regular).info;
	}
	notify({event(VolumeEvent::Kind::created, made)});
	return made;
}

FileInfo FakeVolume::mknod(const std::string &path)
{
	std::lock_guard lock(mutex_);
	return make(path, FileType::other).info;
}

void FakeVolume::remove(const std::string &path)
{
	FileInfo gone;
	{
		std::lock_guard lock(mutex_);
		auto it = files_.find(path);
		if (it == files_.end() || path == "/")
			throw Error(path == "/" ? Errc::invalid_argument : Errc::not_found,
			            name_ + ":" + path);
		auto next = std::next(it);
		if (next != files_.end() && is_below(next->first, path))
			throw Error(Errc::invalid_argument,
			            name_ + ":" + path + ": directory not empty");
		gone = it->second.info;
		files_.erase(it);
	}
	notify({event(VolumeEvent::Kind::removed, gone)});
}

void FakeVolume::rename(const std::string &from, const std::string &to)
{
	Events events;
	{
		std::lock_guard lock(mutex_);
		find(from);
		if (from == "/" || is_below(to, from))
			throw Error(Errc::invalid_argument, name_ + ":" + from + " -> " + to);
		if (find(parent_of(to)).info.type != FileType::directory)
			throw Error(Errc::not_found, name_ + ":" + parent_of(to));
		if (auto replaced = files_.find(to); replaced != files_.end()) {
			events.push_back(event(VolumeEvent::Kind::removed, replaced->second.info));
			files_.erase(replaced);
		}
		// The file and everything below it move; each keeps its flag.
		std::vector<std::pair<std::string, File>> moved;
		for (auto it = files_.lower_bound(from); it != files_.end();) {
			if (it->first != from && !is_below(it->first, from)) {
				++it;
				continue;
			}
			moved.emplace_back(to + it->first.substr(from.size()), it->second);
			it = files_.erase(it);
		}
		for (auto &[path, file] : moved) {
			file.info.path = path;
			files_.emplace(path, file);
		}
		events.push_back(event(VolumeEvent::Kind::renamed, files_.at(to).info, from));
	}
	notify(events);
}

void FakeVolume::open(const std::string &path)
{
	std::lock_guard lock(mutex_);
	File &f = find(path);
	++f.opens;
	f.info.in_use = true;
}

void FakeVolume::map(const std::string &path)
{
	std::lock_guard lock(mutex_);
	File &f = find(path);
	++f.info.mapped;
	f.info.in_use = true;
}

void FakeVolume::settle(File &file, Events &events)
{
	file.info.in_use = file.opens > 0 || file.info.mapped > 0;
	if (file.info.in_use)
		return;
	file.info.dax_effective =
	    fscore::effective_dax(mode_, dax_capable_, file.info.type, file.info.dax_flag);
	events.push_back(event(VolumeEvent::Kind::released, file.info));
}

void FakeVolume::close(const std::string &path)
{
	Events events;
	{
		std::lock_guard lock(mutex_);
		File &f = find(path);
		if (f.opens == 0)
			throw Error(Errc::invalid_argument, name_ + ":" + path + ": not open");
		--f.opens;
		settle(f, events);
	}
	notify(events);
}

void FakeVolume::unmap(const std::string &path)
{
	Events events;
	{
		std::lock_guard lock(mutex_);
		File &f = find(path);
		if (f.info.mapped == 0)
			throw Error(Errc::invalid_argument, name_ + ":" + path + ": not mapped");
		if (--f.info.mapped == 0)
			events.push_back(event(VolumeEvent::Kind::unmapped, f.info));
		settle(f, events);
	}
	notify(events);
}

void FakeVolume::forget_users()
{
	std::lock_guard lock(mutex_);
	for (auto &[path, f] : files_) {
		f.opens = 0;
		f.info.mapped = 0;
		f.info.in_use = false;
		f.info.dax_effective =
		    fscore::effective_dax(mode_, dax_capable_, f.info.type, f.info.dax_flag);
	}
}

std::vector<fscore::SetFlagResult>
FakeVolume::set_dax_flags_if_unmapped(std::span<const fscore::FlagChange> changes)
{
	batch_calls_++;
	batched_changes_ += unsigned(changes.size());
	return Volume::set_dax_flags_if_unmapped(changes);
}

unsigned FakeVolume::flag_changes() const
{
	std::lock_guard lock(mutex_);
	return flag_changes_;
}

unsigned FakeVolume::flag_changes(const std::string &path) const
{
	std::lock_guard lock(mutex_);
	return find(path).flag_changes;
}

} // namespace daxpolicy::test
