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
pidfile=$run/daxpolicyd.pid

# A daemon left by an earlier run: stopped by its pid, once /proc says it is that daemon.
if [[ -f $pidfile ]]; then
	old=$(cat "$pidfile")
	if tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null | grep -q "daxpolicyd .*--state-dir $run/state"; then
		kill "$old"
		while kill -0 "$old" 2>/dev/null; do sleep 0.1; done
	fi
fi
rm -rf "$run"
mkdir -p "$run"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

# In the foreground of a background job, so that its pid is known; serving once status answers.
printf '\n\033[1m$ %s\033[0m\n' "$daxpolicyd --foreground --state-dir $run/state --socket $DAXPOLICY_SOCKET &"
"$daxpolicyd" --foreground --state-dir "$run/state" --socket "$DAXPOLICY_SOCKET" \
	>"$run/daxpolicyd.log" 2>&1 &
echo $! >"$pidfile"
until "$daxpolicy" status >/dev/null 2>&1; do
	if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
		cat "$run/daxpolicyd.log" >&2
		exit 1
	fi
	sleep 0.1
done
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
cat <<EOF

daxpolicyd is still running (its log: run/daxpolicyd.log). To use it from this folder:
  export PATH=$PWD/build-release/cli:\$PATH DAXPOLICY_SOCKET=$DAXPOLICY_SOCKET
  daxpolicy -u list-rules
Stop it with:
  kill \$(cat $pidfile)
EOF
