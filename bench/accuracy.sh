#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# DAMON's accuracy on real programs: trace a few programs available here
# with valgrind's lackey (exact page accesses), convert the traces with
# tools/lackey2trace.py and replay them in the sim with bench_replay,
# which prints working-set error and hot-set precision/recall at default
# attributes, with interval auto-tuning and with other parameter sets a
# user could pick (bench/bench_replay.c, variants[]).  Measures, never
# asserts.
#
#   bench/accuracy.sh [OUTDIR]     (B=build dir, default build;
#                                   NS_PER_INSTR, default 200;
#                                   VARIANTS=name,name: only these rows;
#                                   REUSE_TRACES=1: keep traces already
#                                   in OUTDIR instead of tracing again)
#
# The traces (a few MB each) go to OUTDIR (default: a temporary directory,
# removed afterwards); nothing is written to the source tree.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
B=${B:-build}
case "$B" in /*) ;; *) B="$top/$B" ;; esac
NS=${NS_PER_INSTR:-200}
for tool in valgrind python3; do
	command -v "$tool" >/dev/null || { echo "bench/accuracy.sh: needs $tool" >&2; exit 3; }
done
[ -x "$B/bench/bench_replay" ] || make -C "$top" -s B="$B" "$B/bench/bench_replay"
if [ $# -ge 1 ]; then
	out=$1
	mkdir -p "$out"
else
	out=$(mktemp -d /tmp/udamon-accuracy.XXXXXX)
	trap 'rm -rf "$out"' EXIT
fi
py=$(command -v python3.11 || command -v python3)
# Resolve wrappers (pyenv shims): lackey does not follow exec'd children.
py=$("$py" -c 'import sys; print(sys.executable)')

# trace NAME CMD...: lackey's output goes through fd 3 into the converter,
# the program's own output to /dev/null.
trace() {
	local name=$1
	shift
	if [ "${REUSE_TRACES:-0}" = 1 ] && [ -s "$out/$name.trace" ]; then
		echo "# reusing $out/$name.trace" >&2
		traces+=("$out/$name.trace")
		return
	fi
	echo "# tracing $name: $*" >&2
	{ valgrind --tool=lackey --trace-mem=yes --log-fd=3 "$@" \
		3>&1 >/dev/null 2>&1; } |
		python3 "$top/tools/lackey2trace.py" - --ns-per-instr "$NS" \
			-o "$out/$name.trace"
	traces+=("$out/$name.trace")
}

traces=()
trace python "$py" -S -c '
d = {}
for i in range(30000):
    d.setdefault(i % 3000, []).append(i * i)
s = sorted((len(v), k) for k, v in d.items())
'
"$py" -c 'import sys
for i in range(6000): sys.stdout.write("%d line %d of the input\n" % (i * 7919 % 100003, i))' \
	>"$out/xz.in"
trace xz xz -6 -c -T1 "$out/xz.in"
if command -v sqlite3 >/dev/null; then
	trace sqlite3 sqlite3 :memory: "create table t(a, b);
with recursive c(x) as (select 1 union all select x + 1 from c limit 3000)
insert into t select x, hex(randomblob(16)) from c;
create index i on t(b);
select count(*), max(a) from t where b like 'A%';"
else
	echo "# sqlite3 not installed: skipped" >&2
fi
echo "# $(date -u +%Y-%m-%d) $(uname -m), ns per instruction $NS"
ls -l "${traces[@]}" | awk '{print "# " $5 " bytes " $9}'
"$B/bench/bench_replay" ${VARIANTS:+-v "$VARIANTS"} "${traces[@]}"
