#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs CMD (the daemon) as systemd runs a service whose stderr is the journal, with a
# stand-in for journald: in a private mount namespace, a fresh /run whose
# /run/systemd/journal/socket appends each datagram that sd_journal_send(3) sends to OUT,
# after its length (4 bytes, little-endian). $JOURNAL_STREAM names the file stderr goes to,
# ERR, as systemd names the stream it connects.
# Usage: unshare -m --propagation private journal_wrapper.sh OUT ERR CMD...
set -euo pipefail
out=$1 err=$2
shift 2
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/journal
python3 - "$out" $$ <<'PY' &
import os, socket, sys

out, daemon = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/run/systemd/journal/socket")
s.settimeout(0.2)
with open(out, "ab") as f:
    while True:
        try:
            d = s.recv(1 << 20)
        except socket.timeout:
            try:
                os.kill(daemon, 0)
            except ProcessLookupError:
                break
            continue
        f.write(len(d).to_bytes(4, "little") + d)
        f.flush()
PY
for _ in $(seq 200); do
	[[ -S /run/systemd/journal/socket ]] && break
	sleep 0.05
done
exec 2>"$err"
JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2)
export JOURNAL_STREAM
exec "$@"
