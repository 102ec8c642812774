// A fresh folder under $TMPDIR for one test, removed with everything in it afterwards.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace daxpolicy::test
{

class TempDir
{
      public:
	explicit TempDir(const std::filesystem::path &root = std::filesystem::temp_directory_path())
	{
		std::string tmpl = (root / "daxpolicy-XXXXXX").string();
		if (!mkdtemp(tmpl.data()))
			throw std::runtime_error("mkdtemp failed");
		path_ = tmpl;
	}
	~TempDir()
	{
		std::error_code ec;
		std::filesystem::remove_all(path_, ec);
	}
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;

	const std::filesystem::path &path() const { return path_; }
	std::filesystem::path operator/(const std::string &name) const { return path_ / name; }

      private:
	std::filesystem::path path_;
};

} // namespace daxpolicy::test
