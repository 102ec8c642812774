// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/fanotify_records.hpp"

#include "fscore/host/load_bytes.hpp"

#include <cstring>
#include <linux/fanotify.h>

namespace daxpolicy::fscore::host
{

namespace
{

using Bytes = std::span<const std::byte>;

// Sizes of the kernel's structures, from the uapi header, and where their fields are.
constexpr size_t kMetadataLen = sizeof(struct fanotify_event_metadata);
constexpr size_t kInfoHeaderLen = sizeof(struct fanotify_event_info_header);
constexpr size_t kFidHeaderLen = sizeof(struct fanotify_event_info_fid); // header + fsid
constexpr size_t kHandleHeaderLen = 8; // struct file_handle: handle_bytes, handle_type
static_assert(kMetadataLen == 24 && kInfoHeaderLen == 4 && kFidHeaderLen == 12);

// One fanotify_event_info_fid record, `rec` exactly its header's len.
std::optional<FidRecord> parse_fid(Bytes rec, bool with_name)
{
	if (rec.size() < kFidHeaderLen + kHandleHeaderLen)
		return std::nullopt;
	FidRecord fid;
	fid.fsid = {load_bytes<int32_t>(rec, 4), load_bytes<int32_t>(rec, 8)};
	auto handle_bytes = load_bytes<uint32_t>(rec, kFidHeaderLen);
	fid.handle.type = load_bytes<int32_t>(rec, kFidHeaderLen + 4);
	Bytes rest = rec.subspan(kFidHeaderLen + kHandleHeaderLen);
	if (handle_bytes > kMaxHandleBytes || handle_bytes > rest.size())
		return std::nullopt;
	const auto *handle = reinterpret_cast<const unsigned char *>(rest.data());
	fid.handle.bytes.assign(handle, handle + handle_bytes);
	if (!with_name)
		return fid; // what follows is padding
	Bytes name = rest.subspan(handle_bytes);
	const auto *chars = reinterpret_cast<const char *>(name.data());
	const void *nul = std::memchr(chars, 0, name.size());
	if (!nul)
		return std::nullopt;
	fid.name.assign(chars, static_cast<const char *>(nul));
	if (fid.name.empty() || fid.name == ".." || fid.name.find('/') != std::string::npos)
		return std::nullopt;
	return fid;
}

// The info records of one event, from metadata_len to event_len; false when they do not
// fit.
bool parse_records(Bytes records, FanotifyEvent &event)
{
	while (!records.empty()) {
		if (records.size() < kInfoHeaderLen)
			return false;
		auto type = load_bytes<uint8_t>(records, 0);
		auto len = load_bytes<uint16_t>(records, 2);
		if (len < kInfoHeaderLen || len > records.size())
			return false;
		Bytes rec = records.first(len);
		records = records.subspan(len);
		std::optional<FidRecord> *slot = nullptr;
		bool with_name = true;
		switch (type) {
		case FAN_EVENT_INFO_TYPE_FID:
			slot = &event.object;
			with_name = false;
			break;
		case FAN_EVENT_INFO_TYPE_DFID:
			slot = &event.dir;
			with_name = false;
			break;
		case FAN_EVENT_INFO_TYPE_DFID_NAME:
			slot = &event.dir;
			break;
		case FAN_EVENT_INFO_TYPE_OLD_DFID_NAME:
			slot = &event.old_dir;
			break;
		case FAN_EVENT_INFO_TYPE_NEW_DFID_NAME:
			slot = &event.new_dir;
			break;
		default:
			continue; // pidfd, error, or a kind this version does not know: its len
			          // was checked, so it is stepped over
		}
		if (*slot)
			return false;
		*slot = parse_fid(rec, with_name);
		if (!*slot)
			return false;
	}
	return true;
}

} // namespace

ParsedEvents parse_fanotify_events(Bytes buffer)
{
	ParsedEvents out;
	while (!buffer.empty()) {
		if (buffer.size() < kMetadataLen) {
			out.cut = true;
			break;
		}
		auto event_len = load_bytes<uint32_t>(buffer, 0);
		auto vers = load_bytes<uint8_t>(buffer, 4);
		auto metadata_len = load_bytes<uint16_t>(buffer, 6);
		if (vers != FANOTIFY_METADATA_VERSION || event_len < kMetadataLen ||
		    event_len > buffer.size()) {
			out.cut = true;
			break;
		}
		Bytes bytes = buffer.first(event_len);
		buffer = buffer.subspan(event_len);
		if (metadata_len < kMetadataLen || metadata_len > event_len) {
			out.garbled++;
			continue;
		}
		FanotifyEvent event;
		event.mask = load_bytes<uint64_t>(bytes, 8);
		event.pid = load_bytes<int32_t>(bytes, 20);
		if (!parse_records(bytes.subspan(metadata_len), event)) {
			out.garbled++;
			continue;
		}
		out.events.push_back(std::move(event));
	}
	return out;
}

} // namespace daxpolicy::fscore::host
