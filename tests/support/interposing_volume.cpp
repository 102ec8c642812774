// SPDX-License-Identifier: BSD-3-Clause
#include "tests/support/interposing_volume.hpp"

#include <utility>

namespace daxpolicy::test
{

void InterposingVolume::walk(const std::string &path,
                             const std::function<void(const fscore::FileInfo &)> &visit)
{
	vol_.walk(path, visit);
}

void InterposingVolume::hook()
{
	// Cleared before it runs, so that it may set the hook for the next change.
	if (auto run = std::exchange(before_flag_change, nullptr))
		run();
}

void InterposingVolume::set_dax_flag(const std::string &path, bool on)
{
	hook();
	vol_.set_dax_flag(path, on);
}

fscore::SetFlagResult InterposingVolume::set_dax_flag_if_unmapped(uint64_t ino, uint64_t generation,
                                                                  bool on)
{
	hook();
	return vol_.set_dax_flag_if_unmapped(ino, generation, on);
}

std::optional<std::string> InterposingVolume::path_of(uint64_t ino, uint64_t generation)
{
	return vol_.path_of(ino, generation);
}

fscore::Subscription InterposingVolume::subscribe(fscore::VolumeListener listener)
{
	return vol_.subscribe(std::move(listener));
}

} // namespace daxpolicy::test
