#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Builds the Debian package daxpolicy_VERSION_ARCH.deb into DIR and prints its path.
# Usage: scripts/package.sh DIR [BUILD_DIR]
# Without BUILD_DIR it builds a release of the programs in build-release/ (the demo's, with
# the same options); with one, it packages that CMake build as it is (the package test passes
# its own tree, so nothing is compiled twice). Installs what it needs with apt-get first
# (scripts/install-deps.sh).
# Install the result with `apt-get install ./daxpolicy_VERSION_ARCH.deb`.
set -euo pipefail
cd "$(dirname "$0")/.."
if (($# < 1 || $# > 2)); then
	echo "usage: scripts/package.sh DIR [BUILD_DIR]" >&2
	exit 2
fi
mkdir -p "$1"
out=$(cd "$1" && pwd)
scripts/install-deps.sh
if (($# == 2)); then
	build=$(cd "$2" && pwd)
else
	build=$PWD/build-release
	cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDAXPOLICY_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target daxpolicyd daxpolicy daxpolicy_man_pages

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
packaged=$(dpkg-parsechangelog -l debian/changelog -S Version)
if [[ $version != "$packaged" ]]; then
	echo "package.sh: CMakeLists.txt says version $version, debian/changelog $packaged;" \
		"add an entry to debian/changelog (dch -v $version)" >&2
	exit 1
fi

# dpkg-buildpackage writes beside debian/ and in its parent: a scratch copy keeps the
# checkout clean and lets two packagings run at once.
stage=$(mktemp -d "${TMPDIR:-/tmp}/daxpolicy-package.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/src"
cp -r debian "$stage/src/"
if ! (cd "$stage/src" && DAXPOLICY_BUILD_DIR=$build dpkg-buildpackage -b -uc -us) \
	>"$stage/log" 2>&1; then
	cat "$stage/log" >&2
	echo "package.sh: dpkg-buildpackage failed (its output is above)" >&2
	exit 1
fi
deb=daxpolicy_${version}_$(dpkg --print-architecture).deb
mv "$stage/$deb" "$out/$deb"
echo "$out/$deb"
