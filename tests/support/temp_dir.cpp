// SPDX-License-Identifier: BSD-3-Clause
#include "tests/support/temp_dir.hpp"

#include "common/error.hpp"

#include <cerrno>
#include <iostream>
#include <stdlib.h>
#include <system_error>

namespace daxpolicy::test
{

TempDir::TempDir(const std::filesystem::path &parent)
{
	std::string pattern = (parent / "daxpolicy-XXXXXX").string();
	if (!mkdtemp(pattern.data()))
		throw system_error(pattern + ": mkdtemp", errno);
	path_ = pattern;
}

TempDir::~TempDir()
{
	std::error_code ec;
	std::filesystem::remove_all(path_, ec);
	if (ec) // what is left behind is worth knowing about, not worth failing for
		std::cerr << "cannot remove " << path_.string() << ": " << ec.message() << "\n";
}

} // namespace daxpolicy::test
