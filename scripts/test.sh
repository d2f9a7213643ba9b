#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's test command: install what is missing, then run every test.
# Ends with a line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
bash scripts/deps.sh || echo "udamon: could not install every package; tests needing them will fail or skip" >&2
exec bash scripts/run-tests.sh "$@"
