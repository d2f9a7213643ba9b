#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every public function has its kernel-doc: list the DAMON_API declarations
# of include/udamon/damon.h (or the headers given) that are not right after
# a /** block naming them ("/** name() - summary" or " * name() - summary"
# on the block's first line).  Exit 1 if any is missing.
set -eu
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- include/udamon/damon.h
exec python3 - "$@" <<'PY'
import re
import sys

missing = 0
for path in sys.argv[1:]:
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        if not lines[i].startswith("DAMON_API"):
            i += 1
            continue
        # The declaration runs to its ';'; the name is the identifier
        # before the first '('.
        decl, j = lines[i], i
        while ";" not in lines[j]:
            j += 1
            decl += " " + lines[j].strip()
        m = re.search(r"(\w+)\s*\(", decl)
        name = m.group(1) if m else "?"
        # Walk back over the comment block that ends right above.
        k = i - 1
        ok = False
        if k >= 0 and lines[k].rstrip().endswith("*/"):
            while k >= 0 and not lines[k].lstrip().startswith("/*"):
                k -= 1
            block = lines[k:i]
            first = block[0].strip()
            if first.startswith("/**"):
                head = first[3:].strip() or (
                    block[1].strip().lstrip("*").strip() if len(block) > 1
                    else "")
                ok = head.startswith(name + "() - ")
        if not ok:
            print("%s:%d: %s() has no kernel-doc comment" %
                  (path, i + 1, name))
            missing += 1
        i = j + 1
print("%d public function(s) without kernel-doc" % missing)
sys.exit(1 if missing else 0)
PY
