// SPDX-License-Identifier: BSD-3-Clause
// What a read(2) of a fanotify group that reports file handles returns (fanotify(7)), taken
// apart as a pure function over bytes, so that a garbled or hostile buffer is tested without
// a kernel. Each event is a struct fanotify_event_metadata, event_len bytes in all, followed
// (from metadata_len on) by info records, each a struct fanotify_event_info_header whose len
// covers the record and its padding. The records a FAN_REPORT_DFID_NAME_TARGET group gets:
//   FAN_EVENT_INFO_TYPE_FID            the object itself (struct fanotify_event_info_fid:
//                                      header, fsid, then a struct file_handle)
//   FAN_EVENT_INFO_TYPE_DFID_NAME      its directory and its name in it ("." for an event
//                                      on a directory itself), the name NUL-terminated
//                                      after the handle
//   FAN_EVENT_INFO_TYPE_DFID           a directory, without a name
//   FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, FAN_EVENT_INFO_TYPE_NEW_DFID_NAME
//                                      FAN_RENAME's two directory entries
// Every length is checked against what holds it before anything is read through it.
#pragma once

#include "fscore/host/file_handle.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace daxpolicy::fscore::host
{

struct FidRecord {
	std::array<int32_t, 2> fsid = {}; // __kernel_fsid_t: statfs(2)'s f_fsid
	FileHandle handle;
	std::string name; // the *_DFID_NAME records only: one name, never empty, no '/'
	bool operator==(const FidRecord &) const = default;
};

struct FanotifyEvent {
	uint64_t mask = 0; // FAN_* bits; merged events carry several (FAN_CREATE | FAN_CLOSE_WRITE)
	int32_t pid = 0;   // the process that caused it (its thread group)
	std::optional<FidRecord> object;  // FAN_EVENT_INFO_TYPE_FID
	std::optional<FidRecord> dir;     // FAN_EVENT_INFO_TYPE_DFID_NAME or _DFID
	std::optional<FidRecord> old_dir; // FAN_EVENT_INFO_TYPE_OLD_DFID_NAME
	std::optional<FidRecord> new_dir; // FAN_EVENT_INFO_TYPE_NEW_DFID_NAME
	bool operator==(const FanotifyEvent &) const = default;
};

struct ParsedEvents {
	std::vector<FanotifyEvent> events;
	// Events left out because their records do not fit in them (a record shorter than
	// its header or running past the event, a handle longer than its record or than
	// kMaxHandleBytes, a name without its NUL, one record type twice). The events after
	// one are still read: event_len says where they start.
	size_t garbled = 0;
	// The buffer ended inside an event, or an event's header was impossible (a version
	// other than FANOTIFY_METADATA_VERSION, an event_len shorter than its header or
	// longer than what is left): nothing after it can be found, and it is lost.
	bool cut = false;
};

ParsedEvents parse_fanotify_events(std::span<const std::byte> buffer);

} // namespace daxpolicy::fscore::host
