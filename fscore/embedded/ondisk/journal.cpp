// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/ondisk/journal.hpp"

#include "common/error.hpp"
#include "fscore/embedded/ondisk/fault.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace daxpolicy::fscore
{

namespace
{

uint64_t fnv1a(const void *bytes, size_t len, uint64_t h = 0xcbf29ce484222325ull)
{
	const auto *data = static_cast<const std::byte *>(bytes);
	for (size_t i = 0; i < len; i++) {
		h ^= static_cast<uint8_t>(data[i]);
		h *= 0x100000001b3ull;
	}
	return h;
}

constexpr size_t pad8(size_t n)
{
	return (n + 7) & ~size_t{7};
}

} // namespace

// Covers every field that says what to replay, not the payload alone: a damaged
// record_count or payload_bytes must fail the check rather than steer the replay.
uint64_t Journal::checksum(const JournalHeader &h, const std::byte *payload)
{
	uint64_t sum = fnv1a(&h.magic, sizeof(h.magic));
	sum = fnv1a(&h.sequence, sizeof(h.sequence), sum);
	sum = fnv1a(&h.record_count, sizeof(h.record_count), sum);
	sum = fnv1a(&h.payload_bytes, sizeof(h.payload_bytes), sum);
	return fnv1a(payload, h.payload_bytes, sum);
}

Journal::Journal(const PmemPool &pool, const Superblock &sb)
    : pool_(pool),
      header_(reinterpret_cast<JournalHeader *>(pool.base() + sb.journal_start * kBlockSize)),
      payload_(pool.base() + (sb.journal_start + 1) * kBlockSize),
      capacity_((sb.journal_blocks - 1) * kBlockSize)
{
}

void Journal::format()
{
	JournalHeader h{};
	h.magic = kJournalMagic;
	pool_.memcpy_persist(header_, &h, sizeof(h));
}

bool Journal::empty() const
{
	return header_->committed == 0;
}

std::vector<JournalReplay> Journal::committed(std::span<const std::byte> pool, const Superblock &sb)
{
	auto corrupt = [](const std::string &why) {
		throw Error(Errc::corrupted, "journal: " + why);
	};
	const std::byte *start = pool.data() + sb.journal_start * kBlockSize;
	JournalHeader h;
	std::memcpy(&h, start, sizeof(h));
	if (h.magic != kJournalMagic)
		corrupt("bad magic");
	if (h.committed == 0)
		return {};
	const std::byte *payload = start + kBlockSize;
	uint64_t capacity = (sb.journal_blocks - 1) * kBlockSize;
	if (h.payload_bytes > capacity)
		corrupt("committed transaction is larger than the journal");
	if (checksum(h, payload) != h.checksum)
		corrupt("committed transaction fails its checksum");
	// Records may only name metadata and data blocks: never the superblock or the journal.
	uint64_t lowest = sb.inode_table_start * kBlockSize, highest = sb.total_blocks * kBlockSize;
	std::vector<JournalReplay> records;
	uint64_t pos = 0;
	for (uint64_t i = 0; i < h.record_count; i++) {
		JournalRecord rec;
		if (h.payload_bytes - pos < sizeof(rec))
			corrupt("record " + std::to_string(i) + " lies past the payload");
		std::memcpy(&rec, payload + pos, sizeof(rec));
		pos += sizeof(rec);
		if (rec.len > h.payload_bytes - pos)
			corrupt("record " + std::to_string(i) + " is longer than the payload");
		if (rec.pool_offset < lowest || rec.pool_offset > highest ||
		    rec.len > highest - rec.pool_offset)
			corrupt("record " + std::to_string(i) +
			        " lies outside the pool's metadata "
			        "and data");
		records.push_back({rec.pool_offset, rec.len, payload + pos});
		pos += std::min<uint64_t>(pad8(rec.len), h.payload_bytes - pos);
	}
	return records;
}

void Journal::apply(const std::vector<JournalReplay> &records)
{
	std::vector<std::pair<uint64_t, uint64_t>> written; // pool byte ranges [begin, end)
	for (const JournalReplay &rec : records) {
		std::memcpy(pool_.base() + rec.pool_offset, rec.data, rec.len);
		written.emplace_back(rec.pool_offset, rec.pool_offset + rec.len);
	}
	// One flush for records on the same or neighbouring pages: a transaction's records
	// crowd onto few pages (an inode, a dirent, a bitmap word), and where the pool's
	// granularity is the page each flush is an msync. Flushing the bytes between them too
	// is harmless.
	std::sort(written.begin(), written.end());
	for (size_t i = 0; i < written.size();) {
		auto [begin, end] = written[i];
		for (i++; i < written.size() && written[i].first <= (end | (kBlockSize - 1)) + 1;
		     i++)
			end = std::max(end, written[i].second);
		pool_.flush(pool_.base() + begin, end - begin);
	}
	pool_.drain();
}

bool Journal::recover(const Superblock &sb)
{
	auto records = committed({pool_.base(), pool_.size()}, sb);
	if (header_->committed == 0)
		return false;
	// Replaying is idempotent (records hold new contents, not deltas), so a crash during
	// recovery simply replays again.
	apply(records);
	header_->committed = 0;
	pool_.persist(&header_->committed, sizeof(header_->committed));
	return true;
}

void Journal::commit(const std::vector<Staged> &records, const std::vector<std::byte> &data)
{
	// 1. Records into the payload area. Nothing refers to them yet, so any subset of these
	//    stores may survive a crash without harm.
	size_t pos = 0;
	for (const Staged &s : records) {
		JournalRecord rec{s.pool_offset, s.len};
		std::memcpy(payload_ + pos, &rec, sizeof(rec));
		pos += sizeof(rec);
		std::memcpy(payload_ + pos, data.data() + s.data_pos, s.len);
		pos += pad8(s.len);
	}
	header_->sequence++;
	header_->record_count = records.size();
	header_->payload_bytes = pos;
	header_->checksum = checksum(*header_, payload_);
	// The payload follows the header's block: one flush covers both.
	auto *journal_start = reinterpret_cast<std::byte *>(header_);
	pool_.flush(journal_start, static_cast<size_t>(payload_ + pos - journal_start));
	pool_.drain();
	std::vector<JournalReplay> in_place;
	in_place.reserve(records.size());
	for (const Staged &st : records)
		in_place.push_back({st.pool_offset, st.len, data.data() + st.data_pos});
	// 2. The commit point: the payload and its description are durable before this store,
	//    so after a crash either no record or every record is replayed.
	header_->committed = 1;
	try {
		pool_.persist(&header_->committed, sizeof(header_->committed));
		// 3. In place. Durable before the journal is released below, so a released
		//    journal never owes the pool anything.
		apply(in_place);
		header_->committed = 0;
		pool_.persist(&header_->committed, sizeof(header_->committed));
	} catch (const Error &e) {
		// From the commit point on the transaction may be durable and will then be
		// replayed at the next mount: it cannot be abandoned. Like xfs's forced
		// shutdown, the journal takes no transaction more; a restart recovers.
		shut_down_ = true;
		throw Error(Errc::internal,
		            std::string(e.what()) +
		                " after a transaction's commit point: the volume takes "
		                "no more changes until the daemon restarts");
	}
}

Transaction::~Transaction()
{
	if (done_)
		return;
	for (auto it = undo_.rbegin(); it != undo_.rend(); ++it)
		(*it)();
}

void Transaction::stage(void *dst, const void *src, size_t len)
{
	fault::hit(fault::Site::stage);
	auto offset = static_cast<uint64_t>(static_cast<std::byte *>(dst) - journal_.pool_.base());
	size_t needed = sizeof(JournalRecord) + pad8(len);
	if (payload_bytes_ + needed > journal_.capacity())
		throw Error(Errc::no_space, "metadata change too large for the journal");
	payload_bytes_ += needed;
	records_.push_back({offset, len, data_.size()});
	const auto *bytes = static_cast<const std::byte *>(src);
	data_.insert(data_.end(), bytes, bytes + len);
}

void Transaction::commit()
{
	if (journal_.shut_down_)
		throw Error(Errc::internal, "an earlier failure to persist a committed transaction "
		                            "shut the volume down: restart the daemon to recover");
	if (records_.empty()) {
		done_ = true;
		return;
	}
	try {
		journal_.commit(records_, data_);
	} catch (const Error &) {
		// Past the commit point the changes stand (DRAM as the replay will leave the
		// pool); before it, nothing is durable and the undo below restores DRAM.
		done_ = journal_.shut_down_;
		throw;
	}
	done_ = true;
}

} // namespace daxpolicy::fscore
