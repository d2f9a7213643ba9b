# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for udamond integration tests: start a udamond on a temporary
mount point, make sure what we are about to write is udamon's FUSE tree
(never the kernel's DAMON sysfs), read and write files the way sysfs users
do, and print TAP.

Every Daemon is stopped, by its pid, and its mount removed, even when a
test fails; run inside a private mount namespace (run.sh does that).
"""
import ctypes
import ctypes.util
import errno
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback

FUSE_SUPER_MAGIC = 0x65735546
_libc = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)
MNT_DETACH = 2


def fs_type(path):
    """f_type of statfs(path), or None."""
    buf = ctypes.create_string_buffer(256)
    if _libc.statfs(path.encode(), buf) != 0:
        return None
    return struct.unpack_from('l', buf.raw)[0] & 0xffffffff


def is_fuse(path):
    return fs_type(path) == FUSE_SUPER_MAGIC


def umount_lazy(path):
    _libc.umount2(path.encode(), MNT_DETACH)


class Skip(Exception):
    pass


class Refused(Exception):
    pass


class Tree:
    """The admin/ tree of one udamond; refuses anything but a FUSE mount."""

    def __init__(self, mnt):
        if not is_fuse(mnt):
            raise Refused('%s is not a FUSE mount; refusing to write' % mnt)
        self.mnt = mnt
        self.admin = os.path.join(mnt, 'admin')

    def path(self, rel):
        return os.path.join(self.admin, rel)

    def read(self, rel):
        with open(self.path(rel)) as f:
            return f.read()

    def val(self, rel):
        """The content without the one newline a show adds."""
        s = self.read(rel)
        return s[:-1] if s.endswith('\n') else s

    def write(self, rel, value, trunc=True):
        """Write like `echo value > file`; return 0 or the errno."""
        flags = os.O_WRONLY | (os.O_TRUNC if trunc else 0)
        try:
            fd = os.open(self.path(rel), flags)
        except OSError as e:
            return e.errno
        try:
            data = value.encode() if isinstance(value, str) else value
            n = os.write(fd, data)
            assert n == len(data), 'short write %d of %d' % (n, len(data))
            return 0
        except OSError as e:
            return e.errno
        finally:
            os.close(fd)

    def must(self, rel, value):
        err = self.write(rel, value)
        if err:
            raise AssertionError('writing %r to %s: %s' %
                                 (value, rel, errno.errorcode.get(err, err)))

    def cmd(self, kd, command):
        return self.write('kdamonds/%d/state' % kd, command + '\n')

    def dump(self, kd=0):
        return json.loads(self.read('kdamonds/%d/udamon/dump' % kd))


class Daemon:
    def __init__(self, udamond, mnt=None, extra=()):
        self.own_dir = mnt is None
        self.mnt = mnt or tempfile.mkdtemp(prefix='udamon-it-')
        self.log = tempfile.NamedTemporaryFile(prefix='udamond-log-',
                                               delete=False).name
        self.proc = subprocess.Popen(
            [udamond, '-f', '-m', self.mnt, '--log', self.log] + list(extra),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError('udamond exited: %s' % self.log_text())
            if is_fuse(self.mnt) and os.path.exists(
                    os.path.join(self.mnt, 'admin/kdamonds/nr_kdamonds')):
                break
            time.sleep(0.02)
        else:
            self.stop()
            raise AssertionError('udamond did not mount %s' % self.mnt)
        self.tree = Tree(self.mnt)

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ''

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if is_fuse(self.mnt):
            umount_lazy(self.mnt)
        if self.own_dir:
            try:
                os.rmdir(self.mnt)
            except OSError:
                pass
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        try:
            os.unlink(self.log)
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False


class Runner:
    def __init__(self):
        self.cases = []

    def case(self, fn):
        self.cases.append(fn)
        return fn

    def run(self, only=None):
        cases = [c for c in self.cases if not only or c.__name__ in only]
        print('TAP version 13')
        print('1..%d' % len(cases))
        passed = failed = skipped = 0
        for i, fn in enumerate(cases, 1):
            name = fn.__name__
            t0 = time.time()
            try:
                fn()
            except Skip as e:
                print('ok %d - %s # SKIP %s' % (i, name, e))
                skipped += 1
                continue
            except Exception:
                print('not ok %d - %s' % (i, name))
                for line in traceback.format_exc().splitlines():
                    print('# ' + line)
                failed += 1
                continue
            print('ok %d - %s # %.1f s' % (i, name, time.time() - t0))
            passed += 1
            sys.stdout.flush()
        print('# %d passed, %d failed, %d skipped' % (passed, failed,
                                                       skipped))
        return 1 if failed else 0


def eq(a, b, what=''):
    if a != b:
        raise AssertionError('%s: %r != %r' % (what, a, b))


def check(cond, what=''):
    if not cond:
        raise AssertionError(what)
