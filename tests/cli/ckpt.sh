#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# udamon checkpoint/restore and udamond --checkpoint-dir against a real
# udamond, run by run.sh inside a private mount namespace (unshare -m).
# The learned state is compared through kdamonds/0/udamon/dump, taken
# while paused: regions (ranges, nr_accesses, ages), passed samples and
# scheme stats must be the same before the save and after the restore.
# Prints "ok - NAME" / "not ok - NAME" lines that run.sh numbers.
#
#   ckpt.sh BUILD_DIR CONFIG
set -u
B=$1
CFG=$2
U="$B/bin/udamon"
M=$(mktemp -d /tmp/udamon-cli-ckpt.XXXXXX)
D=$(mktemp -d /tmp/udamon-cli-ckpt-files.XXXXXX)
LOG="$D/udamond.log"
A="$M/admin/kdamonds"
dpid=""

start_udamond() {
	"$B/bin/udamond" -f -m "$M" --log "$LOG" "$@" &
	dpid=$!
	for _ in $(seq 100); do
		[ -e "$A/nr_kdamonds" ] && return 0
		sleep 0.05
	done
	echo "not ok - udamond mounts its tree"
	sed 's/^/# /' "$LOG"
	return 1
}
stop_udamond() {
	[ -n "$dpid" ] || return 0
	kill "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	dpid=""
	umount -l "$M" 2>/dev/null
}
cleanup() {
	stop_udamond
	rmdir "$M" 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT

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

# learned FILE: the learned part of the dump, one line per item.
learned() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["contexts"][0]
print("psi", d["passed_sample_intervals"])
for t in d["adaptive_targets"]:
    for r in t["regions_list"]:
        print(r["ar"]["start"], r["ar"]["end"], r["nr_accesses"],
              r["nr_accesses_bp"], r["last_nr_accesses"], r["age"])
for s in d["schemes"]:
    print("stat", json.dumps(s["stat"], sort_keys=True))
' "$1"
}

# same NAME A B: the learned states are identical (and not empty).
same() {
	if [ -s "$2" ] && cmp -s "$2" "$3" && [ "$(wc -l <"$2")" -gt 3 ]; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		diff "$2" "$3" | head -5 | sed 's/^/# /'
	fi
}

PARAMS=(--ops sim --workload "$CFG" --sample-us 1000 --aggr-us 20000
	--damos stat,nr_accesses=1-max)

start_udamond || exit 0
t "start a sim context" 0 "kdamond 0: on" "$U" start --tree "$M" "${PARAMS[@]}"
sleep 0.5
t "pause it" 0 "paused" "$U" pause --tree "$M"
cat "$A/0/udamon/dump" >"$D/before.json"
learned "$D/before.json" >"$D/before.txt"
t "checkpoint while paused" 0 "kdamond 0: saved to $D/a.ckpt" \
	"$U" checkpoint --tree "$M" "$D/a.ckpt"
t "checkpoint says where it saved" 0 "saved $D/a.ckpt" cat "$A/0/udamon/checkpoint"
t "stop" 0 "off" "$U" stop --tree "$M"
t "checkpoint of a stopped kdamond is refused" 1 "kdamond 0 is not running" \
	"$U" checkpoint --tree "$M" "$D/b.ckpt"
t "start again restoring the checkpoint" 0 "on \(sim, paused, restored\)" \
	"$U" start --tree "$M" "${PARAMS[@]}" --pause --restore "$D/a.ckpt"
cat "$A/0/udamon/dump" >"$D/after.json"
learned "$D/after.json" >"$D/after.txt"
same "the restored context has the saved regions, ages and stats" \
	"$D/before.txt" "$D/after.txt"
t "resume the restored context" 0 "resumed" "$U" resume --tree "$M"
sleep 0.3
cat "$A/0/udamon/dump" >"$D/later.json"
psi0=$(learned "$D/before.json" | awk '/^psi/ { print $2 }')
psi1=$(learned "$D/later.json" | awk '/^psi/ { print $2 }')
if [ -n "$psi1" ] && [ "$psi1" -gt "$psi0" ]; then
	echo "ok - it continues counting from the saved sample ($psi0 -> $psi1)"
else
	echo "not ok - it continues counting from the saved sample ($psi0 -> $psi1)"
fi

# Refusals change nothing that runs.
"$U" pause --tree "$M" >/dev/null
cat "$A/0/udamon/dump" >"$D/r0.json"
learned "$D/r0.json" >"$D/r0.txt"
cp "$D/a.ckpt" "$D/bad.ckpt"
printf '\xff' | dd of="$D/bad.ckpt" bs=1 seek=200 conv=notrunc 2>/dev/null
t "a corrupted checkpoint is refused with the reason" 1 \
	"udamond says: checkpoint restore: .*checksum mismatch" \
	"$U" restore --tree "$M" "$D/bad.ckpt"
head -c 100 "$D/a.ckpt" >"$D/short.ckpt"
t "a truncated checkpoint is refused with the reason" 1 \
	"udamond says: checkpoint restore: .*truncated" \
	"$U" restore --tree "$M" "$D/short.ckpt"
t "a missing checkpoint is refused" 1 "No such file" \
	"$U" restore --tree "$M" "$D/none.ckpt"
cat "$A/0/udamon/dump" >"$D/r1.json"
learned "$D/r1.json" >"$D/r1.txt"
same "refused restores changed nothing" "$D/r0.txt" "$D/r1.txt"
t "restore onto a running context" 0 "kdamond 0: restored from" \
	"$U" restore --tree "$M" "$D/a.ckpt"
cat "$A/0/udamon/dump" >"$D/r2.json"
learned "$D/r2.json" >"$D/r2.txt"
same "restoring onto the running context brings the saved state back" \
	"$D/before.txt" "$D/r2.txt"
"$U" stop --tree "$M" >/dev/null
t "a checkpoint of another configuration is refused at start" 1 \
	"udamond says: on: .*checkpoint has 1 schemes, the context 0" \
	"$U" start --tree "$M" --ops sim --workload "$CFG" --restore "$D/a.ckpt"
t "the refused start started nothing" 0 "^off$" cat "$A/0/state"
stop_udamond

# udamond --checkpoint-dir: save at shutdown, restore at the next start.
mkdir -p "$D/dir"
start_udamond --checkpoint-dir "$D/dir" || exit 0
"$U" start --tree "$M" "${PARAMS[@]}" >/dev/null
sleep 0.4
"$U" pause --tree "$M" >/dev/null
cat "$A/0/udamon/dump" >"$D/s0.json"
learned "$D/s0.json" >"$D/s0.txt"
stop_udamond
if [ -s "$D/dir/kdamond0.ckpt" ]; then
	echo "ok - udamond --checkpoint-dir saves every kdamond at shutdown"
else
	echo "not ok - udamond --checkpoint-dir saves every kdamond at shutdown"
	sed 's/^/# /' "$LOG"
fi
start_udamond --checkpoint-dir "$D/dir" || exit 0
t "the same configuration starts again" 0 "on" \
	"$U" start --tree "$M" "${PARAMS[@]}" --pause
cat "$A/0/udamon/dump" >"$D/s1.json"
learned "$D/s1.json" >"$D/s1.txt"
same "udamond restored the kdamond's checkpoint at its start" \
	"$D/s0.txt" "$D/s1.txt"
stop_udamond
exit 0
