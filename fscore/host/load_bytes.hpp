// SPDX-License-Identifier: BSD-3-Clause
// A value of a kernel record read from a byte buffer, at any alignment: the records
// getdents64, fanotify and file handles hand back are packed, and their fields may sit at
// offsets a plain cast would read misaligned.
#pragma once

#include "common/checks.hpp"

#include <cstddef>
#include <cstring>
#include <span>

namespace daxpolicy::fscore::host
{

// The caller has checked that [at, at + sizeof(T)) lies within `bytes` (the parsers check
// each record's length before reading its fields); checked builds check it again.
template <class T> T load_bytes(std::span<const std::byte> bytes, size_t at)
{
	DAXPOLICY_CHECK(at <= bytes.size() && sizeof(T) <= bytes.size() - at,
	                "a record's field lies within its buffer");
	T value;
	std::memcpy(&value, bytes.data() + at, sizeof value);
	return value;
}

} // namespace daxpolicy::fscore::host
