// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * udamon ns [--udamond PATH] [--tree DIR] [--log FILE] -- CMD [ARGS]
 *
 * Runs CMD in a private mount namespace in which /sys/kernel/mm/damon is
 * udamon's tree, so tools written for the kernel's DAMON sysfs interface
 * drive udamon unchanged.  The tree comes from a udamond started for the
 * purpose (mounted straight at /sys/kernel/mm/damon) or, with --tree, from
 * a running udamond's mount, bind-mounted there.
 *
 * Safety: before CMD runs, the mount at /sys/kernel/mm/damon is verified,
 * inside the namespace, to be a FUSE file system (statfs magic) of type
 * fuse.udamon; otherwise CMD is not run.  On a machine whose kernel runs
 * DAMON, a command meant for udamon must never reach the kernel's tree.
 *
 * The exit status is CMD's (128+N if killed by signal N); 125 if udamon
 * itself failed.  The namespace, and with it every mount made here, ends
 * with this process; the udamond it started is stopped and waited for.
 *
 * Nothing is left behind, and nothing left behind sees the kernel's tree:
 *  - this process is a child subreaper, so every process CMD starts stays
 *    its descendant; when CMD returns, those still running get SIGTERM,
 *    then SIGKILL after NS_GRACE_MS, and all are reaped, before udamond
 *    is stopped.
 *  - under udamon's tree lies an empty read-only tmpfs (the "inert"
 *    mount), so whatever could still look at /sys/kernel/mm/damon once
 *    the tree is gone (after a SIGKILL of this process) finds nothing.
 *  - udamond and CMD get a parent-death signal (SIGTERM): a SIGKILL of
 *    this process stops the daemon instead of leaving it orphaned.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/util.h"

#define NS_DAMON_DIR "/sys/kernel/mm/damon"
#define NS_MM_DIR "/sys/kernel/mm"
#define NS_FUSE_MAGIC 0x65735546UL
#define NS_FAIL 125
/* How long processes left by CMD get between SIGTERM and SIGKILL. */
#define NS_GRACE_MS 2000

static volatile sig_atomic_t ns_child_pid;

static void ns_usage(FILE *out)
{
	fprintf(out,
		"usage: udamon ns [--udamond PATH] [--tree DIR] [--log FILE] "
		"-- CMD [ARGS]\n"
		"Run CMD in a private mount namespace where %s is udamon's\n"
		"DAMON tree: a udamond started for CMD, or with --tree the tree\n"
		"of a running udamond mounted at DIR.  Returns CMD's exit status\n"
		"(125 if udamon ns failed).  Needs CAP_SYS_ADMIN.\n",
		NS_DAMON_DIR);
}

static void ns_forward(int sig)
{
	if (ns_child_pid > 0)
		kill(ns_child_pid, sig);
}

static bool ns_is_fuse(const char *path)
{
	struct statfs sfs;

	return !statfs(path, &sfs) &&
	       (unsigned long)sfs.f_type == NS_FUSE_MAGIC;
}

/* The file system type of the mount whose mount point is @path. */
static bool ns_mount_type(const char *path, char *type, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *fields[6], *save = NULL, *tok, *sep;
		int n = 0;

		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		for (tok = strtok_r(line, " ", &save); tok && n < 6;
		     tok = strtok_r(NULL, " ", &save))
			fields[n++] = tok;
		if (n < 5 || strcmp(fields[4], path))
			continue;
		/* the last mount on a point is the visible one */
		tok = strtok_r(sep + 3, " ", &save);
		if (tok) {
			snprintf(type, len, "%s", tok);
			found = true;
		}
	}
	fclose(f);
	return found;
}

/*
 * The udamond next to this udamon binary (the build tree), or in ../sbin
 * (installed), else the one on PATH.
 */
static char *ns_find_udamond(void)
{
	static const char *const rel[] = { "udamond", "../sbin/udamond" };
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash, *path;
	size_t i;

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
				if (asprintf(&path, "%s/%s", self, rel[i]) < 0)
					continue;
				if (!access(path, X_OK))
					return path;
				free(path);
			}
		}
	}
	return strdup("udamond");
}

/*
 * A kernel without DAMON has no /sys/kernel/mm/damon and sysfs refuses
 * mkdir, so cover /sys/kernel/mm with a tmpfs that re-exposes every
 * original entry by bind mount and adds an empty damon/ mount point.
 */
static int ns_make_mountpoint(void)
{
	char tmpl[] = "/tmp/udamon-ns-XXXXXX";
	char src[PATH_MAX], dst[PATH_MAX], name[NAME_MAX + 2];
	struct stat st;
	char *keep;
	FILE *ls;
	int err = 0;

	if (!stat(NS_DAMON_DIR, &st))
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (errno != ENOENT)
		return -errno;
	keep = mkdtemp(tmpl);
	if (!keep)
		return -errno;
	if (mount(NS_MM_DIR, keep, NULL, MS_BIND | MS_REC, NULL) ||
	    mount("udamon-mm", NS_MM_DIR, "tmpfs", 0, "mode=0755")) {
		err = -errno;
		goto out;
	}
	snprintf(src, sizeof(src), "ls -A '%s'", keep);
	ls = popen(src, "r");
	while (ls && fgets(name, sizeof(name), ls)) {
		int fd;

		name[strcspn(name, "\n")] = '\0';
		snprintf(src, sizeof(src), "%s/%s", keep, name);
		snprintf(dst, sizeof(dst), "%s/%s", NS_MM_DIR, name);
		if (lstat(src, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			mkdir(dst, 0755);
		} else {
			fd = open(dst, O_CREAT | O_WRONLY, 0644);
			if (fd >= 0)
				close(fd);
		}
		if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL))
			fprintf(stderr, "udamon ns: warning: bind %s: %s\n",
				dst, strerror(errno));
	}
	if (ls)
		pclose(ls);
	if (mkdir(NS_DAMON_DIR, 0755))
		err = -errno;
out:
	/* The bind stays reachable through the tmpfs' bind mounts. */
	umount2(keep, MNT_DETACH);
	rmdir(keep);
	return err;
}

/*
 * Cover the namespace's DAMON dir with an empty read-only tmpfs, beneath
 * udamon's tree: when the tree goes, this is what is left to see.
 */
static int ns_mount_inert(void)
{
	if (mount("udamon-inert", NS_DAMON_DIR, "tmpfs",
		  MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0555,size=4k"))
		return -errno;
	return 0;
}

/* In a child: die with @sig when @parent (this process's parent) dies. */
static void ns_die_with_parent(pid_t parent, int sig)
{
	if (prctl(PR_SET_PDEATHSIG, sig) || getppid() != parent)
		_exit(NS_FAIL);
}

static pid_t ns_start_udamond(const char *udamond, const char *log)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0) {
		ns_die_with_parent(parent, SIGTERM);
		/* Its own group: a terminal's ^C must not skip cleanup. */
		setpgid(0, 0);
		/* CMD's output stays CMD's: udamond logs to --log only. */
		execlp(udamond, udamond, "-f", "-m", NS_DAMON_DIR, "--log",
		       log ? log : "/dev/null", (char *)NULL);
		fprintf(stderr, "udamon ns: cannot run %s: %s\n", udamond,
			strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Wait for the tree to appear; false if udamond died or took too long. */
static bool ns_wait_tree(pid_t udamond)
{
	int i, status;

	for (i = 0; i < 1000; i++) {
		if (ns_is_fuse(NS_DAMON_DIR) &&
		    !access(NS_DAMON_DIR "/admin/kdamonds/nr_kdamonds", F_OK))
			return true;
		if (udamond > 0 &&
		    waitpid(udamond, &status, WNOHANG) == udamond)
			return false;
		usleep(10000);
	}
	return false;
}

static void ns_stop_udamond(pid_t pid)
{
	int i, status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static uint64_t ns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Children of this process but @keep (zombies included), from /proc. */
static size_t ns_children(pid_t keep, pid_t *pids, size_t max)
{
	pid_t self = getpid();
	struct dirent *de;
	size_t nr = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while (nr < max && (de = readdir(d))) {
		char path[64], line[512], *close_paren;
		int ppid = 0;
		pid_t pid = (pid_t)atoi(de->d_name);
		FILE *f;

		if (pid <= 0 || pid == keep)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f)) {
			/* "pid (comm) state ppid ...": comm may hold ')' */
			close_paren = strrchr(line, ')');
			if (close_paren)
				sscanf(close_paren + 1, " %*c %d", &ppid);
		}
		fclose(f);
		if (ppid == self)
			pids[nr++] = pid;
	}
	closedir(d);
	return nr;
}

static bool ns_pid_in(const pid_t *pids, size_t nr, pid_t pid)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/*
 * End every process CMD left behind.  As a subreaper this process
 * inherits them all, so "our children but udamond" is the whole set;
 * their own children come to us as they die, and are ended in turn.
 */
static void ns_end_leftovers(pid_t keep)
{
	pid_t kids[256], termed[1024];
	size_t nr_termed = 0, nr, i;
	uint64_t deadline = ns_now_ms() + NS_GRACE_MS;
	bool killing = false;

	while ((nr = ns_children(keep, kids, 256))) {
		for (i = 0; i < nr; i++) {
			int status;

			if (waitpid(kids[i], &status, WNOHANG) == kids[i])
				continue;
			if (killing || nr_termed == 1024) {
				kill(kids[i], SIGKILL);
			} else if (!ns_pid_in(termed, nr_termed, kids[i])) {
				kill(kids[i], SIGTERM);
				termed[nr_termed++] = kids[i];
			}
		}
		if (!killing && ns_now_ms() >= deadline)
			killing = true;
		usleep(10000);
	}
}

/* The namespace's DAMON dir must be udamon's FUSE tree, or CMD won't run. */
static bool ns_verify(void)
{
	char type[64] = "";

	if (!ns_is_fuse(NS_DAMON_DIR)) {
		fprintf(stderr,
			"udamon ns: %s is not a FUSE mount; refusing to run "
			"the command\n",
			NS_DAMON_DIR);
		return false;
	}
	if (!ns_mount_type(NS_DAMON_DIR, type, sizeof(type)) ||
	    strcmp(type, "fuse.udamon")) {
		fprintf(stderr,
			"udamon ns: %s is a '%s' mount, not udamon's; refusing "
			"to run the command\n",
			NS_DAMON_DIR, type);
		return false;
	}
	return true;
}

/*
 * The command failed: if the tree refused a state write, the errno the
 * command saw rarely says why, so print what udamond kept for each
 * kdamond (udamon/state_error).
 */
static void ns_say_state_errors(void)
{
	unsigned int kd;

	for (kd = 0; kd < 1024; kd++) {
		char path[128], why[600];
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path),
			 NS_DAMON_DIR "/admin/kdamonds/%u/udamon/state_error",
			 kd);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		n = read(fd, why, sizeof(why) - 1);
		close(fd);
		if (n <= 0)
			continue;
		why[n] = '\0';
		while (n > 0 && why[n - 1] == '\n')
			why[--n] = '\0';
		if (why[0])
			fprintf(stderr, "udamon ns: kdamond %u: %s\n", kd, why);
	}
}

int cli_ns(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "udamond", required_argument, NULL, 'u' },
		{ "tree", required_argument, NULL, 't' },
		{ "log", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tree = NULL, *log = NULL;
	char *udamond = NULL;
	pid_t daemon_pid = -1, child, self = getpid();
	int c, status, ret = NS_FAIL;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			free(udamond);
			udamond = strdup(optarg);
			break;
		case 't':
			tree = optarg;
			break;
		case 'l':
			log = optarg;
			break;
		case 'h':
			ns_usage(stdout);
			free(udamond);
			return 0;
		default:
			free(udamond);
			return cli_getopt_error("ns", c, argv);
		}
	}
	if (optind >= argc) {
		ns_usage(stderr);
		free(udamond);
		return 2;
	}
	if (tree && !ns_is_fuse(tree)) {
		fprintf(stderr, "udamon ns: %s is not a FUSE mount\n", tree);
		free(udamond);
		return NS_FAIL;
	}
	if (!udamond)
		udamond = ns_find_udamond();

	/* Whatever CMD starts stays ours to end (ns_end_leftovers). */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		fprintf(stderr, "udamon ns: cannot become a subreaper: %s\n",
			strerror(errno));
		goto out;
	}
	if (unshare(CLONE_NEWNS)) {
		fprintf(stderr,
			"udamon ns: cannot make a mount namespace: %s "
			"(needs CAP_SYS_ADMIN)\n",
			strerror(errno));
		goto out;
	}
	/* Nothing mounted here may propagate back to the real system. */
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		fprintf(stderr, "udamon ns: making mounts private: %s\n",
			strerror(errno));
		goto out;
	}
	if (ns_make_mountpoint()) {
		fprintf(stderr, "udamon ns: cannot make %s\n", NS_DAMON_DIR);
		goto out;
	}
	if (ns_mount_inert()) {
		fprintf(stderr, "udamon ns: cannot cover %s: %s\n",
			NS_DAMON_DIR, strerror(errno));
		goto out;
	}
	if (tree) {
		if (mount(tree, NS_DAMON_DIR, NULL, MS_BIND, NULL)) {
			fprintf(stderr, "udamon ns: bind %s: %s\n", tree,
				strerror(errno));
			goto out;
		}
	} else {
		daemon_pid = ns_start_udamond(udamond, log);
		if (daemon_pid < 0 || !ns_wait_tree(daemon_pid)) {
			fprintf(stderr, "udamon ns: udamond did not come up\n");
			goto out;
		}
	}
	if (!ns_verify())
		goto out;

	child = fork();
	if (child < 0)
		goto out;
	if (child == 0) {
		ns_die_with_parent(self, SIGTERM);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "udamon ns: %s: %s\n", argv[optind],
			strerror(errno));
		_exit(127);
	}
	ns_child_pid = child;
	signal(SIGINT, ns_forward);
	signal(SIGTERM, ns_forward);
	signal(SIGHUP, ns_forward);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	ret = WIFEXITED(status)	  ? WEXITSTATUS(status) :
	      WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
				    NS_FAIL;
	if (ret)
		ns_say_state_errors();
out:
	/* Before the tree goes: nothing of CMD's may outlive it. */
	ns_end_leftovers(daemon_pid);
	ns_stop_udamond(daemon_pid);
	/* udamond unmounts on exit; make sure, even if it was killed. */
	if (ns_is_fuse(NS_DAMON_DIR))
		umount2(NS_DAMON_DIR, MNT_DETACH);
	free(udamond);
	return ret;
}
