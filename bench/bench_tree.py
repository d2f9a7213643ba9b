#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Latency of udamond's DAMON tree over FUSE: reading and writing one file,
and the `commit` and `update_schemes_stats` round trips against a running
sim kdamond.  Prints a table (microseconds).  Runs its own udamond on a
temporary mount point in a private mount namespace:

    unshare -m --propagation private python3 bench/bench_tree.py \\
        --udamond build/bin/udamond [--n 2000]
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '../tests/integration'))
from udamon_test import Daemon  # noqa: E402


def measure(fn, n):
    samples = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / 1000)
    samples.sort()
    return (statistics.mean(samples), samples[len(samples) // 2],
            samples[min(len(samples) - 1, int(len(samples) * 0.99))])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--udamond', default='build/bin/udamond')
    ap.add_argument('--configs', default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '../configs'))
    ap.add_argument('--n', type=int, default=2000)
    args = ap.parse_args()
    with Daemon(os.path.abspath(args.udamond)) as d:
        t = d.tree
        t.must('kdamonds/nr_kdamonds', '1')
        t.must('kdamonds/0/contexts/nr_contexts', '1')
        c = 'kdamonds/0/contexts/0/'
        t.must(c + 'operations', 'sim')
        t.must(c + 'udamon/sim_workload',
               os.path.join(os.path.abspath(args.configs),
                            'stairs_30secs.cfg'))
        t.must(c + 'targets/nr_targets', '1')
        t.must(c + 'schemes/nr_schemes', '1')
        f = t.path(c + 'monitoring_attrs/intervals/sample_us')

        def read_file():
            with open(f, 'rb') as fh:
                fh.read()

        def write_file():
            fd = os.open(f, os.O_WRONLY)
            os.write(fd, b'5000\n')
            os.close(fd)

        kept = os.open(f, os.O_RDONLY)
        rows = [('open+read+close', measure(read_file, args.n)),
                ('pread on a kept fd',
                 measure(lambda: os.pread(kept, 64, 0), args.n)),
                ('open+write+close', measure(write_file, args.n))]
        os.close(kept)
        t.must('kdamonds/0/state', 'on')
        state = t.path('kdamonds/0/state')

        def command(cmd):
            def run():
                fd = os.open(state, os.O_WRONLY)
                os.write(fd, cmd)
                os.close(fd)
            return run

        n = max(args.n // 10, 20)
        rows.append(('state: commit', measure(command(b'commit\n'), n)))
        rows.append(('state: update_schemes_stats',
                     measure(command(b'update_schemes_stats\n'), n)))
        t.must('kdamonds/0/contexts/0/pause', 'Y')
        t.must('kdamonds/0/state', 'commit')
        rows.append(('state: commit (paused)',
                     measure(command(b'commit\n'), n)))
        t.must('kdamonds/0/state', 'off')
        files = 0
        t0 = time.perf_counter()
        for root, _, names in os.walk(t.admin):
            for name in names:
                with open(os.path.join(root, name), 'rb') as fh:
                    fh.read()
                files += 1
        walk_ms = (time.perf_counter() - t0) * 1000

    print('| operation | mean (us) | p50 (us) | p99 (us) |')
    print('| --- | ---: | ---: | ---: |')
    for name, (mean, p50, p99) in rows:
        print('| %s | %.1f | %.1f | %.1f |' % (name, mean, p50, p99))
    print('| recursive read of the tree (%d files) | %.1f ms total | | |' %
          (files, walk_ms))


if __name__ == '__main__':
    main()
