// SPDX-License-Identifier: BSD-3-Clause
// The Volume an engine sees, forwarding to another, with a hook that runs once just before
// the next flag change reaches that volume: what another process may do between the engine's
// look at a file and its change. FakeVolume has the same hook of its own; this one puts it in
// front of a real volume, to see what that volume makes of the race.
#pragma once

#include "fscore/volume.hpp"

#include <functional>

namespace daxpolicy::test
{

class InterposingVolume final : public fscore::Volume
{
      public:
	explicit InterposingVolume(fscore::Volume &vol) : vol_(vol) {}

	// Runs once, then is cleared; it may set itself again for the change after.
	std::function<void()> before_flag_change;

	fscore::VolumeInfo info() const override { return vol_.info(); }
	fscore::FileInfo stat(const std::string &path) override { return vol_.stat(path); }
	void walk(const std::string &path,
	          const std::function<void(const fscore::FileInfo &)> &visit) override;
	void set_dax_flag(const std::string &path, bool on) override;
	fscore::SetFlagResult set_dax_flag_if_unmapped(uint64_t ino, uint64_t generation,
	                                               bool on) override;
	std::optional<std::string> path_of(uint64_t ino, uint64_t generation) override;
	[[nodiscard]] fscore::Subscription subscribe(fscore::VolumeListener listener) override;

      private:
	void hook();

	fscore::Volume &vol_;
};

} // namespace daxpolicy::test
