// SPDX-License-Identifier: BSD-3-Clause
// Fault injection for tests, as sqlite's test VFS and PMDK's core_inject_fault_at do: the
// n-th call at a site fails the way the real call can, so that every failure path runs in
// tests and not only the happy one. Inert unless a test arms it (one relaxed load a call).
#pragma once

#include <cstdint>

namespace daxpolicy::fscore::fault
{

enum class Site {
	persist,  // a flush, drain, persist or persistent copy of the pool (msync failing)
	allocate, // a block allocation (the pool full)
	stage,    // staging a change in a transaction (the journal full)
};

// The `nth` call at `site` from now on (1: the next) throws; every site counts from here.
void arm(Site site, uint64_t nth);
void disarm();
// Calls at `site` since the last arm or disarm.
uint64_t calls(Site site);
// Called first thing at each site: throws daxpolicy::Error when this is the armed call.
void hit(Site site);

} // namespace daxpolicy::fscore::fault
