// A fresh directory that is removed, with everything in it, when the run ends.
#pragma once

#include <filesystem>

namespace daxpolicy::bench
{

class TempDir
{
      public:
	// Makes `parent`/daxpolicy-bench.XXXXXX.
	explicit TempDir(const std::filesystem::path &parent);
	~TempDir();
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;

	const std::filesystem::path &path() const { return path_; }

      private:
	std::filesystem::path path_;
};

} // namespace daxpolicy::bench
