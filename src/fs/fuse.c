// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libfuse3 glue: serves the tree with sysfs semantics.  Nothing is cached
 * by the kernel (direct I/O, zero entry/attribute/negative timeouts), so
 * every read shows the current value and removed directories vanish at
 * once; read-only files refuse write opens with -EACCES even for root (as
 * kernfs does); O_TRUNC and truncate() are accepted and ignored; creating,
 * removing or renaming anything is refused.
 *
 * Reads follow seq_file: the content is made when a read starts at offset
 * 0 (or on the first read of an open file) and later offsets are served
 * from that snapshot, so "cat" of a long file sees one consistent text.
 */
#define FUSE_USE_VERSION 312

#include "fs/tree.h"
#include "sys/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse3/fuse.h>
#include <fuse3/fuse_lowlevel.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct fs_handle {
	pthread_mutex_t lock;
	char *data; /* the content the last read from offset 0 saw */
	size_t len;
	bool valid;
	/* open handles, freed at unmount if the kernel never releases them */
	struct fs_handle *prev, *next;
};

static pthread_mutex_t fs_handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fs_handle fs_handles = { .prev = &fs_handles,
				       .next = &fs_handles };

static void fs_handle_free(struct fs_handle *h)
{
	pthread_mutex_lock(&fs_handles_lock);
	h->prev->next = h->next;
	h->next->prev = h->prev;
	pthread_mutex_unlock(&fs_handles_lock);
	free(h->data);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static struct timespec fs_mount_time;

/*
 * Shutdown.  libfuse's signal handler ends the loop, but the loop then
 * waits for requests in progress, and a command may wait for a kdamond for
 * a long time (a walk lasts one apply interval).  So our handler also
 * wakes a thread that stops the kdamonds, which ends such waits.
 */
static struct fuse_session *fs_session;
static int fs_stop_efd = -1;
static _Atomic bool fs_stopper_quit;

static void fs_on_signal(int sig)
{
	uint64_t one = 1;
	ssize_t n;

	if (fs_session)
		fuse_session_exit(fs_session);
	n = write(fs_stop_efd, &one, sizeof(one));
	(void)n;
}

static void *fs_stopper(void *arg)
{
	uint64_t v;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (read(fs_stop_efd, &v, sizeof(v)) == sizeof(v) && !fs_stopper_quit)
		fs_stop_running();
	return NULL;
}

static int fs_install_stopper(struct fuse_session *se, pthread_t *thread)
{
	struct sigaction sa = { .sa_handler = fs_on_signal };
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	size_t i;

	fs_session = se;
	fs_stop_efd = eventfd(0, EFD_CLOEXEC);
	if (fs_stop_efd < 0)
		return -errno;
	if (pthread_create(thread, NULL, fs_stopper, NULL)) {
		close(fs_stop_efd);
		fs_stop_efd = -1;
		return -EAGAIN;
	}
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	return 0;
}

static void fs_remove_stopper(pthread_t thread)
{
	uint64_t one = 1;
	ssize_t n;

	if (fs_stop_efd < 0)
		return;
	/* wake the thread if no signal did (the loop ended otherwise) */
	fs_stopper_quit = true;
	n = write(fs_stop_efd, &one, sizeof(one));
	(void)n;
	pthread_join(thread, NULL);
	close(fs_stop_efd);
	fs_stop_efd = -1;
	fs_session = NULL;
}

static void fs_set_caller(void)
{
	struct fuse_context *c = fuse_get_context();

	fs_caller_uid = c ? c->uid : 0;
	fs_caller_pid = c ? c->pid : 0;
}

static void *fs_op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	cfg->auto_cache = 0;
	return NULL;
}

static int fs_op_getattr(const char *path, struct stat *st,
			 struct fuse_file_info *fi)
{
	struct fs_node n;
	int err = fs_lookup(path, &n);

	if (err)
		return err;
	memset(st, 0, sizeof(*st));
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_atim = fs_mount_time;
	st->st_mtim = fs_mount_time;
	st->st_ctim = fs_mount_time;
	if (n.file) {
		st->st_mode = S_IFREG | n.file->mode;
		st->st_nlink = 1;
		st->st_size = 4096; /* what sysfs reports */
		st->st_blksize = 4096;
	} else {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	}
	return 0;
}

struct fs_fill_arg {
	void *buf;
	fuse_fill_dir_t filler;
};

static void fs_fill_one(void *arg, const char *name, bool is_dir)
{
	struct fs_fill_arg *a = arg;

	a->filler(a->buf, name, NULL, 0, 0);
}

static int fs_op_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
			 off_t off, struct fuse_file_info *fi,
			 enum fuse_readdir_flags flags)
{
	struct fs_fill_arg arg = { .buf = buf, .filler = filler };
	struct fs_node n;
	int err;

	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	pthread_mutex_lock(&fs_tree_lock);
	err = fs_resolve(path, &n);
	if (!err)
		err = fs_list(&n, fs_fill_one, &arg);
	pthread_mutex_unlock(&fs_tree_lock);
	return err;
}

static int fs_op_open(const char *path, struct fuse_file_info *fi)
{
	struct fs_handle *h;
	struct fs_node n;
	int err = fs_lookup(path, &n);

	if (err)
		return err;
	if (!n.file)
		return -EISDIR;
	if ((fi->flags & O_ACCMODE) != O_RDONLY && !(n.file->mode & 0200))
		return -EACCES;
	h = udamon__calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_lock(&fs_handles_lock);
	h->next = fs_handles.next;
	h->prev = &fs_handles;
	fs_handles.next->prev = h;
	fs_handles.next = h;
	pthread_mutex_unlock(&fs_handles_lock);
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	return 0;
}

static int fs_op_release(const char *path, struct fuse_file_info *fi)
{
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;

	if (h)
		fs_handle_free(h);
	return 0;
}

static int fs_op_read(const char *path, char *buf, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;
	size_t n = 0;
	int err = 0;

	if (!h)
		return -EBADF;
	fs_set_caller();
	pthread_mutex_lock(&h->lock);
	if (off == 0 || !h->valid) {
		free(h->data);
		h->valid = false;
		err = fs_read(path, &h->data, &h->len);
		h->valid = !err;
	}
	if (!err && (size_t)off < h->len) {
		n = h->len - (size_t)off;
		if (n > size)
			n = size;
		memcpy(buf, h->data + off, n);
	}
	pthread_mutex_unlock(&h->lock);
	return err ? err : (int)n;
}

static int fs_op_write(const char *path, const char *buf, size_t size,
		       off_t off, struct fuse_file_info *fi)
{
	ssize_t ret;

	fs_set_caller();
	ret = fs_write(path, buf, size);
	return (int)ret;
}

static int fs_op_truncate(const char *path, off_t size,
			  struct fuse_file_info *fi)
{
	struct fs_node n;
	int err = fs_lookup(path, &n);

	if (err)
		return err;
	if (!n.file)
		return -EISDIR;
	return (n.file->mode & 0200) ? 0 : -EACCES;
}

static int fs_op_create(const char *path, mode_t mode,
			struct fuse_file_info *fi)
{
	return -EACCES;
}

static int fs_op_mkdir(const char *path, mode_t mode)
{
	return -EPERM;
}

static int fs_op_unlink(const char *path)
{
	return -EPERM;
}

static int fs_op_rename(const char *from, const char *to, unsigned int flags)
{
	return -EPERM;
}

static const struct fuse_operations fs_ops = {
	.init = fs_op_init,
	.getattr = fs_op_getattr,
	.readdir = fs_op_readdir,
	.open = fs_op_open,
	.release = fs_op_release,
	.read = fs_op_read,
	.write = fs_op_write,
	.truncate = fs_op_truncate,
	.create = fs_op_create,
	.mkdir = fs_op_mkdir,
	.unlink = fs_op_unlink,
	.rmdir = fs_op_unlink,
	.rename = fs_op_rename,
};

int fs_fuse_main(const struct fs_fuse_opts *o)
{
	char opts[256];
	char *argv[4];
	struct fuse_args args;
	struct fuse_loop_config *cfg;
	struct fuse *fuse;
	pthread_t stopper;
	int argc = 0, err = 0;

	clock_gettime(CLOCK_REALTIME, &fs_mount_time);
	snprintf(opts, sizeof(opts),
		 "default_permissions,fsname=udamon,subtype=udamon%s",
		 o->allow_other ? ",allow_other" : "");
	argv[argc++] = "udamond";
	argv[argc++] = "-o";
	argv[argc++] = opts;
	if (o->debug)
		argv[argc++] = "-d";
	args = (struct fuse_args)FUSE_ARGS_INIT(argc, argv);

	fuse = fuse_new(&args, &fs_ops, sizeof(fs_ops), NULL);
	if (!fuse) {
		fuse_opt_free_args(&args);
		return -EINVAL;
	}
	if (fuse_mount(fuse, o->mountpoint)) {
		fuse_destroy(fuse);
		fuse_opt_free_args(&args);
		return -EIO;
	}
	if (fuse_daemonize(o->foreground)) {
		err = -errno;
		goto unmount;
	}
	if (fuse_set_signal_handlers(fuse_get_session(fuse))) {
		err = -EIO;
		goto unmount;
	}
	err = fs_install_stopper(fuse_get_session(fuse), &stopper);
	if (err)
		goto signals;
	if (o->on_ready)
		o->on_ready(o->arg);

	cfg = fuse_loop_cfg_create();
	if (!cfg) {
		err = -ENOMEM;
		goto signals;
	}
	fuse_loop_cfg_set_max_threads(cfg, 32);
	fuse_loop_cfg_set_clone_fd(cfg, 0);
	/* A signal ends the loop with the (positive) signal number. */
	if (fuse_loop_mt(fuse, cfg) < 0)
		err = -EIO;
	fuse_loop_cfg_destroy(cfg);
	fs_remove_stopper(stopper);
    signals:
	fuse_remove_signal_handlers(fuse_get_session(fuse));
unmount:
	/* Stop kdamonds before the tree they report into goes away. */
	fs_fini();
	fuse_unmount(fuse);
	fuse_destroy(fuse);
	fuse_opt_free_args(&args);
	while (fs_handles.next != &fs_handles)
		fs_handle_free(fs_handles.next);
	return err;
}
