#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main job, in one command: install what is missing, build, monitor the
# bundled workload (configs/stairs_30secs.cfg) under udamon, pause the
# monitoring for 4 seconds in the middle and resume it, then show what
# DAMON saw: the access heatmap in the terminal, with the pause in it, the
# working set size, and plots of both (heatmap and working set size over
# time, PNG and SVG, with axes, units, a colour scale and the pause
# labelled) whose paths are printed.  Last, what DAMON learned outlives
# the monitor: the sim runs the first half of the workload and saves a
# checkpoint, a new process restores it and the heatmap of the second
# half continues where the first stopped.
#
# Where this machine can monitor a real process (the vaddr operations set
# with its userfaultfd write-protect source, Linux >= 6.7), the real
# workload generator runs under udamon for its 30 seconds; otherwise the
# same config runs in the sim operations set on a virtual clock, which
# takes a moment.  Either way it ends within about a minute.
#
#   scripts/main-job.sh [OUTDIR]        (default: ./udamon-main-job)
#   B=build-dir scripts/main-job.sh     (default build directory: build)
set -u
cd "$(dirname "$0")/.."
out=${1:-udamon-main-job}
cfg=configs/stairs_30secs.cfg
B=${B:-build}
U=$B/bin/udamon
W=$B/bin/udamon-workload

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "1. dependencies"
if [ -f scripts/deps.sh ]; then
	bash scripts/deps.sh ||
		echo "main-job: could not install every package; going on" >&2
fi

step "2. build"
log=$(mktemp /tmp/udamon-main-job-build.XXXXXX)
if ! make -j"$(nproc 2>/dev/null || echo 2)" B="$B" progs >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "main-job: the build failed (full log: $log)" >&2
	exit 1
fi
rm -f "$log"
echo "built $U" >&2
mkdir -p "$out" || exit 1
rec="$out/stairs.rec"
png="$out/heatmap.png"
svg="$out/heatmap.svg"
wss_png="$out/wss.png"
wss_svg="$out/wss.svg"

step "3. record $cfg, pausing from 12 s to 16 s"
mode=sim
if [ -x "$W" ]; then
	# Can this machine see a launched process's memory accesses?
	if "$U" record -q --duration 0.3 -o "$out/probe.rec" -- \
		"$W" -q "$cfg" 2>"$out/probe.err"; then
		mode=real
	else
		echo "main-job: no access source for a real process here" \
			"($(tail -n 1 "$out/probe.err")); using the sim" >&2
	fi
	rm -f "$out/probe.rec" "$out/probe.err"
fi
if [ $mode = real ]; then
	echo "monitoring the real workload generator ($W, 30 s)" >&2
	"$U" record --pause-at 12 --pause-for 4 -o "$rec" -- "$W" -q "$cfg" ||
		exit 1
else
	echo "monitoring the simulated workload (sim, virtual clock)" >&2
	"$U" record --ops sim --workload "$cfg" --virtual --pause-at 12 \
		--pause-for 4 -o "$rec" || exit 1
fi

step "4. what DAMON saw"
"$U" report heatmap --accessed-only --rows 30 "$rec" || exit 1
echo
"$U" report wss "$rec" || exit 1

step "5. plots (time left to right; the heatmap's addresses bottom to top, the pause hatched blue and labelled)"
"$U" report heatmap --accessed-only --output "$png" "$rec" >/dev/null || exit 1
"$U" report heatmap --accessed-only --output "$svg" "$rec" >/dev/null || exit 1
"$U" report wss --output "$wss_png" "$rec" >/dev/null || exit 1
"$U" report wss --output "$wss_svg" "$rec" >/dev/null || exit 1
echo "record: $(realpath "$rec")"
echo "PNG heatmap: $(realpath "$png")"
echo "SVG heatmap: $(realpath "$svg")"
echo "PNG working set size: $(realpath "$wss_png")"
echo "SVG working set size: $(realpath "$wss_svg")"

step "6. checkpoint and restore: the first 15 s saved, the next 15 s continue from it (sim, virtual clock)"
ckpt="$out/half.ckpt"
"$U" record -q --ops sim --workload "$cfg" --virtual --duration 15 \
	--checkpoint "$ckpt" -o "$out/first-half.rec" || exit 1
"$U" record -q --ops sim --workload "$cfg" --virtual --duration 15 \
	--restore "$ckpt" -o "$out/second-half.rec" || exit 1
echo "first half (learning from scratch), then the second half (a new process, restored):"
"$U" report heatmap --rows 6 --cols 60 --color never \
	"$out/first-half.rec" | grep -v '^#' || exit 1
echo "-- checkpoint $(realpath "$ckpt"), restored by a new process --"
"$U" report heatmap --rows 6 --cols 60 --color never \
	"$out/second-half.rec" | grep -v '^#' || exit 1
