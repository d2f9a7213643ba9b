#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# udamon's page idle tracking source, on this kernel with
# CONFIG_IDLE_PAGE_TRACKING: udamond offers paddr, and udamon's vaddr finds
# the hot region of a workload that runs WITHOUT the preload library, which
# only the page-idle source can serve (it also sees reads).
if [ ! -e /sys/kernel/mm/page_idle/bitmap ]; then
	echo "ok - page-idle: paddr offered # SKIP no page_idle/bitmap"
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
