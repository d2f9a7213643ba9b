#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# udamon's FUSE tree against the guest kernel's real DAMON sysfs tree:
# same staged configuration, same paths, modes, defaults and errnos, idle
# and with a kdamond running on a live workload.
mnt=/tmp/udamon
mkdir -p $mnt
udamond -f -m $mnt --log /tmp/udamond-tree.log &
pid=$!
i=0
while [ ! -f $mnt/admin/kdamonds/nr_kdamonds ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ ! -f $mnt/admin/kdamonds/nr_kdamonds ]; then
	echo "not ok - udamond serves its tree at $mnt"
	sed 's/^/# /' /tmp/udamond-tree.log
	kill $pid 2>/dev/null
	exit 1
fi
# The preload library lets udamon's uffd-wp source see the workload that
# damon_oracle forks; without it udamon refuses to start on that pid.
pre=
[ -f /lib64/libudamon-preload.so ] && pre=/lib64/libudamon-preload.so
LD_PRELOAD=$pre damon_oracle tree /sys/kernel/mm/damon/admin $mnt/admin
rc=$?
kill $pid
wait $pid
st=$?
echo "# udamond exit status after SIGTERM: $st"
if grep -q " $mnt " /proc/mounts; then
	echo "not ok - udamond unmounted $mnt on SIGTERM"
	tail -n 5 /tmp/udamond-tree.log | sed 's/^/# udamond: /'
	umount -l $mnt
else
	echo "ok - udamond unmounted $mnt on SIGTERM"
fi
grep -E 'error|warning' /tmp/udamond-tree.log | head -n 30 | sed 's/^/# udamond: /'
exit $rc
