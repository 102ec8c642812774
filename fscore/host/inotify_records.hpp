// SPDX-License-Identifier: BSD-3-Clause
// What a read(2) of an inotify instance returns (inotify(7)), taken apart as a pure function
// over bytes, so that a garbled buffer is tested without a kernel. Each event is a struct
// inotify_event (int wd; u32 mask, cookie, len) followed by `len` bytes of name: the entry's
// name in the watched directory, NUL-terminated and padded with NULs, or none (len 0) for an
// event on the directory itself or on the queue (IN_Q_OVERFLOW, wd -1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace daxpolicy::fscore::host
{

struct InotifyEvent {
	int32_t wd = -1;
	uint32_t mask = 0;   // IN_* bits
	uint32_t cookie = 0; // pairs IN_MOVED_FROM with its IN_MOVED_TO
	std::string name;    // empty, or one name: no '/', not "." nor ".."
	bool operator==(const InotifyEvent &) const = default;
};

struct ParsedInotify {
	std::vector<InotifyEvent> events;
	// An event whose name is not one (a '/', no NUL within len, "." or ".."): left out,
	// and the events after it still read, since len says where they start.
	size_t garbled = 0;
	// The buffer ended inside an event: nothing after it can be found.
	bool cut = false;
};

ParsedInotify parse_inotify_events(std::span<const std::byte> buffer);

} // namespace daxpolicy::fscore::host
