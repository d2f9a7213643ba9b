#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bounded fuzzing of every parser of outside input, as TAP: one case per
# libFuzzer target (fuzz/*.c), each started from its seed corpus in
# fuzz/corpus/<target>/ and run for FUZZ_SECONDS (default 25) seconds.
# A crash, a leak, a sanitizer report or a slow input (-timeout) is a
# "not ok" naming the reproducer, kept under $B/fuzz/artifacts/; replay it
# with "$B/fuzz/<target> <reproducer>".  Without clang's libFuzzer every
# case is a SKIP.  Longer runs: docs/fuzzing.md.
#
#   tests/fuzz/run.sh [TARGET...]     (B=build dir, default build;
#                                      FUZZ_SECONDS=N, FUZZ_JOBS=N)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
B=${B:-build}
case "$B" in /*) ;; *) B="$top/$B" ;; esac
seconds=${FUZZ_SECONDS:-25}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_parse fuzz_tree fuzz_record fuzz_masim fuzz_damo fuzz_replay)

echo "TAP version 13"
echo "1..${#targets[@]}"

skip_all() {
	local i=0 t
	for t in "${targets[@]}"; do
		i=$((i + 1))
		echo "ok $i - $t # SKIP $1"
	done
	echo "# 0 passed, 0 failed, ${#targets[@]} skipped"
	exit 0
}

command -v "${CLANG:-clang}" >/dev/null || skip_all "clang not installed"
if ! make -s -C "$top" B="$B" fuzz >"$B/fuzz-build.log" 2>&1; then
	if grep -q "libclang_rt.fuzzer\|fsanitize=fuzzer" "$B/fuzz-build.log"; then
		skip_all "clang has no libFuzzer (libclang-rt-dev)"
	fi
	echo "# building the fuzzers failed:"
	tail -n 30 "$B/fuzz-build.log" | sed 's/^/#   /'
	i=0
	for t in "${targets[@]}"; do
		i=$((i + 1))
		echo "not ok $i - $t (not built)"
	done
	echo "# 0 passed, ${#targets[@]} failed"
	exit 1
fi

artifacts="$B/fuzz/artifacts"
mkdir -p "$artifacts"
work=$(mktemp -d /tmp/udamon-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
i=0
for t in "${targets[@]}"; do
	i=$((i + 1))
	bin="$B/fuzz/$t"
	seeds="$top/fuzz/corpus/$t"
	# New inputs go to a scratch corpus; the seeds in the repo stay put.
	mkdir -p "$work/$t"
	opts=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
		-malloc_limit_mb=1024 -max_len=4096 -print_final_stats=1
		-artifact_prefix="$artifacts/$t-")
	case "$t" in
	fuzz_tree) opts+=(-max_len=512) ;;
	esac
	start=$(date +%s)
	# The outer timeout only guards against a hung fuzzer process.
	timeout --kill-after=10 $((seconds + 60)) "$bin" "${opts[@]}" \
		"$work/$t" "$seeds" >"$work/$t.log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
	repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work/$t.log" |
		tail -n 1)
	if [ $rc -eq 0 ] && [ -z "$repro" ]; then
		passed=$((passed + 1))
		echo "ok $i - $t # ${runs:-?} runs in $took s"
	else
		failed=$((failed + 1))
		echo "not ok $i - $t (rc $rc) reproducer: ${repro:-none}"
		grep -E "^==[0-9]+==|ERROR|SUMMARY|runtime error|ALARM|deadly" \
			"$work/$t.log" | head -n 20 | sed 's/^/#   /'
		tail -n 15 "$work/$t.log" | sed 's/^/#   /'
	fi
done
echo "# $passed passed, $failed failed"
[ $failed -eq 0 ]
