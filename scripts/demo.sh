#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's main job: install what is missing, build, monitor the bundled
# workload (the stairs workload, simulated deterministically by the `sim`
# operations set), pause and resume it online, and show what DAMON saw.
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh
make -j"$(nproc 2>/dev/null || echo 2)" all >/dev/null
exec build/bin/udamon-demo "${1:-configs/stairs_30secs.cfg}"
