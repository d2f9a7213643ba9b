#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/vm guest side: the same workload (256 MiB, 32 MiB of it written
# continuously) monitored in turn by the kernel's vaddr DAMON and by
# udamon's vaddr through udamond's tree, default attributes, a few rounds.
rounds=3
secs=5
mnt=/tmp/udamon
mkdir -p $mnt
udamond -f -m $mnt --log /tmp/udamond-bench.log &
pid=$!
i=0
while [ ! -f $mnt/admin/kdamonds/nr_kdamonds ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
pre=
[ -f /lib64/libudamon-preload.so ] && pre=/lib64/libudamon-preload.so
r=1
while [ $r -le $rounds ]; do
	damon_oracle hot /sys/kernel/mm/damon/admin kernel $secs
	LD_PRELOAD=$pre damon_oracle hot $mnt/admin udamon $secs
	r=$((r + 1))
done
kill $pid
wait $pid
