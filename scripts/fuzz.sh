#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Builds the libFuzzer targets of tests/fuzz/ with clang (into build-fuzz/, or
# $DAXPOLICY_FUZZ_BUILD) and runs each for N seconds, seeded with its corpus in
# tests/fuzz/corpus/TARGET (the seeds and every past finding's reproducer, each run first).
# Fails at the first crash, sanitizer report, oracle failure, slow input or memory blow-up;
# the input that did it is saved under the build dir's fuzz-artifacts/TARGET/.
# Usage: scripts/fuzz.sh [--seconds N] [TARGET...]   (default: 30 s for each target)
# A long run: scripts/fuzz.sh --seconds 3600. docs/FUZZING.md says what each target checks.
set -euo pipefail
cd "$(dirname "$0")/.."

all=(fuzz_wire fuzz_policy_file fuzz_config fuzz_pool)
seconds=30
targets=()
usage() {
	echo "usage: scripts/fuzz.sh [--seconds N] [TARGET...]; targets: ${all[*]}" >&2
	exit 2
}
while (($#)); do
	case $1 in
	--seconds) (($# >= 2)) || usage; seconds=$2; shift 2 ;;
	--seconds=*) seconds=${1#--seconds=}; shift ;;
	-h | --help) usage ;;
	-*) usage ;;
	*) targets+=("$1"); shift ;;
	esac
done
[[ $seconds =~ ^[1-9][0-9]*$ ]] || usage
((${#targets[@]})) || targets=("${all[@]}")
for t in "${targets[@]}"; do
	[[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz.sh: no target '$t'" >&2; usage; }
done

dir=${DAXPOLICY_FUZZ_BUILD:-build-fuzz}
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
	-DCMAKE_CXX_COMPILER=clang++ -DDAXPOLICY_FUZZ=ON -DDAXPOLICY_TESTS=OFF >/dev/null
cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"

# Any UBSan report stops the run (the build makes them fatal); leaks count as findings.
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
failed=()
for t in "${targets[@]}"; do
	artifacts="$dir/fuzz-artifacts/$t" # this run's findings only
	rm -rf "$artifacts"
	mkdir -p "$artifacts"
	# New inputs go to a scratch corpus (first directory); the repo's corpus is only read.
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/daxpolicy-fuzz-$t.XXXXXX")
	echo "== $t: ${seconds}s"
	if "$dir/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=8192 -print_final_stats=1 -artifact_prefix="$artifacts/" \
		"$scratch" "tests/fuzz/corpus/$t" >"$artifacts/log" 2>&1; then
		grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$artifacts/log" |
			sed "s/^/   /"
	else
		failed+=("$t")
		echo "!! $t failed; the log is $artifacts/log, the input:" >&2
		ls "$artifacts" | grep -v '^log$' | sed "s|^|   $artifacts/|" >&2
		grep -E 'ERROR: |fuzz oracle: |SUMMARY: ' "$artifacts/log" | head -5 | sed 's/^/   /' >&2
	fi
	rm -rf "$scratch"
done
if ((${#failed[@]})); then
	echo "fuzz.sh: findings in: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets ran ${seconds}s each without a finding"
