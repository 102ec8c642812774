// SPDX-License-Identifier: BSD-3-Clause
#include "bench/metadata.hpp"

#include "bench/loop_mount.hpp"
#include "bench/turns.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace daxpolicy::bench
{

namespace
{

[[noreturn]] void throw_errno(const std::string &what, const std::string &path)
{
	throw std::runtime_error(path + ": " + what + ": " + std::strerror(errno));
}

// open(O_CREAT)+close+unlink: what `touch f; rm f` costs in the kernel.
void kernel_create_unlink(const std::string &path)
{
	int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		throw_errno("create", path);
	::close(fd);
	if (::unlink(path.c_str()) != 0)
		throw_errno("unlink", path);
}

} // namespace

Figure run_create_unlink(const Config &cfg, fscore::EmbeddedVolume &vol,
                         const std::filesystem::path &scratch)
{
	Figure figure{"create_unlink_per_s",
	              "ops/s",
	              0,
	              std::nullopt,
	              Better::higher,
	              "kernel ext4 (loop mount): open(O_CREAT)+close+unlink"};

	std::unique_ptr<LoopMount> ext4;
	try {
		ext4 = std::make_unique<LoopMount>(scratch, cfg.ext4_image_mib);
	} catch (const std::runtime_error &e) {
		std::cerr << "create_unlink_per_s: no kernel baseline: " << e.what() << "\n";
		figure.baseline_what = std::string("none: ") + e.what();
	}
	std::filesystem::path kdir;
	if (ext4) {
		kdir = ext4->mount_point() / "meta";
		std::filesystem::create_directory(kdir);
	}
	vol.mkdir("/meta");

	// One create+unlink pair is one op; both variants build the name the same way.
	Variant ours{[&](size_t i) {
		std::string path = "/meta/f" + std::to_string(i);
		vol.create(path);
		vol.remove(path);
	}};
	Variant kernel{[&](size_t i) { kernel_create_unlink(kdir / ("f" + std::to_string(i))); }};
	std::vector<Variant *> variants{&ours};
	if (ext4)
		variants.push_back(&kernel);
	take_turns(variants, cfg.turn_s, cfg.meta_cap_s, cfg.meta_max_ops);
	std::cerr << "create+unlink: pairs: fscore " << ours.ops() << ", kernel " << kernel.ops()
	          << "\n";

	figure.value = static_cast<double>(ours.ops()) / ours.seconds;
	if (ext4)
		figure.baseline = static_cast<double>(kernel.ops()) / kernel.seconds;
	return figure;
}

} // namespace daxpolicy::bench
