// SPDX-License-Identifier: BSD-3-Clause
// Sizes and durations as users write them, in config files and on command lines.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace daxpolicy
{

// "1GiB", "512MiB", "4k", "2m", "1g", "4096": bytes. Nothing on malformed input or overflow.
std::optional<uint64_t> parse_size(const std::string &text);

// "45s", "500ms", "2m", "30d", "30" (seconds): milliseconds. Nothing on malformed input.
std::optional<std::chrono::milliseconds> parse_duration(const std::string &text);

} // namespace daxpolicy
