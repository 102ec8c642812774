// SPDX-License-Identifier: BSD-3-Clause
// The Error of a failed system call of a host volume. Beyond what errc_from_errno gives for
// every layer, two errnos have one meaning here, because every name a host volume looks up
// goes through openat2 with RESOLVE_NO_SYMLINKS and RESOLVE_NO_XDEV (kernel_calls.hpp):
// ELOOP is a symbolic link in the path (unsupported: the volume never follows one), EXDEV a
// path that crosses into another mount (invalid-argument: it names no file of this volume).
#pragma once

#include "common/error.hpp"

#include <string>

namespace daxpolicy::fscore::host
{

// `what` names the volume, the path and the call: "volume 'pmem0': /db/x: openat2".
Error host_error(const std::string &what, int err);

} // namespace daxpolicy::fscore::host
