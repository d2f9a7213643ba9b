#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Mutation check of the core unit tests.

Each mutant breaks one DAMON rule (or brings back one fixed bug) in a copy
of the tree: an exact text replacement that must match exactly once, so a
mutant that no longer applies is reported instead of silently passing.
For each mutant the copy is rebuilt (only the changed object recompiles)
and the core unit tests run; the mutant is "killed" when at least one test
case fails.  A surviving mutant means the suite does not prove that rule.

    scripts/mutation-check.sh [--list] [--all] [NAME...]

test_rules runs first; the other programs run only for a mutant it does
not kill, unless --all asks for every program's verdict (slower: some
older tests notice a break only through a case timeout).

Exit status: 0 when every selected mutant is killed and the unmutated copy
passes, 1 otherwise.  Results go to stdout, one TAP line per mutant.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

TESTS = ["test_rules", "test_core", "test_damos", "test_probes"]
CASE_TIMEOUT = 240  # whole program; each TAP case has its own 60 s limit

# name, file, old text, new text, what breaks
MUTANTS = [
    ("split-past-half-max", "src/core/regions.c",
     "if (nr_regions > ctx->attrs.max_nr_regions / 2)\n\t\treturn;",
     "if (nr_regions > ctx->attrs.max_nr_regions)\n\t\treturn;",
     "splitting continues past max_nr_regions / 2 regions"),
    ("pattern-raw-nr-accesses", "src/core/damos-quota.c",
     "unsigned int nr_accesses = r->nr_accesses_bp / 10000;",
     "unsigned int nr_accesses = r->nr_accesses;",
     "DAMOS pattern reads the raw count, not the moving sum"),
    ("reset-no-bp-resync", "src/core/regions.c",
     "\t\t\tr->nr_accesses_bp = r->nr_accesses * 10000;\n"
     "\t\t\tr->last_nr_accesses = r->nr_accesses;\n",
     "\t\t\tr->last_nr_accesses = r->nr_accesses;\n",
     "the aggregation reset does not resync nr_accesses_bp"),
    ("commit-no-maybe-corrupted", "src/core/core.c",
     "\tdst->maybe_corrupted = true;\n"
     "\tif (!damon_is_power_of_2(src->min_region_sz))",
     "\tif (!damon_is_power_of_2(src->min_region_sz))",
     "a failed live commit does not set maybe_corrupted"),
    ("resume-new-iteration", "src/core/kdamond.c",
     "\t\t/* Resumed: the same iteration continues with DAMOS. */\n"
     "\t\tctx->in_pause_loop = false;\n",
     "\t\t/* Resumed: the same iteration continues with DAMOS. */\n"
     "\t\tctx->in_pause_loop = false;\n\t\treturn 0;\n",
     "resume starts a new iteration instead of finishing the paused one"),
    ("paused-ignores-invalid-targets", "src/core/kdamond.c",
     "\tif (udamon__need_stop(ctx) || ctx->maybe_corrupted)\n\t\treturn 1;\n"
     "\treturn 0;\n}\n\n/* Steps 9-11",
     "\tif (__atomic_load_n(&ctx->stop_requested, __ATOMIC_RELAXED) ||\n"
     "\t    ctx->maybe_corrupted)\n\t\treturn 1;\n"
     "\treturn 0;\n}\n\n/* Steps 9-11",
     "a paused context does not stop when every target becomes invalid"),
    ("commit-no-coalesce", "src/core/core.c",
     "if (i && ranges[i - 1].end == r->ar.start)",
     "if (0 && i && ranges[i - 1].end == r->ar.start)",
     "commit does not coalesce contiguous source regions"),
    ("set-regions-no-align", "src/core/regions.c",
     "\t\t\tfirst->ar.start =\n"
     "\t\t\t\tDAMON_ALIGN_DOWN(range->start, min_region_sz);\n"
     "\t\t\tlast->ar.end = DAMON_ALIGN(range->end, min_region_sz);",
     "\t\t\tfirst->ar.start = range->start;\n"
     "\t\t\tlast->ar.end = range->end;",
     "damon_set_regions does not align extended regions"),
    ("set-regions-no-align-new", "src/core/regions.c",
     "\t\t\tnewr = damon_new_region(\n"
     "\t\t\t\tDAMON_ALIGN_DOWN(range->start, min_region_sz),\n"
     "\t\t\t\tDAMON_ALIGN(range->end, min_region_sz));",
     "\t\t\tnewr = damon_new_region(range->start, range->end);",
     "damon_set_regions does not align new regions"),
    # Rules the issue found caught only incidentally.
    ("split-never-three", "src/core/regions.c",
     "\t\tnr_subs = 3;", "\t\tnr_subs = 2;",
     "the three-way split never happens"),
    ("merge-threshold-exclusive", "src/core/regions.c",
     "damon_diff(damon_merge_score(ctx, prev, false), cur) <=",
     "damon_diff(damon_merge_score(ctx, prev, false), cur) <",
     "merge needs a difference below the threshold, not at most it"),
    ("age-no-reset-on-zero", "src/core/regions.c",
     "\t\t\telse if ((cur == 0) != (last == 0))\n\t\t\t\tr->age = 0;\n",
     "",
     "age is not reset when exactly one of cur, last is zero"),
    ("age-no-reset-on-change", "src/core/regions.c",
     "\t\t\tif (damon_diff(cur, last) > thres)\n\t\t\t\tr->age = 0;\n"
     "\t\t\telse if",
     "\t\t\tif (0)\n\t\t\t\tr->age = 0;\n\t\t\telse if",
     "age is not reset when the count changed beyond the threshold"),
    ("paused-keeps-walks", "src/core/kdamond.c",
     "\tdamos_walk_cancel(ctx);\n"
     "\tudamon__sleep_us(ctx, ctx->attrs.sample_interval, true);",
     "\tudamon__sleep_us(ctx, ctx->attrs.sample_interval, true);",
     "a paused kdamond does not cancel walks"),
    # Bugs fixed with these tests: bringing them back must fail.
    ("paused-lost-wakeup", "src/core/core.c",
     "(damon_has_waiter(ctx) || ctx->call_seq != call_seq)",
     "((0 && damon_has_waiter(ctx)) || ctx->call_seq != call_seq)",
     "a paused kdamond sleeps a whole interval on a call queued before"),
    ("min-nr-regions-failed-split", "src/core/regions.c",
     "\t\t\t\tif (damon_split_region_at(t, r, max_region_sz))\n"
     "\t\t\t\t\tbreak;\n",
     "\t\t\t\tdamon_split_region_at(t, r, max_region_sz);\n",
     "min_nr_regions walks onto the list head after a failed split"),
    ("filter-failed-split-matches", "src/core/damos.c",
     "\t\tif (damon_split_region_at(t, r, end - r->ar.start))\n"
     "\t\t\treturn -ENOMEM;\n",
     "\t\tdamon_split_region_at(t, r, end - r->ar.start);\n",
     "the addr filter answers match for a region it could not cut"),
]


def sh(cmd, cwd, timeout=None):
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)


def build(tree):
    targets = ["build/tests/" + t for t in TESTS]
    res = sh(["make", "-j2", "B=build"] + targets, tree)
    return res.returncode == 0, res.stdout


def run_tests(tree, every=True):
    """Return the names of the failing cases (or programs).  Unless
    @every, stop after the first program with a failure."""
    failed = []
    for t in TESTS:
        if failed and not every:
            break
        try:
            res = sh(["build/tests/" + t], tree, timeout=CASE_TIMEOUT)
            out, rc = res.stdout, res.returncode
        except subprocess.TimeoutExpired:
            failed.append(t + " (timeout)")
            continue
        bad = [l.split(" - ", 1)[-1] for l in out.splitlines()
               if l.startswith("not ok")]
        if bad:
            failed += [t + ":" + b for b in bad]
        elif rc != 0:
            failed.append("%s (exit %d)" % (t, rc))
    return failed


def copy_tree(src, dst):
    files = sh(["git", "ls-files", "-co", "--exclude-standard", "-z"], src)
    os.makedirs(dst)
    for f in files.stdout.split("\0"):
        if not f or not os.path.isfile(os.path.join(src, f)):
            continue
        os.makedirs(os.path.join(dst, os.path.dirname(f)), exist_ok=True)
        shutil.copy2(os.path.join(src, f), os.path.join(dst, f))


def mutate(tree, path, old, new):
    p = os.path.join(tree, path)
    with open(p) as fh:
        text = fh.read()
    n = text.count(old)
    if n != 1:
        return "the text to break occurs %d times in %s" % (n, path)
    with open(p, "w") as fh:
        fh.write(text.replace(old, new))
    return None


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    if "--list" in argv:
        for m in MUTANTS:
            print("%-32s %s" % (m[0], m[4]))
        return 0
    every = "--all" in argv
    argv = [a for a in argv if a != "--all"]
    chosen = [m for m in MUTANTS if not argv or m[0] in argv]
    if argv and len(chosen) != len(argv):
        print("unknown mutant; see --list", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="udamon-mutants.")
    ok = True
    try:
        base = os.path.join(work, "base")
        copy_tree(root, base)
        built, log = build(base)
        if not built:
            print("not ok - unmutated build\n" + log[-3000:])
            return 1
        failing = run_tests(base)
        if failing:
            print("not ok - unmutated tests fail: " + ", ".join(failing))
            return 1
        print("1..%d" % len(chosen))
        for i, (name, path, old, new, what) in enumerate(chosen, 1):
            tree = os.path.join(work, name)
            shutil.copytree(base, tree, symlinks=True)
            # Make the mutated file newer than its object for make.
            t0 = time.time()
            err = mutate(tree, path, old, new)
            if err:
                ok = False
                print("not ok %d - %s: mutant does not apply: %s"
                      % (i, name, err))
                continue
            os.utime(os.path.join(tree, path), (t0 + 2, t0 + 2))
            built, log = build(tree)
            if not built:
                ok = False
                print("not ok %d - %s: mutant does not build\n%s"
                      % (i, name, log[-2000:]))
                continue
            failing = run_tests(tree, every)
            if failing:
                print("ok %d - %s killed (%s) by %s"
                      % (i, name, what, ", ".join(failing)))
            else:
                ok = False
                print("not ok %d - %s SURVIVED (%s)" % (i, name, what))
            sys.stdout.flush()
            shutil.rmtree(tree, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
