// SPDX-License-Identifier: BSD-3-Clause
// Byte ranges of files. Every offset and length a caller hands the embedded core is checked
// here before any arithmetic on it, as the kernel's generic_write_checks and
// remap_verify_area do: `off + len` must not wrap, nor pass the largest file.
#pragma once

#include "common/error.hpp"
#include "fscore/embedded/ondisk/layout.hpp"

#include <cstdint>
#include <string>

namespace daxpolicy::fscore
{

inline constexpr uint64_t kMaxFileSize = kMaxFileBlocks * kBlockSize;

// The end of [off, off+len). Throws invalid_argument naming `op` when the range wraps or
// ends past `limit`.
inline uint64_t range_end(const char *op, uint64_t off, uint64_t len, uint64_t limit = kMaxFileSize)
{
	if (off > limit || len > limit - off)
		throw Error(Errc::invalid_argument,
		            std::string(op) + ": offset " + std::to_string(off) + " + length " +
		                std::to_string(len) + " is beyond " +
		                (limit == kMaxFileSize ? "the largest file" : "the range allowed"));
	return off + len;
}

} // namespace daxpolicy::fscore
