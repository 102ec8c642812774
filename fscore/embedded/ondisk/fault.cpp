// SPDX-License-Identifier: BSD-3-Clause
#include "fscore/embedded/ondisk/fault.hpp"

#include "common/error.hpp"

#include <array>
#include <atomic>

namespace daxpolicy::fscore::fault
{

namespace
{

constexpr size_t kSites = 3;
std::atomic<bool> armed{false};
std::atomic<int> armed_site{0};
std::atomic<uint64_t> armed_at{0};
std::array<std::atomic<uint64_t>, kSites> counts{};

} // namespace

void arm(Site site, uint64_t nth)
{
	disarm();
	armed_site = static_cast<int>(site);
	armed_at = nth;
	armed = true;
}

void disarm()
{
	armed = false;
	for (auto &c : counts)
		c = 0;
}

uint64_t calls(Site site)
{
	return counts[static_cast<size_t>(site)];
}

void hit(Site site)
{
	if (!armed.load(std::memory_order_relaxed))
		return;
	uint64_t n = ++counts[static_cast<size_t>(site)];
	if (armed_site != static_cast<int>(site) || n != armed_at)
		return;
	switch (site) {
	case Site::persist:
		throw Error(Errc::internal, "injected fault: persisting to the pool failed");
	case Site::allocate:
		throw Error(Errc::no_space, "injected fault: no free blocks");
	case Site::stage:
		throw Error(Errc::no_space, "injected fault: the journal is full");
	}
}

} // namespace daxpolicy::fscore::fault
