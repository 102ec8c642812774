#include "fscore/journal.hpp"

#include "fscore/error.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace daxpolicy::fscore
{

namespace
{

uint64_t fnv1a(const std::byte *data, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
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

void Journal::apply_payload(uint64_t record_count)
{
	std::vector<std::pair<uint64_t, uint64_t>> written; // pool byte ranges [begin, end)
	size_t pos = 0;
	for (uint64_t i = 0; i < record_count; i++) {
		JournalRecord rec;
		std::memcpy(&rec, payload_ + pos, sizeof(rec));
		pos += sizeof(rec);
		std::memcpy(pool_.base() + rec.pool_offset, payload_ + pos, rec.len);
		written.emplace_back(rec.pool_offset, rec.pool_offset + rec.len);
		pos += pad8(rec.len);
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

bool Journal::recover()
{
	if (header_->magic != kJournalMagic)
		throw Error(Errc::internal, "journal header is damaged (bad magic)");
	if (header_->committed == 0)
		return false;
	if (header_->payload_bytes > capacity_ ||
	    fnv1a(payload_, header_->payload_bytes) != header_->checksum)
		throw Error(Errc::internal, "committed journal transaction fails its checksum");
	// Replaying is idempotent (records hold new contents, not deltas), so a crash during
	// recovery simply replays again.
	apply_payload(header_->record_count);
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
	header_->checksum = fnv1a(payload_, pos);
	// The payload follows the header's block: one flush covers both.
	auto *journal_start = reinterpret_cast<std::byte *>(header_);
	pool_.flush(journal_start, static_cast<size_t>(payload_ + pos - journal_start));
	pool_.drain();
	// 2. The commit point: the payload and its description are durable before this store,
	//    so after a crash either no record or every record is replayed.
	header_->committed = 1;
	pool_.persist(&header_->committed, sizeof(header_->committed));
	// 3. In place. Durable before the journal is released below, so a released journal
	//    never owes the pool anything.
	apply_payload(records.size());
	header_->committed = 0;
	pool_.persist(&header_->committed, sizeof(header_->committed));
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
	if (!records_.empty())
		journal_.commit(records_, data_);
	done_ = true;
}

} // namespace daxpolicy::fscore
