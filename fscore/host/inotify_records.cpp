// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/inotify_records.hpp"

#include "fscore/host/load_bytes.hpp"

#include <cstring>
#include <sys/inotify.h>

namespace daxpolicy::fscore::host
{

namespace
{

constexpr size_t kHeaderLen = sizeof(struct inotify_event);
static_assert(kHeaderLen == 16);

} // namespace

ParsedInotify parse_inotify_events(std::span<const std::byte> buffer)
{
	ParsedInotify out;
	while (!buffer.empty()) {
		if (buffer.size() < kHeaderLen) {
			out.cut = true;
			break;
		}
		auto len = load_bytes<uint32_t>(buffer, 12);
		if (len > buffer.size() - kHeaderLen) {
			out.cut = true;
			break;
		}
		InotifyEvent e;
		e.wd = load_bytes<int32_t>(buffer, 0);
		e.mask = load_bytes<uint32_t>(buffer, 4);
		e.cookie = load_bytes<uint32_t>(buffer, 8);
		auto name = buffer.subspan(kHeaderLen, len);
		buffer = buffer.subspan(kHeaderLen + len);
		if (len) {
			const auto *chars = reinterpret_cast<const char *>(name.data());
			const void *nul = std::memchr(chars, 0, name.size());
			if (nul)
				e.name.assign(chars, static_cast<const char *>(nul));
			if (!nul || e.name.empty() || e.name == "." || e.name == ".." ||
			    e.name.find('/') != std::string::npos) {
				out.garbled++;
				continue;
			}
		}
		out.events.push_back(std::move(e));
	}
	return out;
}

} // namespace daxpolicy::fscore::host
