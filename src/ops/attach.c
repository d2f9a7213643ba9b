// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Attach the uffd-wp access source to a running process that udamon did
 * not launch.
 *
 * Only the process itself can create a userfaultfd for its memory, so one
 * of its threads is borrowed with ptrace: seized, interrupted, made to
 * execute userfaultfd(2), the new descriptor copied into the monitor with
 * pidfd_getfd(2), then made to execute close(2) on it, and its registers
 * put back exactly.  The monitor's copy keeps the userfaultfd alive; the
 * target's descriptor table holds nothing of udamon's at any time after
 * the attach, and closing the monitor's copy (detach, or the monitor's
 * death) makes the kernel unregister everything and drop the protection.
 *
 * Two choices keep the target safe whatever happens to the monitor:
 * - No text is patched.  The injected system calls run on a "syscall"
 *   instruction that already exists in the target (found in its vDSO, or
 *   in another executable mapping), with the instruction pointer moved
 *   there for one single step.
 * - The ptrace work runs in a forked helper process.  The monitor may be
 *   killed (SIGKILL) at any moment: the helper, not the monitor, holds
 *   the target's registers, finishes the restore and detaches; its copy
 *   of the descriptor dies with it if nobody receives it.  Had the
 *   monitor itself been the tracer, its death between "registers set for
 *   injection" and "registers restored" would let the target run on with
 *   the injected registers.
 *
 * Restarting the interrupted system call: a thread blocked in a system
 * call reaches the interrupt stop with the call's restart pending (rax =
 * -ERESTARTSYS or the like, orig_rax = its number).  The injection runs
 * with orig_rax = -1 so that the kernel restarts nothing for it; restoring
 * every register afterwards brings the pending restart back, and the
 * kernel carries it out when the thread resumes, as it would have.
 * Signals that arrive during the injection are held back and delivered at
 * the detach; a stopped (SIGSTOP) target goes back to its stop.
 */
#include "ops/attach.h"
#include "core/ops-api.h"
#include "sys/sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <sys/ptrace.h>
#include <sys/user.h>
#endif

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef PTRACE_SEIZE
#define PTRACE_SEIZE 0x4206
#endif
#ifndef PTRACE_INTERRUPT
#define PTRACE_INTERRUPT 0x4207
#endif
#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

/* How long a thread may take to reach the interrupt stop. */
#define ATTACH_STOP_TIMEOUT_MS 3000
/* How long the monitor waits for the helper's answer. */
#define ATTACH_HELPER_TIMEOUT_MS 10000
/* Bytes of an executable mapping searched for a syscall instruction. */
#define ATTACH_MAX_SEARCH (1UL << 20)
/* Single steps tried for one injected call. */
#define ATTACH_MAX_STEPS 64
/* Signals held back during one injection. */
#define ATTACH_MAX_HELD 8
/* The x86_64 user code segment; anything else is a 32-bit process. */
#define ATTACH_USER64_CS 0x33

struct udamon_attach {
	pid_t pid;
	int uffd;
	char maps_path[64];
	bool said_busy; /* the step-aside line was logged */
};

static int attach_why(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int attach_why(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return err;
}

long udamon__attach_find_syscall(const unsigned char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		/*
		 * Any 0f 05 pair works, also inside a longer instruction:
		 * the CPU decodes from wherever the instruction pointer is.
		 */
		if (buf[i] == 0x0f && buf[i + 1] == 0x05)
			return (long)i;
	}
	return -1;
}

/* The TracerPid of @pid (0: none), or -errno. */
static int attach_tracer_of(pid_t pid)
{
	char path[64], *text, *p;
	int err, tracer = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	err = udamon__sys_read_file(path, &text, NULL, 1UL << 20);
	if (err)
		return err;
	p = strstr(text, "\nTracerPid:");
	if (p)
		tracer = (int)strtol(p + 11, NULL, 10);
	free(text);
	return tracer;
}

/*
 * The address of a syscall instruction in @pid: its vDSO first (always
 * there, never unmapped), else its executable file mappings.  @mem_fd is
 * /proc/PID/mem.  Return: 0 with @addr, or -errno.
 */
static int attach_find_syscall_in(pid_t pid, int mem_fd, unsigned long *addr)
{
	unsigned char *buf = NULL;
	char path[64], *text, *line, *next;
	int err, pass;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	err = udamon__sys_read_file(path, &text, NULL, 64UL << 20);
	if (err)
		return err;
	buf = malloc(ATTACH_MAX_SEARCH);
	if (!buf) {
		free(text);
		return -ENOMEM;
	}
	err = -ENOENT;
	for (pass = 0; pass < 2 && err; pass++) {
		char *copy = strdup(text);

		if (!copy) {
			err = -ENOMEM;
			break;
		}
		for (line = copy; line && *line && err; line = next) {
			unsigned long start, end, sz;
			char *q;
			ssize_t n;
			long off;
			bool vdso;

			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			vdso = strstr(line, "[vdso]") != NULL;
			if (pass == 0 ? !vdso : vdso)
				continue;
			start = strtoul(line, &q, 16);
			if (*q != '-')
				continue;
			end = strtoul(q + 1, &q, 16);
			if (strncmp(q, " r-x", 4) || end <= start)
				continue;
			sz = end - start;
			if (sz > ATTACH_MAX_SEARCH)
				sz = ATTACH_MAX_SEARCH;
			n = udamon__sys.pread(mem_fd, buf, sz, (off_t)start);
			if (n <= 0)
				continue;
			off = udamon__attach_find_syscall(buf, (size_t)n);
			if (off >= 0) {
				*addr = start + (unsigned long)off;
				err = 0;
			}
		}
		free(copy);
	}
	free(buf);
	free(text);
	return err;
}

/* A thread of @pid that can stop: @pid itself unless it is a zombie. */
static pid_t attach_pick_thread(pid_t pid)
{
	char path[96], *text;
	struct dirent *de;
	pid_t tid = pid;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, pid);
	if (!udamon__sys_read_file(path, &text, NULL, 4096)) {
		char *rp = strrchr(text, ')');
		bool zombie = rp && (rp[2] == 'Z' || rp[2] == 'X');

		free(text);
		if (!zombie)
			return pid;
	}
	/* The leader exited (pthread_exit in main): borrow another. */
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return pid;
	while ((de = readdir(d))) {
		pid_t t = (pid_t)strtol(de->d_name, NULL, 10);

		if (t > 0 && t != pid) {
			tid = t;
			break;
		}
	}
	closedir(d);
	return tid;
}

int udamon__attach_probe(pid_t pid, char *why, size_t len)
{
#if defined(__x86_64__)
	char path[64];
	int fd, tracer;

	if (pid <= 0)
		return attach_why(why, len, -EINVAL, "no process id");
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	/* /proc/PID/mem opens under the same rule as ptrace attach. */
	fd = udamon__sys.open(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		int err = errno;

		if (err == ENOENT || err == ESRCH)
			return attach_why(why, len, -ESRCH,
					  "process %d does not exist", pid);
		return attach_why(
			why, len, -EPERM,
			"attaching to process %d needs the rights of ptrace attach (same user and kernel.yama.ptrace_scope, or CAP_SYS_PTRACE): %s",
			pid, strerror(err));
	}
	udamon__sys.close(fd);
	tracer = attach_tracer_of(pid);
	if (tracer > 0)
		return attach_why(
			why, len, -EPERM,
			"process %d is already traced by process %d (a debugger?); attaching needs ptrace",
			pid, tracer);
	return 0;
#else
	return attach_why(why, len, -EOPNOTSUPP,
			  "attaching to a running process is x86_64 only");
#endif
}

#if defined(__x86_64__)

/* ---- the helper process: async-signal-safe code only ---- */

/* What the helper tells the monitor, with the descriptor on success. */
struct attach_reply {
	int err; /* 0 or -errno */
	char why[200];
};

struct attach_inject {
	pid_t pid, tid;
	unsigned long insn; /* the syscall instruction used */
	struct user_regs_struct saved;
	int held[ATTACH_MAX_HELD]; /* signals to deliver at the detach */
	int nr_held;
};

/* Copy @s into @r->why without stdio (not async-signal-safe). */
static void helper_say(struct attach_reply *r, int err, const char *s)
{
	size_t n = strlen(s);

	if (n >= sizeof(r->why))
		n = sizeof(r->why) - 1;
	memcpy(r->why, s, n);
	r->why[n] = '\0';
	r->err = err;
}

static void helper_hold(struct attach_inject *in, int sig)
{
	if (in->nr_held < ATTACH_MAX_HELD)
		in->held[in->nr_held++] = sig;
}

/* Wait for the first stop of the seized thread, within a timeout. */
static int helper_wait_stop(struct attach_inject *in)
{
	struct timespec ms = { 0, 1000000 };
	int st, waited = 0;

	for (;;) {
		pid_t w = waitpid(in->tid, &st, __WALL | WNOHANG);

		if (w < 0)
			return -errno;
		if (w == 0) {
			if (waited++ >= ATTACH_STOP_TIMEOUT_MS)
				return -ETIMEDOUT;
			nanosleep(&ms, NULL);
			continue;
		}
		if (!WIFSTOPPED(st))
			return -ESRCH;
		/* A signal got there before our interrupt: keep it. */
		if ((st >> 16) == 0 && WSTOPSIG(st) != SIGTRAP)
			helper_hold(in, WSTOPSIG(st));
		return 0;
	}
}

/* Run system call @nr(@a0, @a1) in the thread; its result in @ret. */
static int helper_syscall(struct attach_inject *in, long nr, long a0, long a1,
			  long *ret)
{
	struct user_regs_struct regs = in->saved;

	regs.rip = in->insn;
	regs.rax = (unsigned long)nr;
	regs.orig_rax = (unsigned long)-1; /* restart nothing */
	regs.rdi = (unsigned long)a0;
	regs.rsi = (unsigned long)a1;
	regs.rdx = 0;
	if (ptrace(PTRACE_SETREGS, in->tid, NULL, &regs))
		return -errno;
	/* Bounded: a signal storm must not keep the thread borrowed. */
	for (int steps = 0; steps < ATTACH_MAX_STEPS; steps++) {
		int st, sig;

		if (ptrace(PTRACE_SINGLESTEP, in->tid, NULL, NULL))
			return -errno;
		if (waitpid(in->tid, &st, __WALL) < 0)
			return -errno;
		if (!WIFSTOPPED(st))
			return -ESRCH;
		if ((st >> 16) == PTRACE_EVENT_STOP)
			continue; /* our interrupt or a group stop: step on */
		sig = WSTOPSIG(st);
		if (ptrace(PTRACE_GETREGS, in->tid, NULL, &regs))
			return -errno;
		if (sig == SIGTRAP && regs.rip == in->insn + 2) {
			*ret = (long)regs.rax;
			return 0;
		}
		/*
		 * A fault on the instruction itself is ours (the program
		 * never runs there with these registers): drop it, give up.
		 */
		if (regs.rip == in->insn &&
		    (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL))
			return -EAGAIN;
		/* A signal arrived first: deliver it after the restore. */
		helper_hold(in, sig);
	}
	return -EAGAIN;
}

/* Put the registers back and let the thread go with its signals. */
static int helper_detach(struct attach_inject *in)
{
	int err = 0;

	if (ptrace(PTRACE_SETREGS, in->tid, NULL, &in->saved))
		err = -errno;
	/* Held signals past the first are sent again (as process-wide). */
	for (int i = 1; i < in->nr_held; i++)
		kill(in->pid, in->held[i]);
	if (ptrace(PTRACE_DETACH, in->tid, NULL,
		   (void *)(long)(in->nr_held ? in->held[0] : 0)) &&
	    !err)
		err = -errno;
	return err;
}

/*
 * The helper's work; fills @r and returns the descriptor in this process
 * or -1.  Anything that goes wrong after the registers were saved ends in
 * helper_detach(), which restores them.
 */
static int helper_run(pid_t pid, struct attach_inject *in,
		      struct attach_reply *r)
{
	long tfd = -1, rc = 0, word;
	int err, pidfd, fd = -1;

	if (ptrace(PTRACE_SEIZE, in->tid, NULL, NULL)) {
		err = errno;
		helper_say(
			r, -err,
			err == EPERM ?
				"ptrace(PTRACE_SEIZE) refused: no rights over the process, or it is already traced" :
				"ptrace(PTRACE_SEIZE) failed");
		return -1;
	}
	if (ptrace(PTRACE_INTERRUPT, in->tid, NULL, NULL)) {
		helper_say(r, -errno, "ptrace(PTRACE_INTERRUPT) failed");
		return -1; /* our exit detaches */
	}
	err = helper_wait_stop(in);
	if (err) {
		helper_say(
			r, err,
			err == -ETIMEDOUT ?
				"the thread did not stop within 3 s (uninterruptible sleep?)" :
				"the process went away while attaching");
		return -1; /* our exit detaches: nothing was changed */
	}
	if (ptrace(PTRACE_GETREGS, in->tid, NULL, &in->saved)) {
		helper_say(r, -errno, "ptrace(PTRACE_GETREGS) failed");
		return -1;
	}
	if (in->saved.cs != ATTACH_USER64_CS) {
		helper_say(r, -EOPNOTSUPP,
			   "a 32-bit process cannot be attached to");
		helper_detach(in);
		return -1;
	}
	/*
	 * The instruction was found before the thread stopped: if the
	 * process executed a new program meanwhile, it is not there now.
	 */
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, in->tid, (void *)in->insn, NULL);
	if (errno || (word & 0xffff) != 0x050f) {
		helper_say(r, -EAGAIN,
			   "the process executed a new program meanwhile");
		helper_detach(in);
		return -1;
	}
	err = helper_syscall(
		in, SYS_userfaultfd,
		O_CLOEXEC | O_NONBLOCK | UDAMON_UFFD_USER_MODE_ONLY, 0, &tfd);
	/* Kernels before 5.11 know no UFFD_USER_MODE_ONLY. */
	if (!err && tfd == -EINVAL)
		err = helper_syscall(in, SYS_userfaultfd,
				     O_CLOEXEC | O_NONBLOCK, 0, &tfd);
	if (err || tfd < 0) {
		helper_say(
			r, err ? err : (int)tfd,
			err ? "running userfaultfd() in the process failed" :
			      "userfaultfd() in the process failed (vm.unprivileged_userfaultfd, seccomp?)");
		helper_detach(in);
		return -1;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd >= 0) {
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)tfd, 0);
		if (fd < 0)
			err = -errno;
		close(pidfd);
	} else {
		err = -errno;
	}
	/* Leave nothing in the target, whatever happened. */
	for (int tries = 0; tries < 3; tries++) {
		err = helper_syscall(in, SYS_close, tfd, 0, &rc);
		if (err != -EAGAIN)
			break;
	}
	if (err || rc) {
		helper_say(
			r, -EIO,
			"closing the process's copy of the userfaultfd failed");
		if (fd >= 0)
			close(fd);
		helper_detach(in);
		return -1;
	}
	if (fd < 0) {
		helper_say(r, err, "pidfd_getfd() failed");
		helper_detach(in);
		return -1;
	}
	err = helper_detach(in);
	if (err) {
		helper_say(r, err, "ptrace(PTRACE_DETACH) failed");
		close(fd);
		return -1;
	}
	r->err = 0;
	return fd;
}

static void __attribute__((noreturn))
helper_main(pid_t pid, struct attach_inject *in, int sock)
{
	struct attach_reply r = { 0, "" };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { &r, sizeof(r) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fd = helper_run(pid, in, &r);

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	/* No SIGPIPE if the monitor died: our exit then closes the fd. */
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		_exit(1);
	_exit(0);
}

/* The helper's reply and descriptor; -errno if it died without one. */
static int attach_receive(int sock, struct attach_reply *r, int *fdp)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { r, sizeof(*r) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	struct cmsghdr *c;
	ssize_t n;
	int rc;

	*fdp = -1;
	do
		rc = poll(&pfd, 1, ATTACH_HELPER_TIMEOUT_MS);
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		return -ETIMEDOUT;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(*r))
		return -ECHILD;
	r->why[sizeof(r->why) - 1] = '\0';
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fdp, CMSG_DATA(c), sizeof(int));
	}
	return 0;
}

int udamon__attach_uffd(pid_t pid, char *why, size_t len)
{
	struct attach_inject in = { 0 };
	struct attach_reply r = { -EIO, "" };
	char path[64];
	int err, mem_fd, sock[2], fd, st;
	pid_t helper;

	err = udamon__attach_probe(pid, why, len);
	if (err)
		return err;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	mem_fd = udamon__sys.open(path, O_RDONLY | O_CLOEXEC, 0);
	if (mem_fd < 0)
		return attach_why(why, len, -EPERM, "open %s: %s", path,
				  strerror(errno));
	err = attach_find_syscall_in(pid, mem_fd, &in.insn);
	udamon__sys.close(mem_fd);
	if (err)
		return attach_why(
			why, len, err,
			"no syscall instruction found in process %d's vDSO or code: %s",
			pid, strerror(-err));
	in.pid = pid;
	in.tid = attach_pick_thread(pid);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock))
		return attach_why(why, len, -errno, "socketpair: %s",
				  strerror(errno));
	helper = fork();
	if (helper < 0) {
		err = -errno;
		close(sock[0]);
		close(sock[1]);
		return attach_why(why, len, err, "fork: %s", strerror(-err));
	}
	if (helper == 0) {
		sigset_t all;

		/*
		 * Once it has changed the target's registers, only the
		 * helper can put them back: no terminal or process-group
		 * signal (Ctrl-C, a harness killing our group) and no
		 * handler of the program may end or divert it.
		 */
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		setsid();
		close(sock[0]);
		helper_main(pid, &in, sock[1]);
	}
	close(sock[1]);
	err = attach_receive(sock[0], &r, &fd);
	close(sock[0]);
	/* ECHILD: the program reaped it already (a waitpid(-1) loop). */
	while (waitpid(helper, &st, 0) < 0 && errno == EINTR)
		;
	if (err)
		return attach_why(
			why, len, err, "attaching to process %d: the helper %s",
			pid, err == -ETIMEDOUT ? "did not answer" : "died");
	/* Its thread went away (an exec by another thread): try again. */
	if (r.err == -ESRCH && kill(pid, 0) == 0)
		r.err = -EAGAIN;
	if (r.err || fd < 0) {
		if (fd >= 0)
			close(fd);
		return attach_why(why, len, r.err ? r.err : -EIO,
				  "attaching to process %d (thread %d): %s: %s",
				  pid, in.tid, r.why,
				  strerror(r.err ? -r.err : EIO));
	}
	return fd;
}

#else /* !__x86_64__ */

int udamon__attach_uffd(pid_t pid, char *why, size_t len)
{
	(void)pid;
	return attach_why(why, len, -EOPNOTSUPP,
			  "attaching to a running process is x86_64 only");
}

#endif

/* ---- the registration kept in the monitor ---- */

int udamon__attach_open(pid_t pid, struct udamon_attach **ap, char *why,
			size_t len)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UDAMON_UFFD_FEATURE_WP_ASYNC |
			    UDAMON_UFFD_FEATURE_WP_UNPOPULATED,
	};
	struct udamon_attach *a;
	int fd, rc;

	*ap = NULL;
	fd = udamon__attach_uffd(pid, why, len);
	if (fd < 0)
		return fd;
	/* A userfaultfd's ioctls act on its creator's memory, from here. */
	if (udamon__sys.ioctl(fd, UFFDIO_API, &api)) {
		int err = errno == EINVAL ? -EOPNOTSUPP : -errno;

		udamon__sys.close(fd);
		return attach_why(
			why, len, err,
			"UFFDIO_API with WP_ASYNC on process %d's userfaultfd: %s (Linux >= 6.7 needed)",
			pid, strerror(-err));
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		udamon__sys.close(fd);
		return attach_why(why, len, -ENOMEM, "out of memory");
	}
	a->pid = pid;
	a->uffd = fd;
	snprintf(a->maps_path, sizeof(a->maps_path), "/proc/%d/maps", pid);
	rc = udamon__attach_follow(a);
	if (rc < 0) {
		udamon__attach_close(a);
		return attach_why(
			why, len, rc,
			"registering process %d's memory for write-protect: %s",
			pid, strerror(-rc));
	}
	udamon__log(
		DAMON_LOG_INFO,
		"attach: process %d: %d mappings registered for write-protect",
		pid, rc);
	*ap = a;
	return 0;
}

int udamon__attach_follow(struct udamon_attach *a)
{
	unsigned int nr_busy = 0;
	int rc;

	if (!a)
		return -EINVAL;
	rc = udamon__uffd_register_maps(a->uffd, a->maps_path, &nr_busy);
	if (rc == -ENOENT)
		rc = 0; /* nothing to register yet: later, perhaps */
	if (nr_busy && !a->said_busy) {
		a->said_busy = true;
		udamon__log(
			DAMON_LOG_WARN,
			"attach: process %d uses userfaultfd itself on %u mappings; udamon leaves them to it (writes there are not seen)",
			a->pid, nr_busy);
	}
	return rc;
}

void udamon__attach_close(struct udamon_attach *a)
{
	if (!a)
		return;
	if (a->uffd >= 0)
		udamon__sys.close(a->uffd);
	free(a);
}
