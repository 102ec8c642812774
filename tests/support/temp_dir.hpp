// SPDX-License-Identifier: BSD-3-Clause
// A fresh folder, removed with everything in it when it goes: one per test, one per
// benchmark run.
#pragma once

#include <filesystem>
#include <string>

namespace daxpolicy::test
{

class TempDir
{
      public:
	// Makes `parent`/daxpolicy-XXXXXX, mode 0700 (mkdtemp's).
	explicit TempDir(
	    const std::filesystem::path &parent = std::filesystem::temp_directory_path());
	~TempDir();
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;

	const std::filesystem::path &path() const { return path_; }
	std::filesystem::path operator/(const std::string &name) const { return path_ / name; }

      private:
	std::filesystem::path path_;
};

} // namespace daxpolicy::test
