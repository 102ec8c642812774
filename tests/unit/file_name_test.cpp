// SPDX-License-Identifier: BSD-3-Clause
// How a file is named on the wire and on the command line: VOLUME:/path.
#include "common/error.hpp"
#include "daemon/views.hpp"

#include <gtest/gtest.h>

using namespace daxpolicy;

namespace
{

TEST(FileNames, VolumeColonPathIsSplitAndCheckedAsAName)
{
	using daemon::split_file_name;
	EXPECT_EQ(split_file_name("pool0:/db/wal"),
	          std::make_pair(std::string("pool0"), std::string("/db/wal")));
	EXPECT_EQ(split_file_name("pool0:/db//wal/").second, "/db/wal");
	EXPECT_EQ(split_file_name("pool0:/").second, "/");
	EXPECT_EQ(split_file_name("pool0:").second, "/") << "a volume alone is its root";
	for (const char *bad : {"pool0", ":/x", "pool0:x", "/abs/path", "pool0:/a/../b"})
		EXPECT_THROW(split_file_name(bad), Error) << bad;
}

} // namespace
