#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Integration tests of udamond and `udamon ns`: a real FUSE mount of the
# DAMON tree in a private mount namespace (never the kernel's tree).
# Prints TAP and a final "# N passed, N failed"; exit status 1 on failure.
#
#   tests/integration/run.sh [CASE...]      (B=build dir, default build)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
B=${B:-build}
case "$B" in /*) ;; *) B="$top/$B" ;; esac
udamond="$B/bin/udamond"
udamon="$B/bin/udamon"

skip_all() {
	echo "TAP version 13"
	echo "1..0 # SKIP $1"
	echo "# 0 passed, 0 failed, 1 skipped"
	exit 0
}

[ -c /dev/fuse ] || skip_all "no /dev/fuse"
command -v python3 >/dev/null || skip_all "no python3"
[ -x "$udamond" ] && [ -x "$udamon" ] || skip_all "$udamond or $udamon not built"
unshare -m --propagation private true 2>/dev/null ||
	skip_all "cannot make a private mount namespace (needs root)"

# The fuzzers run in tests/fuzz/run.sh (step 7 of scripts/run-tests.sh).
cd "$here" || exit 1
exec unshare -m --propagation private python3 "$here/test_tree.py" \
	--udamond "$udamond" --udamon "$udamon" --configs "$top/configs" "$@"
