// SPDX-License-Identifier: BSD-3-Clause
// A random workload on an embedded volume, and the state it leaves, shared by the tests that
// interrupt it: crash images (a power loss at every fence) and fault injection (a failure at
// every persistence call, allocation and journal stage).
#pragma once

#include "fscore/embedded/embedded_volume.hpp"
#include "fscore/embedded/session.hpp"

#include <map>
#include <random>
#include <string>
#include <vector>

namespace daxpolicy::test
{

using fscore::EmbeddedVolume;
using fscore::FileInfo;
using fscore::FileType;
using fscore::kBlockSize;
using fscore::Session;

using State = std::map<std::string, std::string>; // path -> "d" or "f" + flag + contents

inline State read_state(EmbeddedVolume &vol)
{
	State state;
	std::vector<FileInfo> files;
	vol.walk("/", [&](const FileInfo &f) { files.push_back(f); });
	auto s = vol.open_session({});
	for (const auto &f : files) {
		std::string v = f.type == FileType::directory ? "d" : "f";
		v += f.dax_flag ? "+" : "-";
		if (f.type == FileType::regular) {
			int fd = s->open(f.path, false);
			auto data = s->pread(fd, 0, f.size);
			v.append(reinterpret_cast<const char *>(data.data()), data.size());
			s->close(fd);
		}
		state[f.path] = v;
	}
	return state;
}

// Random metadata operations, appends, overwrites, truncates, flag changes and fragmented
// files (whose truncate or removal frees in several steps where free_step_extents is small).
class Workload
{
      public:
	explicit Workload(uint64_t seed) : rng_(seed) {}

	void step(EmbeddedVolume &vol, Session &s)
	{
		auto pick = [&](size_t n) { return size_t(rng_() % n); };
		last_ = pick(files_.empty() ? 2 : 12);
		switch (last_) {
		case 0: {
			std::string dir = "/d" + std::to_string(next_++);
			vol.mkdir(dir);
			dirs_.push_back(dir);
			break;
		}
		case 1: {
			std::string dir = dirs_[pick(dirs_.size())];
			std::string f = (dir == "/" ? "" : dir) + "/f" + std::to_string(next_++);
			vol.create(f);
			files_.push_back(f);
			break;
		}
		case 2:
		case 3: {
			std::string f = files_[pick(files_.size())];
			int fd = s.open(f, false);
			uint64_t size = s.fstat(fd).size;
			std::vector<std::byte> data(1 + pick(20000), std::byte('a' + pick(26)));
			s.pwrite(fd, size, data);
			s.close(fd);
			break;
		}
		case 4: {
			size_t i = pick(files_.size());
			vol.remove(files_[i]);
			files_.erase(files_.begin() + std::ptrdiff_t(i));
			break;
		}
		case 5: {
			size_t i = pick(files_.size());
			std::string dir = dirs_[pick(dirs_.size())];
			std::string to = (dir == "/" ? "" : dir) + "/r" + std::to_string(next_++);
			vol.rename(files_[i], to);
			files_[i] = to;
			break;
		}
		case 6: {
			std::string f = files_[pick(files_.size())];
			int fd = s.open(f, false);
			s.truncate(fd, s.fstat(fd).size / 2);
			s.close(fd);
			break;
		}
		case 7:
			vol.set_dax_flag(dirs_[pick(dirs_.size())], pick(2));
			break;
		case 8: {
			// An overwrite: on a DAX file, data only, no transaction.
			std::string f = files_[pick(files_.size())];
			int fd = s.open(f, false);
			uint64_t size = s.fstat(fd).size;
			if (size > 0) {
				uint64_t off = pick(size);
				std::vector<std::byte> data(1 + pick(size_t(size - off)),
				                            std::byte('A' + pick(26)));
				s.pwrite(fd, off, data);
			}
			s.close(fd);
			break;
		}
		case 9:
		case 10:
		case 11: {
			// A write one block past end-of-file, leaving a hole: a new extent each
			// time, so that files have many and their truncate or removal frees in
			// several bounded steps (free_step_extents is small here).
			std::string f = files_[pick(files_.size())];
			int fd = s.open(f, false);
			uint64_t next_block = (s.fstat(fd).size + kBlockSize - 1) / kBlockSize + 1;
			s.pwrite(fd, next_block * kBlockSize,
			         std::vector<std::byte>(100, std::byte('a' + pick(26))));
			s.close(fd);
			break;
		}
		}
	}

	size_t last() const { return last_; } // the kind of the last step, for traces

      private:
	std::mt19937_64 rng_;
	size_t last_ = 0;
	std::vector<std::string> dirs_{"/"};
	std::vector<std::string> files_;
	int next_ = 0;
};

} // namespace daxpolicy::test
