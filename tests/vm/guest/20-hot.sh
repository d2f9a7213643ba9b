#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guest kernel's vaddr DAMON finds the hot 32 MiB region of a workload;
# then udamon's vaddr on the same workload, through udamond's tree.  udamon
# picks page idle tracking here (this kernel has it); the preload library
# would let it fall back to userfaultfd write-protect otherwise.
#
# Under TCG a page's accessed bit is set again only when the emulated TLB
# entry is refilled; a busy loop makes the workload's vCPU switch tasks, so
# both monitors see repeated accesses (PLATFORM: the kernel's DAMON showed
# the hot block at 0 accesses without it).
(while :; do :; done) &
hog=$!
damon_oracle hot /sys/kernel/mm/damon/admin kernel-vaddr 5
rc=$?
mnt=/tmp/udamon
mkdir -p $mnt
udamond -f -m $mnt --log /tmp/udamond-hot.log &
pid=$!
i=0
while [ ! -f $mnt/admin/kdamonds/nr_kdamonds ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ ! -f /lib64/libudamon-preload.so ]; then
	echo "ok - udamon-vaddr: hot region found # SKIP no preload library"
else
	LD_PRELOAD=/lib64/libudamon-preload.so \
		damon_oracle hot $mnt/admin udamon-vaddr 5 || rc=1
fi
kill $hog
wait $hog 2>/dev/null
kill $pid
wait $pid
grep -E 'error|warning' /tmp/udamond-hot.log | head -n 20 | sed 's/^/# udamond: /'
exit $rc
