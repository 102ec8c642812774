// Sizes as users write them, in config files and on command lines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace daxpolicy::fscore
{

// "1GiB", "512MiB", "4k", "2m", "1g", "4096": bytes. Nothing on malformed input or overflow.
std::optional<uint64_t> parse_size(const std::string &text);

} // namespace daxpolicy::fscore
