#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Configures and builds into DIR (default build/) with the given CMake options.
# Usage: scripts/build.sh DIR [cmake options...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
