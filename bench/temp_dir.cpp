#include "bench/temp_dir.hpp"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <stdlib.h>
#include <string>
#include <system_error>

namespace daxpolicy::bench
{

TempDir::TempDir(const std::filesystem::path &parent)
{
	std::string templ = (parent / "daxpolicy-bench.XXXXXX").string();
	if (!mkdtemp(templ.data()))
		throw std::runtime_error(templ + ": mkdtemp: " + std::strerror(errno));
	path_ = templ;
}

TempDir::~TempDir()
{
	std::error_code ec;
	std::filesystem::remove_all(path_, ec);
	if (ec)
		std::cerr << "daxpolicy_bench: cannot remove " << path_.string() << ": "
		          << ec.message() << "\n";
}

} // namespace daxpolicy::bench
