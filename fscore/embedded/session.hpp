// SPDX-License-Identifier: BSD-3-Clause
// The embedded core's sessions (fscore/session.hpp says what a session is): each open file,
// mapping and pin of one client, and the layout leases they hold.
#pragma once

#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/lease.hpp"
#include "fscore/session.hpp"

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace daxpolicy::fscore
{

class EmbeddedSession final : public Session
{
      public:
	// Made by EmbeddedVolume::open_session.
	EmbeddedSession(EmbeddedVolume &vol, Holder holder) : vol_(vol), holder_(holder) {}
	// Each as fscore::Session describes it.
	~EmbeddedSession() override;
	const Holder &holder() const override { return holder_; }
	EmbeddedVolume &volume() const { return vol_; }

	int open(const std::string &path, bool create) override;
	void close(int fd) override;
	FileInfo fstat(int fd) override;
	std::vector<std::byte> pread(int fd, uint64_t off, size_t len) override;
	size_t pread(int fd, uint64_t off, std::span<std::byte> out) override;
	void pwrite(int fd, uint64_t off, std::span<const std::byte> data) override;
	void fsync(int fd) override;
	void truncate(int fd, uint64_t size) override;
	void fallocate(int fd, LayoutOp op, uint64_t off, uint64_t len,
	               bool keep_size = false) override;
	void set_dax_flag(int fd, bool on) override;
	int mmap(int fd, uint64_t off, uint64_t len, bool writable) override;
	std::vector<std::byte> mread(int map, uint64_t off, size_t len) override;
	void mwrite(int map, uint64_t off, std::span<const std::byte> data) override;
	void munmap(int map) override;
	void pin(int fd, uint64_t off, uint64_t len) override;
	void unpin() override;
	std::vector<LeaseNotice> take_notices() override;
	void cancel() override;

	// What a break of a layout lease does to the session that holds it
	// (EmbeddedVolume::break_layout). With the volume lock held.
	// The holder is told: take_notices() hands it over.
	void add_notice(LeaseNotice notice);
	// Every access through the mapping that holds `lease` fails from now on, and it no
	// longer counts as a mapping of its file.
	void revoke_mapping(uint64_t lease);
	// Whether the session is ending: its waits give up.
	bool cancelled() const;

      private:
	struct OpenFile {
		uint64_t ino;
		std::string path; // as opened, for messages
	};
	struct Mapping {
		uint64_t ino = 0;
		uint64_t off = 0;
		uint64_t len = 0;
		bool writable = false;
		uint64_t lease = 0;
		bool revoked = false;
	};
	// These three: with the volume's mutex held.
	const OpenFile &file(int fd) const;
	Mapping &mapping(int map);
	uint64_t regular_file(int fd) const; // the ino, or invalid-argument for a directory
	// A use of the file open as `fd` (a regular file), or mapped as `map`, for the length
	// of one operation. These take the volume's mutex themselves.
	EmbeddedVolume::InodeRef use_file(int fd) const;
	// The same for whatever `fd` is open on, a directory too.
	EmbeddedVolume::InodeRef use_open(int fd) const;
	EmbeddedVolume::InodeRef use_mapping(int map, Mapping &out);
	// Checks an access through a mapping, with the file's invalidate lock shared held;
	// returns the file's size.
	uint64_t check_mapped_access(int map, uint64_t off, size_t len);
	// Runs `add_lease` with the volume's mutex held, once no break of the file's layout
	// is under way (new mappings and pins wait for a break, as faults do).
	template <class AddLease>
	void when_no_break(EmbeddedVolume::InodeRef &ref, std::string_view waiting,
	                   AddLease add_lease);

	EmbeddedVolume &vol_;
	Holder holder_;
	std::map<int, OpenFile> files_;
	std::map<int, Mapping> maps_;
	std::vector<uint64_t> pins_;
	std::vector<LeaseNotice> notices_;
	bool cancelled_ = false;
	int next_id_ = 3;
};

} // namespace daxpolicy::fscore
