#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The main job: daxpolicyd on its embedded default (one 1 GiB sparse pool, dax=inode) in a
# local state folder, a few files, the example policy applied, a change deferred while a
# file is mapped and applied when it is unmapped, then status and the file list.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build-release -DCMAKE_BUILD_TYPE=Release -DDAXPOLICY_TESTS=OFF

run=$PWD/run
export DAXPOLICY_SOCKET=$run/daxpolicy.sock
daxpolicyd=build-release/daemon/daxpolicyd
daxpolicy=build-release/cli/daxpolicy
pkill -f "daxpolicyd --state-dir $run/state" 2>/dev/null && sleep 0.5 || true
rm -rf "$run"
mkdir -p "$run"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

# Without --foreground it returns once it is serving (or says why it cannot).
step "$daxpolicyd" --state-dir "$run/state" --socket "$DAXPOLICY_SOCKET"
for d in /db /db/wal /db/tables /scratch; do
	"$daxpolicy" io -c mkdir "pool0:$d" >/dev/null
done
step "$daxpolicy" io -f -c "pwrite -S 0x61 0 1m" -c "fsync" pool0:/db/wal/000001.log
"$daxpolicy" io -f -c "pwrite 0 64k" pool0:/db/tables/users.tbl >/dev/null
"$daxpolicy" io -f -c "pwrite 0 4k" pool0:/scratch/tmp.bin >/dev/null

# A reader holds a mapping of one WAL segment while the policy arrives.
(printf 'pwrite 0 4k\nmmap 0 4k\nmread 0 4k\n'; sleep 2) | "$daxpolicy" io -f pool0:/db/wal/000002.log >/dev/null &
reader=$!
sleep 0.5
step "$daxpolicy" check examples/policy.d
step "$daxpolicy" apply --policy-dir examples/policy.d
step "$daxpolicy" -u list-pending
wait "$reader"
sleep 0.2
step "$daxpolicy" -u status
step "$daxpolicy" -u list -r pool0:/
step "$daxpolicy" -u list-events
echo
echo "daxpolicyd is still running; try: DAXPOLICY_SOCKET=$DAXPOLICY_SOCKET $daxpolicy -u list-rules"
echo "stop it with: pkill -f 'daxpolicyd --state-dir $run/state'"
