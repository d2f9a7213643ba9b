#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# udamon's vaddr (page-idle source) against the guest kernel's own vaddr
# DAMON, same workload process, same attributes, same guest (qemu TCG, see
# tests/vm/ and docs/vm.md): accuracy on stairs_30secs and zigzag_30secs,
# kdamond CPU at 10..1000 and 1000..1000 regions, and CPU by target size
# against a naive every-page monitor.  Prints markdown tables.  TCG
# emulates the CPU: compare columns of one run, not absolute numbers.
#
# Environment: BENCH_PARTS (acc,ovh,scale), BENCH_SIZES (MiB list,
# default 256,512,1024), BENCH_SECS (per measurement, default 5), VM_MEM
# (default 2G), BENCH_LOG=FILE (keep the guest console), BENCH_FROM_LOG=FILE
# (no VM: print the tables of a console kept with BENCH_LOG).
set -u
cd "$(dirname "$0")/../.."
log=$(mktemp /tmp/udamon-vmbench.XXXXXX)
trap 'rm -f "$log" "$log.tap"' EXIT
parts=${BENCH_PARTS:-acc,ovh,scale}
sizes=${BENCH_SIZES:-256,512,1024}
secs=${BENCH_SECS:-5}
mem=${VM_MEM:-2G}
t0=$(date +%s)
if [ -n "${BENCH_FROM_LOG:-}" ]; then
	cp "$BENCH_FROM_LOG" "$log" && : >"$log.tap"
	rc=0
else
	VM_MEM=$mem VM_GUEST_SCRIPTS=$PWD/bench/vm/guest VM_KEEP_LOG=$log \
		VM_APPEND="udamon.bench=$parts udamon.bench_sizes=$sizes udamon.bench_secs=$secs" \
		tests/vm/run.sh >"$log.tap" 2>&1
	rc=$?
	[ -n "${BENCH_LOG:-}" ] && cp "$log" "$BENCH_LOG"
fi
if ! grep -q '^@@' "$log" 2>/dev/null; then
	cat "$log.tap"
	echo "bench/vm: no results (run.sh status $rc)"
	exit 1
fi
grep '^not ok' "$log.tap"
echo "# $(date -u +%Y-%m-%d) $(uname -m), $(nproc) host CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); guest: qemu TCG -m $mem -smp 2, Linux $(tr -d '\r' <"$log" | grep -o '@@VM-BEGIN [^ ]*' | cut -d' ' -f2); $(($(date +%s) - t0)) s"
tr -d '\r' <"$log" | awk '
	/^@@ACC/ {
		cfg = $2; sub(/.*\//, "", cfg); sub(/\.cfg$/, "", cfg)
		m = $3
		if (!(cfg in seen)) { seen[cfg] = 1; order[++nc] = cfg }
		wss[cfg, m] = $5 / 1048576; truth[cfg] = $7 / 1048576
		found[cfg, m] = $9 "/" $11; snaps[cfg, m] = $13; regs[cfg, m] = $15
	}
	/^@@OVH/ { ov[++no] = $0 }
	/^@@SCALE/ { sc[++ns] = $0 }
	function err(w, t) { return t ? sprintf("%+.1f %%", (w - t) / t * 100) : "-" }
	END {
		if (nc) {
			print ""
			print "Accuracy: both DAMONs on the same workload run, default attrs (5 ms / 100 ms, 10..1000 regions), one snapshot of each per round (a round starts every 0.5 s at most; under TCG it takes about 2 s); working set = bytes of regions with nr_accesses > 0; hot found = snapshots (0.6 s or more into a phase) whose accessed regions cover >= 80 % of the phase'"'"'s regions and spill over by at most their size."
			print ""
			print "| workload | true WSS (median) | kernel vaddr WSS (median) | error | udamon vaddr WSS (median) | error | hot found: kernel | hot found: udamon | snapshots k/u | regions k / u |"
			print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
			for (i = 1; i <= nc; i++) {
				c = order[i]
				printf "| %s | %.1f MiB | %.1f MiB | %s | %.1f MiB | %s | %s | %s | %s/%s | %s / %s |\n",
				       c, truth[c], wss[c, "kernel"], err(wss[c, "kernel"], truth[c]),
				       wss[c, "udamon"], err(wss[c, "udamon"], truth[c]),
				       found[c, "kernel"], found[c, "udamon"],
				       snaps[c, "kernel"], snaps[c, "udamon"], regs[c, "kernel"], regs[c, "udamon"]
			}
		}
		if (no) {
			split(ov[1], f, " ")
			print ""
			printf "Overhead: kdamond CPU per monitored second (utime+stime of the kdamond thread over %s s after 1 s warm-up), %s MiB workload with a 32 MiB hot block, one DAMON after the other on the same process.\n", f[10], f[12]
			print ""
			print "| nr_regions min..max | kernel kdamond | udamon kdamond | udamon / kernel | regions at the end k / u |"
			print "| --- | --- | --- | --- | --- |"
			for (i = 1; i <= no; i++) {
				split(ov[i], f, " ")
				printf "| %s | %.1f %% | %.1f %% | %s | %s / %s |\n", f[2], f[4] * 100, f[7] * 100,
				       (f[4] > 0 ? sprintf("%.1f", f[7] / f[4]) : "-"), f[5], f[8]
			}
		}
		if (ns) {
			split(sc[1], f, " ")
			print ""
			printf "Scaling: CPU per monitored second by target size (all of it touched, 32 MiB hot), default attrs, %s s each; naive = every page of the target marked idle and read back through the page idle bitmap every 100 ms (4 KiB batched calls; a pass longer than that runs back to back, so its CPU saturates; \"naive needs\" = pass time / 100 ms = CPUs it would need to keep its interval).\n", f[16]
			print ""
			print "| target | kernel kdamond | udamon kdamond | naive monitor | naive pass (mark + check) | naive needs | udamon / kernel | naive needs / udamon | regions k / u |"
			print "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
			for (i = 1; i <= ns; i++) {
				split(sc[i], f, " ")
				printf "| %s MiB | %.1f %% | %.1f %% | %.1f %% | %.0f ms | %.0f %% | %s | %s | %s / %s |\n",
				       f[2], f[4] * 100, f[7] * 100, f[10] * 100, f[12] * 1000, f[12] / 0.1 * 100,
				       (f[4] > 0 ? sprintf("%.1f", f[7] / f[4]) : "-"),
				       (f[7] > 0 ? sprintf("%.0f", f[12] / 0.1 / f[7]) : "-"), f[5], f[8]
			}
		}
	}'
