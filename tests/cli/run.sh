#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests of the udamon command line (record, report, start/tune/pause/
# resume/stop/status): good and bad arguments with their exit codes and
# messages, golden report output on a hand-made record, a deterministic sim
# recording with a pause, damo JSON read back by python3, truncated and
# corrupt records, SIGUSR1/SIGINT during a real-time recording, the USDT
# probes in the binary (readelf -n) and, where bpftrace is installed,
# damon_aggregated stopping while paused.  The udamond part runs in a
# private mount namespace (tree.sh).  Prints TAP.
#
#   tests/cli/run.sh            (B=build dir, default build)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
B=${B:-build}
case "$B" in /*) ;; *) B="$top/$B" ;; esac
U="$B/bin/udamon"
# Relative, so that records (and the golden reports) do not depend on
# where the tree is checked out.
cd "$top" || exit 1
CFG=configs/stairs_30secs.cfg
T=$(mktemp -d /tmp/udamon-cli-test.XXXXXX)
trap 'rm -rf "$T"' EXIT

n=0
passed=0
failed=0
echo "TAP version 13"
ok() {
	n=$((n + 1))
	passed=$((passed + 1))
	echo "ok $n - $1"
}
notok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	[ $# -gt 1 ] && printf '%s\n' "$2" | head -n 30 | sed 's/^/#   /'
	return 0
}
skip() {
	n=$((n + 1))
	passed=$((passed + 1))
	echo "ok $n - $1 # SKIP $2"
}
finish() {
	echo "1..$n"
	echo "# $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

if [ ! -x "$U" ]; then
	notok "udamon is built" "$U missing"
	finish
fi

# expect NAME RC PATTERN CMD...: run CMD, want exit status RC and PATTERN
# (grep -E) in its stdout+stderr ('' for none).
expect() {
	local name=$1 want=$2 pat=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		notok "$name" "exit $rc, wanted $want; output: $out"
	elif [ -n "$pat" ] && ! printf '%s' "$out" | grep -Eq -- "$pat"; then
		notok "$name" "output lacks /$pat/: $out"
	else
		ok "$name"
	fi
}

# ---- help of every subcommand ----
for c in record report sweep start tune pause resume stop status; do
	expect "$c --help" 0 "usage: udamon $c" "$U" "$c" --help
done
expect "udamon --help lists record and report" 0 "report +show a record" \
	"$U" --help
expect "report access --help" 0 "usage: udamon report access" \
	"$U" report access --help

# ---- versions: one VERSION in the Makefile, printed by every program ----
version=$(sed -n 's/^VERSION := //p' Makefile)
for p in udamon udamond udamon-workload udamon-demo; do
	if [ ! -x "$B/bin/$p" ]; then
		skip "$p --version" "$p not built"
		continue
	fi
	expect "$p --version prints $version" 0 "^$p $version\$" \
		"$B/bin/$p" --version
done
if [ "$(sed -n '1s/^udamon (\([^)]*\)).*/\1/p' debian/changelog)" = "$version" ]; then
	ok "debian/changelog is at the Makefile's version $version"
else
	notok "debian/changelog is at the Makefile's version $version"
fi

# ---- bad command lines name the option and exit 2 ----
expect "udamon --bogus" 2 "udamon: unknown option '--bogus'" "$U" --bogus
expect "udamon bogus" 2 "udamon: unknown command 'bogus'" "$U" bogus
expect "udamon without a command" 2 "usage: udamon COMMAND" "$U"
expect "pause --bogus names it" 2 "udamon pause: unknown option '--bogus'" \
	"$U" pause --bogus
expect "status -x names it" 2 "udamon status: unknown option '-x'" \
	"$U" status -x
expect "start --frob=1 names it without the value" 2 \
	"udamon start: unknown option '--frob' " "$U" start --frob=1
expect "tune --tree without a value" 2 "option '--tree' needs a value" \
	"$U" tune --tree
expect "report -qz names the first unknown letter" 2 \
	"udamon report: unknown option '-q'" "$U" report wss -qz x.rec
expect "ns --bogus names it" 2 "udamon ns: unknown option '--bogus'" \
	"$U" ns --bogus
expect "report access --bogus" 2 "unknown option '--bogus'" \
	"$U" report access --bogus
if [ -x "$B/bin/udamond" ]; then
	expect "udamond --bogus" 2 "unrecognized option '--bogus'" \
		"$B/bin/udamond" --bogus
	expect "udamond with a stray argument" 2 "unexpected argument 'x'" \
		"$B/bin/udamond" x
fi
expect "udamon-workload --bogus" 2 "unrecognized option '--bogus'" \
	"$B/bin/udamon-workload" --bogus
expect "udamon-demo --bogus" 2 "unknown option '--bogus'" \
	"$B/bin/udamon-demo" --bogus

# ---- record: bad command lines (exit 1) ----
expect "record without a target" 2 "give exactly one target" "$U" record
expect "record with two targets" 2 "exactly one target" \
	"$U" record --workload "$CFG" --pid 1
expect "record --sample-us abc" 2 "--sample-us: 'abc' is not a non-negative number" \
	"$U" record --workload "$CFG" --sample-us abc
expect "record --sample-us 0" 2 "--sample-us: '0' is out of range" \
	"$U" record --workload "$CFG" --sample-us 0
expect "record --aggr-us below --sample-us" 2 "--aggr-us \(100\) must not be below --sample-us \(5000\)" \
	"$U" record --workload "$CFG" --aggr-us 100
expect "record --min-nr-regions 2" 2 "--min-nr-regions: '2' is out of range" \
	"$U" record --workload "$CFG" --min-nr-regions 2
expect "record min above max regions" 2 "--min-nr-regions \(50\) must not be above --max-nr-regions \(20\)" \
	"$U" record --workload "$CFG" --min-nr-regions 50 --max-nr-regions 20
expect "record --intervals-goal 1,2" 2 "--intervals-goal: '1,2' is not" \
	"$U" record --workload "$CFG" --intervals-goal 1,2
expect "record --intervals-goal outside it" 2 "must lie within" \
	"$U" record --workload "$CFG" --intervals-goal 400,3,10000,20000
expect "record --pause-at alone" 2 "--pause-at and --pause-for go together" \
	"$U" record --workload "$CFG" --pause-at 3
expect "record --pause-for 0" 2 "--pause-for: '0' must be above 0" \
	"$U" record --workload "$CFG" --pause-at 3 --pause-for 0
expect "record --pause-at after the end" 2 "--pause-at \(40.000 s\) must come before" \
	"$U" record --workload "$CFG" --virtual --pause-at 40 --pause-for 1
expect "record --overhead-budget abc" 2 "--overhead-budget: 'abc'" \
	"$U" record --overhead-budget abc -- /bin/true
expect "record --overhead-budget -5" 2 "--overhead-budget: '-5'" \
	"$U" record --overhead-budget -5 -- /bin/true
expect "record --overhead-budget with sim" 2 "--overhead-budget bounds the uffd-wp source of vaddr" \
	"$U" record --workload "$CFG" --overhead-budget 100
expect "record --duration 5x" 2 "--duration: '5x' has an unknown unit" \
	"$U" record --workload "$CFG" --duration 5x
expect "record --virtual with a command" 2 "--virtual works with --ops sim only" \
	"$U" record --virtual -- /bin/true
expect "record --ops paddr" 2 "--ops: 'paddr' is not an operations set record can use" \
	"$U" record --ops paddr --workload "$CFG"
expect "record --ops sim without workload" 2 "--ops sim needs --workload" \
	"$U" record --ops sim --pid 1
expect "record unknown option" 2 "unknown option '--bogus'" \
	"$U" record --bogus
expect "record option without value" 2 "needs a value" \
	"$U" record --workload
expect "record stray argument" 2 "unexpected argument 'stray'" \
	"$U" record --workload "$CFG" stray
expect "record --damos with a bad action" 2 "--damos: 'frob' is not an action" \
	"$U" record --workload "$CFG" --damos frob
expect "record --damos with a bad key" 2 "--damos: unknown key 'colour'" \
	"$U" record --workload "$CFG" --damos stat,colour=red
expect "record --damos with a bad range" 2 "--damos: nr_accesses: bad value '5-1'" \
	"$U" record --workload "$CFG" --damos stat,nr_accesses=5-1
expect "record --damos with a bad filter" 2 "--damos: filter 'anon' is not" \
	"$U" record --workload "$CFG" --damos stat,filter=anon

# ---- record: runtime failures (exit 2) and missing facilities (3) ----
echo "bogus" >"$T/bad.cfg"
expect "record --workload missing file" 1 "--workload: .*nope.cfg" \
	"$U" record --workload "$T/nope.cfg" -o "$T/x.rec"
expect "record --workload bad config" 1 "--workload: .*bad.cfg:" \
	"$U" record --workload "$T/bad.cfg" -o "$T/x.rec"
expect "record -o into a missing directory" 1 "--output: cannot write $T/no/x.rec" \
	"$U" record --workload "$CFG" --virtual -o "$T/no/x.rec"
expect "record a command that does not exist" 3 "exited \(status 127\) before monitoring could start" \
	"$U" record -q -o "$T/x.rec" -- "$T/no-such-program"

# ---- record follows exec; a writes-only record says so ----
# (the shell waits a moment, so that the exec happens while monitored)
printf 'hot, 8388608\ncold, 8388608\n\nrun\n1200\nhot, 0, 4096, 1, wo\n' \
	>"$T/exec.cfg"
if [ ! -r "$B/lib/libudamon-preload.so" ] || [ ! -x /bin/sh ]; then
	skip "record follows exec" "no preload library or /bin/sh"
elif ! ASAN_OPTIONS=verify_asan_link_order=0 \
	"$U" record -q --update-us 100000 -o "$T/exec.rec" -- /bin/sh -c \
	"sleep 0.5; exec '$B/bin/udamon-workload' '$T/exec.cfg'" >"$T/exec.out" 2>&1; then
	notok "record follows exec" "$(cat "$T/exec.out")"
else
	expect "record follows exec: info lists it" 0 \
		"exec: +[0-9]+:udamon-workload at" "$U" report info "$T/exec.rec"
	expect "writes-only source named in the wss header" 0 \
		"access source uffd-wp \(writes only\): memory that is only read shows as idle" \
		"$U" report wss "$T/exec.rec"
	expect "record: pageout on writes-only refused with the reason" 3 \
		"action pageout acts on cold memory.*--allow-cold-on-writes-only" \
		env ASAN_OPTIONS=verify_asan_link_order=0 "$U" record -q \
		-o "$T/cold.rec" --damos pageout -- \
		"$B/bin/udamon-workload" -q "$T/exec.cfg"
	expect "record: pageout on writes-only with the opt-in" 0 "" \
		env ASAN_OPTIONS=verify_asan_link_order=0 "$U" record -q \
		-o "$T/cold.rec" --damos pageout --allow-cold-on-writes-only \
		-- "$B/bin/udamon-workload" -q "$T/exec.cfg"
	expect "writes-only source named in the heatmap header" 0 \
		"access source uffd-wp \(writes only\)" \
		"$U" report heatmap --no-color "$T/exec.rec"
fi

# ---- report: bad command lines and bad records ----
expect "report without a kind" 2 "name what to report" "$U" report
expect "report bogus kind" 2 "'bogus' is not a report kind" "$U" report bogus
expect "report --rows 0" 2 "--rows: '0' is out of range" \
	"$U" report heatmap --rows 0 x.rec
expect "report --color sometimes" 2 "--color: 'sometimes' is not auto, always or never" \
	"$U" report heatmap --color sometimes x.rec
expect "report --percentiles 101" 2 "--percentiles: '101' is out of range" \
	"$U" report wss --percentiles 50,101 x.rec
expect "report --png with wss" 2 "--png goes with 'heatmap' only" \
	"$U" report wss --png x.png x.rec
expect "report --time-range 5-2" 2 "--time-range: '5-2' must end after it starts" \
	"$U" report heatmap --time-range 5-2 x.rec
expect "report a missing record" 1 "$T/none.rec: No such file or directory" \
	"$U" report heatmap "$T/none.rec"
# Reading is bounded: a device is refused before reading, and a stream
# that cannot be a record is not read to its (never coming) end.
expect "report on /dev/zero" 1 "/dev/zero: not a record file" \
	"$U" report info /dev/zero
expect "report on an endless stream" 1 "not a udamon record" \
	timeout 30 sh -c "{ printf udamon-record; cat /dev/zero; } | '$U' report info /dev/stdin"
echo "not a record" >"$T/garbage.rec"
expect "report a file that is no record" 1 "garbage.rec:0: line 1: not a udamon record" \
	"$U" report info "$T/garbage.rec"

# ---- golden output on a hand-made record ----
if command -v python3 >/dev/null; then
	python3 - "$T/hand.rec" <<'EOF'
import sys, zlib
blocks = [
    "header\ncreated 0\nclock virtual\nops sim\nsource sim\nseed 1\n"
    "update_us 1000000\nnr_regions 3 10\nintervals_goal 0 0 0 0\n"
    "target 0 0\n",
    "snapshot 0 0 100000000 10000 100000\ntarget 0 2\n"
    "0x10000 0x14000 10 3\n0x100000 0x104000 0 3\n",
    "snapshot 1 100000000 200000000 10000 100000\ntarget 0 3\n"
    "0x10000 0x12000 5 0\n0x12000 0x14000 0 0\n0x100000 0x104000 0 4\n",
    "event pause 200000000\n",
    "event resume 400000000\n",
    "snapshot 2 200000000 500000000 10000 100000\ntarget 0 3\n"
    "0x10000 0x14000 0 1\n0x100000 0x102000 10 0\n"
    "0x102000 0x104000 0 5\n",
    "event stop 500000000 duration\n",
]
with open(sys.argv[1], "w") as f:
    f.write("udamon-record 1\n")
    for b in blocks:
        f.write(b + "end %08x\n" % zlib.crc32(b.encode()))
EOF
	"$U" report heatmap --no-color --rows 5 --cols 4 "$T/hand.rec" \
		>"$T/out" 2>&1
	cat >"$T/want" <<'EOF'
# heatmap of HAND, target 0 (pid 0), virtual clock
     0.00 s |9900|
     0.10 s |5000|
     0.20 s |====| PAUSED
     0.30 s |====| PAUSED
     0.40 s |0090|
# time: 5 rows of 0.100 s, 0.000 s to 0.500 s, top to bottom
# address: 4 columns of 8.000 KiB, 32.000 KiB in 2 spans (gaps between regions left out), 0x10000-0x104000
# access frequency: 0 = none, 1-9 = up to 100.0% of samples (linear), ' ' = not monitored, '=' = paused
# paused: 0.200 s to 0.400 s
EOF
	sed -i "s|$T/hand.rec|HAND|" "$T/out"
	if diff -u "$T/want" "$T/out" >"$T/diff"; then
		ok "golden heatmap text"
	else
		notok "golden heatmap text" "$(cat "$T/diff")"
	fi
	"$U" report wss --raw --percentiles 0,50,100 "$T/hand.rec" >"$T/out"
	printf '%s\n' "# target 0: working set size over 3 snapshots (nr_accesses >= 1)" \
		"# percentile  wss" \
		"           0  8192" "          50  8192" "         100  16384" \
		"     average  10922" >"$T/want"
	if diff -u "$T/want" "$T/out" >"$T/diff"; then
		ok "golden wss percentiles"
	else
		notok "golden wss percentiles" "$(cat "$T/diff")"
	fi
	"$U" report table --raw --top 2 "$T/hand.rec" >"$T/out"
	cat >"$T/want" <<'EOF'
# snapshot 2 of HAND, target 0: 0.200 s to 0.500 s, sample 10000 us, aggr 100000 us, 3 regions
# hottest 2 (most accesses, then oldest)
rank  start               end                         size  nr_accesses  access%         age
   1  0x100000            0x102000                    8192           10   100.0%           0
   2  0x102000            0x104000                    8192            0     0.0%           5
# coldest 2 (fewest accesses, then oldest)
rank  start               end                         size  nr_accesses  access%         age
   1  0x102000            0x104000                    8192            0     0.0%           5
   2  0x10000             0x14000                    16384            0     0.0%           1
EOF
	sed -i "s|$T/hand.rec|HAND|" "$T/out"
	if diff -u "$T/want" "$T/out" >"$T/diff"; then
		ok "golden hottest/coldest table"
	else
		notok "golden hottest/coldest table" "$(cat "$T/diff")"
	fi
	expect "report --target 1 of a one-target record" 2 "--target: .* has 1 target \(0..0\)" \
		"$U" report wss --target 1 "$T/hand.rec"
	# damo's region listing of the last snapshot: 10 of 10 samples is
	# 100 %; temperature 100 x 100 + age 0 for it, -age for the others.
	"$U" report access --raw "$T/hand.rec" >"$T/out"
	cat >"$T/want" <<'EOF2'
# snapshot 2 of HAND, target 0: 0.200 s to 0.500 s, sample 10000 us, aggr 100000 us, 3 regions
  0 addr [0x10000, 0x14000) (16384) access   0 % age 1 temperature -1
  1 addr [0x100000, 0x102000) (8192) access 100 % age 0 temperature 10000
  2 addr [0x102000, 0x104000) (8192) access   0 % age 5 temperature -5
total size: 32768 in 3 regions (8192 accessed)
EOF2
	sed -i "s|$T/hand.rec|HAND|" "$T/out"
	if diff -u "$T/want" "$T/out" >"$T/diff"; then
		ok "golden report access"
	else
		notok "golden report access" "$(cat "$T/diff")"
	fi
	out=$("$U" report access --raw --cold 2 "$T/hand.rec" | grep '^ *[0-9]')
	want=$(printf '%s\n' \
		"  0 addr [0x102000, 0x104000) (8192) access   0 % age 5 temperature -5" \
		"  1 addr [0x10000, 0x14000) (16384) access   0 % age 1 temperature -1")
	if [ "$out" = "$want" ]; then
		ok "report access --cold 2: coldest first"
	else
		notok "report access --cold 2: coldest first" "$out"
	fi
	out=$("$U" report access --raw --sort-by size --at 0.05 "$T/hand.rec" |
		grep '^ *[0-9]' | head -n 1)
	if [ "$out" = "  0 addr [0x10000, 0x14000) (16384) access 100 % age 3 temperature 10003" ]; then
		ok "report access --at 0.05 --sort-by size: the first snapshot, largest first"
	else
		notok "report access --at 0.05 --sort-by size: the first snapshot, largest first" "$out"
	fi
	# Idle for 0 s: 8 KiB; for 0.1 s: 16 KiB; for 0.5 s: 8 KiB (two bins).
	out=$("$U" report access --raw --style recency-sz-hist --nr-bins 2 \
		"$T/hand.rec" | grep '\.\.' | awk '{ print $1, $4, $6, $7 }')
	want=$(printf '%s\n' "0.000 0.250 24576 |****************************************|" \
		"0.250 0.500 8192 |*************")
	if [ "$out" = "$want" ]; then
		ok "report access --style recency-sz-hist"
	else
		notok "report access --style recency-sz-hist" "$out"
	fi
	expect "report access --style temperature-sz-hist: the idle bin" 0 \
		"^ +-5 +\\.\\. +4998 +24576 " \
		"$U" report access --raw --style temperature-sz-hist --nr-bins 2 \
		"$T/hand.rec"
	expect "report access --style temperature-sz-hist: the hot bin" 0 \
		"^ +4998 +\.\. +10000 +8192 " \
		"$U" report access --raw --style temperature-sz-hist --nr-bins 2 \
		"$T/hand.rec"
	expect "report access --at past the end" 2 \
		"--at: 9.000 s is past the end of .*hand.rec \(0.000 s to 0.500 s\)" \
		"$U" report access --at 9 "$T/hand.rec"
	expect "report table --at past the end" 2 "--at: 9.000 s is past the end" \
		"$U" report table --at 9 "$T/hand.rec"
	expect "report heatmap --time-range past the end" 2 \
		"--time-range: 0.100-2.000 s is not within" \
		"$U" report heatmap --time-range 0.1-2 "$T/hand.rec"
	expect "report heatmap --addr-range without regions" 2 \
		"--addr-range: 0x200000-0x300000 holds no region of target 0 .*0x10000-0x104000" \
		"$U" report heatmap --addr-range 0x200000-0x300000 "$T/hand.rec"
	expect "report access --hot with --cold" 2 "--hot and --cold exclude each other" \
		"$U" report access --hot 1 --cold 1 "$T/hand.rec"
	expect "report access --sort-by bogus" 2 "--sort-by: 'bogus' is not address" \
		"$U" report access --sort-by bogus "$T/hand.rec"
else
	skip "golden heatmap text" "no python3"
	skip "golden wss percentiles" "no python3"
	skip "golden hottest/coldest table" "no python3"
	skip "report --target out of range" "no python3"
fi

# ---- a deterministic sim recording with a pause ----
rec="$T/stairs.rec"
expect "record stairs_30secs, virtual, paused 12-16 s" 0 \
	"udamon record: [0-9]+ snapshots, 1 pause, 30.000 s \(duration\)" \
	env SOURCE_DATE_EPOCH=0 "$U" record --ops sim --workload "$CFG" \
	--virtual --pause-at 12 --pause-for 4 -o "$rec"
env SOURCE_DATE_EPOCH=0 "$U" record -q --workload "$CFG" --virtual \
	--pause-at 12 --pause-for 4 -o "$T/stairs2.rec"
if cmp -s "$rec" "$T/stairs2.rec"; then
	ok "virtual recordings are byte-identical"
else
	notok "virtual recordings are byte-identical"
fi
# Golden reports of this deterministic record (tests/cli/golden/; after an
# intended change of the sim or the reports, regenerate them with
# UDAMON_UPDATE_GOLDEN=1 tests/cli/run.sh and review the diff).
G="$here/golden"
golden() {
	local name=$1 file=$2
	shift 2
	"$@" 2>&1 | sed "s|$T/||g" >"$T/golden.out"
	if [ "${UDAMON_UPDATE_GOLDEN:-0}" = 1 ]; then
		mkdir -p "$G" && cp "$T/golden.out" "$G/$file"
		ok "$name # golden $file rewritten"
	elif diff -u "$G/$file" "$T/golden.out" >"$T/diff" 2>&1; then
		ok "$name"
	else
		notok "$name" "$(head -n 40 "$T/diff")"
	fi
}
golden "golden heatmap of the stairs record" stairs-heatmap.txt \
	"$U" report heatmap --no-color --rows 30 --cols 50 "$rec"
golden "golden wss of the stairs record" stairs-wss.txt \
	"$U" report wss --raw "$rec"
golden "golden table of the stairs record" stairs-table.txt \
	"$U" report table --raw --top 3 --at 20 "$rec"
golden "golden info of the stairs record" stairs-info.txt \
	"$U" report info --raw "$rec"
expect "report info shows the pause and the end" 0 \
	"paused     12.000 s to 16.000 s" "$U" report info "$rec"
# At 20 s the sixth stair (of ten 10 MiB regions) is the one accessed.
expect "report access --hot 1 at 20 s is the sixth stair" 0 \
	"^  0 addr \[0x103205000, 0x103c06000\) \(10.004 MiB\) access 100 %" \
	"$U" report access --hot 1 --at 20 "$rec"
expect "report access: a time range to the end of the recording" 0 "PAUSED" \
	"$U" report heatmap --no-color --time-range 0-30 "$rec"

# ---- record --checkpoint / --restore: what was learned goes on ----
# Fifteen seconds saved, fifteen restored: the two records together are
# the thirty-second one, snapshot for snapshot (the sim is deterministic
# and the checkpoint carries its PRNG and workload time).
ck="$T/half.ckpt"
expect "record --checkpoint saves at the end" 0 "checkpoint saved to $ck" \
	"$U" record --workload "$CFG" --virtual --duration 15 \
	--checkpoint "$ck" -o "$T/half1.rec"
expect "record --restore continues from it" 0 \
	"started from the checkpoint $ck" \
	"$U" record --workload "$CFG" --virtual --duration 15 \
	--restore "$ck" -o "$T/half2.rec"
if command -v python3 >/dev/null &&
	"$U" record -q --workload "$CFG" --virtual -o "$T/whole.rec" &&
	"$U" report json "$T/whole.rec" >"$T/whole.json" &&
	"$U" report json "$T/half1.rec" >"$T/half1.json" &&
	"$U" report json "$T/half2.rec" >"$T/half2.json"; then
	out=$(python3 - "$T/whole.json" "$T/half1.json" "$T/half2.json" <<'PY'
import json, sys
def snaps(path):
    return [(int(s["start_time"]), int(s["end_time"]),
             [(r["start"], r["end"], r["nr_accesses"], r["age"])
              for r in s["regions"]])
            for s in json.load(open(path))[0]["snapshots"]]
whole, a, b = (snaps(p) for p in sys.argv[1:])
if not a or not b:
    sys.exit("a half is empty")
shift = a[-1][1]
joined = a + [(s + shift, e + shift, r) for s, e, r in b]
if joined != whole[:len(joined)] or len(joined) < len(whole) - 2:
    bad = next((i for i, (x, y) in enumerate(zip(joined, whole)) if x != y),
               min(len(joined), len(whole)))
    sys.exit("differs at snapshot %d of %d (halves %d + %d)"
             % (bad, len(whole), len(a), len(b)))
PY
	) && ok "checkpointed and restored halves are the whole record" ||
		notok "checkpointed and restored halves are the whole record" "$out"
else
	skip "checkpointed and restored halves are the whole record" "no python3"
fi
expect "record --restore of a missing file" 2 \
	"--restore: cannot open $T/nope.ckpt" \
	"$U" record --workload "$CFG" --virtual --restore "$T/nope.ckpt" \
	-o "$T/never.rec"
head -c 200 "$ck" >"$T/trunc.ckpt"
expect "record --restore of a truncated file" 2 "--restore: .*truncated" \
	"$U" record --workload "$CFG" --virtual --restore "$T/trunc.ckpt" \
	-o "$T/never.rec"
cp "$ck" "$T/flip.ckpt"
printf 'X' | dd of="$T/flip.ckpt" bs=1 seek=300 conv=notrunc 2>/dev/null
expect "record --restore of a corrupted file" 2 "--restore: .*corrupted" \
	"$U" record --workload "$CFG" --virtual --restore "$T/flip.ckpt" \
	-o "$T/never.rec"
expect "record --restore into other schemes" 2 "--restore: .*0 schemes, the context 1" \
	"$U" record --workload "$CFG" --virtual --damos stat \
	--restore "$ck" -o "$T/never.rec"
if [ -e "$T/never.rec" ]; then
	notok "a refused --restore writes no record" "$(ls -l "$T"/never*)"
else
	ok "a refused --restore writes no record"
fi
expect "record --checkpoint in a missing directory" 2 \
	"--checkpoint: cannot write in $T/no" \
	"$U" record --workload "$CFG" --virtual --checkpoint "$T/no/x.ckpt" \
	-o "$T/never.rec"
mkfifo "$T/ck.fifo"
expect "record --checkpoint onto a FIFO is refused at once" 2 \
	"--checkpoint: $T/ck.fifo exists and is not a regular file" \
	"$U" record --workload "$CFG" --virtual --checkpoint "$T/ck.fifo" \
	-o "$T/never.rec"
expect "record --output-type json onto a FIFO is refused at once" 2 \
	"--output-type json rewrites the record at the end: $T/ck.fifo must be a regular file" \
	"$U" record --workload "$CFG" --virtual --output-type json \
	-o "$T/ck.fifo"
if [ -p "$T/ck.fifo" ]; then
	ok "the FIFO is left as it was"
else
	notok "the FIFO is left as it was" "$(ls -l "$T/ck.fifo")"
fi
# Saved while paused (the pause runs past the end): restored paused.
"$U" record -q --workload "$CFG" --virtual --duration 10 --pause-at 8 \
	--pause-for 5 --checkpoint "$T/paused.ckpt" -o "$T/p1.rec"
"$U" record -q --workload "$CFG" --virtual --duration 3 \
	--restore "$T/paused.ckpt" -o "$T/p2.rec"
expect "a checkpoint saved paused is restored paused" 0 \
	"paused +0.000 s to" "$U" report info "$T/p2.rec"

# ---- record keeps an existing output as FILE.old, as damo does ----
cp "$rec" "$T/keep.rec"
sum=$(cksum <"$T/keep.rec")
if "$U" record -q --workload "$CFG" --virtual --duration 1 -o "$T/keep.rec" &&
	[ "$(cksum <"$T/keep.rec.old")" = "$sum" ] &&
	[ "$(cksum <"$T/keep.rec")" != "$sum" ]; then
	ok "record keeps the existing output as FILE.old"
else
	notok "record keeps the existing output as FILE.old" "$(ls -l "$T"/keep.rec*)"
fi
expect "record -o a FIFO writes to it, renames nothing" 0 "" \
	bash -c "mkfifo '$T/fifo' && { cat '$T/fifo' >'$T/fifo.out' & } &&
		'$U' record -q --workload '$CFG' --virtual --duration 1 -o '$T/fifo' &&
		wait && [ -p '$T/fifo' ] && [ ! -e '$T/fifo.old' ] &&
		head -c 13 '$T/fifo.out' | grep -q udamon-record"
expect "report info: ended by duration" 0 "ended:       duration at 30.000 s" \
	"$U" report info "$rec"
out=$("$U" report heatmap --no-color --rows 30 --cols 50 "$rec")
paused_rows=$(printf '%s\n' "$out" | grep -c '| PAUSED$')
if [ "$paused_rows" -eq 4 ] &&
	printf '%s\n' "$out" | grep -q '^# paused: 12.000 s to 16.000 s$'; then
	ok "heatmap marks the 4 paused seconds"
else
	notok "heatmap marks the 4 paused seconds" "$out"
fi
# Staircase: in the row at 20 s (stair 6) the hot columns are 30-34 of 50.
row=$(printf '%s\n' "$out" | grep '^ *20.00 s |' | sed 's/.*|\(.*\)|.*/\1/')
if [ "${row:30:5}" = "99999" ] && [ "${row:0:29}" = "$(printf '0%.0s' {1..29})" ]; then
	ok "heatmap shows the staircase"
else
	notok "heatmap shows the staircase" "row at 20 s: '$row'"
fi
color=$("$U" report heatmap --color always --rows 5 --cols 10 "$rec")
if printf '%s' "$color" | grep -q $'\033\\[48;5;'; then
	ok "heatmap --color always uses ANSI colours"
else
	notok "heatmap --color always uses ANSI colours" "$color"
fi
p50=$("$U" report wss --raw --percentiles 50 "$rec" | awk '$1 == 50 { print $2 }')
if [ -n "$p50" ] && [ "$p50" -ge 9000000 ] && [ "$p50" -le 11000000 ]; then
	ok "stairs_30secs median wss in [9, 11] MB ($p50)"
else
	notok "stairs_30secs median wss in [9, 11] MB" "p50 '$p50'"
fi
expect "report table of the last snapshot" 0 "# hottest 3" \
	"$U" report table --top 3 "$rec"
expect "report table --at 20s" 0 "# snapshot [0-9]+ of .*: 19.9[0-9]* s to 20.0" \
	"$U" report table --at 20 "$rec"
if "$U" report heatmap --png "$T/h.png" --size 600x300 "$rec" \
	>"$T/out" 2>&1 && [ "$(cat "$T/out")" = "$T/h.png" ] &&
	[ "$(head -c 8 "$T/h.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; then
	ok "heatmap --png writes a PNG and prints its path"
else
	notok "heatmap --png writes a PNG and prints its path" "$(cat "$T/out")"
fi
expect "heatmap --output X.svg writes an SVG and prints its path" 0 \
	"^$T/h.svg\$" "$U" report heatmap --output "$T/h.svg" --size 600x300 "$rec"
expect "wss --output X.png plots the working set size" 0 "^$T/w.png\$" \
	"$U" report wss --output "$T/w.png" "$rec"
expect "wss --output X.svg plots the working set size" 0 "^$T/w.svg\$" \
	"$U" report wss -o "$T/w.svg" "$rec"
expect "heatmap --output of an unknown type" 2 \
	"--output: 'x.gif' does not end in .png or .svg" \
	"$U" report heatmap --output x.gif "$rec"
expect "heatmap --size below the smallest plot" 2 \
	"--size: '300x120' is not WIDTHxHEIGHT within 400x240" \
	"$U" report heatmap --output "$T/x.png" --size 300x120 "$rec"
expect "heatmap --output into a missing directory" 1 \
	"--output: cannot write $T/none/h.png" \
	"$U" report heatmap --output "$T/none/h.png" "$rec"
if command -v python3 >/dev/null; then
	if python3 - "$T/h.png" "$T/w.png" <<'EOF'; then
import struct, sys, zlib

def decode(path):
    """Decode an 8-bit RGB PNG (what cairo writes for RGB24) to rows."""
    data = open(path, "rb").read()
    w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
    assert (depth, ctype) == (8, 2), (depth, ctype)
    idat, i = b"", 8
    while i < len(data):
        n = struct.unpack(">I", data[i:i + 4])[0]
        if data[i + 4:i + 8] == b"IDAT":
            idat += data[i + 8:i + 8 + n]
        i += 12 + n
    raw = zlib.decompress(idat)
    stride = 1 + w * 3
    rows, prev = [], bytearray(w * 3)
    for y in range(h):
        f = raw[y * stride]
        line = bytearray(raw[y * stride + 1:(y + 1) * stride])
        for i in range(len(line)):
            a = line[i - 3] if i >= 3 else 0
            b, c = prev[i], prev[i - 3] if i >= 3 else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        rows.append(line)
        prev = line
    return w, h, rows

def px(rows, x, y):
    return tuple(rows[y][x * 3:x * 3 + 3])

w, h, rows = decode(sys.argv[1])
assert (w, h) == (600, 300), (w, h)
# The plot area: 112 px from the left, 168 from the right, 52 from the
# top and bottom (src/cli/plot.c), 0 to 30 s across its 320 columns.
x_of = lambda s: 112 + int(320 * s / 30)
# 14 s is paused: hatched blue (with lighter stripes) over the whole height.
blue = [px(rows, x_of(14), y) for y in range(53, 247)]
assert all(b > r + 20 and b > g + 20 for r, g, b in blue), blue
assert sum(b > r + 80 for r, g, b in blue) > len(blue) // 2, blue
# 27 s: the hot stair is bright, the rest dark.
col = [sum(px(rows, x_of(27), y)) for y in range(53, 247)]
assert max(col) > 600 and min(col) < 150, col
# Text in the margins: the title's dark pixels on white at the top left;
# the colour scale, many colours, right of the plot area.
title = [sum(px(rows, x, y)) for x in range(112, 300) for y in range(8, 26)]
assert min(title) < 200 and max(title) > 700, "no title"
assert len({px(rows, 112 + 320 + 18 + 8, y) for y in range(52, 150)}) > 20
w, h, rows = decode(sys.argv[2])
assert (w, h) == (1000, 480), (w, h)
# The working set line (red) somewhere in the plot area.
assert any(px(rows, x, y)[0] > 150 and px(rows, x, y)[1] < 90
           for x in range(112, 832, 4) for y in range(52, 428)), "no line"
EOF
		ok "PNG plots: size, pause band, staircase, title, colour scale, wss line"
	else
		notok "PNG plots: size, pause band, staircase, title, colour scale, wss line"
	fi
	if python3 - "$T/h.svg" "$T/w.svg" <<'EOF'; then
import sys
import xml.etree.ElementTree as ET
NS = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == NS + "svg"
assert root.get("width").startswith("600"), root.get("width")
assert root.get("height").startswith("300"), root.get("height")
# The heatmap cells as one embedded image; cairo sets text as glyphs.
assert any(True for _ in root.iter(NS + "image")), "no image"
assert sum(1 for _ in root.iter(NS + "symbol")) >= 20, "no text"
root = ET.parse(sys.argv[2]).getroot()
assert sum(1 for _ in root.iter(NS + "symbol")) >= 20, "no text"
assert sum(1 for _ in root.iter(NS + "path")) >= 20
EOF
		ok "SVG plots are SVG with the cells and the text"
	else
		notok "SVG plots are SVG with the cells and the text"
	fi
	"$U" report json "$rec" -o "$T/r.json"
	"$U" report --json "$rec" >"$T/r2.json"
	nsnap=$("$U" report info "$rec" | sed -n 's/^snapshots: *\([0-9]*\),.*/\1/p')
	if cmp -s "$T/r.json" "$T/r2.json" && python3 - "$T/r.json" "$nsnap" <<'EOF'; then
import json, sys
recs = json.load(open(sys.argv[1]))
assert isinstance(recs, list) and len(recs) == 1
r = recs[0]
for k in ("kdamond_idx", "context_idx", "intervals", "scheme_idx",
          "target_id", "scheme_filters", "snapshots"):
    assert k in r, k
assert r["intervals"]["sample_us"] == 5000
assert r["intervals"]["aggr_us"] == 100000
snaps = r["snapshots"]
assert len(snaps) == int(sys.argv[2]), (len(snaps), sys.argv[2])
prev = 0
for s in snaps:
    assert s["start_time"] == prev and s["end_time"] >= s["start_time"]
    prev = s["end_time"]
    assert s["total_bytes"] == sum(x["end"] - x["start"] for x in s["regions"])
    for x in s["regions"]:
        assert 0 <= x["nr_accesses"]["samples"] <= 20
        assert x["age"]["usec"] == x["age"]["aggr_intervals"] * 100000
# The pause: one snapshot window spans 12 s to 16 s.
assert any(s["start_time"] <= 12e9 and s["end_time"] >= 16e9 for s in snaps)
EOF
		ok "damo JSON export reads back with python3 json"
	else
		notok "damo JSON export reads back with python3 json"
	fi
else
	skip "PNG plots: size, pause band, staircase, title, colour scale, wss line" "no python3"
	skip "SVG plots are SVG with the cells and the text" "no python3"
	skip "damo JSON export reads back with python3 json" "no python3"
fi

# ---- damo records: read both kinds, write json_compressed ----
# tests/damo holds a record as damo writes it (json) and the same compressed
# (json_compressed); the expected values are worked out in tests/damo/README.
D=tests/damo
for f in damon.data.json damon.data.json_compressed; do
	kind=json
	[ "$f" = damon.data.json_compressed ] && kind=json_compressed
	out=$("$U" report heatmap --rows 4 --cols 8 --color never "$D/$f" 2>&1)
	want="# heatmap of $D/$f, target 0 (pid 0), real clock
     0.00 s |90005555|
     0.10 s |93330000|
     0.20 s |00000000|
     0.30 s |59991111|
# time: 4 rows of 0.100 s, 0.000 s to 0.400 s, top to bottom
# address: 8 columns of 4.000 MiB, 32.000 MiB in 1 span (gaps between regions left out), 0x7f0000000000-0x7f0002000000
# access frequency: 0 = none, 1-9 = up to 100.0% of samples (linear), ' ' = not monitored, '=' = paused"
	if [ "$out" = "$want" ]; then
		ok "damo $kind: heatmap"
	else
		notok "damo $kind: heatmap" "$(diff <(echo "$want") <(echo "$out"))"
	fi
	out=$("$U" report wss --raw "$D/$f" 2>&1)
	want="# target 0: working set size over 4 snapshots (nr_accesses >= 1)
# percentile  wss
           0  0
          25  0
          50  16777216
          75  20971520
         100  33554432
     average  17825792"
	if [ "$out" = "$want" ]; then
		ok "damo $kind: wss"
	else
		notok "damo $kind: wss" "$(diff <(echo "$want") <(echo "$out"))"
	fi
	expect "damo $kind: wss of the second target" 0 "average  1048576" \
		"$U" report wss --raw --target 1 "$D/$f"
	out=$("$U" report info "$D/$f" 2>&1)
	size=$(stat -c %s "$D/$f")
	want="record:      $D/$f (damo $kind, $size bytes)
clock:       real
operations:  unknown
source:      kernel DAMON (damo record)
seed:        0
targets:     2 (pid 0 0)
nr_regions:  0..0
update_us:   1000000
snapshots:   4, 0.000 s to 0.400 s
intervals:   sample 5000 us, aggr 100000 us at the start; sample 5000 us, aggr 100000 us at the end (0 changes)
regions:     4 min, 4.0 average, 4 max per snapshot
pauses:      0
ended:       0.400 s (damo's records hold no events)"
	if [ "$out" = "$want" ]; then
		ok "damo $kind: info"
	else
		notok "damo $kind: info" "$(diff <(echo "$want") <(echo "$out"))"
	fi
	expect "damo $kind: table of the last snapshot" 0 \
		"1  0x7f0000400000      0x7f0001000000          12582912           20   100.0%" \
		"$U" report table --raw --top 1 "$D/$f"
	expect "damo $kind: heatmap plot" 0 "^$T/damo-$kind.svg\$" \
		"$U" report heatmap --output "$T/damo-$kind.svg" "$D/$f"
done
# udamon's record written as json_compressed, read back by udamon and by
# python's zlib and json the way damo reads it.
expect "report json --output-type json_compressed" 0 "" \
	"$U" report json --output-type json_compressed -o "$T/r.jz" "$rec"
"$U" report json -o "$T/r.json" "$rec"
for k in wss info; do
	a=$("$U" report $k --raw "$rec" | grep -v "^record:\|^created:\|^clock\|^operations\|^source\|^seed\|^targets\|^nr_regions\|^pauses\|^  paused\|^ended\|^workload")
	b=$("$U" report $k --raw "$T/r.jz" | grep -v "^record:\|^created:\|^clock\|^operations\|^source\|^seed\|^targets\|^nr_regions\|^pauses\|^  paused\|^ended\|^workload")
	if [ -n "$a" ] && [ "$a" = "$b" ]; then
		ok "json_compressed export reads back: same $k"
	else
		notok "json_compressed export reads back: same $k" "$(diff <(echo "$a") <(echo "$b"))"
	fi
done
if command -v python3 >/dev/null; then
	if python3 - "$T/r.jz" "$T/r.json" <<'EOF'; then
import json, sys, zlib
packed = json.loads(zlib.decompress(open(sys.argv[1], "rb").read()))
assert packed == json.load(open(sys.argv[2])) and packed
EOF
		ok "json_compressed is the zlib-compressed damo JSON"
	else
		notok "json_compressed is the zlib-compressed damo JSON"
	fi
else
	skip "json_compressed is the zlib-compressed damo JSON" "no python3"
fi
expect "record --output-type json_compressed" 0 "29 snapshots" \
	"$U" record --ops sim --workload "$CFG" --virtual --duration 3 \
	--output-type json_compressed -o "$T/rec.jz"
expect "record --output-type json_compressed: a damo record" 0 \
	"record: +$T/rec.jz \(damo json_compressed, " "$U" report info "$T/rec.jz"
expect "record --output-type json_compressed: every snapshot" 0 \
	"snapshots: +29, 0.000 s to 2.900 s" "$U" report info "$T/rec.jz"
expect "record --output-type json" 0 "" \
	"$U" record -q --ops sim --workload "$CFG" --virtual --duration 1 \
	--output-type json -o "$T/rec.json"
expect "record --output-type json: a damo record" 0 \
	"record: +$T/rec.json \(damo json, " "$U" report info "$T/rec.json"
expect "record --output-type of an unknown type" 2 \
	"--output-type: 'yaml' is not udamon, json or json_compressed" \
	"$U" record --output-type yaml --ops sim --workload "$CFG"
expect "report json --output-type of an unknown type" 2 \
	"--output-type: 'yaml' is not json or json_compressed" \
	"$U" report json --output-type yaml "$rec"
printf '[{"target_id": 0, "snapshots": [{"start_time": 5, "end_time": 9, "regions": [{"start": 10, "end": 4, "nr_accesses": 1}]}]}]' >"$T/bad.json"
expect "damo record with a region ending before it starts" 1 \
	"bad.json: record 0, snapshot 0, region 0: start must be below end" \
	"$U" report info "$T/bad.json"
head -c 300 "$D/damon.data.json_compressed" >"$T/cut.jz"
expect "damo json_compressed cut short" 1 \
	"cut.jz: not a complete zlib stream" "$U" report info "$T/cut.jz"
head -c 2000 "$D/damon.data.json" >"$T/cut.json"
expect "damo json cut short" 1 "cut.json: JSON ends early" \
	"$U" report info "$T/cut.json"

# ---- truncated and corrupt records ----
size=$(stat -c %s "$rec")
head -c $((size / 2)) "$rec" >"$T/cut.rec"
out=$("$U" report info "$T/cut.rec" 2>&1)
if [ $? -eq 0 ] && printf '%s' "$out" | grep -q "warning: .*cut.rec is cut at byte" &&
	printf '%s' "$out" | grep -q "^truncated:   yes" &&
	printf '%s' "$out" | grep -q "^ended:       no stop event"; then
	ok "a record cut in half reads up to its last complete snapshot"
else
	notok "a record cut in half reads up to its last complete snapshot" "$out"
fi
expect "heatmap of a cut record" 0 "PAUSED" \
	"$U" report heatmap --no-color "$T/cut.rec"
head -c 20 "$rec" >"$T/cut2.rec"
expect "a record cut before its header" 1 "ends before its header" \
	"$U" report wss "$T/cut2.rec"
awk '!done && NR > 200 && /^0x/ { $3 = $3 + 1; done = 1 } { print }' \
	"$rec" >"$T/flip.rec"
expect "a corrupt record names file:offset and the checksum" 1 \
	"flip.rec:[0-9]+: line [0-9]+: snapshot: checksum mismatch" \
	"$U" report heatmap "$T/flip.rec"

# ---- real time: SIGUSR1 pauses/resumes, SIGINT ends cleanly ----
"$U" record -q --workload "$CFG" --duration 20 -o "$T/sig.rec" &
pid=$!
sleep 0.6
kill -USR1 $pid
sleep 0.6
kill -USR1 $pid
sleep 0.6
kill -INT $pid
wait $pid
rc=$?
out=$("$U" report info "$T/sig.rec" 2>&1)
if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q "^pauses:      1$" &&
	printf '%s' "$out" | grep -q "^ended:       interrupted"; then
	ok "SIGUSR1 pauses and resumes, SIGINT ends the record cleanly"
else
	notok "SIGUSR1 pauses and resumes, SIGINT ends the record cleanly" "rc $rc: $out"
fi
expect "real-time recording with --pause-at/--pause-for" 0 \
	"udamon record: [0-9]+ snapshots, 1 pause" \
	"$U" record --workload "$CFG" --duration 1.2 --pause-at 0.4 \
	--pause-for 0.4 -o "$T/rt.rec"
expect "record with a scheme" 0 "snapshots" \
	"$U" record --workload "$CFG" --virtual --duration 2 \
	--damos 'pageout,nr_accesses=0-0,age=5-max,quota_sz=10M,quota_reset_ms=1000,filter=addr:0x100000000-0x100a00000:reject' \
	-o "$T/s.rec"

# ---- record --metrics: the context on a Prometheus endpoint ----
expect "record --metrics with a bad port" 2 \
	"--metrics: '70000': the port must be 0 to 65535" \
	"$U" record --workload "$CFG" --metrics 70000
expect "record --metrics with a bad address" 2 "--metrics: 'nohost.invalid'" \
	"$U" record --workload "$CFG" --metrics nohost.invalid:9100
if command -v curl >/dev/null; then
	"$U" record -q --workload "$CFG" --duration 60 --metrics 127.0.0.1:0 \
		-o "$T/m.rec" 2>"$T/m.err" &
	pid=$!
	addr=
	# fetch_until PATTERN: scrape until a line matches (20 s at most)
	fetch_until() {
		local i
		for i in $(seq 200); do
			[ -z "$addr" ] && addr=$(grep -o 'http://[^ ]*/metrics' \
				"$T/m.err" 2>/dev/null)
			if [ -n "$addr" ] &&
				curl -sf --max-time 10 "$addr" >"$T/m.txt" &&
				grep -Eq -- "$1" "$T/m.txt"; then
				return 0
			fi
			sleep 0.1
		done
		return 1
	}
	paused='^udamon_context_paused\{kdamond="0",context="0",cause="manual"\}'
	if fetch_until "$paused 0\$" &&
		grep -q '^udamon_target_regions{kdamond="0",context="0",target="0",pid="",comm=""} [1-9]' "$T/m.txt" &&
		grep -q '^udamon_context_info{kdamond="0",context="0",ops="sim",access_source="sim"} 1$' "$T/m.txt"; then
		ok "record --metrics serves the recording context"
	else
		notok "record --metrics serves the recording context" \
			"$(cat "$T/m.err" "$T/m.txt" 2>/dev/null)"
	fi
	hostport=${addr#http://}
	expect "record --metrics on a port in use" 1 \
		"--metrics: cannot listen on ${hostport%/metrics}" \
		"$U" record -q --workload "$CFG" --duration 1 \
		--metrics "${hostport%/metrics}" -o "$T/m2.rec"
	if ! command -v promtool >/dev/null; then
		skip "promtool check metrics on record --metrics" \
			"no promtool (Debian's prometheus package)"
	elif out=$(promtool check metrics <"$T/m.txt" 2>&1); then
		ok "promtool check metrics on record --metrics"
	else
		notok "promtool check metrics on record --metrics" "$out"
	fi
	kill -USR1 $pid
	if fetch_until "$paused 1\$"; then
		ok "record --metrics: paused flips after SIGUSR1"
	else
		notok "record --metrics: paused flips after SIGUSR1" \
			"$(cat "$T/m.txt")"
	fi
	kill -INT $pid
	wait $pid
	rc=$?
	if [ $rc -eq 0 ] && ! curl -sf --max-time 5 "$addr" >/dev/null; then
		ok "record --metrics stops serving when the recording ends"
	else
		notok "record --metrics stops serving when the recording ends" \
			"rc $rc"
	fi
else
	skip "record --metrics over HTTP" "no curl"
fi

# ---- a real process, if this machine can monitor one ----
W="$B/bin/udamon-workload"
if [ -x "$W" ]; then
	out=$("$U" record --duration 1.5 --pause-at 0.5 --pause-for 0.5 \
		-o "$T/v.rec" -- "$W" -q "$CFG" 2>&1)
	rc=$?
	if [ $rc -eq 3 ]; then
		skip "record a launched workload (vaddr)" \
			"no access source: $(printf '%s' "$out" | tail -n 1)"
	elif [ $rc -eq 0 ] && "$U" report info "$T/v.rec" |
		grep -q "^operations:  vaddr"; then
		ok "record a launched workload (vaddr)"
	else
		notok "record a launched workload (vaddr)" "rc $rc: $out"
	fi
	if [ $rc -ne 3 ]; then
		expect "record a launched workload under --overhead-budget 300" 0 \
			"snapshots" "$U" record --duration 1 --overhead-budget 300 \
			-o "$T/vb.rec" -- "$W" -q "$CFG"
	fi
else
	skip "record a launched workload (vaddr)" "$W not built"
fi

# ---- a running process udamon did not launch: attach (x86_64) ----
if [ -x "$W" ] && [ "$(uname -m)" = x86_64 ]; then
	printf 'hot, 16777216\ncold, 33554432\n\nrun\n30000\nhot, 0, 4096, 1, wo\n' \
		>"$T/attach.cfg"
	env -u LD_PRELOAD "$W" -q "$T/attach.cfg" &
	wpid=$!
	sleep 0.3
	expect "record --pid --no-attach accepts an unregistered process, warns" 0 \
		"registered no memory for userfaultfd write-protect yet" \
		"$U" record --pid "$wpid" --no-attach --duration 1 -o "$T/na.rec"
	out=$("$U" record --pid "$wpid" --duration 2 -o "$T/at.rec" 2>&1)
	rc=$?
	if [ $rc -eq 3 ]; then
		skip "record --pid attaches to a running process" \
			"no access source: $(printf '%s' "$out" | tail -n 1)"
	elif [ $rc -ne 0 ]; then
		notok "record --pid attaches to a running process" "rc $rc: $out"
	else
		# The 16 MiB it writes is its working set; nothing stays.
		wss=$("$U" report wss "$T/at.rec" | awk '$1 == 50 { print $2, $3 }')
		uffds=$(ls -l /proc/$wpid/fd 2>/dev/null | grep -c userfaultfd)
		uw=$(grep -c ' uw' /proc/$wpid/smaps 2>/dev/null)
		case "$wss" in
		1[2-9].*MiB) wss_ok=1 ;;
		*) wss_ok=0 ;;
		esac
		if [ "$wss_ok" = 1 ] && [ "$uffds" = 0 ] && [ "$uw" = 0 ] &&
			kill -0 "$wpid" 2>/dev/null; then
			ok "record --pid attaches to a running process"
		else
			notok "record --pid attaches to a running process" \
				"median wss '$wss', $uffds userfaultfds and $uw uw VMAs left: $out"
		fi
	fi
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
else
	skip "record --pid attaches to a running process" \
		"x86_64 with $W only"
fi

# The synchronous write-protect source, forced on this kernel: a 4 MiB
# block written all the time beside 12 MiB written once; the median
# working set size must be the block's, within 10 %.
expect "record --access-source bogus" 2 "--access-source: 'bogus' expected auto, page-idle, uffd-wp or uffd-wp-sync" \
	"$U" record --access-source bogus -- /bin/true
expect "record --access-source with sim" 2 "--access-source works with --ops vaddr only" \
	"$U" record --workload "$CFG" --access-source uffd-wp-sync
if [ -x "$W" ]; then
	printf '%s\n' "cold, 12582912" "hot, 4194304" "" "init" "500" \
		"cold, 0, 4096, 1" "hot, 0, 4096, 1" "" "hot" "600000" \
		"hot, 0, 4096, 1" >"$T/sync.cfg"
	out=$(UDAMON_PRELOAD_WP=sync "$U" record --access-source uffd-wp-sync \
		--duration 4 -o "$T/sync.rec" -- "$W" -q "$T/sync.cfg" 2>&1)
	rc=$?
	if [ $rc -eq 3 ]; then
		skip "record with uffd-wp-sync" \
			"no such source here: $(printf '%s' "$out" | tail -n 1)"
	elif [ $rc -ne 0 ]; then
		notok "record with uffd-wp-sync" "rc $rc: $out"
	else
		src=$("$U" report info "$T/sync.rec" | sed -n 's/^source: *//p')
		wss=$("$U" report wss --percentiles 50 --raw "$T/sync.rec" |
			awk '$1 == "50" { print $2 }')
		hot=4194304
		ended=$("$U" report info "$T/sync.rec" | sed -n 's/^ended: *//p')
		if [ "$src" != "uffd-wp-sync (writes only)" ]; then
			notok "record with uffd-wp-sync" "source: $src"
		elif [ "${ended%% *}" != duration ]; then
			# The kernel's own writes to a protected page (rseq) must
			# wait for udamon, not kill the workload.
			notok "record with uffd-wp-sync: the workload lives" \
				"ended: $ended"
		elif [ -z "$wss" ] || [ $(((wss - hot) * 10)) -gt $hot ] ||
			[ $(((hot - wss) * 10)) -gt $hot ]; then
			notok "record with uffd-wp-sync: WSS within 10 % of 4 MiB" \
				"median WSS ${wss:-none}"
		else
			ok "record with uffd-wp-sync: WSS $wss within 10 % of 4 MiB"
		fi
	fi
fi

# ---- USDT probes ----
if ! echo '#include <sys/sdt.h>' | ${CC:-cc} -E -x c - >/dev/null 2>&1; then
	skip "USDT probes in the binary" "sys/sdt.h missing (install systemtap-sdt-dev)"
elif ! command -v readelf >/dev/null; then
	skip "USDT probes in the binary" "no readelf"
else
	notes=$(readelf -n "$U" 2>/dev/null)
	missing=
	for p in damon_aggregated damos_before_apply damos_esz \
		damos_stat_after_apply_interval damon_monitor_intervals_tune; do
		printf '%s\n' "$notes" | grep -A2 'stapsdt' |
			grep -q "Provider: damon" || missing="$missing provider"
		printf '%s\n' "$notes" | grep -q "Name: $p\$" ||
			missing="$missing $p"
	done
	if [ -z "$missing" ]; then
		ok "USDT probes in the binary (readelf -n)"
	else
		notok "USDT probes in the binary (readelf -n)" "missing:$missing"
	fi
fi
if ! command -v bpftrace >/dev/null; then
	skip "bpftrace sees damon_aggregated stop while paused" "bpftrace not installed"
elif [ "$(id -u)" -ne 0 ]; then
	skip "bpftrace sees damon_aggregated stop while paused" "needs root"
else
	# Events per 250 ms while recording 4 s, paused from 1.5 s to 3 s.
	bpftrace -e "usdt:$U:damon:damon_aggregated { @[elapsed / 250000000] = count(); }" \
		-c "$U record -q --workload $CFG --duration 4 --pause-at 1.5 --pause-for 1.5 -o $T/bt.rec" \
		>"$T/bt.out" 2>&1
	if python3 - "$T/bt.out" <<'EOF'; then
import re, sys
counts = {}
for m in re.finditer(r"@\[(\d+)\]: (\d+)", open(sys.argv[1]).read()):
    counts[int(m.group(1))] = int(m.group(2))
assert counts, "no damon_aggregated events"
first, last = min(counts), max(counts)
run = best = 0
for b in range(first, last + 1):
    run = run + 1 if counts.get(b, 0) == 0 else 0
    best = max(best, run)
# 1.5 s of pause is at least 5 empty 250 ms buckets, with events on both sides.
assert best >= 5, counts
assert sum(c for b, c in counts.items() if b <= first + 3) > 0
assert sum(c for b, c in counts.items() if b >= last - 3) > 0
EOF
		ok "bpftrace sees damon_aggregated stop while paused and resume after"
	else
		notok "bpftrace sees damon_aggregated stop while paused and resume after" \
			"$(cat "$T/bt.out")"
	fi
fi

# ---- record --auto-pause on a real process stopped and continued ----
expect "record --auto-pause needs a process" 2 "works with vaddr only" \
	"$U" record --workload "$CFG" --auto-pause
expect "checkpoint needs a FILE" 2 "give the checkpoint FILE" \
	"$U" checkpoint --tree "$T"
bash -c 'a=0; while :; do a=$((a + 1)); done' &
spin=$!
"$U" record --pid "$spin" --auto-pause --duration 0 --aggr-us 50000 -q \
	-o "$T/ap.rec" >"$T/ap.out" 2>&1 &
recpid=$!
# Stop the process once the record has snapshots, continue it later.
for _ in $(seq 200); do
	[ "$(grep -ac '^snapshot' "$T/ap.rec" 2>/dev/null)" -ge 3 ] && break
	sleep 0.05
done
kill -STOP "$spin"
for _ in $(seq 200); do
	grep -aq '^event pause [0-9]* auto' "$T/ap.rec" 2>/dev/null && break
	sleep 0.05
done
sleep 0.5
kill -CONT "$spin"
for _ in $(seq 200); do
	grep -aq '^event resume [0-9]* auto' "$T/ap.rec" 2>/dev/null && break
	sleep 0.05
done
sleep 0.3
kill -INT "$recpid"
wait "$recpid"
kill "$spin"
wait "$spin" 2>/dev/null
if grep -aq '^event pause [0-9]* auto' "$T/ap.rec" &&
	grep -aq '^event resume [0-9]* auto' "$T/ap.rec"; then
	ok "record --auto-pause writes auto pause and resume events"
else
	notok "record --auto-pause writes auto pause and resume events" \
		"$(cat "$T/ap.out"; grep -a '^event' "$T/ap.rec")"
fi
expect "report info lists the auto-paused period" 0 "auto-paused [0-9.]+ s to" \
	"$U" report info "$T/ap.rec"
expect "heatmap marks auto-paused rows apart" 0 "~+\| AUTO-PAUSED" \
	"$U" report heatmap --rows 200 "$T/ap.rec"

# ---- against a running udamond: refusals outside, then a real tree ----
for c in start tune pause resume stop status; do
	args=()
	[ "$c" = start ] && args=(--workload "$CFG")
	[ "$c" = tune ] && args=(--aggr-us 200000)
	expect "$c refuses a tree that is not FUSE" 3 \
		"refusing to write: $T is not a FUSE mount" \
		"$U" "$c" --tree "$T" "${args[@]}"
done
expect "status with a missing tree" 3 "--tree: $T/none: No such file or directory" \
	"$U" status --tree "$T/none"
expect "tune without parameters" 2 "give at least one parameter" \
	"$U" tune --tree "$T"
expect "pause with a stray argument" 2 "unexpected argument 'now'" \
	"$U" pause now
expect "start vaddr without pid" 2 "--ops vaddr needs --pid" \
	"$U" start --tree "$T"
# ---- replayed workloads, the lackey converter and sweep ----
TR=tests/data/true.trace
expect "record a lackey trace" 0 "snapshots" \
	"$U" record --workload "$TR" --virtual -o "$T/trace.rec"
expect "report wss of the trace replay" 0 "percentile" \
	"$U" report wss "$T/trace.rec"
expect "record a replayed record" 0 "snapshots" \
	"$U" record --workload "$T/trace.rec" --virtual -o "$T/rerec.rec"
printf 'udamon-trace 1\n10 0x1000 r\n5 0x2000 w\n' >"$T/back.trace"
expect "record refuses a trace going back in time" 1 "back.trace:3: time 5 ns goes back" \
	"$U" record --workload "$T/back.trace" --virtual -o "$T/x.rec"
printf 'udamon-trace 1\n10 0x1000 q\n' >"$T/mode.trace"
expect "record refuses a bad access label" 1 "mode.trace:2: expected 'TIME_NS ADDR \[r\|w\]'" \
	"$U" record --workload "$T/mode.trace" --virtual -o "$T/x.rec"
printf '[{"attrs": {}}]\n' >"$T/damo.json"
expect "record refuses a bad damo record as a workload" 1 "damo.json" \
	"$U" record --workload "$T/damo.json" --virtual -o "$T/x.rec"
for f in damon.data.json damon.data.json_compressed; do
	expect "record replays a damo record ($f)" 0 "" \
		"$U" record -q --workload "tests/damo/$f" --virtual -o "$T/damo-replay.rec"
	expect "the replay of $f has snapshots" 0 "^snapshots: +[1-9]" \
		"$U" report info "$T/damo-replay.rec"
done
out=$(python3 tools/lackey2trace.py tests/data/snippet.lackey --ns-per-instr 10 2>&1)
if printf '%s\n' "$out" | head -1 | grep -qx 'udamon-trace 1' &&
	printf '%s\n' "$out" | grep -Eq '^[0-9]+ 0x[0-9a-f]+000 [rw]$'; then
	ok "lackey2trace converts lackey lines"
else
	notok "lackey2trace converts lackey lines" "$out"
fi
printf 'I  0401b821,4\n L zz,8\n' >"$T/bad.lackey"
expect "lackey2trace refuses a malformed access" 1 "bad.lackey:2: malformed lackey access line" \
	python3 tools/lackey2trace.py "$T/bad.lackey" -o "$T/bad.trace"
expect "sweep without --workload" 2 "--workload FILE is needed" \
	"$U" sweep --set "--damos stat"
expect "sweep without sets" 2 "give parameter sets" \
	"$U" sweep --workload "$TR"
expect "sweep with a non-record option" 2 "unknown option '--pid'" \
	"$U" sweep --workload "$TR" --set "--pid 1"
expect "sweep with a bad scheme" 2 "damos" \
	"$U" sweep --workload "$TR" --set "--damos nosuch"
expect "sweep with nested braces" 2 "unbalanced or nested" \
	"$U" sweep --workload "$TR" --set "--sample-us {1{0,2}}"
printf -- '--damos pageout,nr_accesses=0-0,age={2,5}-max\n# a comment\n\n--damos stat\n' >"$T/grid"
expect "sweep a pageout grid over the trace" 0 "\*  --damos pageout,nr_accesses=0-0,age=2-max" \
	"$U" sweep --workload "$TR" --grid "$T/grid" --jobs 2 --quiet \
	--csv "$T/sweep.csv" --json "$T/sweep.json"
if [ "$(wc -l <"$T/sweep.csv")" -eq 4 ] &&
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["sets"]; assert len(s)==3; assert any(x["pareto"] for x in s); assert s[0]["saved_avg_bytes"] > 0; assert s[2]["saved_avg_bytes"] == 0' "$T/sweep.json"; then
	ok "sweep CSV and JSON hold every set, the front and the savings"
else
	notok "sweep CSV and JSON hold every set, the front and the savings" "$(cat "$T/sweep.csv" "$T/sweep.json")"
fi
expect "sweep --plot of an unknown type" 2 \
	"--plot: '$T/sweep.gif' does not end in .png or .svg" \
	"$U" sweep --workload "$TR" --grid "$T/grid" --plot "$T/sweep.gif"
if [ -e "$T/sweep.gif" ]; then
	notok "sweep --plot refused: nothing written" "$T/sweep.gif exists"
else
	ok "sweep --plot refused: nothing written"
fi
if cli_plot=$("$U" sweep --workload "$TR" --grid "$T/grid" --jobs 2 --quiet \
	--plot "$T/sweep.png" 2>&1) &&
	"$U" sweep --workload "$TR" --grid "$T/grid" --jobs 2 --quiet \
		--plot "$T/sweep.svg" >/dev/null 2>&1; then
	ok "sweep --plot FILE.png and FILE.svg succeed"
else
	notok "sweep --plot FILE.png and FILE.svg succeed" "$cli_plot"
fi
expect "sweep --plot into a missing directory" 1 \
	"--plot: cannot write $T/none/s.png" \
	"$U" sweep --workload "$TR" --grid "$T/grid" --quiet --plot "$T/none/s.png"
# The PNG: its signature and its IHDR size (the sweep plot is 1000x600).
if python3 - "$T/sweep.png" <<'EOF2'; then
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
assert data[12:16] == b"IHDR"
assert struct.unpack(">II", data[16:24]) == (1000, 600)
EOF2
	ok "sweep --plot writes a PNG of the plot's size"
else
	notok "sweep --plot writes a PNG of the plot's size"
fi
# The SVG: well-formed, its text in <desc> (cairo draws glyphs): both axis
# titles, the key and a label for every set: the grid's sets 1 and 2 save
# nothing and share one spot, so one label names both.
if python3 - "$T/sweep.svg" <<'EOF2'; then
import sys
import xml.etree.ElementTree as ET
NS = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == NS + "svg"
assert root.get("width").startswith("1000"), root.get("width")
assert root.find(NS + "title").text == "udamon sweep: true.trace"
lines = root.find(NS + "desc").text.splitlines()
assert any(l.startswith("memory saved") and "(" in l for l in lines), lines
assert any(l.startswith("modelled refault stall (") for l in lines), lines
assert "Pareto front" in lines, lines
labels = set()
for l in lines:
    if all(p.isdigit() for p in l.split(",")):
        labels.update(int(p) for p in l.split(","))
assert labels == {0, 1, 2}, lines
assert sum(1 for _ in root.iter(NS + "symbol")) >= 20, "no glyphs"
EOF2
	ok "sweep --plot SVG: axis titles, key and every set's label"
else
	notok "sweep --plot SVG: axis titles, key and every set's label"
fi
# bench_replay's measurement (bench/accuracy.sh): its own count of the
# trace's pages agrees with the sim's ground truth in every window of every
# variant, and DAMON sampling page-sized regions once per window finds
# exactly the pages touched (precision and recall 1).  Correctness of the
# measurement, not a benchmark result.
BR="$B/bench/bench_replay"
if [ -x "$BR" ]; then
	out=$("$BR" "$TR" 2>&1)
	rc=$?
	rows=$(printf '%s\n' "$out" | grep -c '^| true.trace')
	bad=$(printf '%s\n' "$out" | grep '^| true.trace' |
		awk -F'|' '$(NF - 1) + 0 != 0')
	if [ "$rc" -eq 0 ] && [ "$rows" -ge 10 ] && [ -z "$bad" ] &&
		printf '%s\n' "$out" |
		grep -Eq '^\| true.trace +\| s100ms\+min20k +\| +[0-9]+ \| +0.000 \| +1.000 \| +1.000 \|'; then
		ok "bench_replay: ground truth aligned in every window, exact at page granularity"
	else
		notok "bench_replay: ground truth aligned in every window, exact at page granularity" "$out"
	fi
	expect "bench_replay refuses an unknown variant" 2 "no variant 'nosuch'" \
		"$BR" -v default,nosuch "$TR"
else
	skip "bench_replay: ground truth aligned in every window, exact at page granularity" "no $BR"
	skip "bench_replay refuses an unknown variant" "no $BR"
fi
a=$("$U" sweep --workload "$TR" --grid "$T/grid" --jobs 1 --quiet)
b=$("$U" sweep --workload "$TR" --grid "$T/grid" --jobs 3 --quiet)
if [ -n "$a" ] && [ "$a" = "$b" ]; then
	ok "sweep results do not depend on the number of workers"
else
	notok "sweep results do not depend on the number of workers" "$a
---
$b"
fi

if [ ! -c /dev/fuse ] || [ ! -x "$B/bin/udamond" ]; then
	skip "udamon start/status/pause/resume/tune/stop on udamond" \
		"no /dev/fuse or udamond not built"
elif ! unshare -m --propagation private true 2>/dev/null; then
	skip "udamon start/status/pause/resume/tune/stop on udamond" \
		"cannot make a private mount namespace (needs root)"
else
	unshare -m --propagation private bash "$here/tree.sh" "$B" "$CFG" \
		>"$T/tree.out" 2>&1
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) notok "${line#not ok - }" ;;
		*) echo "# $line" ;;
		esac
	done <"$T/tree.out"
	unshare -m --propagation private bash "$here/ckpt.sh" "$B" "$CFG" \
		>"$T/ckpt.out" 2>&1
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) ok "checkpoint: ${line#ok - }" ;;
		"not ok - "*) notok "checkpoint: ${line#not ok - }" ;;
		*) echo "# $line" ;;
		esac
	done <"$T/ckpt.out"
fi

finish
