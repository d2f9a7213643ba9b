// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Paths the tree's users write (udamon/sim_workload, memcg paths), opened
 * by the daemon that serves the tree.  Two ways such a path can hang the
 * daemon, both refused here:
 *
 *  - a FIFO, device or socket: opening or reading it waits for another
 *    process, for ever.  Only regular files are read; the open itself does
 *    not wait (O_NONBLOCK) and nothing else is accepted (fstat S_ISREG).
 *  - a path into the daemon's own mount: every lookup on it is a FUSE
 *    request the daemon must answer itself, and the thread asking may hold
 *    what the answer needs.  The path is resolved here component by
 *    component, symlinks included, and refused as soon as a prefix reaches
 *    a mount point of the tree (found in /proc/self/mountinfo, which never
 *    touches the mount), before anything is looked up beneath it.
 *
 * None of this is done with fs_tree_lock held (see cmd.c), so even a slow
 * file system (a hung NFS server) delays only the one command reading it,
 * never the tree or shutdown.
 */
#include "fs/tree.h"
#include "sys/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Symlinks followed in one resolution, as the kernel's MAXSYMLINKS. */
#define FS_PATH_MAX_LINKS 40

static char *fs_own_mount;

int fs_set_own_mount(const char *mnt)
{
	char *copy = NULL;

	if (mnt) {
		copy = udamon__strdup(mnt);
		if (!copy)
			return -ENOMEM;
	}
	free(fs_own_mount);
	fs_own_mount = copy;
	return 0;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void fs_unescape(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

struct fs_mountinfo_line {
	char *dev; /* "major:minor" */
	char *point; /* unescaped mount point */
	char *fstype;
};

/* Split one mountinfo line in place; false if it is malformed. */
static bool fs_mountinfo_split(char *line, struct fs_mountinfo_line *m)
{
	char *sep = strstr(line, " - ");
	char *fields[5], *save = NULL, *tok;
	int n = 0;

	if (!sep)
		return false;
	*sep = '\0';
	for (tok = strtok_r(line, " ", &save); tok && n < 5;
	     tok = strtok_r(NULL, " ", &save))
		fields[n++] = tok;
	if (n < 5)
		return false;
	save = NULL;
	m->fstype = strtok_r(sep + 3, " \n", &save);
	if (!m->fstype)
		return false;
	m->dev = fields[2];
	m->point = fields[4];
	fs_unescape(m->point);
	return true;
}

struct fs_mounts {
	char **points;
	unsigned int nr;
};

static void fs_mounts_free(struct fs_mounts *ms)
{
	unsigned int i;

	for (i = 0; i < ms->nr; i++)
		free(ms->points[i]);
	free(ms->points);
	ms->points = NULL;
	ms->nr = 0;
}

static int fs_mounts_add(struct fs_mounts *ms, const char *point)
{
	char **p = udamon__realloc(ms->points, (ms->nr + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	ms->points = p;
	p[ms->nr] = udamon__strdup(point);
	if (!p[ms->nr])
		return -ENOMEM;
	ms->nr++;
	return 0;
}

/*
 * Every mount point of the tree in this mount namespace: the one it was
 * mounted on plus bind mounts of it (same device).  Read from mountinfo,
 * so nothing is asked of the mount itself.
 */
static int fs_own_mounts(struct fs_mounts *ms)
{
	char line[8192], dev[64] = "";
	FILE *f;
	int err = 0;

	ms->points = NULL;
	ms->nr = 0;
	if (!fs_own_mount)
		return 0;
	err = fs_mounts_add(ms, fs_own_mount);
	if (err)
		return err;
	f = udamon__fopen("/proc/self/mountinfo", "re");
	if (!f)
		return 0;
	/* The device of the visible (last) udamon mount on our point. */
	while (fgets(line, sizeof(line), f)) {
		struct fs_mountinfo_line m;

		if (fs_mountinfo_split(line, &m) &&
		    !strcmp(m.point, fs_own_mount) &&
		    !strcmp(m.fstype, "fuse.udamon"))
			snprintf(dev, sizeof(dev), "%s", m.dev);
	}
	if (dev[0]) {
		rewind(f);
		while (!err && fgets(line, sizeof(line), f)) {
			struct fs_mountinfo_line m;

			if (fs_mountinfo_split(line, &m) &&
			    !strcmp(m.dev, dev) &&
			    strcmp(m.point, fs_own_mount))
				err = fs_mounts_add(ms, m.point);
		}
	}
	fclose(f);
	return err;
}

/* Whether absolute, normalized @path is @point or lies beneath it. */
static bool fs_path_under(const char *path, const char *point)
{
	size_t n = strlen(point);

	if (n == 1 && point[0] == '/')
		return true;
	return !strncmp(path, point, n) && (path[n] == '\0' || path[n] == '/');
}

static bool fs_in_mounts(const struct fs_mounts *ms, const char *path)
{
	unsigned int i;

	for (i = 0; i < ms->nr; i++)
		if (fs_path_under(path, ms->points[i]))
			return true;
	return false;
}

bool fs_path_in_own_mount(const char *path)
{
	struct fs_mounts ms;
	bool in;

	if (fs_own_mounts(&ms)) {
		fs_mounts_free(&ms);
		return true; /* cannot tell: refuse */
	}
	in = fs_in_mounts(&ms, path);
	fs_mounts_free(&ms);
	return in;
}

/*
 * realpath() that refuses (-EXDEV) before looking anything up inside one
 * of @ms's mounts.  @path must be absolute.
 */
static int fs_resolve_outside(const char *path, const struct fs_mounts *ms,
			      char *out, size_t outlen)
{
	char rest[PATH_MAX * 2], cand[PATH_MAX], target[PATH_MAX];
	unsigned int links = 0;
	size_t rlen = 1;
	char *p;

	if (path[0] != '/')
		return -EINVAL;
	if (strlen(path) >= sizeof(rest))
		return -ENAMETOOLONG;
	strcpy(rest, path);
	strcpy(out, "/");
	p = rest;
	for (;;) {
		char *comp, *end;
		struct stat st;
		ssize_t n;
		size_t clen, base;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		comp = p;
		end = strchr(p, '/');
		clen = end ? (size_t)(end - p) : strlen(p);
		p += clen;
		if (clen == 1 && comp[0] == '.')
			continue;
		if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
			char *slash = strrchr(out, '/');

			rlen = slash == out ? 1 : (size_t)(slash - out);
			out[rlen] = '\0';
			continue;
		}
		if (rlen + 1 + clen >= sizeof(cand))
			return -ENAMETOOLONG;
		/* cand = out + "/" + comp (no double slash after the root) */
		memcpy(cand, out, rlen);
		base = rlen;
		if (rlen > 1)
			cand[base++] = '/';
		memcpy(cand + base, comp, clen);
		cand[base + clen] = '\0';
		if (fs_in_mounts(ms, cand))
			return -EXDEV;
		if (lstat(cand, &st))
			return -errno;
		if (S_ISLNK(st.st_mode)) {
			size_t left = strlen(p);

			if (++links > FS_PATH_MAX_LINKS)
				return -ELOOP;
			n = readlink(cand, target, sizeof(target) - 1);
			if (n < 0)
				return -errno;
			target[n] = '\0';
			if ((size_t)n + left >= sizeof(rest))
				return -ENAMETOOLONG;
			/* rest becomes the link's target, then what was left */
			memmove(rest + n, p, left + 1);
			memcpy(rest, target, (size_t)n);
			p = rest;
			if (target[0] == '/') {
				strcpy(out, "/");
				rlen = 1;
			}
			continue;
		}
		if (*p && !S_ISDIR(st.st_mode))
			return -ENOTDIR;
		if (strlen(cand) >= outlen)
			return -ENAMETOOLONG;
		strcpy(out, cand);
		rlen = strlen(out);
	}
	return 0;
}

/* Open @path following no symlink, without waiting on FIFOs or ttys. */
static int fs_open_resolved(const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
			 O_NOFOLLOW,
		/* the path was resolved already: a new symlink is a race */
		.resolve = RESOLVE_NO_SYMLINKS,
	};
	long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		fd = open(path, (int)how.flags);
	return fd < 0 ? -errno : (int)fd;
}

int fs_read_regular(const char *path, size_t max, char **bufp, size_t *lenp,
		    char *why, size_t whylen)
{
	char resolved[PATH_MAX];
	struct fs_mounts ms;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, err;

	*bufp = NULL;
	*lenp = 0;
	snprintf(why, whylen, "%s", "");
	err = fs_own_mounts(&ms);
	if (!err)
		err = fs_resolve_outside(path, &ms, resolved, sizeof(resolved));
	fs_mounts_free(&ms);
	if (err == -EXDEV) {
		snprintf(why, whylen, "inside udamond's own mount; refused");
		return -EINVAL;
	}
	if (err == -EINVAL) {
		snprintf(why, whylen, "not an absolute path");
		return err;
	}
	if (err)
		goto errno_why;
	fd = fs_open_resolved(resolved);
	if (fd < 0) {
		err = fd;
		goto errno_why;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		goto errno_why;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(why, whylen, "not a regular file");
		return -EINVAL;
	}
	/* Regular files never block reads; O_NONBLOCK can stay. */
	buf = udamon__malloc(max + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len <= max) {
		ssize_t n = read(fd, buf + len, max + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			free(buf);
			close(fd);
			goto errno_why;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > max) {
		free(buf);
		snprintf(why, whylen, "larger than %zu bytes", max);
		return -EFBIG;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
errno_why:
	snprintf(why, whylen, "%s", strerror(-err));
	return err;
}
