#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs everything daxpolicy needs to build, test, package and run on Debian 12.
# Idempotent: packages already present are left alone. Needs root (apt-get).
set -euo pipefail

packages=(
	build-essential cmake ninja-build pkg-config git
	libboost-dev libboost-system-dev
	libcli11-dev
	libsqlite3-dev
	libnl-3-dev libnl-genl-3-dev
	libpmem2-dev
	libsystemd-dev
	libgtest-dev libgmock-dev
	nlohmann-json3-dev
	libtomlplusplus-dev
	libssl-dev
	e2fsprogs xfsprogs util-linux
	clang libfuzzer-14-dev libclang-rt-14-dev
	debhelper python3 mandoc bash-completion systemd-container
	prometheus # promtool, which checks the metrics in the tests
	ansible-core # ansible-playbook, which drives the daemon in an end-to-end test
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: need root to install: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
