#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guest of the 6.1 kernel (VM_KERNEL=6.1): no page idle tracking, no
# PAGEMAP_SCAN, so udamon's only access source for a process is the
# synchronous userfaultfd write-protect one (uffd-wp-sync).  `udamon
# record` launches a writer under the preload library (which falls back to
# a synchronous userfaultfd here); the recording must name that source,
# find the writer's hot 16 MiB block, and give a working set size within
# 10 % of 16 MiB.  Unlike the accessed bit, write-protect faults do not
# depend on TCG's soft TLB, so no busy loop is needed here.
t() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
# measured NAME COND: like t, but a skip when the guest was starved: the
# accuracy of DAMON cannot be judged from a handful of aggregations.
measured() {
	if [ -n "$starved" ]; then
		echo "ok - $1 # SKIP $starved"
	else
		t "$1" "$2"
	fi
}
starved=

t "this kernel has no page idle tracking" "[ ! -e /sys/kernel/mm/page_idle/bitmap ]"
t "this kernel has no DAMON" "[ ! -d /sys/kernel/mm/damon ]"

# 48 MiB written once, then a 16 MiB block written all the time.
cat >/tmp/sync-hot.cfg <<'CFG'
cold, 50331648
hot, 16777216

init
1000
cold, 0, 4096, 1
hot, 0, 4096, 1

hot
600000
hot, 0, 4096, 1
CFG
hot_sz=16777216

# The image keeps the preload library in /lib64, not next to udamon.
export UDAMON_PRELOAD=/lib64/libudamon-preload.so
# A guest starved by a loaded host (TCG) gets through few aggregations
# (4 instead of 100 in 10 s once), too few for a median: one more run.
for attempt in 1 2; do
	start=$(cut -d' ' -f1 /proc/uptime)
	udamon record -q --duration 10 -o /tmp/sync.rec -- \
		udamon-workload --print-regions /tmp/sync-hot.cfg \
		>/tmp/sync-wl.out 2>/tmp/sync-rec.err
	rc=$?
	echo "# udamon record: status $rc, $start .. $(cut -d' ' -f1 /proc/uptime) s uptime"
	sed 's/^/# record: /' /tmp/sync-rec.err | head -n 20
	[ $rc -eq 0 ] || break
	nr=$(udamon report info /tmp/sync.rec |
		sed -n 's/^snapshots: *\([0-9]*\),.*/\1/p')
	starved=
	[ "${nr:-0}" -ge 30 ] && break
	echo "# only ${nr:-0} snapshots: the guest was starved"
	starved="guest starved by a loaded host: ${nr:-0} of 100 aggregations in 10 s"
done
t "udamon record of a launched writer ends well" "[ $rc -eq 0 ]"
[ -s /tmp/sync.rec ] || exit 1
udamon report info /tmp/sync.rec | sed 's/^/# /'
src=$(udamon report info /tmp/sync.rec | sed -n 's/^source: *//p')
ended=$(udamon report info /tmp/sync.rec | sed -n 's/^ended: *//p')
t "the writer lived to the end of the recording ($ended)" \
	"[ \"\${ended%% *}\" = duration ]"
t "the access source is uffd-wp-sync ($src)" \
	"[ \"\$src\" = 'uffd-wp-sync (writes only)' ]"

# The writer's hot block, as the workload printed it.
range=$(sed -n 's/^region hot: //p' /tmp/sync-wl.out)
t "the workload printed its hot block ($range)" "[ -n '$range' ]"
[ -n "$range" ] || exit 1
hs=$((0x${range%-*}))
he=$((0x${range#*-}))
echo "# hot block $range ($(((he - hs) >> 20)) MiB)"

# Found: at two late snapshots, the regions with at least half the top
# nr_accesses cover >= 80 % of the block with at most half its size
# outside it.
found=0
for at in 6 9; do
	udamon report table --raw --at $at --top 1000 /tmp/sync.rec \
		>/tmp/sync-table.txt
	sed -n '1,6p' /tmp/sync-table.txt | sed 's/^/# /'
	top=0 in=0 out=0
	while read -r rank s e sz acc rest; do
		case "$rank" in [0-9]*) ;; *) continue ;; esac
		[ "$acc" -gt "$top" ] && top=$acc
	done </tmp/sync-table.txt
	# Only the first table (hottest) counts; regions are unique there.
	sed -n '/^# hottest/,/^# coldest/p' /tmp/sync-table.txt >/tmp/sync-hottest.txt
	while read -r rank s e sz acc rest; do
		case "$rank" in [0-9]*) ;; *) continue ;; esac
		[ "$top" -gt 0 ] && [ $((acc * 2)) -ge "$top" ] || continue
		s=$((s))
		e=$((e))
		lo=$s hi=$e
		[ $lo -lt $hs ] && lo=$hs
		[ $hi -gt $he ] && hi=$he
		ov=0
		[ $hi -gt $lo ] && ov=$((hi - lo))
		in=$((in + ov))
		out=$((out + (e - s) - ov))
	done </tmp/sync-hottest.txt
	echo "# at $at s: top nr_accesses $top, hot regions cover $((in >> 10)) KiB of the block, $((out >> 10)) KiB outside"
	if [ $((in * 10)) -ge $(((he - hs) * 8)) ] && [ $((out * 2)) -le $((he - hs)) ]; then
		found=$((found + 1))
	fi
done
measured "the hot block is found at 6 s and at 9 s ($found of 2)" "[ $found -eq 2 ]"

wss=$(udamon report wss --percentiles 50 --raw /tmp/sync.rec |
	awk '$1 == "50" { print $2 }')
echo "# median working set size: ${wss:-none} bytes (block: $hot_sz)"
measured "the working set size is within 10 % of 16 MiB" \
	"[ -n '$wss' ] && [ \$(( ($wss - $hot_sz) * 10 )) -le $hot_sz ] && [ \$(( ($hot_sz - $wss) * 10 )) -le $hot_sz ]"
exit 0
