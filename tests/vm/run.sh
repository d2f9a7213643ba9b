#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The VM suite: build (or reuse) the test kernel, build the initramfs with
# udamon and the guest tests, boot it under qemu (TCG: this machine's KVM
# cannot run guests), and turn the guest's serial output into TAP, ending
# with "# N passed, N failed".  When qemu or the kernel cannot be had, it
# prints one skipped test and exits 0.
#
#   tests/vm/run.sh [TEST...]     TEST: a guest script name, e.g. 10-tree
#
# Environment: VM_TIMEOUT (guest wall-clock limit, s, default 600),
# VM_MEM (default 2G), VM_SMP (default 2), VM_B (make build directory for
# udamon's programs, default build), VM_KEEP_LOG=FILE (copy the console log),
# VM_APPEND (more kernel command line, e.g. udamon.bench=...),
# VM_KERNEL=6.1 (boot the second test kernel, built from linux-source-6.1
# without page idle tracking, and run tests/vm/guest-6.1/*.sh instead).
#
# Each run stages its initramfs and console log in its own directory
# (build/vm/run.XXXXXX, removed at exit) so that concurrent runs (CI, a
# benchmark, a developer) do not clobber each other; the console log of the
# last run that finished is copied to build/vm/console.log.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
vm_build=${VM_BUILD:-$root/build/vm}
timeout_s=${VM_TIMEOUT:-600}
B=${VM_B:-build}
export VM_BUILD=$vm_build VM_BIN=$root/$B/bin
case "${VM_KERNEL:-6.12}" in
6.12) ;;
6.1) export VM_GUEST_SCRIPTS=${VM_GUEST_SCRIPTS:-$root/tests/vm/guest-6.1} ;;
*)
	echo "not ok 1 - VM suite: VM_KERNEL=$VM_KERNEL: expected 6.12 or 6.1"
	echo "1..1"
	echo "# 0 passed, 1 failed"
	exit 1
	;;
esac

skip_all() {
	echo "ok 1 - VM suite # SKIP $*"
	echo "1..1"
	echo "# 1 passed, 0 failed"
	exit 0
}

fail_all() {
	echo "not ok 1 - VM suite: $*"
	echo "1..1"
	echo "# 0 passed, 1 failed"
	exit 1
}

[ "$(uname -m)" = x86_64 ] || skip_all "host is not x86_64"
mkdir -p "$vm_build"
run_dir=$(mktemp -d "$vm_build/run.XXXXXX") || fail_all "cannot create a run directory"
qpid=
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
	qpid=
	rm -rf "$run_dir"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM
t0=$(date +%s)
kernel=$(tests/vm/build-kernel.sh 2>"$run_dir/build-kernel.log" | tail -n 1)
rc=${PIPESTATUS[0]}
cp "$run_dir/build-kernel.log" "$vm_build/build-kernel.log" 2>/dev/null
if [ "$rc" -eq 77 ]; then
	skip_all "$(grep 'skip:' "$run_dir/build-kernel.log" | tail -n 1)"
elif [ "$rc" -ne 0 ] || [ ! -s "$kernel" ]; then
	sed 's/^/# /' "$run_dir/build-kernel.log" | tail -n 40
	fail_all "kernel build failed (rc $rc)"
fi
command -v qemu-system-x86_64 >/dev/null || skip_all "no qemu-system-x86_64"
t1=$(date +%s)
echo "# kernel: $kernel ($((t1 - t0)) s)"

if ! make -s B="$B" -j"$(nproc 2>/dev/null || echo 2)" progs \
	>"$run_dir/make.log" 2>&1; then
	sed 's/^/# /' "$run_dir/make.log" | tail -n 40
	fail_all "building udamon's programs failed"
fi
initrd=$run_dir/initramfs.cpio.gz
VM_WORK=$run_dir/initramfs tests/vm/mkinitramfs.sh "$initrd" \
	2>"$run_dir/mkinitramfs.log"
rc=$?
if [ $rc -eq 77 ]; then
	skip_all "$(grep 'skip:' "$run_dir/mkinitramfs.log" | tail -n 1)"
elif [ $rc -ne 0 ]; then
	sed 's/^/# /' "$run_dir/mkinitramfs.log" | tail -n 40
	fail_all "initramfs build failed"
fi
t2=$(date +%s)
echo "# initramfs: $(du -k "$initrd" | cut -f1) KiB ($((t2 - t1)) s)"

run_arg=
[ $# -gt 0 ] && run_arg="udamon.run=$(
	IFS=,
	echo "$*"
)"
console=$run_dir/console.log

# udamon.vm=1 is what lets the guest programs write the guest's /sys
# DAMON tree; nothing else sets it.
qemu-system-x86_64 -accel tcg -m "${VM_MEM:-2G}" -smp "${VM_SMP:-2}" \
	-nographic -no-reboot -kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 quiet panic=-1 udamon.vm=1 $run_arg ${VM_APPEND:-}" \
	</dev/null >"$console" 2>&1 &
qpid=$!
deadline=$(($(date +%s) + timeout_s))
while kill -0 "$qpid" 2>/dev/null; do
	if [ "$(date +%s)" -ge "$deadline" ]; then
		echo "# guest timed out after $timeout_s s; killing qemu $qpid"
		kill "$qpid" 2>/dev/null
		sleep 1
		kill -9 "$qpid" 2>/dev/null
		break
	fi
	sleep 0.2
done
wait "$qpid" 2>/dev/null
qrc=$?
qpid=
t3=$(date +%s)
[ -n "${VM_KEEP_LOG:-}" ] && cp "$console" "$VM_KEEP_LOG"
cp "$console" "$vm_build/console.log.$$" &&
	mv "$vm_build/console.log.$$" "$vm_build/console.log"

# Re-emit the guest's TAP with numbers; everything else becomes comments.
tr -d '\r' <"$console" | awk -v qrc="$qrc" -v secs="$((t3 - t2))" '
	function emit(ok, text) {
		n++
		if (ok) pass++; else fail++
		printf "%s %d - %s\n", ok ? "ok" : "not ok", n, text
	}
	/^ok( -|$)/ { sub(/^ok( - )?/, ""); emit(1, $0); next }
	/^not ok( -|$)/ { sub(/^not ok( - )?/, ""); emit(0, $0); next }
	# The firmware leaves escape codes on the line before the marker.
	/@@VM-BEGIN/ {
		sub(/.*@@VM-BEGIN/, "@@VM-BEGIN")
		begun = 1
		print "# guest kernel " $2 " up at " $3 " s"
		next
	}
	/^@@VM-TEST/ {
		fails_at_start = fail
		print "# --- " $2 " (guest uptime " $3 " s)"
		next
	}
	/^@@VM-RC/ {
		if ($3 != 0 && fails_at_start == fail)
			emit(0, $2 " exited with status " $3)
		next
	}
	/^@@VM-END/ { ended = 1; print "# guest finished at uptime " $2 " s"; next }
	/^#/ { print; next }
	{ if (begun) print "# guest: " $0; else pre[++npre] = $0 }
	END {
		if (!ended) {
			for (i = (npre > 40 ? npre - 40 : 1); i <= npre; i++)
				print "# console: " pre[i]
			emit(0, "guest ran to the end (qemu status " qrc ")")
		}
		printf "# qemu wall clock %d s\n", secs
		printf "1..%d\n", n
		printf "# %d passed, %d failed\n", pass, fail
		exit fail ? 1 : 0
	}'
