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
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define NS_DAMON_DIR "/sys/kernel/mm/damon"
#define NS_MM_DIR "/sys/kernel/mm"
#define NS_FUSE_MAGIC 0x65735546UL
#define NS_FAIL 125

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

/* The udamond next to this udamon binary, else the one on PATH. */
static char *ns_find_udamond(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash, *path;

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (asprintf(&path, "%s/udamond", self) >= 0) {
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

static pid_t ns_start_udamond(const char *udamond, const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
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
	pid_t daemon_pid = -1, child;
	int c, status, ret = NS_FAIL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
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
			ns_usage(stderr);
			free(udamond);
			return 2;
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
	ns_stop_udamond(daemon_pid);
	/* udamond unmounts on exit; make sure, even if it was killed. */
	if (ns_is_fuse(NS_DAMON_DIR))
		umount2(NS_DAMON_DIR, MNT_DETACH);
	free(udamond);
	return ret;
}
