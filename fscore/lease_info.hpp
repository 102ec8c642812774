// SPDX-License-Identifier: BSD-3-Clause
// Layout leases as every volume that has them reports them: who holds which range of which
// file, and what a holder is told when its lease is broken.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace daxpolicy::fscore
{

// The longest lease_break_timeout: a deadline further off would overflow the clock, and no
// holder needs a day to let go.
inline constexpr std::chrono::milliseconds kMaxLeaseBreakTimeout = std::chrono::hours(24);

// Who holds a session's files, mappings and pins: the client process.
struct Holder {
	int pid = 0;
	unsigned uid = 0;
};

enum class LeaseKind { mapping, pin };
enum class LeaseState {
	active,
	breaking, // the holder was told to let go; the breaker is waiting
	revoked,  // the holder did not let go in time: every access through it fails
};
const char *lease_kind_name(LeaseKind kind);
const char *lease_state_name(LeaseState state);

// A lease as `list-leases` shows it.
struct LeaseInfo {
	std::string path; // empty once the file is removed
	uint64_t ino = 0;
	Holder holder;
	uint64_t offset = 0;
	uint64_t length = 0;
	int64_t since_ms = 0;
	LeaseKind kind = LeaseKind::mapping;
	LeaseState state = LeaseState::active;
};

// What a holder is told when its lease is broken.
struct LeaseNotice {
	std::string path;
	std::string op; // layout_op_name
	uint64_t offset = 0;
	uint64_t length = 0;
	bool must_release = false; // BREAK_UNMAP: let go (munmap, unpin) or be revoked
};

} // namespace daxpolicy::fscore
