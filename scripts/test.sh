#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The test command: installs what is missing, builds, and runs every test through CTest
# (GoogleTest unit tests and end-to-end tests of the real binaries), then a short run of each
# libFuzzer target (scripts/fuzz.sh: clang, its own build-fuzz/, about 30 s a target).
# Set DAXPOLICY_REQUIRE_PRIVILEGED=1 to make tests that need root fail instead of skip.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDAXPOLICY_BENCH=ON
(cd build && ctest --output-on-failure --timeout 600 -j 2)
scripts/fuzz.sh
