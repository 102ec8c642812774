// SPDX-License-Identifier: BSD-3-Clause
// Mounting a damaged pool image (fscore): the input is a list of patches applied to the sample
// pool of tests/pool_image.hpp, each at an offset mapped into the regions where damage matters
// (superblock, journal, inodes in use, bitmap, directory and extent-chain blocks). Each run
// checks the damaged image with fsck, mounts it, and if that succeeds walks, stats and reads
// everything, creates and removes a file, unmounts and checks it again.
//
// The oracle, besides sanitizers and libFuzzer's -timeout: no exception but daxpolicy::Error;
// a pool that mounts is clean by fsck after unmount and is served consistently
// (check_served); a pool that mount refuses is one fsck finds a problem in; a pool fsck
// finds clean mounts.
//
// DAXPOLICY_FUZZ_POOL_CRASHES_ONLY=1 keeps only the first part (crashes, hangs, exceptions):
// while mount and fsck disagree about common damage, that lets a long run get past it.
//
// Input: records of [offset: 4 bytes LE][length: 1 byte, 1..16 used][bytes], up to kMaxPatches.
#include "common/error.hpp"
#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/ondisk/fsck.hpp"
#include "tests/fuzz/oracle.hpp"
#include "tests/support/pool_image.hpp"
#include "tests/support/temp_dir.hpp"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

using namespace daxpolicy;
using namespace daxpolicy::fscore;

namespace
{

constexpr size_t kMaxPatches = 64;
constexpr size_t kMaxPatchBytes = 16;

struct Base {
	bool crashes_only = false;
	// A memfd, named by /proc/self/fd/N: it goes with the process, however the process
	// ends (a finding aborts it), so runs leave nothing behind in /dev/shm.
	std::filesystem::path pool;
	test::Image image;
	std::vector<test::Region> regions;
	uint64_t region_bytes = 0;
};

Base *base;

// Where the patch at `offset` goes: offsets count through the regions end to end.
uint64_t image_offset(uint32_t offset)
{
	uint64_t at = offset % base->region_bytes;
	for (const auto &r : base->regions) {
		if (at < r.length)
			return r.offset + at;
		at -= r.length;
	}
	return 0;
}

test::Image damaged(const uint8_t *data, size_t size)
{
	test::Image image = base->image;
	for (size_t n = 0; n < kMaxPatches && size >= 5; n++) {
		uint32_t offset = uint32_t(data[0]) | uint32_t(data[1]) << 8 |
		                  uint32_t(data[2]) << 16 | uint32_t(data[3]) << 24;
		size_t len = std::min<size_t>({1 + data[4] % kMaxPatchBytes, size - 5});
		data += 5;
		size -= 5;
		uint64_t at = image_offset(offset);
		len = std::min<size_t>(len, image.size() - at);
		std::memcpy(image.data() + at, data, len);
		data += len;
		size -= len;
	}
	return image;
}

std::string describe(const FsckReport &r)
{
	return r.problems.empty() ? "clean" : r.problems.front();
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
	base = new Base;
	const char *only = std::getenv("DAXPOLICY_FUZZ_POOL_CRASHES_ONLY");
	base->crashes_only = only && std::string(only) == "1";
	{
		// mkfs makes its pool file itself: in a folder that goes at once.
		test::TempDir dir("/dev/shm");
		test::make_sample_pool(dir / "sample.pool");
		base->image = test::read_image(dir / "sample.pool");
	}
	int fd = memfd_create("daxpolicy-fuzz-pool", MFD_CLOEXEC);
	if (fd < 0)
		fuzz::fail("memfd_create failed");
	base->pool = "/proc/self/fd/" + std::to_string(fd);
	base->regions = test::regions_of(base->image);
	for (const auto &r : base->regions)
		base->region_bytes += r.length;
	return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	test::write_image(base->pool, damaged(data, size));

	std::optional<FsckReport> before;
	auto fsck_refused = fuzz::run_guarded([&] { before = fsck(base->pool); });
	bool damage_seen = fsck_refused || !before->clean();
	std::string fsck_said = fsck_refused ? fsck_refused->what() : describe(*before);

	std::unique_ptr<EmbeddedVolume> vol;
	auto mount_refused =
	    fuzz::run_guarded([&] { vol = EmbeddedVolume::mount(base->pool, {}); });
	if (mount_refused) {
		fuzz::check(damage_seen || base->crashes_only,
		            "mount refuses a pool fsck finds clean:", mount_refused->what());
		return 0;
	}
	fuzz::check(!fsck_refused || base->crashes_only, "mount accepts a pool fsck cannot open:",
	            fsck_refused ? fsck_refused->what() : "");
	std::string wrong;
	auto serve_failed = fuzz::run_guarded([&] { wrong = test::check_served(*vol); });
	fuzz::check(wrong.empty() || base->crashes_only,
	            "a mounted pool is served wrongly:", wrong.c_str());
	vol.reset();
	FsckReport after;
	auto fsck_after_refused = fuzz::run_guarded([&] { after = fsck(base->pool); });
	if (base->crashes_only)
		return 0;
	fuzz::check(!fsck_after_refused, "fsck refuses a pool mount and unmount left:",
	            fsck_after_refused ? fsck_after_refused->what() : "");
	std::string why =
	    describe(after) +
	    (damage_seen ? " (damage fsck saw before mount: " + fsck_said + ")" : "") +
	    (serve_failed ? std::string(" (serving failed: ") + serve_failed->what() + ")" : "");
	fuzz::check(after.clean(), "fsck after mount and unmount is not clean:", why.c_str());
	return 0;
}
