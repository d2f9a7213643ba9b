# SPDX-License-Identifier: LGPL-2.1-or-later
"""Integration tests of udamond's DAMON sysfs tree, over a real FUSE mount
in a private mount namespace: the files, modes and defaults of every
directory, the kernel's parsing and errno, nr_* directories, the state
commands with the sim operations set, pause/resume, refresh_ms, tried
regions against the sim's ground truth, -EBUSY, FUSE semantics, daemon
lifecycle and `udamon ns`.

usage: test_tree.py --udamond PATH --udamon PATH [--configs DIR] [CASE...]
"""
import argparse
import errno
import os
import signal
import subprocess
import tempfile
import threading
import time

from udamon_test import (Daemon, Refused, Runner, Skip, Tree, check, eq,
                         is_fuse)

R = Runner()
ARGS = None

ACTIONS = ['willneed', 'cold', 'pageout', 'hugepage', 'nohugepage',
           'collapse', 'lru_prio', 'lru_deprio', 'migrate_hot',
           'migrate_cold', 'stat']
METRICS = ['user_input', 'some_mem_psi_us', 'node_mem_used_bp',
           'node_mem_free_bp', 'node_memcg_used_bp', 'node_memcg_free_bp',
           'active_mem_bp', 'inactive_mem_bp', 'node_eligible_mem_bp',
           'hugepage_mem_bp']
CORE_FILTERS = ['addr', 'target', 'probe_hits_wsum']
OPS_FILTERS = ['anon', 'active', 'memcg', 'young', 'hugepage_size',
               'unmapped']
SIM_OPS_ID = 3


def daemon():
    return Daemon(ARGS.udamond)


def build(t, kdamonds=1, contexts=1, targets=1, regions=1, schemes=1,
          goals=1, filters=1, dests=1):
    t.must('kdamonds/nr_kdamonds', '%d\n' % kdamonds)
    if not kdamonds:
        return
    t.must('kdamonds/0/contexts/nr_contexts', '%d\n' % contexts)
    if not contexts:
        return
    c = 'kdamonds/0/contexts/0/'
    t.must(c + 'targets/nr_targets', '%d\n' % targets)
    if targets:
        t.must(c + 'targets/0/regions/nr_regions', '%d\n' % regions)
    t.must(c + 'schemes/nr_schemes', '%d\n' % schemes)
    if schemes:
        s = c + 'schemes/0/'
        t.must(s + 'quotas/goals/nr_goals', '%d\n' % goals)
        for d in ('core_filters', 'ops_filters', 'filters'):
            t.must(s + d + '/nr_filters', '%d\n' % filters)
        t.must(s + 'dests/nr_dests', '%d\n' % dests)


def expected_tree():
    """relative path -> (mode, default or None when not fixed)."""
    e = {'kdamonds/nr_kdamonds': (0o600, '1')}
    k = 'kdamonds/0/'
    e.update({k + 'state': (0o600, 'off'), k + 'pid': (0o400, '-1'),
              k + 'refresh_ms': (0o600, '0'),
              k + 'udamon/dump': (0o400, None),
              k + 'udamon/state_error': (0o400, ''),
              k + 'udamon/checkpoint_path': (0o600, ''),
              k + 'udamon/checkpoint': (0o600, 'none'),
              k + 'contexts/nr_contexts': (0o600, '1')})
    c = k + 'contexts/0/'
    e.update({c + 'avail_operations': (0o400, None),
              c + 'operations': (0o600, 'vaddr'),
              c + 'addr_unit': (0o600, '1'), c + 'pause': (0o600, 'N'),
              c + 'udamon/sim_workload': (0o600, ''),
              c + 'udamon/access_source': (0o400, None),
              c + 'udamon/allow_cold_on_writes_only': (0o600, 'N'),
              c + 'udamon/attach': (0o600, 'Y'),
              c + 'udamon/overhead_budget': (0o600, '2000'),
              c + 'udamon/auto_pause': (0o600, 'N'),
              c + 'udamon/auto_paused': (0o400, 'N')})
    a = c + 'monitoring_attrs/'
    for f, v in (('sample_us', '5000'), ('aggr_us', '100000'),
                 ('update_us', '60000000')):
        e[a + 'intervals/' + f] = (0o600, v)
    for f in ('access_bp', 'aggrs', 'min_sample_us', 'max_sample_us'):
        e[a + 'intervals/intervals_goal/' + f] = (0o600, '0')
    e[a + 'nr_regions/min'] = (0o600, '10')
    e[a + 'nr_regions/max'] = (0o600, '1000')
    e[a + 'probes/nr_probes'] = (0o600, '0')
    tg = c + 'targets/'
    e.update({tg + 'nr_targets': (0o600, '1'),
              tg + '0/pid_target': (0o600, '0'),
              tg + '0/obsolete_target': (0o600, 'N'),
              tg + '0/regions/nr_regions': (0o600, '1'),
              tg + '0/regions/0/start': (0o600, '0'),
              tg + '0/regions/0/end': (0o600, '0')})
    s = c + 'schemes/'
    e[s + 'nr_schemes'] = (0o600, '1')
    s += '0/'
    e.update({s + 'action': (0o600, 'stat'),
              s + 'apply_interval_us': (0o600, '0'),
              s + 'target_nid': (0o600, '-1')})
    for r in ('sz', 'nr_accesses', 'age'):
        for m in ('min', 'max'):
            e[s + 'access_pattern/%s/%s' % (r, m)] = (0o600, '0')
    q = s + 'quotas/'
    for f in ('ms', 'bytes', 'reset_interval_ms', 'fail_charge_num',
              'fail_charge_denom'):
        e[q + f] = (0o600, '0')
    e[q + 'effective_bytes'] = (0o400, '0')
    e[q + 'goal_tuner'] = (0o600, 'consist')
    for f in ('sz_permil', 'nr_accesses_permil', 'age_permil'):
        e[q + 'weights/' + f] = (0o600, '0')
    e[q + 'goals/nr_goals'] = (0o600, '1')
    e.update({q + 'goals/0/target_metric': (0o600, 'user_input'),
              q + 'goals/0/target_value': (0o600, '0'),
              q + 'goals/0/current_value': (0o600, '0'),
              q + 'goals/0/nid': (0o600, '0'),
              q + 'goals/0/path': (0o600, '')})
    e[s + 'watermarks/metric'] = (0o600, 'none')
    for f in ('interval_us', 'high', 'mid', 'low'):
        e[s + 'watermarks/' + f] = (0o600, '0')
    for d in ('core_filters', 'ops_filters', 'filters'):
        e[s + d + '/nr_filters'] = (0o600, '1')
        f = s + d + '/0/'
        e.update({f + 'type': (0o600, 'anon'), f + 'matching': (0o600, 'N'),
                  f + 'allow': (0o600, 'N'), f + 'memcg_path': (0o600, '')})
        for n in ('addr_start', 'addr_end', 'min', 'max',
                  'damon_target_idx'):
            e[f + n] = (0o600, '0')
    e.update({s + 'dests/nr_dests': (0o600, '1'),
              s + 'dests/0/id': (0o600, '0'),
              s + 'dests/0/weight': (0o600, '0')})
    for f in ('nr_tried', 'sz_tried', 'nr_applied', 'sz_applied',
              'sz_ops_filter_passed', 'qt_exceeds', 'nr_snapshots'):
        e[s + 'stats/' + f] = (0o400, '0')
    e[s + 'stats/max_nr_snapshots'] = (0o600, '0')
    e[s + 'tried_regions/total_bytes'] = (0o400, '0')
    return e


@R.case
def test_refuses_non_fuse_tree():
    d = tempfile.mkdtemp()
    try:
        try:
            Tree(d)
        except Refused:
            return
        raise AssertionError('a plain directory was accepted')
    finally:
        os.rmdir(d)


@R.case
def test_walk_files_modes_defaults():
    with daemon() as d:
        t = d.tree
        eq(t.val('kdamonds/nr_kdamonds'), '0', 'nr_kdamonds default')
        build(t)
        want = expected_tree()
        found = {}
        for root, dirs, files in os.walk(t.admin):
            for dn in dirs:
                st = os.stat(os.path.join(root, dn))
                eq(oct(st.st_mode & 0o7777), oct(0o755), 'dir mode ' + dn)
            for fn in files:
                p = os.path.join(root, fn)
                found[os.path.relpath(p, t.admin)] = os.stat(p)
        eq(sorted(found), sorted(want), 'set of files')
        for rel, (mode, default) in want.items():
            st = found[rel]
            eq(oct(st.st_mode & 0o7777), oct(mode), 'mode of ' + rel)
            eq(st.st_size, 4096, 'size of ' + rel)
            if default is not None:
                eq(t.val(rel), default, 'default of ' + rel)
        check('sim' in t.read('kdamonds/0/contexts/0/avail_operations')
              .split(), 'sim is available')


@R.case
def test_good_and_bad_writes():
    E = errno
    with daemon() as d:
        t = d.tree
        build(t)
        c = 'kdamonds/0/contexts/0/'
        s = c + 'schemes/0/'
        iv = c + 'monitoring_attrs/intervals/'
        cases = [
            # file, input, errno, read back
            (iv + 'sample_us', '0x10\n', 0, '16'),
            (iv + 'sample_us', '010', 0, '8'),
            (iv + 'sample_us', '+7\n', 0, '7'),
            (iv + 'sample_us', 'abc', E.EINVAL, '7'),
            (iv + 'sample_us', '-1', E.EINVAL, '7'),
            (iv + 'sample_us', '1 ', E.EINVAL, '7'),
            (iv + 'sample_us', '18446744073709551616', E.ERANGE, '7'),
            (iv + 'aggr_us', '18446744073709551615', 0,
             '18446744073709551615'),
            ('kdamonds/0/refresh_ms', '4294967295', 0, '4294967295'),
            ('kdamonds/0/refresh_ms', '4294967296', E.ERANGE, '4294967295'),
            (c + 'targets/0/pid_target', '-5', 0, '-5'),
            (c + 'targets/0/pid_target', 'abc', E.EINVAL, '-5'),
            (c + 'targets/0/pid_target', '99999999999', E.EINVAL, '-5'),
            (c + 'targets/0/obsolete_target', 'Y', 0, 'Y'),
            (c + 'targets/0/obsolete_target', 'maybe', E.EINVAL, 'Y'),
            (c + 'targets/0/regions/0/start', '4096', 0, '4096'),
            (c + 'udamon/overhead_budget', '500\n', 0, '500'),
            (c + 'udamon/overhead_budget', 'abc', E.EINVAL, '500'),
            (c + 'udamon/overhead_budget', '-1', E.EINVAL, '500'),
            (c + 'udamon/overhead_budget', '0', 0, '0'),
            (c + 'addr_unit', '0', E.EINVAL, '1'),
            (c + 'addr_unit', '4096', 0, '4096'),
            (c + 'operations', 'paddr\n', 0, 'paddr'),
            (c + 'operations', 'sim', 0, 'sim'),
            (c + 'operations', 'foo', E.EINVAL, 'sim'),
            (c + 'operations', 'paddr\n\n', E.EINVAL, 'sim'),
            (c + 'pause', 'Y', 0, 'Y'), (c + 'pause', 'n', 0, 'N'),
            (c + 'pause', '1', 0, 'Y'), (c + 'pause', '0', 0, 'N'),
            (c + 'pause', 'true', 0, 'Y'), (c + 'pause', 'False', 0, 'N'),
            (c + 'pause', 'on', 0, 'Y'), (c + 'pause', 'off', 0, 'N'),
            (c + 'pause', 'x', E.EINVAL, 'N'), (c + 'pause', 'o', E.EINVAL,
                                                'N'),
            (s + 'action', 'pageout\n', 0, 'pageout'),
            (s + 'action', 'foo', E.EINVAL, 'pageout'),
            (s + 'target_nid', '2147483648', E.ERANGE, '-1'),
            (s + 'target_nid', '3', 0, '3'),
            (s + 'apply_interval_us', '1000', 0, '1000'),
            (s + 'quotas/ms', '99999999999999999999', E.EINVAL, '0'),
            (s + 'quotas/bytes', 'x', E.EINVAL, '0'),
            (s + 'quotas/reset_interval_ms', '1000', 0, '1000'),
            (s + 'quotas/fail_charge_num', '4294967296', E.EINVAL, '0'),
            (s + 'quotas/fail_charge_denom', '1024', 0, '1024'),
            (s + 'quotas/goal_tuner', 'temporal', 0, 'temporal'),
            (s + 'quotas/goal_tuner', 'foo', E.EINVAL, 'temporal'),
            (s + 'quotas/weights/sz_permil', '4294967296', E.ERANGE, '0'),
            (s + 'quotas/weights/age_permil', '7', 0, '7'),
            (s + 'quotas/goals/0/target_metric', 'some_mem_psi_us', 0,
             'some_mem_psi_us'),
            (s + 'quotas/goals/0/target_metric', 'bad', E.EINVAL,
             'some_mem_psi_us'),
            (s + 'quotas/goals/0/nid', '-1', 0, '-1'),
            (s + 'quotas/goals/0/path', '/a', 0, '/a'),
            (s + 'watermarks/metric', 'free_mem_rate', 0, 'free_mem_rate'),
            (s + 'watermarks/metric', 'bad', E.EINVAL, 'free_mem_rate'),
            (s + 'watermarks/high', '900', 0, '900'),
            (s + 'filters/0/memcg_path', '/foo\n', 0, '/foo\n'),
            (s + 'filters/0/matching', 'Y', 0, 'Y'),
            (s + 'filters/0/damon_target_idx', '-1', 0, '-1'),
            (s + 'dests/0/weight', '4294967296', E.ERANGE, '0'),
            (s + 'stats/max_nr_snapshots', '5', 0, '5'),
            (s + 'stats/nr_tried', '1', E.EACCES, '0'),
            (s + 'tried_regions/total_bytes', '1', E.EACCES, '0'),
            (s + 'quotas/effective_bytes', '1', E.EACCES, '0'),
            ('kdamonds/0/pid', '1', E.EACCES, '-1'),
            ('kdamonds/nr_kdamonds', '-1', E.EINVAL, '1'),
            ('kdamonds/nr_kdamonds', 'abc', E.EINVAL, '1'),
            ('kdamonds/nr_kdamonds', '99999999999', E.ERANGE, '1'),
            ('kdamonds/0/contexts/nr_contexts', '2', E.EINVAL, '1'),
            ('kdamonds/0/contexts/nr_contexts', '-1', E.EINVAL, '1'),
        ]
        for rel, value, err, back in cases:
            got = t.write(rel, value)
            eq(errno.errorcode.get(got, got), errno.errorcode.get(err, err),
               'writing %r to %s' % (value, rel))
            eq(t.val(rel), back, 'read back of %s after %r' % (rel, value))
        # the kernel keeps what was written to path files, newline included
        eq(t.read(s + 'filters/0/memcg_path'), '/foo\n\n', 'memcg_path')
        # a write is answered with its full byte count
        fd = os.open(t.path(iv + 'update_us'), os.O_WRONLY)
        eq(os.write(fd, b'123\n'), 4, 'write count')
        os.close(fd)
        eq(t.val(iv + 'update_us'), '123', 'update_us')


@R.case
def test_nr_dirs_create_remove():
    with daemon() as d:
        t = d.tree
        build(t, schemes=0)
        c = 'kdamonds/0/contexts/0/'
        for nr_file in ('targets/nr_targets', 'schemes/nr_schemes',
                        'targets/0/regions/nr_regions'):
            base = c + nr_file.rsplit('/', 1)[0] + '/'
            if nr_file.startswith('targets/0/'):
                t.must(c + 'targets/nr_targets', '1')
            for n in (1, 2, 0, 3):
                t.must(c + nr_file, '%d\n' % n)
                eq(t.val(c + nr_file), str(n), nr_file)
                for i in range(5):
                    eq(os.path.isdir(t.path(base + str(i))), i < n,
                       '%s%d with %d' % (base, i, n))
        # rebuilding resets children to defaults
        t.must(c + 'schemes/nr_schemes', '1')
        t.must(c + 'schemes/0/action', 'pageout')
        t.must(c + 'schemes/nr_schemes', '1')
        eq(t.val(c + 'schemes/0/action'), 'stat', 'recreated default')
        # directory names are exactly "%d"
        check(not os.path.exists(t.path(c + 'schemes/00')), '00')
        check(not os.path.exists(t.path(c + 'schemes/+0')), '+0')
        s = c + 'schemes/0/'
        for sub in ('quotas/goals/nr_goals', 'core_filters/nr_filters',
                    'ops_filters/nr_filters', 'filters/nr_filters',
                    'dests/nr_dests'):
            t.must(s + sub, '2')
            d0 = t.path(s + sub.rsplit('/', 1)[0])
            eq(sorted(x for x in os.listdir(d0) if x.isdigit()),
               ['0', '1'], sub)
            t.must(s + sub, '0')
            eq([x for x in os.listdir(d0) if x.isdigit()], [], sub)
        t.must('kdamonds/nr_kdamonds', '2')
        check(os.path.isdir(t.path('kdamonds/1/contexts')), 'kdamond 1')
        t.must('kdamonds/nr_kdamonds', '0')
        check(not os.path.exists(t.path('kdamonds/0')), 'removed')


@R.case
def test_filter_type_keywords():
    with daemon() as d:
        t = d.tree
        build(t)
        s = 'kdamonds/0/contexts/0/schemes/0/'
        for ftype in CORE_FILTERS + OPS_FILTERS + ['foo']:
            for dname, allowed in (('core_filters', CORE_FILTERS),
                                   ('ops_filters', OPS_FILTERS),
                                   ('filters', CORE_FILTERS + OPS_FILTERS)):
                rel = s + dname + '/0/type'
                want = 0 if ftype in allowed else errno.EINVAL
                eq(t.write(rel, ftype + '\n'), want,
                   '%s to %s' % (ftype, dname))
                if not want:
                    eq(t.val(rel), ftype, rel)


@R.case
def test_probes_files_defaults_bad_writes():
    E = errno
    with daemon() as d:
        t = d.tree
        build(t)
        p = 'kdamonds/0/contexts/0/monitoring_attrs/probes/'
        eq(t.val(p + 'nr_probes'), '0', 'nr_probes default')
        eq(t.write(p + 'nr_probes', '5'), E.EINVAL, 'more than 4 probes')
        eq(t.write(p + 'nr_probes', '-1'), E.EINVAL, 'negative nr_probes')
        t.must(p + 'nr_probes', '4')
        eq(sorted(os.listdir(t.admin + '/' + p)),
           ['0', '1', '2', '3', 'nr_probes'], 'probe dirs')
        t.must(p + 'nr_probes', '1')
        want = {'0/weight': '0', '0/filters/nr_filters': '0',
                '0/preps/nr_preps': '0'}
        for rel, v in want.items():
            eq(t.val(p + rel), v, 'default of ' + rel)
            eq(oct(os.stat(t.admin + '/' + p + rel).st_mode & 0o7777),
               oct(0o600), 'mode of ' + rel)
        eq(t.write(p + '0/weight', 'x'), E.EINVAL, 'weight x')
        eq(t.write(p + '0/weight', '4294967296'), E.ERANGE, 'weight range')
        t.must(p + '0/filters/nr_filters', '1')
        f = p + '0/filters/0/'
        for rel, v in (('type', 'anon'), ('matching', 'N'), ('allow', 'N'),
                       ('path', '')):
            eq(t.val(f + rel), v, 'filter default ' + rel)
        for ftype in ('anon', 'memcg', 'pgidle_unset'):
            eq(t.write(f + 'type', ftype + '\n'), 0, 'filter type ' + ftype)
            eq(t.val(f + 'type'), ftype, 'filter type read ' + ftype)
        for bad in ('young', 'addr', 'probe_hits_wsum', 'foo'):
            eq(t.write(f + 'type', bad), E.EINVAL, 'filter type ' + bad)
        eq(t.write(f + 'allow', 'maybe'), E.EINVAL, 'allow maybe')
        t.must(p + '0/preps/nr_preps', '1')
        eq(t.val(p + '0/preps/0/action'), 'set_pgidle', 'prep default')
        eq(t.write(p + '0/preps/0/action', 'set_young'), E.EINVAL,
           'bad prep action')
        t.must(p + 'nr_probes', '0')
        check(not os.path.exists(t.admin + '/' + p + '0'), 'probes removed')


def stage_probe_tool_like(t, nr_probes, weight=0, ftype=None):
    """Stage probes as a tool written for 7.2 does on every start."""
    p = 'kdamonds/0/contexts/0/monitoring_attrs/probes/'
    t.must(p + 'nr_probes', str(nr_probes))
    for i in range(nr_probes):
        t.must(p + '%d/weight' % i, str(weight))
        t.must(p + '%d/preps/nr_preps' % i, '0')
        t.must(p + '%d/filters/nr_filters' % i, '1' if ftype else '0')
        if ftype:
            f = p + '%d/filters/0/' % i
            t.must(f + 'type', ftype)
            t.must(f + 'matching', 'Y')
            t.must(f + 'allow', 'Y')


@R.case
def test_probes_staged_then_on():
    with daemon() as d:
        t = d.tree
        setup_sim(t)
        # nr_probes 0: starts exactly as without probes
        stage_probe_tool_like(t, 0)
        eq(t.cmd(0, 'on'), 0, 'on with nr_probes 0')
        eq(t.dump()['contexts'][0]['probes'], [], 'no probes')
        eq(t.cmd(0, 'off'), 0, 'off')
        # one probe with an anon filter, attributes-only mode
        stage_probe_tool_like(t, 1, weight=1, ftype='anon')
        eq(t.cmd(0, 'on'), 0, 'on with one probe')
        eq(t.val('kdamonds/0/state'), 'on', 'running')
        probes = t.dump()['contexts'][0]['probes']
        eq(len(probes), 1, 'one probe committed')
        eq(probes[0]['weight'], 1, 'probe weight')
        eq(probes[0]['filters'][0]['type'], 'anon', 'probe filter type')
        time.sleep(0.5)
        eq(t.cmd(0, 'update_schemes_tried_regions'), 0, 'tried regions')
        tr = 'kdamonds/0/contexts/0/schemes/0/tried_regions/'
        hits = t.val(tr + '0/probes/0/hits')
        check(0 <= int(hits) <= 20, 'probe hits of a tried region ' + hits)
        eq(t.val(tr + '0/nr_accesses'), '0', 'no access checks')
        check(not os.path.exists(t.admin + '/' + tr + '0/probes/1'),
              'one hits dir per probe')
        eq(t.cmd(0, 'off'), 0, 'off again')
        # weights with more than 255 samples per aggregation: EINVAL
        t.must('kdamonds/0/contexts/0/monitoring_attrs/intervals/aggr_us',
               str(5000 * 256))
        eq(t.cmd(0, 'on'), errno.EINVAL, 'too many samples for weights')
        eq(t.val('kdamonds/0/state'), 'off', 'not started')


@R.case
def test_state_errors_without_kdamond():
    with daemon() as d:
        t = d.tree
        build(t, schemes=0)
        t.must('kdamonds/0/contexts/nr_contexts', '0')
        eq(t.cmd(0, 'on'), errno.EINVAL, 'on without context')
        eq(t.cmd(0, 'off'), errno.EINVAL, 'off never started')
        t.must('kdamonds/0/contexts/nr_contexts', '1')
        t.must('kdamonds/0/contexts/0/targets/nr_targets', '1')
        for c in ('commit', 'update_schemes_stats',
                  'update_schemes_tried_regions',
                  'update_schemes_tried_bytes', 'commit_schemes_quota_goals',
                  'update_schemes_effective_quotas',
                  'update_tuned_intervals'):
            eq(t.cmd(0, c), errno.EINVAL, c + ' never started')
        eq(t.cmd(0, 'clear_schemes_tried_regions'), 0, 'clear')
        eq(t.cmd(0, 'foo'), errno.EINVAL, 'unknown command')
        eq(t.cmd(0, 'on\n\n'), errno.EINVAL, 'two newlines')
        # vaddr (the default) is not available yet: EINVAL and a log line
        ops = t.read('kdamonds/0/contexts/0/avail_operations').split()
        if 'vaddr' not in ops:
            t.must('kdamonds/0/contexts/0/targets/0/pid_target',
                   str(os.getpid()))
            eq(t.cmd(0, 'on'), errno.EINVAL, 'on with vaddr')
            check('operations set vaddr is not available' in d.log_text(),
                  'log line for vaddr')
        eq(t.val('kdamonds/0/state'), 'off', 'state')
        eq(t.val('kdamonds/0/pid'), '-1', 'pid')


def setup_sim(t, cfg=None, scheme=True, aggr_us=None, kdamonds=1):
    build(t, kdamonds=kdamonds, regions=0, schemes=1 if scheme else 0,
          goals=0, filters=0, dests=0)
    c = 'kdamonds/0/contexts/0/'
    t.must(c + 'operations', 'sim')
    t.must(c + 'udamon/sim_workload',
           cfg or os.path.join(ARGS.configs, 'stairs_30secs.cfg'))
    if aggr_us:
        t.must(c + 'monitoring_attrs/intervals/aggr_us', str(aggr_us))
    if scheme:
        s = c + 'schemes/0/'
        t.must(s + 'access_pattern/sz/max', str(2**64 - 1))
        t.must(s + 'access_pattern/nr_accesses/max', '4294967295')
        t.must(s + 'access_pattern/age/max', '4294967295')


@R.case
def test_sim_on_commit_off():
    with daemon() as d:
        t = d.tree
        setup_sim(t)
        eq(t.cmd(0, 'on'), 0, 'on')
        eq(t.val('kdamonds/0/state'), 'on', 'state on')
        pid = int(t.val('kdamonds/0/pid'))
        check(os.path.exists('/proc/%d/task/%d' % (d.proc.pid, pid)),
              'pid %d is a thread of udamond' % pid)
        with open('/proc/%d/task/%d/comm' % (d.proc.pid, pid)) as f:
            check(f.read().startswith('kdamond.'), 'thread name')
        eq(t.cmd(0, 'on'), errno.EBUSY, 'on while running')
        eq(t.write('kdamonds/nr_kdamonds', '0'), errno.EBUSY,
           'nr_kdamonds while running')
        time.sleep(0.5)
        eq(t.cmd(0, 'update_schemes_stats'), 0, 'stats')
        check(int(t.val('kdamonds/0/contexts/0/schemes/0/stats/nr_tried'))
              > 0, 'nr_tried moved')
        t.must('kdamonds/0/contexts/0/monitoring_attrs/intervals/aggr_us',
               '200000')
        eq(t.cmd(0, 'commit'), 0, 'commit')
        eq(t.dump()['contexts'][0]['attrs']['aggr_interval'], 200000,
           'committed aggr')
        # an invalid commit is refused and the kdamond keeps running
        t.must('kdamonds/0/contexts/0/monitoring_attrs/nr_regions/min', '1')
        eq(t.cmd(0, 'commit'), errno.EINVAL, 'bad commit')
        eq(t.val('kdamonds/0/state'), 'on', 'still on')
        t.must('kdamonds/0/contexts/0/monitoring_attrs/nr_regions/min', '10')
        eq(t.cmd(0, 'update_schemes_effective_quotas'), 0, 'eff quotas')
        eq(t.cmd(0, 'update_tuned_intervals'), 0, 'tuned intervals')
        eq(t.val('kdamonds/0/contexts/0/monitoring_attrs/intervals/aggr_us'),
           '200000', 'tuned aggr_us')
        eq(t.cmd(0, 'commit_schemes_quota_goals'), 0, 'goals')
        eq(t.cmd(0, 'off'), 0, 'off')
        eq(t.val('kdamonds/0/state'), 'off', 'state off')
        eq(t.val('kdamonds/0/pid'), '-1', 'pid after off')
        eq(t.cmd(0, 'off'), errno.EPERM, 'off twice')
        for c in ('commit', 'update_schemes_stats',
                  'update_schemes_tried_regions'):
            eq(t.cmd(0, c), errno.ECANCELED, c + ' after off')
        # the stopped context stays readable; targets are gone
        dump = t.dump()
        eq(len(dump['contexts']), 1, 'dump of a stopped kdamond')
        eq(dump['contexts'][0]['adaptive_targets'], [], 'targets gone')
        eq(t.cmd(0, 'on'), 0, 'on again')
        eq(t.cmd(0, 'off'), 0, 'off again')
        # a bad workload file: EINVAL and a log line naming it
        t.must('kdamonds/0/contexts/0/udamon/sim_workload', '/nonexistent')
        eq(t.cmd(0, 'on'), errno.EINVAL, 'bad workload')
        check('/nonexistent' in d.log_text(), 'log names the workload')


def region_view(dump):
    return [[(r['ar']['start'], r['ar']['end'], r['nr_accesses'], r['age'])
             for r in tg['regions_list']]
            for tg in dump['contexts'][0]['adaptive_targets']]


def read_stats(t):
    eq(t.cmd(0, 'update_schemes_stats'), 0, 'update_schemes_stats')
    s = 'kdamonds/0/contexts/0/schemes/0/stats/'
    return tuple(int(t.val(s + f)) for f in ('nr_tried', 'sz_tried',
                                              'nr_snapshots'))


@R.case
def test_pause_resume():
    with daemon() as d:
        t = d.tree
        setup_sim(t)
        c = 'kdamonds/0/contexts/0/'
        eq(t.cmd(0, 'on'), 0, 'on')
        time.sleep(0.5)
        t.must(c + 'pause', 'Y')
        eq(t.cmd(0, 'commit'), 0, 'pause commit')
        d1 = t.dump()
        eq(d1['contexts'][0]['pause'], True, 'dump says paused')
        s1 = read_stats(t)
        time.sleep(0.6)
        d2 = t.dump()
        eq(region_view(d2), region_view(d1), 'regions while paused')
        eq(d2['contexts'][0]['passed_sample_intervals'],
           d1['contexts'][0]['passed_sample_intervals'], 'no samples')
        eq(t.cmd(0, 'update_schemes_tried_regions'), errno.ECANCELED,
           'tried regions while paused')
        eq(t.cmd(0, 'update_schemes_tried_bytes'), errno.ECANCELED,
           'tried bytes while paused')
        eq(read_stats(t), s1, 'stats while paused')
        eq(t.val('kdamonds/0/state'), 'on', 'paused is on')
        # resume
        t.must(c + 'pause', 'N')
        eq(t.cmd(0, 'commit'), 0, 'resume commit')
        time.sleep(0.6)
        d3 = t.dump()
        check(d3['contexts'][0]['passed_sample_intervals'] >
              d2['contexts'][0]['passed_sample_intervals'], 'samples again')
        check(region_view(d3) != region_view(d2), 'regions move again')
        check(read_stats(t)[0] > s1[0], 'stats move again')
        eq(t.cmd(0, 'update_schemes_tried_regions'), 0, 'tried regions')
        # off while paused stops the kdamond
        t.must(c + 'pause', 'Y')
        eq(t.cmd(0, 'commit'), 0, 'pause again')
        eq(t.cmd(0, 'off'), 0, 'off while paused')
        eq(t.val('kdamonds/0/state'), 'off', 'stopped')
        # started paused: one sample, then nothing
        eq(t.cmd(0, 'on'), 0, 'on paused')
        time.sleep(0.3)
        p1 = t.dump()['contexts'][0]['passed_sample_intervals']
        time.sleep(0.3)
        p2 = t.dump()['contexts'][0]['passed_sample_intervals']
        eq(p1, 1, 'a context started paused takes one sample')
        eq(p2, 1, 'and then stays paused')
        eq(t.cmd(0, 'off'), 0, 'off')


@R.case
def test_checkpoint_files():
    """udamon/checkpoint: save, restore while off and while on, cancel,
    and every refusal with its errno, reason, and nothing changed."""
    with daemon() as d:
        t = d.tree
        setup_sim(t)
        k = 'kdamonds/0/udamon/'
        c = 'kdamonds/0/contexts/0/'
        tmp = tempfile.mkdtemp(prefix='udamon-it-ckpt-')
        path = os.path.join(tmp, 'k0.ckpt')
        eq(t.write(k + 'checkpoint', 'save'), errno.EINVAL, 'no path')
        check('checkpoint_path is empty' in t.val(k + 'state_error'),
              'reason: no path')
        t.must(k + 'checkpoint_path', path)
        eq(t.write(k + 'checkpoint', 'save'), errno.EINVAL, 'save while off')
        check('the kdamond is off' in t.val(k + 'state_error'),
              'reason: off')
        eq(t.write(k + 'checkpoint', 'bogus'), errno.EINVAL, 'bad command')
        eq(t.write(k + 'checkpoint', 'restore'), errno.ENOENT,
           'restore of a missing file while off')
        eq(t.cmd(0, 'on'), 0, 'on')
        time.sleep(0.5)
        t.must(c + 'pause', 'Y')
        eq(t.cmd(0, 'commit'), 0, 'pause')
        saved = t.dump()
        # paths that could hang the daemon are refused, never opened
        fifo = os.path.join(tmp, 'fifo')
        os.mkfifo(fifo)
        t.must(k + 'checkpoint_path', fifo)
        eq(t.write(k + 'checkpoint', 'restore'), errno.EINVAL,
           'a FIFO is not read')
        check('not a regular file' in t.val(k + 'state_error'),
              'reason: FIFO')
        t.must(k + 'checkpoint_path', os.path.join(d.mnt, 'x.ckpt'))
        eq(t.write(k + 'checkpoint', 'save'), errno.EINVAL,
           'no save into the own mount')
        check('own mount' in t.val(k + 'state_error'), 'reason: own mount')
        eq(t.write(k + 'checkpoint', 'restore'), errno.EINVAL,
           'no restore from the own mount')
        t.must(k + 'checkpoint_path', path)
        os.mkfifo(path + '.tmp')  # replaced by the save, not opened
        eq(t.write(k + 'checkpoint', 'save'), 0, 'save')
        eq(t.val(k + 'checkpoint'), 'saved ' + path, 'status')
        eq(t.val(k + 'state_error'), '', 'no error after save')
        eq(t.cmd(0, 'off'), 0, 'off')
        eq(t.write(k + 'checkpoint', 'restore'), 0, 'restore while off')
        check(t.val(k + 'checkpoint').startswith('restore pending'),
              'pending')
        eq(t.cmd(0, 'on'), 0, 'on restores')
        got = t.dump()
        eq(region_view(got), region_view(saved), 'regions restored')
        eq(got['contexts'][0]['passed_sample_intervals'],
           saved['contexts'][0]['passed_sample_intervals'], 'samples')
        eq(got['contexts'][0]['pause'], True, 'restored paused')
        eq(t.val(k + 'checkpoint'), 'restored ' + path, 'status')
        # corrupt file: refused while on, nothing changes
        with open(path, 'r+b') as f:
            f.seek(100)
            b = f.read(1)
            f.seek(100)
            f.write(bytes([b[0] ^ 1]))
        eq(t.write(k + 'checkpoint', 'restore'), errno.EINVAL, 'corrupt')
        check('checksum mismatch' in t.val(k + 'state_error'),
              'reason: checksum')
        eq(region_view(t.dump()), region_view(saved), 'unchanged')
        eq(t.cmd(0, 'off'), 0, 'off')
        # a pending restore of a bad file fails "on"; cancel drops it
        eq(t.write(k + 'checkpoint', 'restore'), 0, 'pending bad file')
        eq(t.cmd(0, 'on'), errno.EINVAL, 'on refuses a bad checkpoint')
        check('checksum mismatch' in t.val(k + 'state_error'),
              'on says why')
        eq(t.val('kdamonds/0/state'), 'off', 'nothing started')
        eq(t.write(k + 'checkpoint', 'cancel'), 0, 'cancel')
        eq(t.cmd(0, 'on'), 0, 'on without it')
        check(t.dump()['contexts'][0]['passed_sample_intervals'] <=
              saved['contexts'][0]['passed_sample_intervals'], 'fresh')
        eq(t.cmd(0, 'off'), 0, 'off')
        os.unlink(path)
        os.unlink(fifo)
        os.rmdir(tmp)


@R.case
def test_auto_pause_file():
    """contexts/C/udamon/auto_pause on a real stopped process, and
    udamon/auto_paused showing it."""
    child = subprocess.Popen(['sh', '-c', 'while :; do :; done'])
    try:
        with daemon() as d:
            t = d.tree
            build(t, regions=0, schemes=0, goals=0, filters=0, dests=0)
            c = 'kdamonds/0/contexts/0/'
            t.must(c + 'targets/0/pid_target', str(child.pid))
            eq(t.write(c + 'udamon/auto_pause', 'maybe'), errno.EINVAL,
               'not a bool')
            t.must(c + 'udamon/auto_pause', 'Y')
            t.must(c + 'monitoring_attrs/intervals/sample_us', '2000')
            t.must(c + 'monitoring_attrs/intervals/aggr_us', '20000')
            err = t.cmd(0, 'on')
            if err:
                raise Skip('vaddr cannot monitor a process here: ' +
                           t.val('kdamonds/0/udamon/state_error'))
            def psi():
                return t.dump()['contexts'][0]['passed_sample_intervals']

            def until(cond, limit=10.0):
                end = time.time() + limit
                while not cond() and time.time() < end:
                    time.sleep(0.05)
                return cond()

            check(until(lambda: psi() > 10), 'monitoring')
            ap = c + 'udamon/auto_paused'
            eq(t.val(ap), 'N', 'auto_paused while the target runs')
            eq(t.write(ap, 'Y'), errno.EACCES, 'auto_paused is read-only')
            os.kill(child.pid, signal.SIGSTOP)
            check(until(lambda: t.val(ap) == 'Y', 20.0),
                  'auto_paused reads Y while the target is stopped')
            # within a few sample intervals (generous under load)
            last = [psi()]

            def settled():
                time.sleep(0.1)
                now = psi()
                same = now == last[0]
                last[0] = now
                return same
            check(until(settled), 'sampling stops once the target stops')
            p2 = psi()
            time.sleep(0.3)
            eq(psi(), p2, 'no samples while the target is stopped')
            eq(t.val(c + 'pause'), 'N', 'the user pause is untouched')
            os.kill(child.pid, signal.SIGCONT)
            check(until(lambda: psi() > p2), 'samples again after SIGCONT')
            check(until(lambda: t.val(ap) == 'N', 20.0),
                  'auto_paused reads N after SIGCONT')
            # commit carries the setting: off now, a stop is sampled
            t.must(c + 'udamon/auto_pause', 'N')
            eq(t.cmd(0, 'commit'), 0, 'commit auto_pause N')
            os.kill(child.pid, signal.SIGSTOP)
            time.sleep(0.3)
            p4 = psi()
            check(until(lambda: psi() > p4),
                  'sampled while stopped without auto_pause')
            os.kill(child.pid, signal.SIGCONT)
            eq(t.cmd(0, 'off'), 0, 'off')
    finally:
        child.kill()
        child.wait()


@R.case
def test_staged_equals_committed():
    with daemon() as d:
        t = d.tree
        setup_sim(t, scheme=False)
        c = 'kdamonds/0/contexts/0/'
        iv = c + 'monitoring_attrs/intervals/'
        staged = {'sample': 5000, 'aggr': 100000, 'update': 60000000,
                  'min': 10, 'max': 1000}

        def set_scheme(i, action, ms, sz, reset, goals, core, ops, dests,
                       pattern):
            s = c + 'schemes/%d/' % i
            t.must(s + 'action', action)
            for (r, m), v in pattern.items():
                t.must(s + 'access_pattern/%s/%s' % (r, m), str(v))
            t.must(s + 'apply_interval_us', '0')
            t.must(s + 'quotas/ms', str(ms))
            t.must(s + 'quotas/bytes', str(sz))
            t.must(s + 'quotas/reset_interval_ms', str(reset))
            t.must(s + 'quotas/weights/nr_accesses_permil', '3')
            t.must(s + 'quotas/fail_charge_num', '1')
            t.must(s + 'quotas/fail_charge_denom', '1024')
            t.must(s + 'quotas/goals/nr_goals', str(len(goals)))
            for j, (metric, target, current) in enumerate(goals):
                g = s + 'quotas/goals/%d/' % j
                t.must(g + 'target_metric', metric)
                t.must(g + 'target_value', str(target))
                t.must(g + 'current_value', str(current))
            for dname, flist in (('core_filters', core), ('ops_filters', ops)):
                t.must(s + dname + '/nr_filters', str(len(flist)))
                for j, f in enumerate(flist):
                    p = s + dname + '/%d/' % j
                    t.must(p + 'type', f['type'])
                    t.must(p + 'matching', 'Y' if f['matching'] else 'N')
                    t.must(p + 'allow', 'Y' if f['allow'] else 'N')
                    if f['type'] == 'addr':
                        t.must(p + 'addr_start', str(f['addr_range'][0]))
                        t.must(p + 'addr_end', str(f['addr_range'][1]))
                    if f['type'] == 'target':
                        t.must(p + 'damon_target_idx', str(f['target_idx']))
            t.must(s + 'dests/nr_dests', str(len(dests)))
            for j, (nid, w) in enumerate(dests):
                t.must(s + 'dests/%d/id' % j, str(nid))
                t.must(s + 'dests/%d/weight' % j, str(w))
            return {'action': ACTIONS.index(action), 'ms': ms, 'sz': sz,
                    'reset': reset,
                    'goals': [(METRICS.index(m), tv, cv if m == 'user_input'
                               else 0) for m, tv, cv in goals if tv],
                    'core': core, 'ops': ops, 'dests': dests,
                    'pattern': pattern}

        def assert_committed(schemes, nr_targets):
            # pause, dump, check, resume: as the kernel's sysfs.py does
            t.must(c + 'pause', 'Y')
            eq(t.cmd(0, 'commit'), 0, 'pause commit')
            ctx = t.dump()['contexts'][0]
            eq(ctx['pause'], True, 'pause')
            eq(ctx['ops']['id'], SIM_OPS_ID, 'ops')
            a = ctx['attrs']
            eq((a['sample_interval'], a['aggr_interval'],
                a['ops_update_interval'], a['min_nr_regions'],
                a['max_nr_regions']),
               (staged['sample'], staged['aggr'], staged['update'],
                staged['min'], staged['max']), 'attrs')
            eq(len(ctx['adaptive_targets']), nr_targets, 'targets')
            for tg in ctx['adaptive_targets']:
                eq(tg['obsolete'], False, 'obsolete')
            eq(len(ctx['schemes']), len(schemes), 'schemes')
            for got, want in zip(ctx['schemes'], schemes):
                eq(got['action'], want['action'], 'action')
                p = got['pattern']
                eq((p['min_sz_region'], p['max_sz_region'],
                    p['min_nr_accesses'], p['max_nr_accesses'],
                    p['min_age_region'], p['max_age_region']),
                   tuple(want['pattern'][k] for k in (
                       ('sz', 'min'), ('sz', 'max'), ('nr_accesses', 'min'),
                       ('nr_accesses', 'max'), ('age', 'min'),
                       ('age', 'max'))), 'pattern')
                q = got['quota']
                eq((q['ms'], q['sz'], q['reset_interval'],
                    q['weight_nr_accesses'], q['fail_charge_num'],
                    q['fail_charge_denom']),
                   (want['ms'], want['sz'], want['reset'], 3, 1, 1024),
                   'quota')
                eq([(g['metric'], g['target_value'], g['current_value'])
                    for g in q['goals']], want['goals'], 'goals')
                for key, lst in (('core_filters', want['core']),
                                 ('ops_filters', want['ops'])):
                    eq(got[key], lst, key)
                md = got['migrate_dests']
                eq(list(zip(md['node_id_arr'], md['weight_arr'])),
                   [tuple(x) for x in want['dests']], 'dests')
            t.must(c + 'pause', 'N')
            eq(t.cmd(0, 'commit'), 0, 'resume commit')

        t.must(c + 'schemes/nr_schemes', '1')
        pat = {('sz', 'min'): 4096, ('sz', 'max'): 2**40,
               ('nr_accesses', 'min'): 0, ('nr_accesses', 'max'): 20,
               ('age', 'min'): 0, ('age', 'max'): 1000}
        base = 0x100000000
        s0 = set_scheme(0, 'stat', 0, 0, 0, [('user_input', 10000, 5000)],
                        [{'type': 'addr', 'matching': True, 'allow': True,
                          'addr_range': [base, base + (8 << 20)]}],
                        [{'type': 'anon', 'matching': False,
                          'allow': False}],
                        [(0, 30), (1, 70)], pat)
        eq(t.cmd(0, 'on'), 0, 'on')
        assert_committed([s0], 1)

        # round 2: new attrs, a second scheme, a skipped goal
        t.must(iv + 'sample_us', '4000')
        t.must(iv + 'aggr_us', '80000')
        t.must(c + 'monitoring_attrs/nr_regions/min', '5')
        t.must(c + 'monitoring_attrs/nr_regions/max', '500')
        staged.update(sample=4000, aggr=80000, min=5, max=500)
        t.must(c + 'schemes/nr_schemes', '2')
        s0 = set_scheme(0, 'stat', 100, 1 << 20, 1000,
                        [('user_input', 10000, 12000),
                         ('some_mem_psi_us', 0, 0)], [], [], [], pat)
        s1 = set_scheme(1, 'pageout', 0, 4 << 20, 200,
                        [], [{'type': 'target', 'matching': True,
                              'allow': False, 'target_idx': 0}],
                        [], [], pat)
        assert_committed([s0, s1], 1)

        # round 3: a second target
        t.must(c + 'targets/nr_targets', '2')
        assert_committed([s0, s1], 2)

        # round 4: remove the first target with obsolete_target
        t.must(c + 'targets/0/obsolete_target', 'Y')
        assert_committed([s0, s1], 1)
        t.must(c + 'targets/nr_targets', '1')

        # round 5: remove a scheme and the filters
        t.must(c + 'schemes/nr_schemes', '1')
        s0 = set_scheme(0, 'stat', 0, 0, 0, [], [], [], [], pat)
        assert_committed([s0], 1)
        eq(t.cmd(0, 'off'), 0, 'off')


@R.case
def test_no_op_commit_keeps_dump():
    with daemon() as d:
        t = d.tree
        setup_sim(t)
        c = 'kdamonds/0/contexts/0/'
        eq(t.cmd(0, 'on'), 0, 'on')
        time.sleep(0.3)
        t.must(c + 'pause', 'Y')
        eq(t.cmd(0, 'commit'), 0, 'pause')
        before = t.dump()
        eq(t.cmd(0, 'commit'), 0, 'no-op commit')
        eq(t.dump(), before, 'dump after a no-op commit')
        eq(t.cmd(0, 'off'), 0, 'off')


@R.case
def test_refresh_ms():
    with daemon() as d:
        t = d.tree
        setup_sim(t)
        t.must('kdamonds/0/refresh_ms', '100')
        s = 'kdamonds/0/contexts/0/schemes/0/'
        eq(t.cmd(0, 'on'), 0, 'on')
        deadline = time.time() + 5
        while time.time() < deadline:
            if int(t.val(s + 'stats/nr_tried')) > 0:
                break
            time.sleep(0.05)
        check(int(t.val(s + 'stats/nr_tried')) > 0, 'refreshed stats')
        # also while paused
        t.must('kdamonds/0/contexts/0/pause', 'Y')
        eq(t.cmd(0, 'commit'), 0, 'pause')
        t.must('kdamonds/0/contexts/0/monitoring_attrs/intervals/aggr_us',
               '1')  # a refresh copies the live value back
        deadline = time.time() + 5
        while time.time() < deadline:
            if t.val('kdamonds/0/contexts/0/monitoring_attrs/intervals/'
                     'aggr_us') == '100000':
                break
            time.sleep(0.05)
        eq(t.val('kdamonds/0/contexts/0/monitoring_attrs/intervals/aggr_us'),
           '100000', 'refresh while paused')
        eq(t.cmd(0, 'off'), 0, 'off')


@R.case
def test_tried_regions_match_sim_wss():
    cfg = tempfile.NamedTemporaryFile('w', suffix='.cfg', delete=False)
    hot = 20 << 20
    cfg.write('hot, %d\ncold, %d\n\nhot_only\n600000\nhot, 0, 4096, 1\n' %
              (hot, 80 << 20))
    cfg.close()
    try:
        with daemon() as d:
            t = d.tree
            setup_sim(t, cfg=cfg.name)
            s = 'kdamonds/0/contexts/0/schemes/0/'
            t.must(s + 'access_pattern/nr_accesses/min', '1')
            eq(t.cmd(0, 'on'), 0, 'on')
            time.sleep(2)
            totals, truths = [], []
            for _ in range(7):
                eq(t.cmd(0, 'update_schemes_tried_regions'), 0, 'tried')
                total = int(t.val(s + 'tried_regions/total_bytes'))
                n = len([x for x in os.listdir(t.path(s + 'tried_regions'))
                         if x.isdigit()])
                sizes = sum(int(t.val(s + 'tried_regions/%d/end' % i)) -
                            int(t.val(s + 'tried_regions/%d/start' % i))
                            for i in range(n))
                eq(sizes, total, 'total_bytes is the sum of the regions')
                totals.append(total)
                tg = t.dump()['contexts'][0]['adaptive_targets'][0]
                truths.append(tg.get('sim_true_wss', hot))
                time.sleep(0.2)
            totals.sort()
            truth = sorted(truths)[len(truths) // 2]
            med = totals[len(totals) // 2]
            check(abs(med - truth) <= truth * 0.2,
                  'median tried bytes %d vs sim wss %d' % (med, truth))
            eq(t.cmd(0, 'clear_schemes_tried_regions'), 0, 'clear')
            eq(t.val(s + 'tried_regions/total_bytes'), '0', 'cleared')
            eq(t.cmd(0, 'update_schemes_tried_bytes'), 0, 'bytes only')
            check(int(t.val(s + 'tried_regions/total_bytes')) > 0, 'bytes')
            check(not os.path.exists(t.path(s + 'tried_regions/0')),
                  'no region dirs for tried_bytes')
            eq(t.cmd(0, 'off'), 0, 'off')
    finally:
        os.unlink(cfg.name)


@R.case
def test_ebusy_while_a_command_waits():
    with daemon() as d:
        t = d.tree
        # a second kdamond: its state file is another file (FUSE itself
        # serialises writes to one file, see docs/abi.md)
        setup_sim(t, kdamonds=2)
        c = 'kdamonds/0/contexts/0/'
        # a walk lasts one apply interval: make it long
        t.must(c + 'schemes/0/apply_interval_us', '1500000')
        eq(t.cmd(0, 'on'), 0, 'on')
        res = {}

        def walk():
            res['err'] = t.cmd(0, 'update_schemes_tried_regions')

        th = threading.Thread(target=walk)
        th.start()
        time.sleep(0.3)
        eq(t.write(c + 'schemes/nr_schemes', '1'), errno.EBUSY, 'nr_*')
        eq(t.cmd(1, 'on'), errno.EBUSY, 'state write')
        eq(t.cmd(1, 'foo'), errno.EBUSY, 'even an invalid command')
        eq(t.write('kdamonds/nr_kdamonds', '1'), errno.EBUSY, 'nr_kdamonds')
        try:
            t.read('kdamonds/0/state')
            raise AssertionError('state read did not fail')
        except OSError as e:
            eq(e.errno, errno.EBUSY, 'state read')
        # plain files stay readable and writable
        t.must(c + 'monitoring_attrs/intervals/update_us', '1000000')
        eq(t.val(c + 'operations'), 'sim', 'plain read')
        th.join(10)
        eq(res.get('err'), 0, 'the walk completed')
        eq(t.cmd(0, 'off'), 0, 'off')


@R.case
def test_vaddr_zombie_and_refusal_reasons():
    """An exited child its parent has not waited for is a valid target
    until reaped (commands in the gap succeed); refusals say why in
    udamon/state_error."""
    with daemon() as d:
        t = d.tree
        build(t, regions=0, goals=0, filters=0, dests=0)
        c = 'kdamonds/0/contexts/0/'
        if 'vaddr' not in t.read(c + 'avail_operations').split():
            raise Skip('vaddr operations set not available')
        err_file = 'kdamonds/0/udamon/state_error'
        t.must(c + 'targets/0/pid_target', '999999999')
        eq(t.cmd(0, 'on'), errno.EINVAL, 'dead pid')
        check('999999999: no such process' in t.val(err_file),
              'state_error: %r' % t.val(err_file))
        child = subprocess.Popen(['true'])
        try:
            deadline = time.time() + 10
            while time.time() < deadline:
                with open('/proc/%d/stat' % child.pid) as f:
                    if f.read().rsplit(')', 1)[1].split()[0] == 'Z':
                        break
                time.sleep(0.02)
            t.must(c + 'targets/0/pid_target', str(child.pid))
            t.must(c + 'monitoring_attrs/intervals/update_us', '100000')
            # a probe filter vaddr cannot answer: refused, with why
            pr = c + 'monitoring_attrs/probes/'
            t.must(pr + 'nr_probes', '1')
            t.must(pr + '0/filters/nr_filters', '1')
            t.must(pr + '0/filters/0/type', 'memcg')
            eq(t.cmd(0, 'on'), errno.EINVAL, 'memcg probe on vaddr')
            check('memcg' in t.val(err_file),
                  'state_error: %r' % t.val(err_file))
            t.must(c + 'monitoring_attrs/probes/nr_probes', '0')
            # pageout on the writes-only source: refused unless allowed
            t.must(c + 'schemes/0/action', 'pageout')
            src = t.val(c + 'udamon/access_source')
            if 'writes only' in src:
                eq(t.cmd(0, 'on'), errno.EINVAL, 'pageout on writes only')
                check('writes only' in t.val(err_file),
                      'state_error: %r' % t.val(err_file))
                t.must(c + 'udamon/allow_cold_on_writes_only', 'Y')
            eq(t.cmd(0, 'on'), 0, 'on for a zombie')
            eq(t.val(err_file), '', 'state_error cleared')
            time.sleep(0.5)
            eq(t.val('kdamonds/0/state'), 'on', 'runs until the reap')
            eq(t.cmd(0, 'update_schemes_stats'), 0, 'a command in the gap')
            eq(t.cmd(0, 'commit'), 0, 'a commit in the gap')
            child.wait()
            deadline = time.time() + 10
            while time.time() < deadline and \
                    t.val('kdamonds/0/state') != 'off':
                time.sleep(0.05)
            eq(t.val('kdamonds/0/state'), 'off', 'stops after the reap')
            eq(t.cmd(0, 'commit'), errno.ECANCELED, 'commit when off')
            check(t.val(err_file).startswith('commit: '),
                  'state_error: %r' % t.val(err_file))
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()


@R.case
def test_vaddr_target_exits_mid_command():
    with daemon() as d:
        t = d.tree
        build(t, regions=0, goals=0, filters=0, dests=0)
        c = 'kdamonds/0/contexts/0/'
        if 'vaddr' not in t.read(c + 'avail_operations').split():
            raise Skip('vaddr operations set not available')
        # Launched under the preload library, so that the uffd-wp access
        # source can serve it (vaddr refuses a process nothing can watch).
        env = dict(os.environ)
        preload = os.path.join(os.path.dirname(os.path.abspath(
            ARGS.udamond)), '..', 'lib', 'libudamon-preload.so')
        if os.path.exists(preload):
            env['LD_PRELOAD'] = os.path.realpath(preload)
        child = subprocess.Popen(['sleep', '60'], env=env)
        time.sleep(0.3)  # let the preload library register the memory
        try:
            # a pid that does not exist is refused
            t.must(c + 'targets/0/pid_target', '999999999')
            eq(t.cmd(0, 'on'), errno.EINVAL, 'dead pid')
            t.must(c + 'targets/0/pid_target', str(child.pid))
            s = c + 'schemes/0/'
            t.must(s + 'apply_interval_us', '1000000')
            t.must(s + 'access_pattern/sz/max', str(2**64 - 1))
            t.must(s + 'access_pattern/nr_accesses/max', '4294967295')
            t.must(s + 'access_pattern/age/max', '4294967295')
            err = t.cmd(0, 'on')
            if err:
                raise Skip('vaddr cannot start here: %s' %
                           d.log_text().strip().splitlines()[-1:])
            res = {}
            th = threading.Thread(target=lambda: res.update(
                err=t.cmd(0, 'update_schemes_tried_regions')))
            th.start()
            time.sleep(0.3)
            child.kill()
            child.wait()
            th.join(15)
            check(not th.is_alive(), 'the command hangs')
            check(res.get('err') in (0, errno.ECANCELED),
                  'walk result %r' % res.get('err'))
            deadline = time.time() + 10
            while time.time() < deadline and \
                    t.val('kdamonds/0/state') != 'off':
                time.sleep(0.1)
            eq(t.val('kdamonds/0/state'), 'off', 'stops without targets')
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()


def count_uffds(pid):
    n = 0
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            if 'userfaultfd' in os.readlink('/proc/%d/fd/%s' % (pid, fd)):
                n += 1
        except OSError:
            pass
    return n


@R.case
def test_vaddr_attach_running_process():
    """A process not launched under udamon: 'on' attaches to it (x86_64),
    nothing stays in its fd table, 'off' detaches; with udamon/attach N
    it is accepted (as the kernel accepts any live pid) and not attached."""
    if os.uname().machine != 'x86_64':
        raise Skip('attaching is x86_64 only')
    with daemon() as d:
        t = d.tree
        build(t, regions=0, schemes=0, goals=0, filters=0, dests=0)
        c = 'kdamonds/0/contexts/0/'
        if 'vaddr' not in t.read(c + 'avail_operations').split():
            raise Skip('vaddr operations set not available')
        if not t.val(c + 'udamon/access_source').startswith('uffd-wp'):
            raise Skip('vaddr uses page idle tracking here')
        env = dict(os.environ)
        env.pop('LD_PRELOAD', None)
        child = subprocess.Popen(['sleep', '60'], env=env)
        try:
            t.must(c + 'targets/0/pid_target', str(child.pid))
            eq(t.val(c + 'udamon/attach'), 'Y', 'attach default')
            t.must(c + 'udamon/attach', 'N')
            eq(t.cmd(0, 'on'), 0, 'on with attach N')
            check('registered no memory' in d.log_text(),
                  'log line for attach N')
            time.sleep(0.5)
            with open('/proc/%d/smaps' % child.pid) as f:
                check(not any(l.startswith('VmFlags:') and ' uw' in l
                              for l in f), 'not attached with attach N')
            eq(t.cmd(0, 'off'), 0, 'off with attach N')
            t.must(c + 'udamon/attach', 'Y')
            err = t.cmd(0, 'on')
            if err:
                raise Skip('vaddr cannot start here: %s' %
                           d.log_text().strip().splitlines()[-1:])
            uw = False
            deadline = time.time() + 10
            while time.time() < deadline and not uw:
                with open('/proc/%d/smaps' % child.pid) as f:
                    uw = any(l.startswith('VmFlags:') and ' uw' in l
                             for l in f)
                time.sleep(0.05)
            check(uw, 'registered for write-protect while on')
            eq(count_uffds(child.pid), 0, 'no userfaultfd in the target')
            eq(t.cmd(0, 'off'), 0, 'off')
            with open('/proc/%d/smaps' % child.pid) as f:
                check(not any(l.startswith('VmFlags:') and ' uw' in l
                              for l in f), 'nothing registered after off')
            eq(count_uffds(child.pid), 0, 'no userfaultfd after off')
            check(child.poll() is None, 'the target still runs')
        finally:
            child.kill()
            child.wait()


@R.case
def test_fuse_file_semantics():
    with daemon() as d:
        t = d.tree
        build(t)
        c = 'kdamonds/0/contexts/0/'
        # read-only files refuse write opens, even for root
        for rel in ('kdamonds/0/pid', c + 'avail_operations'):
            try:
                os.close(os.open(t.path(rel), os.O_WRONLY))
                raise AssertionError(rel + ' opened for writing')
            except OSError as e:
                eq(e.errno, errno.EACCES, rel)
        # no new files, no directories, no removal
        for fn, arg in ((os.open, (t.path('kdamonds/new'),
                                   os.O_CREAT | os.O_WRONLY)),
                        (os.mkdir, (t.path('kdamonds/new'),)),
                        (os.rmdir, (t.path('kdamonds/0'),)),
                        (os.unlink, (t.path('kdamonds/nr_kdamonds'),))):
            try:
                fn(*arg)
                raise AssertionError('%s succeeded' % fn.__name__)
            except OSError as e:
                check(e.errno in (errno.EACCES, errno.EPERM),
                      '%s: %s' % (fn.__name__, e))
        # O_TRUNC and truncate() are no-ops
        rel = c + 'monitoring_attrs/intervals/sample_us'
        os.close(os.open(t.path(rel), os.O_WRONLY | os.O_TRUNC))
        os.truncate(t.path(rel), 0)
        eq(t.val(rel), '5000', 'truncate is a no-op')
        # a kept fd sees fresh content at offset 0 (no caching)
        fd = os.open(t.path(rel), os.O_RDONLY)
        eq(os.pread(fd, 100, 0), b'5000\n', 'first read')
        t.must(rel, '7000')
        eq(os.pread(fd, 100, 0), b'7000\n', 'fresh read on a kept fd')
        eq(os.pread(fd, 100, 2), b'00\n', 'read at an offset')
        os.close(fd)
        # removed directories vanish at once
        fd = os.open(t.path(c + 'operations'), os.O_RDONLY)
        t.must('kdamonds/0/contexts/nr_contexts', '0')
        check(not os.path.exists(t.path(c + 'operations')), 'gone')
        try:
            os.pread(fd, 100, 0)
            raise AssertionError('read of a removed file succeeded')
        except OSError as e:
            check(e.errno in (errno.ENOENT, errno.ENODEV), str(e))
        os.close(fd)
        # a recursive walk of a large tree is quick
        t.must('kdamonds/nr_kdamonds', '4')
        for k in range(4):
            t.must('kdamonds/%d/contexts/nr_contexts' % k, '1')
            t.must('kdamonds/%d/contexts/0/schemes/nr_schemes' % k, '4')
        n = 0
        for root, dirs, files in os.walk(t.admin):
            for f in files:
                with open(os.path.join(root, f)) as fh:
                    fh.read()
                n += 1
        check(n > 500, 'walked %d files' % n)


@R.case
def test_signal_stops_kdamonds_and_unmounts():
    d = daemon()
    try:
        setup_sim(d.tree)
        eq(d.tree.cmd(0, 'on'), 0, 'on')
        rc = d.stop(signal.SIGTERM)
        eq(rc, 0, 'exit status after SIGTERM')
        check(not is_fuse(d.mnt), 'unmounted')
        check('unmounted' in d.log_text(), 'log says unmounted')
    finally:
        d.cleanup()


@R.case
def test_signal_ends_a_waiting_command():
    d = daemon()
    try:
        setup_sim(d.tree)
        s = 'kdamonds/0/contexts/0/schemes/0/'
        d.tree.must(s + 'apply_interval_us', '60000000')
        eq(d.tree.cmd(0, 'on'), 0, 'on')
        res = {}
        th = threading.Thread(target=lambda: res.update(
            err=d.tree.cmd(0, 'update_schemes_tried_regions')))
        th.start()
        time.sleep(0.3)
        t0 = time.time()
        d.proc.send_signal(signal.SIGTERM)
        d.proc.wait(10)
        check(time.time() - t0 < 5, 'exit took %.1f s' % (time.time() - t0))
        eq(d.proc.returncode, 0, 'exit status')
        th.join(10)
        check(not th.is_alive(), 'the waiting writer returned')
        check(res.get('err') != 0, 'the walk did not complete')
    finally:
        d.cleanup()


@R.case
def test_stale_mount_is_replaced():
    mnt = tempfile.mkdtemp(prefix='udamon-stale-')
    try:
        d1 = Daemon(ARGS.udamond, mnt=mnt)
        d1.proc.kill()
        d1.proc.wait()
        try:
            os.stat(os.path.join(mnt, 'admin'))
            raise AssertionError('mount still answers after SIGKILL')
        except OSError as e:
            eq(e.errno, errno.ENOTCONN, 'stale mount')
        os.unlink(d1.log)
        with Daemon(ARGS.udamond, mnt=mnt) as d2:
            eq(d2.tree.val('kdamonds/nr_kdamonds'), '0', 'new tree')
            check('stale' in d2.log_text(), 'log mentions the stale mount')
        # a second daemon on a live mount point is refused
        with Daemon(ARGS.udamond, mnt=mnt) as d3:
            p = subprocess.run([ARGS.udamond, '-f', '-m', mnt],
                               capture_output=True, timeout=10)
            check(p.returncode != 0, 'second udamond refused')
            eq(d3.tree.val('kdamonds/nr_kdamonds'), '0', 'first still up')
    finally:
        if is_fuse(mnt):
            subprocess.run(['umount', '-l', mnt])
        os.rmdir(mnt)


def udamond_procs():
    pids = []
    for p in os.listdir('/proc'):
        if p.isdigit():
            try:
                if os.readlink('/proc/%s/exe' % p) == \
                        os.path.realpath(ARGS.udamond):
                    pids.append(int(p))
            except OSError:
                pass
    return pids


def udamon_mounts():
    with open('/proc/self/mountinfo') as f:
        return [l for l in f if 'fuse.udamon' in l]


@R.case
def test_udamon_ns():
    before_procs = set(udamond_procs())
    before_mounts = udamon_mounts()
    p = subprocess.run(
        [ARGS.udamon, 'ns', '--udamond', ARGS.udamond, '--', 'sh', '-c',
         'cat /sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds; '
         'stat -f -c %t /sys/kernel/mm/damon; exit 7'],
        capture_output=True, text=True, timeout=60)
    eq(p.stdout.split(), ['0', '65735546'], 'output: %r' % p.stderr)
    eq(p.returncode, 7, 'exit status passes through')
    eq(set(udamond_procs()), before_procs, 'no udamond left')
    eq(udamon_mounts(), before_mounts, 'no mount left')
    # a real workflow: drive a sim kdamond through the kernel path
    cfg = os.path.join(ARGS.configs, 'stairs_30secs.cfg')
    script = '''set -e
D=/sys/kernel/mm/damon/admin/kdamonds
echo 1 > $D/nr_kdamonds; echo 1 > $D/0/contexts/nr_contexts
echo sim > $D/0/contexts/0/operations
echo %s > $D/0/contexts/0/udamon/sim_workload
echo 1 > $D/0/contexts/0/targets/nr_targets
echo on > $D/0/state; sleep 0.3; cat $D/0/state; echo off > $D/0/state
''' % cfg
    p = subprocess.run([ARGS.udamon, 'ns', '--udamond', ARGS.udamond, '--',
                        'sh', '-c', script], capture_output=True, text=True,
                       timeout=60)
    eq((p.returncode, p.stdout.strip()), (0, 'on'), p.stderr)
    # a refused "on" fails the command: ns prints udamond's reason
    script = ('D=/sys/kernel/mm/damon/admin/kdamonds; set -e; '
              'echo 1 > $D/nr_kdamonds; echo 1 > $D/0/contexts/nr_contexts; '
              'echo 1 > $D/0/contexts/0/targets/nr_targets; '
              'echo 999999999 > $D/0/contexts/0/targets/0/pid_target; '
              'echo on > $D/0/state')
    p = subprocess.run([ARGS.udamon, 'ns', '--udamond', ARGS.udamond, '--',
                        'sh', '-c', script], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode != 0, 'the refused on fails the command')
    check('udamon ns: kdamond 0: on: pid_target 999999999: no such process'
          in p.stderr, 'stderr: %r' % p.stderr)
    # the command never runs when the tree is not udamon's
    d = tempfile.mkdtemp()
    try:
        marker = os.path.join(d, 'ran')
        p = subprocess.run([ARGS.udamon, 'ns', '--tree', d, '--', 'touch',
                            marker], capture_output=True, timeout=60)
        eq(p.returncode, 125, 'refused')
        check(not os.path.exists(marker), 'command did not run')
    finally:
        os.rmdir(d)


def mount_dev(mnt):
    """major:minor of the visible mount on mnt, from mountinfo (a stat
    could hang on a deadlocked FUSE daemon)."""
    dev = None
    with open('/proc/self/mountinfo') as f:
        for line in f:
            fields = line.split()
            if fields[4] == mnt:
                dev = fields[2]
    return dev


def fuse_abort(mnt):
    """Abort the FUSE connection of mnt: frees a deadlocked daemon so a
    regression fails its test instead of hanging the suite."""
    dev = mount_dev(mnt)
    if not dev:
        return
    conn = '/sys/fs/fuse/connections'
    minor = dev.split(':')[1]
    if not os.path.exists(os.path.join(conn, minor)):
        # our private mount namespace: this mount goes with it
        subprocess.run(['mount', '-t', 'fusectl', 'fusectl', conn],
                       stderr=subprocess.DEVNULL)
    try:
        with open(os.path.join(conn, minor, 'abort'), 'w') as f:
            f.write('1')
    except OSError:
        pass


def bounded_cmd(d, command, limit=20):
    """Write a state command; fail (and free the daemon) if it hangs."""
    res = {}
    th = threading.Thread(target=lambda: res.update(
        err=d.tree.cmd(0, command)), daemon=True)
    th.start()
    th.join(limit)
    if th.is_alive():
        fuse_abort(d.mnt)
        d.proc.kill()
        th.join(10)
        raise AssertionError('"%s" hung for %d s' % (command, limit))
    return res['err']


def bounded_stop(d, limit=20):
    """SIGTERM must end the daemon, whatever a command is doing."""
    d.proc.send_signal(signal.SIGTERM)
    try:
        return d.proc.wait(limit)
    except subprocess.TimeoutExpired:
        fuse_abort(d.mnt)
        d.proc.kill()
        d.proc.wait(10)
        raise AssertionError('udamond ignored SIGTERM for %d s' % limit)


@R.case
def test_sim_workload_fifo_refused():
    work = tempfile.mkdtemp(prefix='udamon-fifo-')
    fifo = os.path.join(work, 'fifo')
    os.mkfifo(fifo)
    try:
        with daemon() as d:
            t = d.tree
            setup_sim(t, cfg=fifo)
            eq(bounded_cmd(d, 'on'), errno.EINVAL, 'on with a FIFO')
            check('not a regular file' in d.log_text(), d.log_text())
            # the tree still answers and the right file still works
            eq(t.val('kdamonds/0/state'), 'off', 'state')
            t.must('kdamonds/0/contexts/0/udamon/sim_workload',
                   os.path.join(ARGS.configs, 'stairs_30secs.cfg'))
            eq(bounded_cmd(d, 'on'), 0, 'on')
            # a commit naming the FIFO is refused; the kdamond runs on
            t.must('kdamonds/0/contexts/0/udamon/sim_workload', fifo)
            eq(bounded_cmd(d, 'commit'), errno.EINVAL, 'commit FIFO')
            eq(t.val('kdamonds/0/state'), 'on', 'still on')
            eq(bounded_stop(d), 0, 'exit status after SIGTERM')
    finally:
        os.unlink(fifo)
        os.rmdir(work)


@R.case
def test_paths_into_own_mount_refused():
    work = tempfile.mkdtemp(prefix='udamon-own-')
    link = os.path.join(work, 'link')
    try:
        with daemon() as d:
            t = d.tree
            inside = os.path.join(d.mnt, 'admin/kdamonds/nr_kdamonds')
            os.symlink(inside, link)
            dotted = os.path.join(work, '..', os.path.relpath(inside, '/'))
            for path in (inside, link, d.mnt, dotted):
                setup_sim(t, cfg=path)
                eq(bounded_cmd(d, 'on'), errno.EINVAL, 'on with ' + path)
                check("own mount" in d.log_text(), d.log_text())
            # memcg paths: '..' could walk from cgroupfs into the tree
            t.must('kdamonds/0/contexts/0/udamon/sim_workload',
                   os.path.join(ARGS.configs, 'stairs_30secs.cfg'))
            f = 'kdamonds/0/contexts/0/schemes/0/ops_filters/'
            t.must(f + 'nr_filters', '1')
            t.must(f + '0/type', 'memcg')
            t.must(f + '0/memcg_path', '../' * 16 + inside.lstrip('/'))
            err = bounded_cmd(d, 'on')
            check(err != 0, 'on with a memcg path into the tree')
            check("'..'" in d.log_text(), d.log_text())
            eq(t.val('kdamonds/0/state'), 'off', 'state')
            eq(bounded_stop(d), 0, 'exit status after SIGTERM')
    finally:
        if os.path.lexists(link):
            os.unlink(link)
        os.rmdir(work)


def ns_bg_script(pidfile, seen):
    """A CMD for `udamon ns` that leaves a background process behind: it
    ignores SIGTERM and records what /sys/kernel/mm/damon is, again and
    again, for as long as it lives."""
    return ('(trap "" TERM; while :; do '
            'stat -f -c %%T /sys/kernel/mm/damon >> %s 2>&1; '
            'sleep 0.05; done) & echo $! > %s; '
            'while [ ! -s %s ]; do sleep 0.05; done' % (seen, pidfile, seen))


def pid_alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(')')[-1].split()[0] != 'Z'
    except OSError:
        return False


@R.case
def test_udamon_ns_ends_leftover_processes():
    work = tempfile.mkdtemp(prefix='udamon-ns-')
    pidfile = os.path.join(work, 'pid')
    seen = os.path.join(work, 'seen')
    before_procs = set(udamond_procs())
    bg = None
    try:
        p = subprocess.run(
            [ARGS.udamon, 'ns', '--udamond', ARGS.udamond, '--', 'sh', '-c',
             ns_bg_script(pidfile, seen)],
            capture_output=True, text=True, timeout=60)
        eq(p.returncode, 0, p.stderr)
        with open(pidfile) as f:
            bg = int(f.read())
        check(not pid_alive(bg), 'the background process was ended')
        eq(set(udamond_procs()), before_procs, 'no udamond left')
        with open(seen) as f:
            types = set(f.read().split())
        check(types and types <= {'fuse', 'fuseblk'},
              'the background process saw only udamon tree: %r' % types)
    finally:
        if bg and pid_alive(bg):
            os.kill(bg, signal.SIGKILL)
        subprocess.run(['rm', '-rf', work])


@R.case
def test_udamon_ns_sigkill_leaves_no_daemon():
    work = tempfile.mkdtemp(prefix='udamon-ns-')
    pidfile = os.path.join(work, 'pid')
    seen = os.path.join(work, 'seen')
    cmdpid = os.path.join(work, 'cmd')
    before_procs = set(udamond_procs())
    bg = None
    ns = subprocess.Popen(
        [ARGS.udamon, 'ns', '--udamond', ARGS.udamond, '--', 'sh', '-c',
         'echo $$ > %s; ' % cmdpid + ns_bg_script(pidfile, seen) +
         '; exec sleep 600'],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while not (os.path.exists(pidfile) and os.path.getsize(pidfile)):
            check(time.time() < deadline and ns.poll() is None,
                  'udamon ns did not start the command')
            time.sleep(0.05)
        with open(pidfile) as f:
            bg = int(f.read())
        daemons = set(udamond_procs()) - before_procs
        eq(len(daemons), 1, 'one udamond for the namespace')
        ns.kill()
        ns.wait(10)
        # the daemon follows its parent (parent-death signal)
        deadline = time.time() + 20
        while set(udamond_procs()) - before_procs:
            check(time.time() < deadline, 'udamond outlived udamon ns')
            time.sleep(0.05)
        # the orphan keeps looking: it must never see the kernel's tree
        size = os.path.getsize(seen)
        deadline = time.time() + 20
        while os.path.getsize(seen) <= size + 40:
            check(time.time() < deadline and pid_alive(bg),
                  'the leftover process stopped recording')
            time.sleep(0.05)
        with open(seen) as f:
            types = f.read().split()
        check('sysfs' not in types,
              'a leftover process saw the kernel tree: %r' % types[-5:])
        check('tmpfs' in types, 'the inert mount was seen: %r' % types[-5:])
    finally:
        if ns.poll() is None:
            ns.kill()
            ns.wait()
        if bg and pid_alive(bg):
            os.kill(bg, signal.SIGKILL)
        try:
            with open(cmdpid) as f:
                cmd = int(f.read())
            if pid_alive(cmd):
                os.kill(cmd, signal.SIGKILL)
        except (OSError, ValueError):
            pass
        for pid in set(udamond_procs()) - before_procs:
            os.kill(pid, signal.SIGKILL)
        subprocess.run(['rm', '-rf', work])


# ---- udamond --metrics, scraped by a real Prometheus ----

def free_port():
    """A loopback port nobody listens on now (Prometheus binds it next)."""
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def http_get(url, timeout=10):
    import urllib.request
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.read().decode(), resp.headers.get('Content-Type', '')


def prom_query(base, query):
    """The vector an instant query returns: {frozenset(labels): value}."""
    import json
    import urllib.parse
    body, _ = http_get('%s/api/v1/query?%s' % (
        base, urllib.parse.urlencode({'query': query})))
    res = json.loads(body)
    if res.get('status') != 'success':
        raise AssertionError('query %s: %s' % (query, body))
    return {frozenset(r['metric'].items()): float(r['value'][1])
            for r in res['data']['result']}


def prom_wait(base, query, pred, what, limit=60):
    """Poll Prometheus until @pred(vector) holds (generous deadline)."""
    deadline = time.time() + limit
    last = None
    while time.time() < deadline:
        try:
            last = prom_query(base, query)
            if pred(last):
                return last
        except OSError as e:  # not listening yet
            last = e
        time.sleep(0.25)
    raise AssertionError('%s: %s never held (last: %r)' % (what, query, last))


def only_value(vec, what):
    eq(len(vec), 1, what + ' series')
    return next(iter(vec.values()))


def udamon_cli(*args):
    """Run the CLI, retrying a write that met a scrape (EBUSY)."""
    for _ in range(50):
        p = subprocess.run([ARGS.udamon] + list(args), capture_output=True,
                           text=True, timeout=60)
        if p.returncode == 0 or 'busy' not in p.stderr.lower():
            return p
        time.sleep(0.05)
    return p


def cmd_retry(t, command):
    """A state write, retried while a scrape holds the sysfs lock."""
    for _ in range(50):
        err = t.cmd(0, command)
        if err != errno.EBUSY:
            return err
        time.sleep(0.05)
    return err


@R.case
def test_prometheus_scrapes_udamond():
    import re
    import shutil
    prometheus = shutil.which('prometheus')
    promtool = shutil.which('promtool')
    if not prometheus or not promtool:
        raise Skip('prometheus/promtool not installed (scripts/deps.sh '
                   'installs Debian\'s prometheus)')
    work = tempfile.mkdtemp(prefix='udamon-prom-')
    prom = None
    try:
        with Daemon(ARGS.udamond, extra=['--metrics', '127.0.0.1:0']) as d:
            m = re.search(r'serving metrics at http://(\S+)/metrics',
                          d.log_text())
            check(m, 'udamond logs where it serves metrics: %s' %
                  d.log_text())
            target = m.group(1)
            check(target.startswith('127.0.0.1:'), 'loopback: ' + target)
            t = d.tree
            setup_sim(t)
            c = 'kdamonds/0/contexts/0/'
            # pageout on every region: the documented pageout-rate query
            t.must(c + 'schemes/0/action', 'pageout')
            # a size quota with a user_input goal: effective quota, goals
            q = c + 'schemes/0/quotas/'
            t.must(q + 'bytes', str(64 << 20))
            t.must(q + 'reset_interval_ms', '1000')
            t.must(q + 'goals/nr_goals', '1')
            t.must(q + 'goals/0/target_metric', 'user_input')
            t.must(q + 'goals/0/target_value', '100')
            t.must(q + 'goals/0/current_value', '40')
            eq(cmd_retry(t, 'on'), 0, 'on')

            # what udamond serves passes promtool's checks (0.0.4 text)
            text, ctype = http_get('http://%s/metrics' % target)
            check(ctype.startswith('text/plain; version=0.0.4'), ctype)
            chk = subprocess.run([promtool, 'check', 'metrics'],
                                 input=text, capture_output=True, text=True)
            eq(chk.returncode, 0, 'promtool check metrics: %s%s' %
               (chk.stdout, chk.stderr))
            check('udamon_target_regions{' in text, 'regions served')

            # a real Prometheus scraping it every second
            cfg = os.path.join(work, 'prometheus.yml')
            with open(cfg, 'w') as f:
                f.write('global:\n'
                        '  scrape_interval: 1s\n'
                        '  scrape_timeout: 1s\n'
                        '  evaluation_interval: 1s\n'
                        'scrape_configs:\n'
                        '  - job_name: udamond\n'
                        '    static_configs:\n'
                        '      - targets: [\'%s\']\n' % target)
            chk = subprocess.run([promtool, 'check', 'config', cfg],
                                 capture_output=True, text=True)
            eq(chk.returncode, 0, 'config: %s%s' % (chk.stdout, chk.stderr))
            port = free_port()
            base = 'http://127.0.0.1:%d' % port
            prom_log = open(os.path.join(work, 'prometheus.log'), 'w')
            prom = subprocess.Popen(
                [prometheus, '--config.file=' + cfg,
                 '--storage.tsdb.path=' + os.path.join(work, 'data'),
                 '--web.listen-address=127.0.0.1:%d' % port,
                 '--log.level=warn'],
                stdin=subprocess.DEVNULL, stdout=prom_log, stderr=prom_log,
                cwd=work)
            prom_log.close()
            prom_wait(base, 'up{job="udamond"}',
                      lambda v: v and only_value(v, 'up') == 1,
                      'Prometheus scrapes udamond')
            prom_wait(base, 'udamon_kdamond_state{state="on"}',
                      lambda v: v and only_value(v, 'state') == 1, 'on')
            prom_wait(base, 'udamon_context_paused{cause="manual"}',
                      lambda v: v and only_value(v, 'paused') == 0,
                      'not paused')
            info = prom_query(base, 'udamon_context_info')
            labels = dict(next(iter(info)))
            eq((labels['kdamond'], labels['context'], labels['ops'],
                labels['access_source']), ('0', '0', 'sim', 'sim'), 'info')
            # OpenMetrics was negotiated: gauge histograms came through
            prom_wait(base, 'udamon_target_access_ratio_gcount',
                      lambda v: v and only_value(v, 'gcount') > 0,
                      'gauge histogram')

            # the pageout rate query of docs/usage-daemon.md
            prom_wait(base, 'sum by (instance) (rate('
                      'udamon_scheme_applied_bytes_total'
                      '{action="pageout"}[5m]))',
                      lambda v: v and only_value(v, 'rate') > 0,
                      'pageout rate')

            # pause with the CLI; Prometheus sees it flip
            p = udamon_cli('pause', '--tree', d.mnt)
            eq(p.returncode, 0, 'udamon pause: ' + p.stderr)
            eq(t.dump()['contexts'][0]['pause'], True, 'paused')
            prom_wait(base, 'udamon_context_paused{cause="manual"}',
                      lambda v: v and only_value(v, 'paused') == 1,
                      'paused flips to 1')
            # paused: nothing moves, so Prometheus and the tree agree
            dump = t.dump()['contexts'][0]
            regions = dump['adaptive_targets'][0]['regions_list']
            size = sum(r['ar']['end'] - r['ar']['start'] for r in regions)
            wss = sum(r['ar']['end'] - r['ar']['start'] for r in regions
                      if r['last_nr_accesses'])
            stats = read_stats(t)

            def scraped(query):
                return only_value(prom_query(base, query), query)
            # wait for a scrape taken after the reads above
            before = scraped('timestamp(udamon_context_paused'
                             '{cause="manual"})')
            prom_wait(base, 'timestamp(udamon_context_paused'
                      '{cause="manual"})',
                      lambda v: v and only_value(v, 'ts') > before + 1,
                      'newer scrapes')
            eq(scraped('udamon_target_regions'), len(regions),
               'nr_regions as the tree says')
            eq(scraped('udamon_target_monitored_bytes'), size,
               'monitored bytes')
            eq(scraped('udamon_target_working_set_bytes'), wss,
               'working set')
            eq(scraped('udamon_target_access_ratio_bucket{le="+Inf"}'),
               size, 'histogram total')
            eq(scraped('udamon_target_age_seconds_gcount'), size,
               'age histogram total')
            eq(scraped('udamon_context_samples_total'),
               dump['passed_sample_intervals'], 'samples')
            eq(scraped('udamon_context_sample_interval_seconds'),
               dump['attrs']['sample_interval'] / 1e6, 'sample interval')
            eq(scraped('udamon_context_aggregation_interval_seconds'),
               dump['attrs']['aggr_interval'] / 1e6, 'aggr interval')
            eq(scraped('udamon_scheme_tried_regions_total'
                       '{action="pageout"}'), stats[0], 'nr_tried')
            eq(scraped('udamon_scheme_tried_bytes_total{scheme="0"}'),
               stats[1], 'sz_tried')
            eq(scraped('udamon_scheme_snapshots_total'), stats[2],
               'nr_snapshots')
            check(scraped('udamon_kdamond_cpu_seconds_total') > 0,
                  'kdamond CPU time')
            eq(scraped('udamon_context_paused{cause="auto"}'), 0, 'auto')
            eq(cmd_retry(t, 'update_schemes_effective_quotas'), 0, 'esz')
            esz = int(t.val(q + 'effective_bytes'))
            check(0 < esz <= 64 << 20, 'effective quota %d' % esz)
            eq(scraped('udamon_scheme_effective_quota_bytes'), esz,
               'effective quota as the tree says')
            eq(scraped('udamon_scheme_quota_goal_current_value'
                       '{metric="user_input",goal="0"}'), 40, 'goal now')
            eq(scraped('udamon_scheme_quota_goal_target_value'), 100,
               'goal target')
            # a new goal value reaches Prometheus once committed
            t.must(q + 'goals/0/current_value', '70')
            eq(cmd_retry(t, 'commit_schemes_quota_goals'), 0, 'goals')
            prom_wait(base, 'udamon_scheme_quota_goal_current_value',
                      lambda v: v and only_value(v, 'goal') == 70,
                      'committed goal value')
            # the other queries of docs/usage-daemon.md
            eq(scraped('sum by (instance, pid, comm) '
                       '(udamon_target_working_set_bytes)'), wss,
               'working set by target')
            check(scraped('increase(udamon_context_paused_seconds_total'
                          '{cause="manual"}[1h])') > 0,
                  'time paused')
            eq(scraped('udamon_context_paused_seconds_total'
                       '{cause="auto"}'), 0, 'time auto-paused')

            # resume by writing pause N and commit, as sysfs users do
            t.must(c + 'pause', 'N')
            eq(cmd_retry(t, 'commit'), 0, 'resume commit')
            prom_wait(base, 'udamon_context_paused{cause="manual"}',
                      lambda v: v and only_value(v, 'paused') == 0,
                      'paused flips back to 0')
            prom_wait(base, 'udamon_context_samples_total',
                      lambda v: v and only_value(v, 's') >
                      dump['passed_sample_intervals'], 'samples move again')
            # off: the state series follows
            eq(cmd_retry(t, 'off'), 0, 'off')
            prom_wait(base, 'udamon_kdamond_state{state="off"}',
                      lambda v: v and only_value(v, 'off') == 1, 'off')
            eq(scraped('up{job="udamond"}'), 1, 'still scraped')
    finally:
        if prom is not None:
            if prom.poll() is None:
                prom.terminate()
                try:
                    prom.wait(20)
                except subprocess.TimeoutExpired:
                    prom.kill()
                    prom.wait()
        subprocess.run(['rm', '-rf', work])


@R.case
def test_metrics_option_errors():
    """Bad --metrics addresses are refused before mounting, by name."""
    for bad in ('70000', 'nohost.invalid:1', '[::1]9100', ''):
        p = subprocess.run([ARGS.udamond, '-f', '-m', '/nonexistent-udamon',
                            '--metrics', bad], capture_output=True,
                           text=True, timeout=30)
        eq(p.returncode, 2, '--metrics %r exit status' % bad)
        check('--metrics' in p.stderr, 'message names the option: ' +
              p.stderr)
    # a port in use: udamond says so and stops, removing its mount
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        sock.listen(1)
        busy = '127.0.0.1:%d' % sock.getsockname()[1]
        mnt = tempfile.mkdtemp(prefix='udamon-it-')
        log = os.path.join(mnt + '.log')
        try:
            p = subprocess.run([ARGS.udamond, '-f', '-m', mnt, '--log', log,
                                '--metrics', busy], capture_output=True,
                               text=True, timeout=30)
            eq(p.returncode, 1, 'exit status with the port taken')
            with open(log) as f:
                text = f.read()
            check('cannot listen' in text, 'log says why: ' + text)
            check(not is_fuse(mnt), 'unmounted')
        finally:
            if is_fuse(mnt):
                from udamon_test import umount_lazy
                umount_lazy(mnt)
            os.rmdir(mnt)
            if os.path.exists(log):
                os.unlink(log)


@R.case
def test_metrics_while_a_command_holds_the_tree():
    """A scrape never waits long for the sysfs lock: while a walk holds
    it, the previous scrape's values are served, marked stale."""
    import re
    with Daemon(ARGS.udamond, extra=['--metrics', '0']) as d:
        m = re.search(r'serving metrics at http://(\S+)/metrics',
                      d.log_text())
        check(m, 'address in the log: ' + d.log_text())
        url = 'http://%s/metrics' % m.group(1)
        t = d.tree
        setup_sim(t)
        c = 'kdamonds/0/contexts/0/'
        # a walk lasts until the scheme's next apply: make that far away
        t.must(c + 'schemes/0/apply_interval_us', '8000000')
        eq(t.cmd(0, 'on'), 0, 'on')
        fresh, _ = http_get(url)
        check('\nudamon_metrics_stale 0\n' in fresh, 'fresh first')
        regions = re.search(r'\nudamon_target_regions\{[^}]*\} (\d+)\n',
                            fresh)
        check(regions, 'regions in a fresh scrape')
        res = {}

        def walk():
            res['err'] = t.cmd(0, 'update_schemes_tried_regions')

        th = threading.Thread(target=walk)
        th.start()
        try:
            time.sleep(0.5)
            check(th.is_alive(), 'the walk still holds the lock')
            stale, _ = http_get(url)
            check(th.is_alive(), 'and held it during the scrape')
            check('\nudamon_metrics_stale 1\n' in stale,
                  'stale while the walk runs:\n' + stale[:400])
            # the previous values, not nothing
            eq(re.search(r'\nudamon_target_regions\{[^}]*\} (\d+)\n',
                         stale).group(1), regions.group(1), 'kept values')
        finally:
            th.join(30)
        eq(res.get('err'), 0, 'the walk completed')
        again, _ = http_get(url)
        check('\nudamon_metrics_stale 0\n' in again, 'fresh again')
        eq(t.cmd(0, 'off'), 0, 'off')


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument('--udamond', required=True)
    ap.add_argument('--udamon', required=True)
    ap.add_argument('--configs', default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '../../configs'))
    # accepted for older callers; fuzzing is tests/fuzz/run.sh's now
    ap.add_argument('--fuzz-dir', default=None)
    ap.add_argument('cases', nargs='*')
    ARGS = ap.parse_args()
    ARGS.udamond = os.path.abspath(ARGS.udamond)
    ARGS.udamon = os.path.abspath(ARGS.udamon)
    ARGS.configs = os.path.abspath(ARGS.configs)
    raise SystemExit(R.run(ARGS.cases))


if __name__ == '__main__':
    main()
