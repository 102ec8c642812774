// SPDX-License-Identifier: BSD-3-Clause
// What a file must hold after each operation, by the kernel's rules: the byte model fsx keeps.
// Callers apply an operation to the file and to the model, then compare the two.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace daxpolicy::test
{

class FileModel
{
      public:
	static constexpr uint64_t kBlock = 4096;

	const std::vector<std::byte> &bytes() const { return bytes_; }
	uint64_t size() const { return bytes_.size(); }

	// pwrite: grows the file.
	void write(uint64_t off, uint64_t len, std::byte c)
	{
		grow(off + len);
		std::fill_n(bytes_.begin() + off, len, c);
	}
	// A store through a mapping never moves end-of-file: returns the bytes that land.
	uint64_t store(uint64_t off, uint64_t len, std::byte c)
	{
		len = off < size() ? std::min(len, size() - off) : 0;
		std::fill_n(bytes_.begin() + off, len, c);
		return len;
	}
	void truncate(uint64_t new_size) { bytes_.resize(new_size); }
	void allocate(uint64_t off, uint64_t len, bool keep_size)
	{
		if (!keep_size)
			grow(off + len);
	}
	void punch(uint64_t off, uint64_t len)
	{
		if (off < size())
			std::fill(bytes_.begin() + off,
			          bytes_.begin() + std::min(size(), off + len), std::byte(0));
	}
	void zero(uint64_t off, uint64_t len) { write(off, len, std::byte(0)); }
	// Collapse needs block alignment and a range that ends before end-of-file.
	bool can_collapse(uint64_t off, uint64_t len) const
	{
		return aligned(off, len) && len > 0 && off + len < size();
	}
	void collapse(uint64_t off, uint64_t len)
	{
		bytes_.erase(bytes_.begin() + off, bytes_.begin() + off + len);
	}
	// Insert needs block alignment and an offset before end-of-file.
	bool can_insert(uint64_t off, uint64_t len) const
	{
		return aligned(off, len) && len > 0 && off < size();
	}
	void insert(uint64_t off, uint64_t len)
	{
		bytes_.insert(bytes_.begin() + off, len, std::byte(0));
	}

      private:
	static bool aligned(uint64_t off, uint64_t len)
	{
		return off % kBlock == 0 && len % kBlock == 0;
	}
	void grow(uint64_t to)
	{
		if (to > size())
			bytes_.resize(to);
	}

	std::vector<std::byte> bytes_;
};

} // namespace daxpolicy::test
