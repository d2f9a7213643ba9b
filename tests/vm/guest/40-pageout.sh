#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# DAMOS pageout through udamon frees memory: a vaddr context (page-idle
# source) with a "pageout regions that had no access for 0.5 s" scheme on
# a workload with a 32 MiB idle region and a 4 MiB hot one must shrink the
# workload's VmRSS by more than half the idle region:
#   (a) the idle region is a file on ext2 (on a zram disk) mapped
#       MAP_SHARED: clean page cache, reclaimed without swap;
#   (b) the idle region is anonymous memory, with swap on zram.
# udamon applies pageout with process_madvise(MADV_PAGEOUT).
idle_mib=32
hot_mib=4
if [ ! -e /sys/block/zram0 ] || ! grep -q ext2 /proc/filesystems; then
	echo "ok - pageout: file-backed mapping # SKIP no zram/ext2 in this kernel"
	echo "ok - pageout: anonymous memory to swap on zram # SKIP no zram/ext2 in this kernel"
	exit 0
fi
# zram0: swap (turned on only for the anonymous case); a second zram
# device: an ext2 file system for the file.
echo 256M >/sys/block/zram0/disksize
mkswap /dev/zram0 >/dev/null
dev=$(cat /sys/class/zram-control/hot_add)
echo 64M >/sys/block/zram$dev/disksize
# zram has 4 KiB logical blocks; ext2 refuses a smaller block size.
mke2fs -b 4096 /dev/zram$dev >/dev/null 2>&1
mkdir -p /mnt/ext2
mount -t ext2 /dev/zram$dev /mnt/ext2 || echo "# mount ext2 failed"
dd if=/dev/zero of=/mnt/ext2/idle bs=1M count=$idle_mib 2>/dev/null
sync
echo 3 >/proc/sys/vm/drop_caches

mnt=/tmp/udamon-po
mkdir -p $mnt
udamond -f -m $mnt --log /tmp/udamond-po.log &
upid=$!
i=0
while [ ! -f $mnt/admin/kdamonds/nr_kdamonds ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
# Under TCG a page's accessed bit comes back only when its soft-TLB entry
# is refilled: a busy loop keeps the vCPUs switching tasks.
(while :; do :; done) &
hog=$!

K=$mnt/admin/kdamonds/0
C=$K/contexts/0
S=$C/schemes/0
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' /proc/$1/status; }
# Rss of the VMA starting at $2 in /proc/$1/smaps, in KiB.
vma_rss_kb() {
	awk -v a="$2-" 'index($0, a) == 1 { f = 1; next }
		f && $1 == "Rss:" { print $2; exit }' /proc/$1/smaps
}

rc=0
# pageout_case LABEL WORKLOAD-ARGS...
pageout_case() {
	label=$1
	shift
	pageout_wl "$@" >/tmp/po-wl.out &
	wl=$!
	i=0
	while ! grep -q "^idle " /tmp/po-wl.out && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	start=$(awk '/^idle/ { print $2 }' /tmp/po-wl.out)
	if [ -z "$start" ]; then
		echo "not ok - pageout: $label (workload did not start)"
		kill $wl 2>/dev/null
		rc=1
		return
	fi
	rss0=$(status_kb $wl VmRSS)
	vma0=$(vma_rss_kb $wl $start)
	echo 1 >$mnt/admin/kdamonds/nr_kdamonds
	echo 1 >$K/contexts/nr_contexts
	echo vaddr >$C/operations
	echo 1 >$C/targets/nr_targets
	echo $wl >$C/targets/0/pid_target
	echo 1 >$C/schemes/nr_schemes
	echo pageout >$S/action
	echo 18446744073709551615 >$S/access_pattern/sz/max
	echo 0 >$S/access_pattern/nr_accesses/max
	# 5 aggregation intervals (0.5 s) without an access.
	echo 5 >$S/access_pattern/age/min
	echo 4294967295 >$S/access_pattern/age/max
	t0=$(cut -d' ' -f1 /proc/uptime)
	if ! echo on >$K/state; then
		echo "not ok - pageout: $label (state on failed)"
		kill $wl
		wait $wl 2>/dev/null
		echo 0 >$mnt/admin/kdamonds/nr_kdamonds
		rc=1
		return
	fi
	# Wait for the drop (at most 20 s), then report what is left.
	i=0
	while [ $i -lt 40 ]; do
		sleep 0.5
		rss=$(status_kb $wl VmRSS)
		[ $((rss0 - rss)) -gt $((idle_mib * 1024 / 2)) ] && break
		i=$((i + 1))
	done
	t1=$(cut -d' ' -f1 /proc/uptime)
	vma=$(vma_rss_kb $wl $start)
	echo update_schemes_stats >$K/state
	applied=$(cat $S/stats/sz_applied)
	tried=$(cat $S/stats/nr_tried)
	echo off >$K/state
	echo 0 >$mnt/admin/kdamonds/nr_kdamonds
	echo "# $label: VmRSS $rss0 -> $rss KiB, idle mapping Rss $vma0 -> $vma KiB, sz_applied $applied, nr_tried $tried, after $t0 -> $t1 s"
	grep -E '^(SwapTotal|SwapFree):' /proc/meminfo | tr -s ' ' | sed 's/^/# /'
	kill $wl
	wait $wl 2>/dev/null
	# sz_applied is only reported: like the kernel's vaddr, udamon counts
	# 0 bytes for a region whose madvise range has a hole in it (ENOMEM),
	# although the mapped part of it was paged out.
	if [ $((rss0 - rss)) -gt $((idle_mib * 1024 / 2)) ]; then
		echo "ok - pageout: $label frees memory (VmRSS -$(((rss0 - rss) / 1024)) MiB of a $idle_mib MiB idle region)"
	else
		echo "not ok - pageout: $label frees memory (VmRSS $rss0 -> $rss KiB, idle region $idle_mib MiB, sz_applied $applied)"
		rc=1
	fi
}

# (a) No swap yet: only the file's clean page cache can go.
if grep -q ' /mnt/ext2 ext2 ' /proc/mounts && [ -s /mnt/ext2/idle ]; then
	pageout_case "file-backed MAP_SHARED mapping on ext2 (no swap)" \
		file /mnt/ext2/idle $hot_mib
else
	echo "not ok - pageout: file-backed mapping (no ext2 file system on /dev/zram$dev)"
	rc=1
fi
# (b) Swap on zram0.
if swapon /dev/zram0 && grep -q zram0 /proc/swaps; then
	pageout_case "anonymous memory to swap on zram" anon $idle_mib $hot_mib
else
	echo "not ok - pageout: anonymous memory (swapon /dev/zram0 failed)"
	rc=1
fi
kill $hog
wait $hog 2>/dev/null
kill $upid
wait $upid
grep -E 'error|warning' /tmp/udamond-po.log | head -n 20 | sed 's/^/# udamond: /'
swapoff /dev/zram0 2>/dev/null
umount /mnt/ext2 2>/dev/null
exit $rc
