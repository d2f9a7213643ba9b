#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Break single DAMON rules in a temporary copy of the tree and check that
# the core unit tests notice each break (see tests/mutation/run.py).
#
#   scripts/mutation-check.sh            every mutant
#   scripts/mutation-check.sh --list     what each mutant breaks
#   scripts/mutation-check.sh NAME...    only these
exec python3 "$(dirname "$0")/../tests/mutation/run.py" "$@"
