#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# udamon's FUSE tree against the guest kernel's real DAMON sysfs tree:
# same staged configuration, same paths, modes, defaults and errnos.
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
damon_oracle tree /sys/kernel/mm/damon/admin $mnt/admin
rc=$?
kill $pid
wait $pid
grep -i 'error' /tmp/udamond-tree.log | head -n 20 | sed 's/^/# udamond: /'
exit $rc
