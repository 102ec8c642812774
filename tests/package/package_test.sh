#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The Debian package as an administrator meets it: scripts/package.sh makes it from this
# build tree, `apt-get install ./daxpolicy_*.deb` installs it, and then the programs, the
# units (systemd-analyze verify, and security below 4), the group and folder the package
# makes, the man pages, the completion and the daemon on the embedded default are checked,
# and `apt-get purge` takes it all away again.
# Usage: package_test.sh BUILD_DIR. Needs root (apt-get): exits 77 (skipped) without it, or
# fails where DAXPOLICY_REQUIRE_PRIVILEGED=1 says it must run.
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)

skip() {
	if [[ ${DAXPOLICY_REQUIRE_PRIVILEGED:-} == 1 ]]; then
		echo "FAIL: $* but DAXPOLICY_REQUIRE_PRIVILEGED=1" >&2
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}
failures=0
check() { # check DESCRIPTION COMMAND...: runs it, and counts a failure when it fails
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
	else
		echo "FAIL: $what" >&2
		failures=$((failures + 1))
	fi
}

[[ $(id -u) == 0 ]] || skip "needs root (apt-get installs the package)"
command -v apt-get >/dev/null || skip "needs apt-get (Debian)"
if dpkg-query -W -f='${Status}' daxpolicy 2>/dev/null | grep -q 'install ok installed'; then
	skip "a daxpolicy package is installed on this machine; the test would remove it"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/daxpolicy-package-test.XXXXXX")
had_group=$(getent group daxpolicy >/dev/null && echo yes || echo no)
had_etc=$([[ -e /etc/daxpolicy ]] && echo yes || echo no)
daemon=
cleanup() {
	[[ -z $daemon ]] || kill "$daemon" 2>/dev/null || true
	[[ -z $daemon ]] || wait "$daemon" 2>/dev/null || true
	! mountpoint -q "$work/box/mnt" 2>/dev/null || umount "$work/box/mnt"
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq daxpolicy >/dev/null 2>&1 || true
	# What the package made and purge leaves by Debian's custom (a system group, the drop-in
	# folder), removed only where this test made it.
	[[ $had_group == yes ]] || groupdel daxpolicy 2>/dev/null || true
	[[ $had_etc == yes ]] || rm -rf /etc/daxpolicy
	rm -rf "$work"
}
trap cleanup EXIT

deb=$("$src/scripts/package.sh" "$work" "$build" | tail -n 1)
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
check "the package is named daxpolicy_VERSION_ARCH.deb" \
	test "$(basename "$deb")" == "daxpolicy_${version}_$(dpkg --print-architecture).deb"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log" >&2; exit 1; }

for f in /usr/sbin/daxpolicyd /usr/bin/daxpolicy \
	/lib/systemd/system/daxpolicyd.service /lib/systemd/system/daxpolicyd.socket \
	/usr/lib/sysusers.d/daxpolicy.conf /usr/lib/tmpfiles.d/daxpolicy.conf \
	/usr/share/man/man1/daxpolicy.1.gz /usr/share/man/man8/daxpolicyd.8.gz \
	/usr/share/man/man5/daxpolicyd.toml.5.gz /usr/share/man/man5/daxpolicy-policy.5.gz \
	/usr/share/bash-completion/completions/daxpolicy \
	/usr/share/doc/daxpolicy/REFERENCE.md /usr/share/doc/daxpolicy/OPERATIONS.md \
	/usr/share/doc/daxpolicy/examples/daxpolicyd.toml \
	/usr/share/doc/daxpolicy/examples/policy.d/10-database.toml \
	/usr/share/doc/daxpolicy/examples/systemd/host-volume.conf; do
	check "the package installs $f" test -f "$f"
done
check "daxpolicy --version" test "$(daxpolicy --version)" == "daxpolicy $version"
check "daxpolicyd --version" test "$(daxpolicyd --version)" == "daxpolicyd $version"
check "the installed example policy is valid" \
	daxpolicy check /usr/share/doc/daxpolicy/examples/policy.d

# The maintainer scripts: group (sysusers), drop-in folder (tmpfiles), units enabled.
check "postinst made the daxpolicy group" getent group daxpolicy
check "postinst made /etc/daxpolicy/policy.d" test -d /etc/daxpolicy/policy.d
check "daxpolicyd.service is enabled" \
	test -L /etc/systemd/system/multi-user.target.wants/daxpolicyd.service
check "daxpolicyd.socket is enabled" \
	test -L /etc/systemd/system/sockets.target.wants/daxpolicyd.socket

# The units point at the installed daemon, load cleanly, and are hardened.
check "the unit runs /usr/sbin/daxpolicyd" \
	grep -qx 'ExecStart=/usr/sbin/daxpolicyd --foreground' /lib/systemd/system/daxpolicyd.service
check "systemd-analyze verify accepts the units" \
	systemd-analyze verify /lib/systemd/system/daxpolicyd.service \
	/lib/systemd/system/daxpolicyd.socket
systemd-analyze security --offline=true /lib/systemd/system/daxpolicyd.service \
	>"$work/security" 2>&1 || true
exposure=$(sed -n 's/.*Overall exposure level for daxpolicyd.service: \([0-9.]*\).*/\1/p' \
	"$work/security")
echo "systemd-analyze security: exposure $exposure"
check "the service's exposure is below 4" awk -v e="$exposure" 'BEGIN { exit !(e != "" && e < 4) }'

# Man pages: found by man, and clean to mandoc's and groff's linters.
for page in daxpolicy.1 daxpolicyd.8 daxpolicyd.toml.5 daxpolicy-policy.5; do
	section=${page##*.}
	file=/usr/share/man/man$section/$page.gz
	check "man $section ${page%.*} renders" sh -c "man -P cat $section ${page%.*} | grep -q NAME"
	check "mandoc -T lint $page" sh -c "zcat $file | mandoc -T lint -W warning"
	check "groff -ww $page" sh -c "! zcat $file | groff -man -t -z -ww 2>&1 | grep ."
done

# The daemon the service starts, as the service starts it: handed its socket by systemd
# (systemd-socket-activate passes it as daxpolicyd.socket does), no config (the embedded
# default), with only the unit's capabilities (CapabilityBoundingSet=), NoNewPrivileges= and
# UMask=. Its state and socket are in this test's folder, so the machine's stay untouched.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' /lib/systemd/system/daxpolicyd.service |
	tr '[:upper:]' '[:lower:]' | sed 's/cap_/+/g; s/ /,/g')
export DAXPOLICY_SOCKET=$work/daxpolicy.sock
(
	umask 0077
	exec systemd-socket-activate -l "$DAXPOLICY_SOCKET" \
		setpriv --no-new-privs --inh-caps=-all --bounding-set="-all,$caps" \
		/usr/sbin/daxpolicyd --foreground --state-dir "$work/state"
) >"$work/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 100); do # the first connection starts it
	daxpolicy status >/dev/null 2>&1 && break
	kill -0 "$daemon" 2>/dev/null || break
	sleep 0.1
done
check "the installed daemon serves the embedded default" \
	sh -c 'daxpolicy list-volumes | grep -q "\"name\": \"pool0\""'
check "the embedded default's pool is sparse" \
	test "$(du -k "$work/state/pool0.pool" | cut -f1)" -lt 65536
check "its state is private (UMask=0077)" \
	test "$(stat -c %a "$work/state/daxpolicy.db")" == 600
check "a rule can be added" \
	daxpolicy add-rule --name t --subtree pool0:/ --dax on

# Completion: commands and options come from --help, volume names from the daemon.
complete_words() { # complete_words WORD...: what TAB offers after them
	bash -c 'source /usr/share/bash-completion/bash_completion
		source /usr/share/bash-completion/completions/daxpolicy
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_daxpolicy; printf "%s\n" "${COMPREPLY[@]}"' complete "$@"
}
offers() { # offers WANTED WORD...: whether TAB after the words offers WANTED
	# Not `complete_words | grep -q`: grep leaves at the first match, and under pipefail
	# the writer's SIGPIPE failed the check whenever the reply was still being written.
	local offered
	offered=$(complete_words "${@:2}")
	grep -qx -- "$1" <<<"$offered"
}
check "completion offers the commands" offers list-volumes daxpolicy list
check "completion offers a command's options" offers --recursive daxpolicy list --
check "completion offers event types" offers lease-revoked daxpolicy list-events --type lease
check "completion offers the daemon's volumes" offers pool0:/ daxpolicy list po

stop_daemon() { kill "$daemon" && wait "$daemon"; }
check "the daemon stops cleanly on SIGTERM" stop_daemon
daemon=

# The units under a real systemd, which this machine may not run as PID 1: a container
# booted from this machine's /usr with a volatile root (its /etc and /var are tmpfs, so the
# host's stay untouched) starts daxpolicyd.socket; the first call starts the hardened service
# on an embedded pool, and a host volume (an ext4 image mounted here, given to the unit
# by the packaged drop-in) takes a flag change, waits for a mapping and applies it after.
boot_in_container() {
	local box=$work/box
	mkdir -p "$box/units/daxpolicyd.service.d" "$box/out" "$box/etc" "$box/mnt"
	cp /usr/share/doc/daxpolicy/examples/systemd/host-volume.conf "$box/units/daxpolicyd.service.d/"
	printf '[Unit]\nRequires=check.service\nAfter=check.service\n' >"$box/units/check.target"
	printf '[Service]\nType=oneshot\nExecStart=/out/check.sh\nExecStopPost=/bin/systemctl poweroff --no-block\n' \
		>"$box/units/check.service"
	printf '[[volume]]\nname = "pool0"\nkind = "embedded"\nsize = "64MiB"\n[[volume]]\nname = "pmem0"\nkind = "host"\npath = "/mnt/pmem0"\n' \
		>"$box/etc/daxpolicyd.toml"
	cat >"$box/out/check.sh" <<'EOF'
#!/bin/bash
exec >/out/result 2>&1
check() { local what=$1; shift; if "$@" >>/out/log 2>&1; then echo "ok: $what"; else echo "FAIL: $what"; fi; }
field() { grep -q "\"$1\": $2" /out/reply; }
mkdir -p /mnt/pmem0/logs && echo hi >/mnt/pmem0/logs/a.log && chown nobody /mnt/pmem0/logs/a.log
chmod 600 /mnt/pmem0/logs/a.log
check "systemd is PID 1" grep -qx systemd /proc/1/comm
check "sysusers made the group" getent group daxpolicy
check "daxpolicyd.socket starts" systemctl start daxpolicyd.socket
check "the first call starts the service" daxpolicy status
check "daxpolicyd.service is running" systemctl is-active daxpolicyd.service
check "it serves the embedded default" sh -c 'daxpolicy list-volumes | grep -q "\"name\": \"pool0\""'
check "a rule sets the flag of another user's file on the host volume" \
	daxpolicy add-rule --name logs --subtree pmem0:/logs --dax on
check "the kernel has the flag" sh -c 'lsattr -l /mnt/pmem0/logs/a.log | grep -q DAX'
python3 -c 'import mmap, time; f = open("/mnt/pmem0/logs/a.log", "r+b"); m = mmap.mmap(f.fileno(), 0); time.sleep(2)' &
sleep 1
daxpolicy clear-dax pmem0:/logs/a.log >/out/reply
check "a change to a mapped file waits" field result '"deferred"'
wait
for _ in $(seq 50); do lsattr -l /mnt/pmem0/logs/a.log | grep -q DAX || break; sleep 0.1; done
check "and is made once the mapping goes" sh -c '! lsattr -l /mnt/pmem0/logs/a.log | grep -q DAX'
check "the service never restarted" sh -c 'systemctl show -p NRestarts daxpolicyd | grep -qx NRestarts=0'
journalctl -u daxpolicyd --no-pager >>/out/log
EOF
	chmod +x "$box/out/check.sh"
	truncate -s 64M "$box/ext4.img"
	mkfs.ext4 -q -F "$box/ext4.img"
	mount -o loop,dax=inode "$box/ext4.img" "$box/mnt" || return 1
	timeout 120 systemd-nspawn -D / --volatile=yes --register=no --keep-unit -q \
		--bind="$box/out:/out" --bind-ro="$box/units:/etc/systemd/system" \
		--bind="$box/etc:/etc/daxpolicy" --bind="$box/mnt:/mnt/pmem0" \
		-b systemd.unit=check.target systemd.firstboot=off >"$box/console" 2>&1
	umount "$box/mnt"
	cat "$box/out/result" 2>/dev/null
	if grep -q '^ok: ' "$box/out/result" 2>/dev/null && ! grep -q '^FAIL: ' "$box/out/result"; then
		return 0
	fi
	tail -n 40 "$box/out/log" "$box/console" >&2
	return 1
}
if command -v systemd-nspawn >/dev/null; then
	check "the service works under systemd (a booted container)" boot_in_container
else
	skip "needs systemd-nspawn (systemd-container) to boot the units"
fi

DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq daxpolicy >"$work/purge.log" 2>&1 ||
	{ cat "$work/purge.log" >&2; exit 1; }
check "purge removes the programs" test ! -e /usr/sbin/daxpolicyd -a ! -e /usr/bin/daxpolicy
check "purge removes the units and their links" \
	test ! -e /lib/systemd/system/daxpolicyd.service -a \
	! -L /etc/systemd/system/multi-user.target.wants/daxpolicyd.service

if ((failures)); then
	echo "$failures checks failed; the daemon's log:" >&2
	cat "$work/daemon.log" >&2
	exit 1
fi
echo "package test: every check passed"
