// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/host/file_handle.hpp"

#include "fscore/host/load_bytes.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <new>

namespace daxpolicy::fscore::host
{

namespace
{

// enum fid_type, include/linux/exportfs.h: part of the kernel's ABI (NFS handles on the
// wire carry them).
constexpr int32_t kFileIdIno32Gen = 1;
constexpr int32_t kFileIdIno32GenParent = 2;
constexpr int32_t kFileIdIno64Gen = 0x81;
constexpr int32_t kFileIdIno64GenParent = 0x82;

} // namespace

std::optional<InodeIdentity> identity_of_handle(const FileHandle &handle)
{
	auto b = std::as_bytes(std::span(handle.bytes));
	switch (handle.type) {
	case kFileIdIno32Gen:
	case kFileIdIno32GenParent:
		if (b.size() < 8)
			return std::nullopt;
		return InodeIdentity{load_bytes<uint32_t>(b, 0), load_bytes<uint32_t>(b, 4)};
	case kFileIdIno64Gen:
	case kFileIdIno64GenParent:
		if (b.size() < 12)
			return std::nullopt;
		return InodeIdentity{load_bytes<uint64_t>(b, 0), load_bytes<uint32_t>(b, 8)};
	default:
		return std::nullopt;
	}
}

std::optional<FileHandle> handle_of_identity(int32_t type, const InodeIdentity &id)
{
	auto put = [](std::vector<unsigned char> &bytes, size_t at, auto value) {
		std::memcpy(bytes.data() + at, &value, sizeof value);
	};
	FileHandle h{type, {}};
	switch (type) {
	case kFileIdIno32Gen:
		if (id.ino > UINT32_MAX || id.generation > UINT32_MAX)
			return std::nullopt;
		h.bytes.resize(8);
		put(h.bytes, 0, static_cast<uint32_t>(id.ino));
		put(h.bytes, 4, static_cast<uint32_t>(id.generation));
		return h;
	case kFileIdIno64Gen:
		if (id.generation > UINT32_MAX)
			return std::nullopt;
		h.bytes.resize(12);
		put(h.bytes, 0, id.ino);
		put(h.bytes, 8, static_cast<uint32_t>(id.generation));
		return h;
	default:
		return std::nullopt;
	}
}

std::optional<FileHandle> handle_of_fd(int fd)
{
	alignas(
	    struct file_handle) unsigned char storage[sizeof(struct file_handle) + kMaxHandleBytes];
	auto *fh = new (storage) file_handle;
	fh->handle_bytes = kMaxHandleBytes;
	int mount_id = 0;
	if (::name_to_handle_at(fd, "", fh, &mount_id, AT_EMPTY_PATH) != 0)
		return std::nullopt;
	if (fh->handle_bytes > kMaxHandleBytes) {
		errno = EOVERFLOW;
		return std::nullopt;
	}
	const auto *bytes = storage + offsetof(struct file_handle, f_handle);
	return FileHandle{fh->handle_type, {bytes, bytes + fh->handle_bytes}};
}

UniqueFd open_handle(int mount_fd, const FileHandle &handle, int flags)
{
	if (handle.bytes.size() > kMaxHandleBytes) {
		errno = EINVAL;
		return UniqueFd();
	}
	// struct file_handle with room for the longest handle, aligned for its int members.
	alignas(
	    struct file_handle) unsigned char storage[sizeof(struct file_handle) + kMaxHandleBytes];
	auto *fh = new (storage) file_handle;
	fh->handle_bytes = static_cast<unsigned>(handle.bytes.size());
	fh->handle_type = handle.type;
	std::memcpy(storage + offsetof(struct file_handle, f_handle), handle.bytes.data(),
	            handle.bytes.size());
	return UniqueFd(::open_by_handle_at(mount_fd, fh, flags | O_CLOEXEC));
}

} // namespace daxpolicy::fscore::host
