// SPDX-License-Identifier: BSD-3-Clause
// Engine::explain: everything that decides one file's state, gathered for `explain PATH`.
#include "policy/engine.hpp"

namespace daxpolicy::policy
{

FileExplanation Engine::explain(const std::string &volume, const std::string &path) const
{
	FileView view = list(volume, path, false).front(); // counts its users where it must
	const fscore::FileInfo &f = view.file;
	FileExplanation out{view, matcher_, {}, volume_info_.at(volume), std::nullopt};
	out.why = out.matcher->explain(volume, f.path, f.type == fscore::FileType::directory);
	out.queued = store_.pending_for(volume, f.ino, f.generation);
	if (out.queued)
		locate(*out.queued);
	return out;
}

} // namespace daxpolicy::policy
