#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# udamon's page idle tracking source, on this kernel with
# CONFIG_IDLE_PAGE_TRACKING: udamond offers paddr, and udamon's vaddr finds
# the hot region of a workload that runs WITHOUT the preload library, which
# only the page-idle source can serve (it also sees reads).
if [ ! -e /sys/kernel/mm/page_idle/bitmap ]; then
	echo "ok - page-idle: paddr offered # SKIP no page_idle/bitmap"
	echo "ok - page-idle: paddr monitoring runs # SKIP no page_idle/bitmap"
	echo "ok - page-idle: vaddr hot region found # SKIP no page_idle/bitmap"
	exit 0
fi
mnt=/tmp/udamon-pi
mkdir -p $mnt
udamond -f -m $mnt --log /tmp/udamond-pi.log &
pid=$!
i=0
while [ ! -f $mnt/admin/kdamonds/nr_kdamonds ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
rc=0
echo 1 >$mnt/admin/kdamonds/nr_kdamonds
echo 1 >$mnt/admin/kdamonds/0/contexts/nr_contexts
avail=$(tr '\n' ' ' <$mnt/admin/kdamonds/0/contexts/0/avail_operations)
case " $avail " in
*" paddr "*) echo "ok - page-idle: paddr offered ($avail)" ;;
*)
	echo "not ok - page-idle: paddr offered (avail_operations: $avail)"
	rc=1
	;;
esac
# paddr monitoring runs: System RAM is covered by regions and a stat
# scheme tries them.
C=$mnt/admin/kdamonds/0/contexts/0
S=$C/schemes/0
echo paddr >$C/operations
echo 1 >$C/targets/nr_targets
echo 1 >$C/schemes/nr_schemes
echo stat >$S/action
echo 18446744073709551615 >$S/access_pattern/sz/max
echo 4294967295 >$S/access_pattern/nr_accesses/max
echo 4294967295 >$S/access_pattern/age/max
# A workload keeps 512 MiB busy meanwhile; the busy loop keeps TCG's
# accessed bits coming (see below).
damon_oracle workload 512 512 >/dev/null &
wl=$!
(while :; do :; done) &
hog=$!
if echo on >$mnt/admin/kdamonds/0/state; then
	sleep 3
	echo update_schemes_tried_regions >$mnt/admin/kdamonds/0/state
	echo update_schemes_stats >$mnt/admin/kdamonds/0/state
	total=$(cat $S/tried_regions/total_bytes)
	tried=$(cat $S/stats/nr_tried)
	hot=0
	for f in $S/tried_regions/*/nr_accesses; do
		[ -f "$f" ] && [ "$(cat "$f")" -gt 0 ] && hot=$((hot + 1))
	done
	echo "# paddr: total_bytes $total, nr_tried $tried, $hot regions accessed"
	# Accessed regions are reported, not required: under TCG a 512 MiB
	# sweep is slow, so a 5 ms sample of one page in a region of hundreds
	# of MiB rarely sees it (the kernel's paddr DAMON samples the same way).
	if [ "${total:-0}" -gt $((64 << 20)) ] && [ "${tried:-0}" -gt 0 ]; then
		echo "ok - page-idle: paddr monitoring runs"
	else
		echo "not ok - page-idle: paddr monitoring runs"
		rc=1
	fi
	echo off >$mnt/admin/kdamonds/0/state
else
	echo "not ok - page-idle: paddr monitoring runs (on failed)"
	rc=1
fi
kill $wl $hog
wait $wl $hog 2>/dev/null
echo 0 >$mnt/admin/kdamonds/nr_kdamonds
# Under TCG a page's accessed bit is set again only when its soft-TLB
# entry is refilled; a busy loop makes the workload's vCPU switch tasks
# (PLATFORM.md §1b saw the kernel's own DAMON miss accesses without it).
(while :; do :; done) &
hog=$!
env -u LD_PRELOAD damon_oracle hot $mnt/admin udamon-vaddr-page-idle 3 ||
	rc=1
kill $hog
wait $hog 2>/dev/null
kill $pid
wait $pid
grep -E 'error|warning' /tmp/udamond-pi.log | head -n 20 | sed 's/^/# udamond: /'
exit $rc
