#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guest has what the other guest tests rely on.
t() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
t "kernel DAMON sysfs tree present" "[ -f /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds ]"
t "page idle bitmap present" "[ -e /sys/kernel/mm/page_idle/bitmap ]"
t "/dev/fuse present" "[ -c /dev/fuse ]"
t "udamond runs in the guest" "udamond --help >/dev/null"
