// SPDX-License-Identifier: BSD-3-Clause
// Layout leases: every mapping holds one on its range, and so does every pin. An operation
// that changes a file's extent map breaks the leases it overlaps, the same way whatever the
// operation (see EmbeddedVolume::break_layout).
#pragma once

#include "fscore/layout_op.hpp"
#include "fscore/lease_info.hpp"

#include <cstdint>

namespace daxpolicy::fscore
{

class EmbeddedSession;

// The kernel's two ways of breaking: BREAK_UNMAP for removing or moving blocks (wait for
// the holders, then revoke), BREAK_WRITE for allocating under them (tell, do not wait).
enum class BreakKind { unmap, write };

inline constexpr uint64_t kToEnd = UINT64_MAX; // a range that runs to the end of any file

struct Lease {
	uint64_t id = 0;
	uint64_t ino = 0;
	uint64_t offset = 0;
	uint64_t length = 0;
	LeaseKind kind = LeaseKind::mapping;
	LeaseState state = LeaseState::active;
	EmbeddedSession *session = nullptr;
	int pid = 0;
	unsigned uid = 0;
	int64_t since_ms = 0;

	bool overlaps(uint64_t file, uint64_t off, uint64_t len) const
	{
		uint64_t end = len > kToEnd - off ? kToEnd : off + len;
		uint64_t my_end = length > kToEnd - offset ? kToEnd : offset + length;
		return ino == file && offset < end && off < my_end;
	}
};

} // namespace daxpolicy::fscore
