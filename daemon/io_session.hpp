// The daemon's side of `daxpolicy io`: an xfs_io-style session on one file of an embedded
// volume. One per connection; its open file and mappings last until the connection ends.
#pragma once

#include "fscore/embedded_volume.hpp"
#include "fscore/session.hpp"
#include "policy/engine.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace daxpolicy::daemon
{

class IoSession
{
      public:
	IoSession(policy::Engine &engine, fscore::EmbeddedVolume &volume, std::string volume_name,
	          std::string path, fscore::Holder holder);

	// Runs one command ({"cmd": argv[0], ...} on success); throws Error on failure.
	// `create` is the CLI's -f: a missing file is made when it is first opened.
	nlohmann::json run(const std::vector<std::string> &argv, bool create);
	const std::string &volume_name() const { return volume_name_; }
	const std::string &path() const { return path_; }

      private:
	int file(bool create);
	nlohmann::json view_json();

	policy::Engine &engine_;
	fscore::EmbeddedVolume &volume_;
	std::string volume_name_;
	std::string path_;
	std::unique_ptr<fscore::Session> session_;
	std::optional<int> fd_;
	std::vector<int> maps_; // the last is the current mapping
};

} // namespace daxpolicy::daemon
