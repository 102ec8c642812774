// SPDX-License-Identifier: BSD-3-Clause
// daxpolicyd.toml (policy/daemon_config.cpp): any text gives a DaemonConfig or an invalid-argument
// Error that says where ("file:line:col: ..."), never a crash or another exception. A config that
// loads names each volume once, with a known kind, and finish_daemon_config completes it.
#include "policy/daemon_config.hpp"
#include "tests/fuzz/oracle.hpp"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string_view>

using namespace daxpolicy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::string_view text(reinterpret_cast<const char *>(data), size);
	policy::DaemonConfig config;
	if (auto e = fuzz::run_guarded(
	        [&] { config = policy::parse_daemon_config(text, "daxpolicyd.toml"); })) {
		fuzz::check(e->code() == Errc::invalid_argument,
		            "refused with a code other than "
		            "invalid-argument:",
		            e->what());
		fuzz::check(std::string_view(e->what()).starts_with("daxpolicyd.toml:"),
		            "an error that does not name the file:", e->what());
		return 0;
	}
	std::set<std::string> names;
	for (const auto &v : config.volumes) {
		fuzz::check(!v.name.empty() && names.insert(v.name).second,
		            "a volume without a name, or named twice:", v.name.c_str());
		fuzz::check(v.kind == fscore::VolumeKind::embedded ||
		                v.kind == fscore::VolumeKind::host,
		            "a volume of unknown kind:", v.name.c_str());
	}
	fuzz::check(config.socket_mode <= 07777, "a socket mode beyond 07777");
	policy::finish_daemon_config(config);
	fuzz::check(!config.volumes.empty(), "finish_config left no volume");
	for (const auto &v : config.volumes)
		fuzz::check(v.kind != fscore::VolumeKind::embedded || !v.path.empty(),
		            "an embedded volume without a pool path");
	return 0;
}
