#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/vm guest side: udamon's vaddr (page-idle source, through udamond's
# tree) against the guest kernel's vaddr DAMON (its /sys tree), same
# workload process, same attributes.  Parts, chosen with
# udamon.bench=acc,ovh,scale on the kernel command line (default: all):
#   acc    accuracy on stairs_30secs and zigzag_30secs, both DAMONs on the
#          same run of udamon-workload at once
#   ovh    kdamond CPU per monitored second at 10..1000 and 1000..1000
#          regions, one DAMON after the other on one workload process
#   scale  the same at default attrs for udamon.bench_sizes=MiB,... (default
#          256,512,1024), plus a naive every-page page-idle monitor
parts="acc ovh scale"
sizes="256 512 1024"
secs=5
for a in $(cat /proc/cmdline); do
	case "$a" in
	udamon.bench=*) parts=$(echo "${a#udamon.bench=}" | tr , ' ') ;;
	udamon.bench_sizes=*) sizes=$(echo "${a#udamon.bench_sizes=}" | tr , ' ') ;;
	udamon.bench_secs=*) secs=${a#udamon.bench_secs=} ;;
	esac
done
has() { case " $parts " in *" $1 "*) return 0 ;; esac; return 1; }

K=/sys/kernel/mm/damon/admin
mnt=/tmp/udamon
mkdir -p $mnt
udamond -f -m $mnt --log /tmp/udamond-bench.log &
pid=$!
i=0
while [ ! -f $mnt/admin/kdamonds/nr_kdamonds ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "# guest: $(nproc) CPUs, $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB, THP $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
if has acc; then
	# Under TCG a page's accessed bit comes back only when its soft-TLB
	# entry is refilled: a busy loop keeps the vCPUs switching tasks
	# (both DAMONs need it; see tests/vm/guest/20-hot.sh).
	(while :; do :; done) &
	hog=$!
	for cfg in stairs_30secs zigzag_30secs; do
		vmbench accuracy /configs/$cfg.cfg $K $mnt/admin 500
	done
	kill $hog
	wait $hog 2>/dev/null
fi
# CPU parts without the busy loop: it would take a vCPU from the
# monitors and cap what they can use (2 vCPUs: workload + monitor).
if has ovh; then
	vmbench overhead $K $mnt/admin $secs 10 1000 256 32
	vmbench overhead $K $mnt/admin $secs 1000 1000 256 32
fi
if has scale; then
	for s in $sizes; do
		vmbench scaling $K $mnt/admin $secs $s 32 100
	done
fi
kill $pid
wait $pid
grep -E 'error|warning' /tmp/udamond-bench.log | head -n 20 | sed 's/^/# udamond: /'
exit 0
