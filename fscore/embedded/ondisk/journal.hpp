// SPDX-License-Identifier: BSD-3-Clause
// The redo journal: every metadata change (namespace, inodes, extents, bitmap, flags) is staged
// in a Transaction and becomes durable all at once at commit, or not at all.
#pragma once

#include "fscore/embedded/ondisk/layout.hpp"
#include "fscore/embedded/ondisk/pmem_pool.hpp"

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

namespace daxpolicy::fscore
{

// One record of a committed transaction, as replay writes it: `len` bytes from `data` to
// `pool_offset`.
struct JournalReplay {
	uint64_t pool_offset;
	uint64_t len;
	const std::byte *data;
};

class Journal
{
      public:
	Journal(const PmemPool &pool, const Superblock &sb);

	// Writes an empty header (mkfs).
	void format();
	// Replays a committed transaction left by a crash. Returns true when one was replayed.
	// Throws `corrupted` (changing nothing) when the journal fails `committed`'s checks.
	bool recover(const Superblock &sb);
	// The records a mount would replay from the pool image `pool` (none when nothing is
	// committed), each checked to lie within the payload and the pool's metadata and
	// data; throws `corrupted` naming what is wrong. fsck replays them into a private copy.
	static std::vector<JournalReplay> committed(std::span<const std::byte> pool,
	                                            const Superblock &sb);
	// The checksum a committed transaction carries: of the header's sequence, record
	// count and payload size, and of the payload (`h.payload_bytes` at `payload`).
	static uint64_t checksum(const JournalHeader &h, const std::byte *payload);
	// True when no transaction is committed-but-unapplied (what fsck expects after recovery).
	bool empty() const;
	size_t capacity() const { return capacity_; }
	// A transaction failed to persist past its commit point: the pool in place lags what
	// was committed (the next mount replays it), and every later transaction is refused.
	bool shut_down() const { return shut_down_; }

      private:
	friend class Transaction;
	struct Staged {
		uint64_t pool_offset;
		size_t len;
		size_t data_pos;
	};
	void commit(const std::vector<Staged> &records, const std::vector<std::byte> &data);
	// Writes the records in place and makes them durable.
	void apply(const std::vector<JournalReplay> &records);

	const PmemPool &pool_;
	JournalHeader *header_;
	std::byte *payload_;
	size_t capacity_;
	// A transaction failed to persist past its commit point (see commit).
	bool shut_down_ = false;
};

class Transaction
{
      public:
	explicit Transaction(Journal &journal) : journal_(journal) {}
	~Transaction();
	Transaction(const Transaction &) = delete;
	Transaction &operator=(const Transaction &) = delete;

	// The new content of the pool bytes at `dst`; written in place only at commit. Later
	// stages of the same bytes win.
	void stage(void *dst, const void *src, size_t len);
	template <class T> void stage(T *dst, const T &value) { stage(dst, &value, sizeof(T)); }
	// Undoes DRAM state that mirrors a staged change, should the transaction be abandoned
	// (an exception before commit). Run in reverse order.
	void on_abort(std::function<void()> undo) { undo_.push_back(std::move(undo)); }
	void commit();

      private:
	Journal &journal_;
	std::vector<Journal::Staged> records_;
	std::vector<std::byte> data_;
	size_t payload_bytes_ = 0; // what records_ will take in the journal
	std::vector<std::function<void()>> undo_;
	bool done_ = false;
};

} // namespace daxpolicy::fscore
