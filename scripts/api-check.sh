#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The CLI and the tools use the library only through what it exports.
# They are linked with the static archive, which would let them call any
# internal function, so check the symbols: every library symbol their
# objects reference must be exported by libudamon.so (DAMON_API), and no
# source of theirs includes a header of the library's internals (src/core,
# src/ops, src/sys).  Needs a build: B=build by default.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
bad=0

for f in "$B/libudamon.so" "$B/libudamon.a"; do
	[ -f "$f" ] || { echo "$f missing: build first (make B=$B)"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$B/libudamon.so" | awk '{print $3}' | sort -u \
	>"$tmp/exported"
nm --defined-only "$B/libudamon.a" 2>/dev/null |
	awk 'NF == 3 && $2 ~ /^[TDBRVW]$/ {print $3}' | sort -u >"$tmp/defined"

for dir in src/cli tools/demo tools/workload; do
	objs=$(ls "$B/obj/$dir"/*.o 2>/dev/null || true)
	if [ -z "$objs" ]; then
		echo "$dir: no objects in $B/obj/$dir: build first"
		bad=1
		continue
	fi
	# shellcheck disable=SC2086
	nm -u $objs | awk '{print $2}' | sort -u |
		comm -12 - "$tmp/defined" | comm -23 - "$tmp/exported" \
			>"$tmp/private"
	while read -r sym; do
		echo "$dir uses $sym, which libudamon.so does not export"
		bad=1
	done <"$tmp/private"
	if grep -n '#include "\(core\|ops\|sys\)/' "$dir"/*.[ch]; then
		echo "$dir includes a header of the library's internals"
		bad=1
	fi
done
[ $bad -eq 0 ] && echo "the CLI and tools use exported library symbols only"
exit $bad
