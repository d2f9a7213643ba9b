#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Accuracy and overhead of udamon's vaddr against the kernel's own vaddr
# DAMON, same workload, same default attributes, same guest (qemu TCG, see
# tests/vm/).  Prints a side-by-side table of medians over the rounds of
# bench/vm/guest/50-bench.sh.  TCG emulates the CPU: compare the two
# columns of one run, not absolute numbers across machines.
set -u
cd "$(dirname "$0")/../.."
log=$(mktemp /tmp/udamon-vmbench.XXXXXX)
trap 'rm -f "$log"' EXIT
VM_GUEST_SCRIPTS=$PWD/bench/vm/guest VM_KEEP_LOG=$log tests/vm/run.sh \
	>"$log.tap" 2>&1
rc=$?
if ! grep -q '^@@RESULT' "$log" 2>/dev/null; then
	cat "$log.tap"
	rm -f "$log.tap"
	echo "bench/vm: no results (run.sh status $rc)"
	exit 1
fi
rm -f "$log.tap"
echo "# $(date -u +%Y-%m-%d) $(uname -m), $(nproc) host CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); guest: qemu TCG -m 2G -smp 2"
tr -d '\r' <"$log" | awk '
	function median(a, n,   i, j, t) {
		for (i = 1; i <= n; i++)
			for (j = i + 1; j <= n; j++)
				if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	/^@@RESULT/ {
		l = $2
		n[l]++
		wss[l, n[l]] = $4 / 1048576
		err[l, n[l]] = ($4 - $6) / $6 * 100
		found[l] += $8
		cpu[l, n[l]] = $10 / $12 / $14 * 100
		reg[l, n[l]] = $16
		truth = $6 / 1048576
		labels[l] = 1
	}
	END {
		printf "| metric (median of %d rounds) | kernel vaddr | udamon vaddr |\n", n["kernel"]
		printf "| --- | --- | --- |\n"
		split("kernel udamon", L, " ")
		for (k = 1; k <= 2; k++) {
			m = n[L[k]]
			for (i = 1; i <= m; i++) {
				a1[i] = wss[L[k], i]; a2[i] = err[L[k], i]
				a3[i] = cpu[L[k], i]; a4[i] = reg[L[k], i]
			}
			W[k] = m ? median(a1, m) : -1
			E[k] = m ? median(a2, m) : 0
			C[k] = m ? median(a3, m) : -1
			R[k] = m ? median(a4, m) : -1
			F[k] = found[L[k]] "/" m
		}
		printf "| working set (true %.0f MiB) | %.1f MiB | %.1f MiB |\n", truth, W[1], W[2]
		printf "| working-set error | %+.1f %% | %+.1f %% |\n", E[1], E[2]
		printf "| hot region found | %s | %s |\n", F[1], F[2]
		printf "| monitor CPU per monitored second | %.1f %% | %.1f %% |\n", C[1], C[2]
		printf "| tried regions | %d | %d |\n", R[1], R[2]
		if (C[1] > 0)
			printf "| CPU ratio udamon / kernel | 1.00 | %.2f |\n", C[2] / C[1]
	}'
