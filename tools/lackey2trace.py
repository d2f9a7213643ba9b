#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Convert valgrind lackey memory traces to udamon's page-access trace.

    valgrind --tool=lackey --trace-mem=yes --log-file=prog.lackey prog ...
    tools/lackey2trace.py prog.lackey -o prog.trace
    udamon record --workload prog.trace --virtual ...

lackey prints one line per access in program order: "I  addr,size" for an
instruction fetch, " L addr,size" a load, " S addr,size" a store and
" M addr,size" a modify (load then store).  It has no clock, so time is
modelled from the instruction count: instruction k runs at k * ns_per_instr
ns.  Accesses spanning a page boundary touch both pages.  Only the first
access of a page within a quantum is written (the sim bins accesses into
windows of quantum_ns anyway), which keeps the trace small; the result is
exact at page and quantum granularity.  Lines that are not accesses
(valgrind's "==PID==" messages, the program's own output) are skipped; an
access line that does not parse is an error naming the line.

Format written (docs/usage.md, "Page-access traces"):
    udamon-trace 1
    quantum_ns Q
    TIME_NS 0xADDR r|w
"""
import argparse
import re
import sys

PAGE = 4096
ADDR_LIMIT = 1 << 47
ACCESS = re.compile(r"^ ?([ILSM]) +([0-9a-fA-F]+),([0-9]+)\s*$")


def convert(inp, out, ns_per_instr, quantum_ns, data_only, name):
    instr = 0
    window = -1
    seen = {}
    lines = []
    nr_in = 0
    last_t = 0

    out.write("udamon-trace 1\n")
    out.write("# converted from valgrind lackey output by lackey2trace.py\n")
    out.write("# ns_per_instr %s\n" % ns_per_instr)
    out.write("quantum_ns %d\n" % quantum_ns)
    for lineno, line in enumerate(inp, 1):
        # "I  addr,size" or " K addr,size" (K: L, S or M), fast path first
        c0 = line[:1]
        if c0 == "I" and line[1:2] == " ":
            kind = "I"
        elif c0 == " " and line[1:2] in ("L", "S", "M"):
            kind = line[1]
        else:
            continue
        m = ACCESS.match(line)
        if not m:
            raise ValueError("%s:%d: malformed lackey access line: %r"
                             % (name, lineno, line.rstrip("\n")))
        addr = int(m.group(2), 16)
        size = int(m.group(3))
        if size <= 0 or addr + size > ADDR_LIMIT:
            raise ValueError("%s:%d: access 0x%x,%d outside 47-bit user "
                             "space" % (name, lineno, addr, size))
        if kind == "I":
            instr += 1
            if data_only:
                continue
        t = int(instr * ns_per_instr)
        last_t = t
        nr_in += 1
        w = t // quantum_ns
        if w != window:
            out.writelines(lines)
            lines = []
            seen = {}
            window = w
        rw = "w" if kind in "SM" else "r"
        for pg in range(addr // PAGE, (addr + size - 1) // PAGE + 1):
            prev = seen.get(pg)
            if prev == "w" or prev == rw:
                continue
            if prev is None and pg * PAGE < PAGE:
                continue  # the zero page cannot be replayed
            seen[pg] = rw
            lines.append("%d 0x%x %s\n" % (t, pg * PAGE, rw))
    out.writelines(lines)
    if not nr_in:
        raise ValueError("%s: no lackey access lines (was it run with "
                         "--tool=lackey --trace-mem=yes?)" % name)
    return nr_in, last_t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", help="lackey output ('-' for stdin)")
    ap.add_argument("-o", "--output", default="-",
                    help="trace file to write (default stdout)")
    ap.add_argument("--ns-per-instr", type=float, default=1.0,
                    help="modelled ns per guest instruction (default 1)")
    ap.add_argument("--quantum-ns", type=int, default=1000000,
                    help="trace window length in ns (default 1000000)")
    ap.add_argument("--data-only", action="store_true",
                    help="drop instruction fetches (keep loads/stores)")
    a = ap.parse_args()
    if a.ns_per_instr <= 0:
        ap.error("--ns-per-instr must be above 0")
    if not 1000 <= a.quantum_ns <= 10**10:
        ap.error("--quantum-ns must be within 1000 and 10^10")
    inp = sys.stdin if a.input == "-" else open(a.input, errors="replace")
    out = sys.stdout if a.output == "-" else open(a.output, "w")
    try:
        n, last = convert(inp, out, a.ns_per_instr, a.quantum_ns,
                          a.data_only, a.input)
    except ValueError as e:
        print("lackey2trace: %s" % e, file=sys.stderr)
        return 1
    print("lackey2trace: %d accesses, %.3f s modelled" % (n, last / 1e9),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
