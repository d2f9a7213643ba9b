// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * udamond: mounts the DAMON sysfs tree (admin/kdamonds/...) with FUSE and
 * runs a kdamond for every kdamond directory turned on, so that anything
 * written for /sys/kernel/mm/damon/admin drives udamon unchanged.
 *
 *   udamond [-m|--mount DIR] [--log FILE] [-f|--foreground] [--allow-other]
 *           [--metrics ADDR:PORT]
 *           [--checkpoint-dir DIR]
 *
 * On SIGTERM/SIGINT/SIGHUP it stops every kdamond and unmounts.  A stale
 * mount left by a crashed run (ENOTCONN on the mount point) is detached
 * and replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <udamon/damon.h>

#include "daemon/metrics.h"
#include "fs/tree.h"
#include "metrics/metrics.h"

#define UDAMOND_DEFAULT_MOUNT "/run/udamon"
#define FUSE_SUPER_MAGIC 0x65735546

#pragma weak damon_sim_register

static FILE *log_file;
static bool log_syslog;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "error", "warning", "info" };

static void udamond_log_line(enum damon_log_level level, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	if (log_syslog) {
		syslog(level == DAMON_LOG_ERR  ? LOG_ERR :
		       level == DAMON_LOG_WARN ? LOG_WARNING :
						 LOG_INFO,
		       "%s", msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	pthread_mutex_lock(&log_lock);
	fprintf(log_file ? log_file : stderr, "%s.%03ld udamond %s: %s\n", when,
		ts.tv_nsec / 1000000,
		level_names[(unsigned int)level < 3 ? level : 2], msg);
	fflush(log_file ? log_file : stderr);
	pthread_mutex_unlock(&log_lock);
}

static void udamond_lib_log(void *arg, enum damon_log_level level,
			    const char *msg)
{
	udamond_log_line(level, msg);
}

static void udamond_log(enum damon_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void udamond_log(enum damon_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	udamond_log_line(level, msg);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: udamond [options]\n"
		"  -m, --mount DIR     mount point of the tree (default %s)\n"
		"      --log FILE      append log lines to FILE (default: stderr\n"
		"                      in the foreground, syslog otherwise)\n"
		"  -f, --foreground    do not daemonize\n"
		"      --allow-other   let other users reach the tree (mode\n"
		"                      bits still apply)\n"
		"  -d, --debug         trace FUSE requests (implies -f)\n"
		"      --allow-cold-on-writes-only\n"
		"                      new contexts allow schemes acting on cold\n"
		"                      memory (pageout, cold, migrate_cold) on\n"
		"                      the writes-only uffd-wp access source,\n"
		"                      which calls read-only memory cold\n"
		"                      (contexts/C/udamon/allow_cold_on_writes_only)\n"
		"      --metrics [ADDR:]PORT\n"
		"                      serve Prometheus/OpenMetrics metrics of\n"
		"                      every kdamond at http://ADDR:PORT/metrics\n"
		"                      (ADDR defaults to 127.0.0.1; [::1]:PORT\n"
		"                      for IPv6; port 0 picks a free one)\n"
		"      --checkpoint-dir DIR\n"
		"                      at shutdown save every running kdamond\n"
		"                      K to DIR/kdamondK.ckpt; a kdamond turned\n"
		"                      on restores its file when it matches\n"
		"                      (kdamonds/K/udamon/checkpoint)\n"
		"  -V, --version       print the version\n"
		"  -h, --help          this text\n"
		"The tree appears as DIR/admin/kdamonds/..., like\n"
		"/sys/kernel/mm/damon/admin.  SIGTERM or SIGINT stops every\n"
		"kdamond and unmounts.\n",
		UDAMOND_DEFAULT_MOUNT);
}

static int mkdir_p(const char *path)
{
	char *p = strdup(path), *s;
	int err = 0;

	if (!p)
		return -ENOMEM;
	for (s = p + 1; !err; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			err = -errno;
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return err;
}

/* Lazily unmount a FUSE mount whose daemon died. */
static int detach_stale(const char *mnt)
{
	pid_t pid;
	int status;

	if (!umount2(mnt, MNT_DETACH))
		return 0;
	/* Not root: let the setuid helper do it. */
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("fusermount3", "fusermount3", "-u", "-z", mnt,
		       (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return -EBUSY;
	return 0;
}

static int prepare_mountpoint(const char *mnt)
{
	struct stat st;
	struct statfs sfs;

	if (stat(mnt, &st)) {
		if (errno == ENOTCONN) {
			udamond_log(
				DAMON_LOG_WARN,
				"%s: stale mount of a dead daemon; replacing it",
				mnt);
			if (detach_stale(mnt)) {
				udamond_log(DAMON_LOG_ERR,
					    "%s: cannot detach the stale mount",
					    mnt);
				return -EBUSY;
			}
			return prepare_mountpoint(mnt);
		}
		if (errno != ENOENT)
			return -errno;
		return mkdir_p(mnt);
	}
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (!statfs(mnt, &sfs) &&
	    (unsigned long)sfs.f_type == FUSE_SUPER_MAGIC) {
		char probe[4096];

		snprintf(probe, sizeof(probe), "%s/admin/kdamonds", mnt);
		if (!access(probe, F_OK)) {
			udamond_log(DAMON_LOG_ERR,
				    "%s: another udamond serves it already",
				    mnt);
			return -EBUSY;
		}
	}
	return 0;
}

static const char *metrics_spec;
static bool metrics_failed;

static void on_ready(void *arg)
{
	char why[256];

	udamond_log(DAMON_LOG_INFO, "serving the DAMON tree at %s (pid %d)",
		    (const char *)arg, (int)getpid());
	/* After daemonizing: the server runs a thread of its own. */
	if (!metrics_spec)
		return;
	if (udamond_metrics_start(metrics_spec, why, sizeof(why))) {
		udamond_log(DAMON_LOG_ERR, "--metrics: %s; stopping", why);
		metrics_failed = true;
		/* the signal handlers are set: this ends the FUSE loop */
		kill(getpid(), SIGTERM);
		return;
	}
	udamond_log(DAMON_LOG_INFO, "serving metrics at http://%s/metrics",
		    udamond_metrics_address());
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mount", required_argument, NULL, 'm' },
		{ "log", required_argument, NULL, 'l' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "allow-other", no_argument, NULL, 'a' },
		{ "debug", no_argument, NULL, 'd' },
		{ "allow-cold-on-writes-only", no_argument, NULL, 'C' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "checkpoint-dir", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct fs_fuse_opts o = { .mountpoint = UDAMOND_DEFAULT_MOUNT };
	const char *log_path = NULL;
	char *mnt;
	int c, err;

	while ((c = getopt_long(argc, argv, "m:fdhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o.mountpoint = optarg;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'f':
			o.foreground = true;
			break;
		case 'a':
			o.allow_other = true;
			break;
		case 'd':
			o.debug = true;
			o.foreground = true;
			break;
		case 'C':
			fs_default_allow_cold_on_writes_only = true;
			break;
		case 'M': {
			struct sockaddr_storage ss;
			unsigned int len;
			char why[256];

			/* a bad address is told now, before mounting */
			if (metrics_parse_addr(optarg, &ss, &len, why,
					       sizeof(why))) {
				fprintf(stderr, "udamond: --metrics: %s\n",
					why);
				return 2;
			}
			metrics_spec = optarg;
			break;
		}
		case 'K':
			/* Absolute: daemonizing changes directory. */
			free(fs_checkpoint_dir);
			fs_checkpoint_dir = realpath(optarg, NULL);
			if (!fs_checkpoint_dir) {
				fprintf(stderr,
					"udamond: --checkpoint-dir %s: %s\n",
					optarg, strerror(errno));
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("udamond %s\n", UDAMON_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "udamond: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (log_path) {
		int fd = open(log_path,
			      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd < 0 || !(log_file = fdopen(fd, "a"))) {
			fprintf(stderr, "udamond: %s: %s\n", log_path,
				strerror(errno));
			return 1;
		}
	} else if (!o.foreground) {
		openlog("udamond", LOG_PID, LOG_DAEMON);
		log_syslog = true;
	}
	damon_set_log_fn(udamond_lib_log, NULL);
	fs_set_log_fn(udamond_log_line);
	if (damon_sim_register && !damon_is_registered_ops(DAMON_OPS_SIM))
		damon_sim_register();

	/* Mount at an absolute path: daemonizing changes directory. */
	mnt = realpath(o.mountpoint, NULL);
	err = prepare_mountpoint(mnt ? mnt : o.mountpoint);
	if (err) {
		udamond_log(DAMON_LOG_ERR, "%s: %s", o.mountpoint,
			    strerror(-err));
		free(mnt);
		return 1;
	}
	if (!mnt)
		mnt = realpath(o.mountpoint, NULL);
	if (!mnt) {
		udamond_log(DAMON_LOG_ERR, "%s: %s", o.mountpoint,
			    strerror(errno));
		return 1;
	}
	o.mountpoint = mnt;
	o.on_ready = on_ready;
	o.arg = mnt;

	/* Paths users write are never followed into the tree itself. */
	if (fs_set_own_mount(mnt)) {
		udamond_log(DAMON_LOG_ERR, "out of memory");
		free(mnt);
		return 1;
	}
	fs_init();
	err = fs_fuse_main(&o);
	udamond_metrics_stop();
	fs_set_own_mount(NULL);
	if (err)
		udamond_log(DAMON_LOG_ERR, "serving %s failed: %s", mnt,
			    strerror(-err));
	else
		udamond_log(DAMON_LOG_INFO, "unmounted %s", mnt);
	free(mnt);
	if (log_file)
		fclose(log_file);
	return err || metrics_failed ? 1 : 0;
}
