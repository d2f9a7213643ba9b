#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run every udamon test and print "N passed, N failed, N skipped" as the
# last line.
#
#   1. build (warnings are errors) and the style check
#   2. unit tests (TAP), plain build
#   3. unit tests under ASan+UBSan (LeakSanitizer included)
#   4. unit tests under TSan (the threaded paths: kdamond, call, walk)
#   5. unit tests under valgrind (memory errors and leaks)
#   6. integration tests (FUSE tree in a private mount namespace), if any,
#      the command line's tests and the Debian package's
#   7. short fuzzing runs of the parsers, if any
#
# Every TAP line counts: "ok" as passed, "not ok" as failed, and "ok ...
# # SKIP" (or a "1..0 # SKIP" plan) as skipped, never as passed.  A
# program that dies without TAP counts as one failure.
# Options: --quick skips steps 4, 5 and 7.
set -u
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1
JOBS=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
skipped=0
log_dir=$(mktemp -d /tmp/udamon-tests.XXXXXX)
trap 'rm -rf "$log_dir"' EXIT

# tally NAME LOGFILE RC: count TAP results of a finished program.
tally() {
	local name=$1 log=$2 rc=$3 ok notok skip
	ok=$(grep -c '^ok ' "$log")
	notok=$(grep -c '^not ok ' "$log")
	skip=$(grep -ciE '^(ok .*# *skip|1\.\.0 *# *skip)' "$log")
	ok=$((ok - $(grep -ciE '^ok .*# *skip' "$log")))
	passed=$((passed + ok))
	failed=$((failed + notok))
	skipped=$((skipped + skip))
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		failed=$((failed + 1))
		echo "not ok - $name exited with status $rc"
		tail -n 30 "$log" | sed 's/^/#   /'
	fi
	grep '^not ok ' "$log" | sed "s/^/[$name] /"
	echo "# $name: $ok passed, $notok failed, $skip skipped (rc $rc)"
}

# run_tap NAME TIMEOUT CMD...: run a TAP program and tally it.
run_tap() {
	local name=$1 limit=$2 log="$log_dir/$1.log" rc
	shift 2
	timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
	rc=$?
	[ $rc -eq 124 ] && echo "# $name: timed out after $limit s" >>"$log"
	tally "$name" "$log" "$rc"
}

# single NAME CMD...: a check that is one test case.
single() {
	local name=$1 log="$log_dir/$1.log"
	shift
	if "$@" >"$log" 2>&1; then
		passed=$((passed + 1))
		echo "ok - $name"
	else
		failed=$((failed + 1))
		echo "not ok - $name"
		tail -n 40 "$log" | sed 's/^/#   /'
	fi
}

finish() {
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit $?
}

echo "# 1. build"
if ! make -j"$JOBS" all >"$log_dir/build.log" 2>&1; then
	failed=$((failed + 1))
	echo "not ok - build"
	tail -n 60 "$log_dir/build.log"
	finish
fi
passed=$((passed + 1))
echo "ok - build"
single format-check make -s format-check
single kdoc-check bash scripts/kdoc-check.sh
single api-check bash scripts/api-check.sh

echo "# 2. unit tests"
for t in build/tests/test_*; do
	[ -x "$t" ] || continue
	run_tap "$(basename "$t")" 600 "$t"
done

echo "# 3. unit tests under ASan+UBSan"
if make -j"$JOBS" SAN=asan lib tests >"$log_dir/build-asan.log" 2>&1; then
	passed=$((passed + 1))
	echo "ok - build-asan"
	for t in build-asan/tests/test_*; do
		[ -x "$t" ] || continue
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			run_tap "asan-$(basename "$t")" 900 "$t"
	done
else
	failed=$((failed + 1))
	echo "not ok - build-asan"
	tail -n 40 "$log_dir/build-asan.log"
fi

if [ $quick -eq 0 ]; then
	echo "# 4. unit tests under TSan"
	if make -j"$JOBS" SAN=tsan lib tests >"$log_dir/build-tsan.log" 2>&1; then
		passed=$((passed + 1))
		echo "ok - build-tsan"
		for t in build-tsan/tests/test_*; do
			[ -x "$t" ] || continue
			# TSan needs a fixed address space layout on newer kernels.
			TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
				run_tap "tsan-$(basename "$t")" 900 \
				setarch "$(uname -m)" -R "$t"
		done
	else
		failed=$((failed + 1))
		echo "not ok - build-tsan"
		tail -n 40 "$log_dir/build-tsan.log"
	fi

	echo "# 5. unit tests under valgrind"
	if command -v valgrind >/dev/null; then
		for t in build/tests/test_*; do
			[ -x "$t" ] || continue
			case "$(basename "$t")" in
			*_slow*) continue ;;
			esac
			run_tap "valgrind-$(basename "$t")" 1200 \
				valgrind -q --error-exitcode=99 --leak-check=full \
				--errors-for-leak-kinds=definite,indirect \
				--show-leak-kinds=definite,indirect "$t"
		done
	else
		echo "# valgrind not installed: skipped"
	fi
fi

echo "# 6. integration tests"
if [ -x tests/integration/run.sh ]; then
	run_tap integration 1500 tests/integration/run.sh
else
	echo "# no integration tests yet"
fi
[ -x tests/cli/run.sh ] && run_tap cli 900 tests/cli/run.sh
# The Debian package: built, installed, used and purged (root only).
[ -x tests/pkg/run.sh ] && run_tap pkg 900 tests/pkg/run.sh

echo "# 6b. VM tests"
if [ -x tests/vm/run.sh ]; then
	run_tap vm 1200 tests/vm/run.sh
	# Linux 6.1 without page idle tracking: the uffd-wp-sync source.
	run_tap vm-6.1 1200 env VM_KERNEL=6.1 tests/vm/run.sh
fi

if [ $quick -eq 0 ] && [ -x tests/fuzz/run.sh ]; then
	echo "# 7. fuzzing"
	run_tap fuzz 600 tests/fuzz/run.sh
fi

finish
