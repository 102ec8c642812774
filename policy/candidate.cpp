// SPDX-License-Identifier: BSD-3-Clause
#include "policy/candidate.hpp"

namespace daxpolicy::policy
{

using fscore::FileType;

std::string_view parent_of(std::string_view path)
{
	auto slash = path.rfind('/');
	return slash == 0 ? std::string_view("/") : path.substr(0, slash);
}

std::optional<Candidate> candidate(const Matcher &matcher, const std::string &volume,
                                   const fscore::FileInfo &file,
                                   std::set<std::string, std::less<>> &cleared)
{
	if (refuses_flag(file))
		return std::nullopt;
	bool is_directory = file.type == FileType::directory;
	if (auto d = matcher.decide(volume, file.path, is_directory)) {
		if (is_directory && !d->dax && file.dax_flag)
			cleared.insert(file.path);
		return Candidate{d, false};
	}
	if (file.dax_flag && file.path != "/" && cleared.count(parent_of(file.path)))
		return Candidate{std::nullopt, true};
	return std::nullopt;
}

} // namespace daxpolicy::policy
