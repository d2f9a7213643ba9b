#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# udamon start/status/pause/resume/tune/stop against a real udamond, run by
# run.sh inside a private mount namespace (unshare -m): udamond mounts its
# tree on a temporary directory and is stopped by its pid at the end.
# Prints "ok - NAME" / "not ok - NAME" lines that run.sh numbers.
#
#   tree.sh BUILD_DIR CONFIG
set -u
B=$1
CFG=$2
U="$B/bin/udamon"
M=$(mktemp -d /tmp/udamon-cli-tree.XXXXXX)
LOG=$(mktemp /tmp/udamon-cli-tree-log.XXXXXX)
A="$M/admin/kdamonds"

"$B/bin/udamond" -f -m "$M" --log "$LOG" &
dpid=$!
spin=""
cleanup() {
	[ -n "$spin" ] && kill -KILL "$spin" 2>/dev/null
	kill "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	umount -l "$M" 2>/dev/null
	rmdir "$M" 2>/dev/null
	rm -f "$LOG"
}
trap cleanup EXIT
for _ in $(seq 100); do
	[ -e "$A/nr_kdamonds" ] && break
	sleep 0.05
done
if [ ! -e "$A/nr_kdamonds" ]; then
	echo "not ok - udamond mounts its tree"
	sed 's/^/# /' "$LOG"
	exit 0
fi

# t NAME RC PATTERN CMD...
t() {
	local name=$1 want=$2 pat=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ] &&
		{ [ -z "$pat" ] || printf '%s' "$out" | grep -Eq -- "$pat"; }; then
		echo "ok - $name"
	else
		echo "not ok - $name"
		printf 'exit %s, wanted %s, /%s/:\n%s\n' "$rc" "$want" "$pat" \
			"$out" | sed 's/^/# /'
	fi
}
# file NAME PATH VALUE
file() {
	if [ "$(cat "$2" 2>&1)" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		echo "# $2: '$(cat "$2" 2>&1)', wanted '$3'"
	fi
}

t "start a sim context in udamond" 0 "kdamond 0: on \(sim\)" \
	"$U" start --tree "$M" --ops sim --workload "$CFG" --sample-us 1000 \
	--aggr-us 20000 --damos stat,nr_accesses=1-max
file "start wrote sample_us" \
	"$A/0/contexts/0/monitoring_attrs/intervals/sample_us" 1000
file "start wrote the scheme's action" "$A/0/contexts/0/schemes/0/action" stat
file "start wrote the scheme's nr_accesses min" \
	"$A/0/contexts/0/schemes/0/access_pattern/nr_accesses/min" 1
t "start again is refused" 1 "kdamond 0 already runs" \
	"$U" start --tree "$M" --ops sim --workload "$CFG"
sleep 0.3
t "status shows the running context" 0 \
	"kdamond 0: on .*context 0: sim, access source: sim, monitoring" \
	bash -c "'$U' status --tree '$M' | tr '\n' ' '"
t "status shows the scheme" 0 "scheme 0: stat; tried [0-9]+ regions" \
	"$U" status --tree "$M"
json_check() { # NAME PYTHON-EXPRESSION-ON-d
	local out
	out=$("$U" status --tree "$M" --json 2>&1)
	if printf '%s' "$out" | python3 -c "import json, sys; d = json.load(sys.stdin); sys.exit(0 if ($2) else 1)"; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		printf '%s\n' "$out" | head -n 30 | sed 's/^/# /'
	fi
}
if command -v python3 >/dev/null; then
	json_check "status --json: kdamond 0 on, sim, not paused, its scheme" \
		"d['tree'] == '$M' and d['kdamonds'][0]['state'] == 'on' and d['kdamonds'][0]['pid'] > 0 and d['kdamonds'][0]['contexts'][0]['operations'] == 'sim' and d['kdamonds'][0]['contexts'][0]['pause'] is False and d['kdamonds'][0]['contexts'][0]['intervals']['sample_us'] == 1000 and d['kdamonds'][0]['contexts'][0]['schemes'][0]['action'] == 'stat' and d['kdamonds'][0]['contexts'][0]['schemes'][0]['stats']['nr_tried'] >= 0"
fi
t "pause" 0 "kdamond 0: paused" "$U" pause --tree "$M"
command -v python3 >/dev/null &&
	json_check "status --json says paused" \
		"d['kdamonds'][0]['contexts'][0]['pause'] is True"
file "pause wrote Y" "$A/0/contexts/0/pause" Y
t "status shows PAUSED" 0 "context 0: sim.*PAUSED" "$U" status --tree "$M"
t "resume" 0 "kdamond 0: resumed" "$U" resume --tree "$M"
file "resume wrote N" "$A/0/contexts/0/pause" N
t "status shows monitoring again" 0 "context 0: sim.*monitoring" \
	"$U" status --tree "$M"
t "tune the aggregation interval online" 0 "kdamond 0: committed" \
	"$U" tune --tree "$M" --aggr-us 40000
file "tune wrote aggr_us" \
	"$A/0/contexts/0/monitoring_attrs/intervals/aggr_us" 40000
t "tune with min above max is refused before writing" 2 \
	"--min-nr-regions \(50\) must not be above" \
	"$U" tune --tree "$M" --min-nr-regions 50 --max-nr-regions 20
t "tune a missing kdamond" 1 "--kdamond: kdamond 5 does not exist" \
	"$U" tune --tree "$M" --kdamond 5 --aggr-us 40000
t "stop" 0 "kdamond 0: off" "$U" stop --tree "$M"
file "state is off" "$A/0/state" off
t "pause a stopped kdamond" 1 "kdamond 0 is not running" \
	"$U" pause --tree "$M"
t "stop a stopped kdamond" 1 "kdamond 0 is not running" \
	"$U" stop --tree "$M"
t "start a missing pid names the file and errno" 1 \
	"writing 'on' to .*/state failed: Invalid argument" \
	"$U" start --tree "$M" --pid 999999999
t "start a missing pid says why" 1 \
	"udamond says: on: pid_target 999999999: no such process" \
	"$U" start --tree "$M" --pid 999999999
file "state_error keeps the reason" "$A/0/udamon/state_error" \
	"on: pid_target 999999999: no such process (Invalid argument)"
t "status of a stopped kdamond" 0 "kdamond 0: off" "$U" status --tree "$M"

# A zombie (exited, not yet waited for) is a valid target until reaped;
# sleep execs over the subshell, which leaves its child unwaited.
( sleep 0.1 & exec sleep 3 ) &
parent=$!
zombie=""
for _ in $(seq 50); do
	zombie=$(ps -o pid=,stat= --ppid "$parent" 2>/dev/null |
		awk '$2 ~ /^Z/ { print $1 }')
	[ -n "$zombie" ] && break
	sleep 0.05
done
if [ -z "$zombie" ]; then
	echo "not ok - a zombie child to monitor"
else
	t "start on an unreaped child is accepted" 0 "kdamond 0: on" \
		"$U" start --tree "$M" --pid "$zombie" --update-us 100000
	file "state_error is cleared by a success" "$A/0/udamon/state_error" ""
	wait "$parent"
	for _ in $(seq 100); do
		[ "$(cat "$A/0/state")" = off ] && break
		sleep 0.05
	done
	file "the kdamond stops once the child is reaped" "$A/0/state" off
fi

# Writes-only interlock: pageout on the uffd-wp source needs an opt-in.
sleep 30 &
live=$!
if grep -q "writes only" "$A/0/contexts/0/udamon/access_source" 2>/dev/null ||
	[ "$(cat "$A/0/contexts/0/operations")" = vaddr ]; then
	t "pageout on writes-only is refused with the reason" 1 \
		"udamond says: on: .*pageout acts on cold memory.*writes only" \
		"$U" start --tree "$M" --pid "$live" --damos pageout
	t "pageout on writes-only with the opt-in" 0 "kdamond 0: on" \
		"$U" start --tree "$M" --pid "$live" --damos pageout \
		--allow-cold-on-writes-only
	"$U" stop --tree "$M" >/dev/null 2>&1
fi
kill "$live"
wait "$live" 2>/dev/null

# The automatic pause is visible: udamon/auto_paused and udamon status
# follow a real process stopped (SIGSTOP) and continued (SIGCONT).
wait_value() { # PATH VALUE: poll for up to 20 s (the machine may be busy)
	for _ in $(seq 400); do
		[ "$(cat "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
bash -c 'while :; do :; done' &
spin=$!
AP="$A/0/contexts/0/udamon/auto_paused"
t "start --auto-pause on a running process" 0 "kdamond 0: on \(vaddr, auto pause\)" \
	"$U" start --tree "$M" --pid "$spin" --auto-pause --sample-us 1000 \
	--aggr-us 20000
file "auto_paused reads N while the target runs" "$AP" N
t "status: monitoring, auto pause on" 0 \
	"context 0: vaddr, .*, monitoring; auto pause on" "$U" status --tree "$M"
kill -STOP "$spin"
wait_value "$AP" Y
file "auto_paused reads Y while the target is stopped" "$AP" Y
t "status shows AUTO-PAUSED while the target is stopped" 0 \
	"context 0: vaddr, .*, AUTO-PAUSED \(targets stopped\); auto pause on" \
	"$U" status --tree "$M"
command -v python3 >/dev/null &&
	json_check "status --json: auto_paused true, the user's pause false" \
		"d['kdamonds'][0]['contexts'][0]['auto_paused'] is True and d['kdamonds'][0]['contexts'][0]['auto_pause'] is True and d['kdamonds'][0]['contexts'][0]['pause'] is False"
file "the automatic pause leaves the pause file alone" \
	"$A/0/contexts/0/pause" N
kill -CONT "$spin"
wait_value "$AP" N
file "auto_paused reads N after SIGCONT" "$AP" N
t "status shows monitoring after SIGCONT" 0 \
	"context 0: vaddr, .*, monitoring; auto pause on" "$U" status --tree "$M"
command -v python3 >/dev/null &&
	json_check "status --json: auto_paused false after SIGCONT" \
		"d['kdamonds'][0]['contexts'][0]['auto_paused'] is False"
"$U" stop --tree "$M" >/dev/null 2>&1
file "auto_paused reads N once the kdamond is off" "$AP" N
kill -KILL "$spin"
wait "$spin" 2>/dev/null
spin=""
exit 0
