#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guest kernel's vaddr DAMON finds the hot 32 MiB region of a workload.
damon_oracle hot /sys/kernel/mm/damon/admin kernel-vaddr 3
