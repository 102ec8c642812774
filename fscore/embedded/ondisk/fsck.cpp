// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/ondisk/fsck.hpp"

#include "common/error.hpp"
#include "fscore/embedded/ondisk/journal.hpp"
#include "fscore/embedded/ondisk/layout.hpp"
#include "fscore/embedded/ondisk/pool_image.hpp"
#include "fscore/embedded/ondisk/superblock.hpp"
#include "fscore/embedded/ondisk/verify.hpp"

#include <cstring>

namespace daxpolicy::fscore
{

FsckReport fsck(const std::filesystem::path &pool_path)
{
	PoolImage image(pool_path);
	std::span<std::byte> pool = image.bytes();
	Superblock sb;
	std::memcpy(&sb, pool.data(), sizeof(sb));
	check_superblock(sb, pool.size(), pool_path.string());

	// Check what a mount would see: the committed transaction a crash left, replayed into
	// the private copy of the pool, as recovery would replay it.
	std::string journal_problem, journal_note;
	try {
		auto records = Journal::committed(pool, sb);
		if (!records.empty() && image.writable()) {
			for (const JournalReplay &r : records)
				std::memmove(pool.data() + r.pool_offset, r.data, r.len);
			journal_note = "journal: a committed transaction of " +
			               std::to_string(records.size()) +
			               " records, replayed here as mount will replay it";
		} else if (!records.empty()) {
			journal_note =
			    "journal: a committed transaction of " +
			    std::to_string(records.size()) +
			    " records that mount will replay (a device cannot be replayed "
			    "privately: what follows is the pool before it)";
		}
	} catch (const Error &e) {
		journal_problem = e.what();
	}
	FsckReport report = verify_pool(pool);
	if (!journal_problem.empty())
		report.problems.insert(report.problems.begin(),
		                       journal_problem + " (mount refuses it)");
	if (!journal_note.empty())
		report.notes.insert(report.notes.begin(), journal_note);
	return report;
}

} // namespace daxpolicy::fscore
