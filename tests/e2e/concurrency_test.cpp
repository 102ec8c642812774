// SPDX-License-Identifier: BSD-3-Clause
// Several client processes at once against one daemon: io sessions writing and mapping,
// flag toggles and listing, with every file's content checked at the end.
#include "tests/e2e/harness.hpp"

#include <sstream>
#include <thread>

using namespace daxpolicy::test;
using nlohmann::json;

namespace
{

TEST(Concurrency, ClientProcessesRaceWithoutHarm)
{
	Daemon d;
	constexpr int kWriters = 4;
	constexpr int kRounds = 6;
	ASSERT_EQ(d.cli({"io", "-f", "-c", "mkdir", "pool0:/race"}).exit_code, 0);
	std::vector<std::thread> threads;
	std::vector<std::string> last_sha(kWriters);
	for (int w = 0; w < kWriters; w++) {
		threads.emplace_back([&, w] {
			std::string path = "pool0:/race/f" + std::to_string(w);
			for (int round = 0; round < kRounds; round++) {
				char fill[8];
				std::snprintf(fill, sizeof(fill), "0x%02x", 0x41 + round);
				Result r = d.cli({"io", "-f", "-c",
				                  std::string("pwrite -S ") + fill + " 0 64k", "-c",
				                  "mmap 0 64k", "-c", "mread 0 64k", "-c", "munmap",
				                  "-c", "pread 0 64k", path});
				ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
				std::istringstream in(r.out);
				std::vector<json> lines;
				for (std::string l; std::getline(in, l);)
					lines.push_back(json::parse(l));
				ASSERT_EQ(lines.size(), 5u);
				EXPECT_EQ(lines[2]["sha256"], lines[4]["sha256"])
				    << "mapped and read views differ";
				last_sha[size_t(w)] = lines[4]["sha256"];
			}
		});
	}
	threads.emplace_back([&] {
		for (int round = 0; round < kRounds * 2; round++) {
			Result r =
			    d.cli({round % 2 ? "clear-dax" : "set-dax", "-r", "pool0:/race"});
			ASSERT_EQ(r.exit_code, 0) << r.err;
			ASSERT_EQ(d.cli({"list", "-r", "pool0:/race"}).exit_code, 0);
		}
	});
	for (auto &t : threads)
		t.join();
	// Whatever order the toggles came in, each file holds its last write.
	for (int w = 0; w < kWriters; w++) {
		Result r = d.cli({"io", "-c", "pread 0 64k", "pool0:/race/f" + std::to_string(w)});
		ASSERT_EQ(r.exit_code, 0);
		EXPECT_EQ(json::parse(r.out)["sha256"], last_sha[size_t(w)]);
	}
	// Any change still queued goes once nobody maps the files.
	d.ok({"reconcile"});
	for (const auto &p : d.ok({"list-pending"}))
		ADD_FAILURE() << "left pending: " << p.dump();
	d.stop();
	Result fsck = run({DAXPOLICY_BIN, "fsck", d.pool()});
	EXPECT_EQ(fsck.exit_code, 0) << fsck.out;
}

} // namespace
