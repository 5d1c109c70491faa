/*
 * durable.c - temp file, write, fsync, close, rename, fsync the directory.
 *
 * This is the only file in the tree that renames or fsyncs (see durable.h
 * for the guarantee).  The order matters: the data must be on disk before
 * the rename makes it visible under the final name, and the rename must be
 * on disk (directory fsync) before anyone is told about it.  Skipping the
 * file fsync loses data on XFS and ext4 noauto_da_alloc after a power cut
 * (an empty file under the final name); skipping the directory fsync can
 * bring the old file back.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/compat.h"
#include "store/durable.h"
#include "base/err.h"

struct wa_durable {
	int fd;
	int dirfd;
	int stagefd;
	char *name;
	char tmp[256];
};

#ifdef WA_TESTING
struct wa_durable_stats wa_durable_stats;

/* WA_TEST_CRASH_AT=N: 1 at the N-th logged operation (see durable.h) */
static int
crash_due(void)
{
	static long at = -2, ops;

	if (at == -2) {
		const char *p = getenv("WA_TEST_CRASH_AT");
		at = p && *p ? strtol(p, NULL, 10) : -1;
	}
	return at > 0 && ++ops == at;
}

static void
crash(void)
{
	raise(SIGKILL);
	_exit(137);
}

static void
oplog(const char *op, const char *name)
{
	static int fd = -2;
	char line[600];
	int n, saved = errno;

	if (crash_due())
		crash();

	if (fd == -2) {
		const char *p = getenv("WA_TEST_OPLOG");
		fd = p && *p ? open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
	}
	if (fd >= 0) {
		n = snprintf(line, sizeof line, "%ld %s %s\n", (long)getpid(), op, name ? name : "-");
		if (n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) < 0) {
			/* the log is best effort */
		}
	}
	errno = saved;
}
#define COUNT(f) (wa_durable_stats.f++)

/*
 * The crash log (WA_TEST_CRASHLOG=FILE): one JSON object per line for
 * every storage operation that succeeded, with what a replay needs to
 * rebuild any crash state (tests/crashsim/crashsim.mjs):
 *
 *	{"pid":N,"op":"create","path":P}          new empty file (O_EXCL)
 *	{"pid":N,"op":"write","path":P,"off":O,"data":B64}
 *	{"pid":N,"op":"fsync","path":P}           file or folder (by fd)
 *	{"pid":N,"op":"close","path":P}
 *	{"pid":N,"op":"rename","from":P,"to":Q}   replacing Q
 *	{"pid":N,"op":"rename_noreplace","from":P,"to":Q}
 *	{"pid":N,"op":"exchange","from":P,"to":Q}
 *	{"pid":N,"op":"link","from":P,"to":Q}
 *	{"pid":N,"op":"unlink","path":P}
 *	{"pid":N,"op":"mkdir","path":P}
 *	{"pid":N,"op":"syncfs","path":P}
 *	{"pid":N,"op":"mark","text":T}            wa_durable_mark
 *
 * Paths are absolute (a folder descriptor is resolved through
 * /proc/self/fd).  Each line is one write(2) on an O_APPEND descriptor.
 */
static int
crashlog_fd(void)
{
	static int fd = -2;

	if (fd == -2) {
		const char *p = getenv("WA_TEST_CRASHLOG");
		fd = p && *p ? open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
	}
	return fd;
}

struct clbuf {
	char *p;
	size_t n, cap;
	int bad;
};

static void
cl_add(struct clbuf *b, const char *s, size_t n)
{
	if (b->bad)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->bad = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void
cl_str(struct clbuf *b, const char *key, const char *s)
{
	char esc[8];

	cl_add(b, ",\"", 2);
	cl_add(b, key, strlen(key));
	cl_add(b, "\":\"", 3);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			cl_add(b, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			cl_add(b, esc, 6);
		} else {
			cl_add(b, s, 1);
		}
	}
	cl_add(b, "\"", 1);
}

static void
cl_b64(struct clbuf *b, const char *key, const unsigned char *d, size_t n)
{
	static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];
	size_t i;

	cl_add(b, ",\"", 2);
	cl_add(b, key, strlen(key));
	cl_add(b, "\":\"", 3);
	for (i = 0; i + 2 < n; i += 3) {
		q[0] = A[d[i] >> 2];
		q[1] = A[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
		q[2] = A[((d[i + 1] & 15) << 2) | (d[i + 2] >> 6)];
		q[3] = A[d[i + 2] & 63];
		cl_add(b, q, 4);
	}
	if (i < n) {
		q[0] = A[d[i] >> 2];
		q[1] = A[((d[i] & 3) << 4) | (i + 1 < n ? d[i + 1] >> 4 : 0)];
		q[2] = i + 1 < n ? A[(d[i + 1] & 15) << 2] : '=';
		q[3] = '=';
		cl_add(b, q, 4);
	}
	cl_add(b, "\"", 1);
}

/* The absolute path of dirfd/name (name NULL: of fd itself). */
static void
cl_path(char *out, size_t n, int dirfd, const char *name)
{
	char link[64], dir[4096];
	ssize_t k;

	if (name && name[0] == '/') {
		snprintf(out, n, "%s", name);
		return;
	}
	if (dirfd == AT_FDCWD) {
		if (!getcwd(dir, sizeof dir))
			snprintf(dir, sizeof dir, "?");
	} else {
		snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
		k = readlink(link, dir, sizeof dir - 1);
		dir[k < 0 ? 0 : k] = 0;
	}
	if (name)
		snprintf(out, n, "%s/%s", dir, name);
	else
		snprintf(out, n, "%s", dir);
}

static void
cl_begin(struct clbuf *b, const char *op)
{
	char head[64];
	int n = snprintf(head, sizeof head, "{\"pid\":%ld", (long)getpid());

	cl_add(b, head, (size_t)n);
	cl_str(b, "op", op);
}

static void
cl_end(struct clbuf *b)
{
	int fd = crashlog_fd();

	cl_add(b, "}\n", 2);
	if (!b->bad && write(fd, b->p, b->n) < 0) {
		/* best effort, like the oplog */
	}
	free(b->p);
}

/* op on dirfd/name (name NULL: on the descriptor dirfd itself) */
static void
crashlog(const char *op, int dirfd, const char *name)
{
	struct clbuf b = { 0 };
	char path[4200];
	int saved = errno;

	if (crashlog_fd() < 0)
		return;
	cl_path(path, sizeof path, dirfd, name);
	cl_begin(&b, op);
	cl_str(&b, "path", path);
	cl_end(&b);
	errno = saved;
}

static void
crashlog2(const char *op, int fromdirfd, const char *from, int todirfd, const char *to)
{
	struct clbuf b = { 0 };
	char p1[4200], p2[4200];
	int saved = errno;

	if (crashlog_fd() < 0)
		return;
	cl_path(p1, sizeof p1, fromdirfd, from);
	cl_path(p2, sizeof p2, todirfd, to);
	cl_begin(&b, op);
	cl_str(&b, "from", p1);
	cl_str(&b, "to", p2);
	cl_end(&b);
	errno = saved;
}

/* n bytes of buf were just written through fd: where they went */
static void
crashlog_write(int fd, const void *buf, size_t n)
{
	struct clbuf b = { 0 };
	char path[4200], off[40];
	off_t end;
	int saved = errno, k;

	if (crashlog_fd() < 0)
		return;
	end = lseek(fd, 0, SEEK_CUR);
	cl_path(path, sizeof path, fd, NULL);
	cl_begin(&b, "write");
	cl_str(&b, "path", path);
	k = snprintf(off, sizeof off, ",\"off\":%lld", (long long)(end < 0 ? -1 : end - (off_t)n));
	cl_add(&b, off, (size_t)k);
	cl_b64(&b, "data", buf, n);
	cl_end(&b);
	errno = saved;
}

void
wa_durable_mark(const char *fmt, ...)
{
	char text[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	oplog("mark", text);
	if (crashlog_fd() >= 0) {
		struct clbuf b = { 0 };
		int saved = errno;
		cl_begin(&b, "mark");
		cl_str(&b, "text", text);
		cl_end(&b);
		errno = saved;
	}
}
#else
#define oplog(op, name) ((void)0)
#define COUNT(f) ((void)0)
#define crash_due() 0
#define crash() ((void)0)
#define crashlog(op, dirfd, name) ((void)0)
#define crashlog2(op, fd1, n1, fd2, n2) ((void)0)
#define crashlog_write(fd, buf, n) ((void)0)
#endif

/*
 * Deliberately broken variants, only for tests/1502-powercut-nofsync.t,
 * which compiles this file again with one of these to show that the crash
 * tests catch a missing fsync.  Never in a release build.
 */
#if (defined(WA_TEST_NO_FSYNC) || defined(WA_TEST_NO_DIRSYNC)) && !defined(WA_TESTING)
#error "WA_TEST_NO_FSYNC and WA_TEST_NO_DIRSYNC need WA_TESTING"
#endif

static int
sync_dir(int dirfd, const char *what)
{
	int rc;

	COUNT(fsync_dir);
	oplog("fsyncdir", what);
	if ((rc = wa_compat_fsync(dirfd)) == 0)
		crashlog("fsync", dirfd, NULL);
	return rc;
}

int
wa_durable_syncfd(int fd)
{
	return sync_dir(fd, "-") < 0 ? WA_ESYS : 0;
}

int
wa_durable_begin(struct wa_durable **out, int dirfd, const char *name, int stagefd)
{
	struct wa_durable *w;
	unsigned char rnd[6];
	int tries;

	*out = NULL;
	if (!name || !*name || strchr(name, '/'))
		return WA_EINVAL;
	if (!(w = calloc(1, sizeof *w)))
		return WA_ENOMEM;
	if (!(w->name = strdup(name))) {
		free(w);
		return WA_ENOMEM;
	}
	w->dirfd = dirfd;
	w->stagefd = stagefd;
	for (tries = 0; tries < 16; tries++) {
		if (wa_compat_random(rnd, sizeof rnd) < 0)
			goto fail;
		snprintf(w->tmp, sizeof w->tmp, "%s%.100s.%ld.%02x%02x%02x%02x%02x%02x",
		    WA_DURABLE_TMP_PREFIX, name, (long)getpid(),
		    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
		w->fd = openat(stagefd, w->tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (w->fd >= 0) {
			oplog("tmp", w->tmp);
			crashlog("create", stagefd, w->tmp);
			*out = w;
			return 0;
		}
		if (errno != EEXIST)
			goto fail;
	}
fail:
	{
		int saved = errno;
		free(w->name);
		free(w);
		errno = saved;
	}
	return WA_ESYS;
}

int
wa_durable_write(struct wa_durable *w, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return WA_ESYS;
		}
		if (n == 0) {
			errno = EIO;
			return WA_ESYS;
		}
		crashlog_write(w->fd, p, (size_t)n);
		p += n;
		len -= (size_t)n;
	}
	oplog("write", w->tmp);
	return 0;
}

static void
discard(struct wa_durable *w)
{
	int saved = errno;

	if (w->fd >= 0)
		close(w->fd);
	if (unlinkat(w->stagefd, w->tmp, 0) == 0)
		crashlog("unlink", w->stagefd, w->tmp);
	oplog("unlink", w->tmp);
	free(w->name);
	free(w);
	errno = saved;
}

void
wa_durable_abort(struct wa_durable *w)
{
	if (w)
		discard(w);
}

int
wa_durable_commit(struct wa_durable *w)
{
	int rc;

#ifndef WA_TEST_NO_FSYNC
	COUNT(fsync_file);
	oplog("fsync", w->tmp);
	if (wa_compat_fsync(w->fd) < 0)
		goto fail;
	crashlog("fsync", w->fd, NULL);
#endif
	oplog("close", w->tmp);
	crashlog("close", w->fd, NULL);
	rc = close(w->fd);
	w->fd = -1;
	if (rc < 0)
		goto fail;
	COUNT(rename);
	oplog("rename", w->name);
	if (renameat(w->stagefd, w->tmp, w->dirfd, w->name) < 0)
		goto fail;
	crashlog2("rename", w->stagefd, w->tmp, w->dirfd, w->name);
#ifndef WA_TEST_NO_DIRSYNC
	rc = sync_dir(w->dirfd, w->name) < 0 ? WA_ESYNC : 0;
#else
	rc = 0;
#endif
	free(w->name);
	free(w);
	return rc;
fail:
	discard(w);
	return WA_ESYS;
}

int
wa_durable_put(int dirfd, const char *name, int stagefd, const void *buf, size_t len)
{
	struct wa_durable *w;
	int rc;

	if ((rc = wa_durable_begin(&w, dirfd, name, stagefd)) < 0)
		return rc;
	if ((rc = wa_durable_write(w, buf, len)) < 0) {
		wa_durable_abort(w);
		return rc;
	}
	return wa_durable_commit(w);
}

int
wa_durable_create(int dirfd, const char *name, const void *buf, size_t len)
{
	struct wa_durable w = { .dirfd = dirfd, .stagefd = dirfd };
	int rc;

	if (!name || !*name || strchr(name, '/') || strlen(name) >= sizeof w.tmp)
		return WA_EINVAL;
	w.fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w.fd < 0)
		return errno == EEXIST ? WA_EEXIST : WA_ESYS;
	oplog("create", name);
	crashlog("create", dirfd, name);
	snprintf(w.tmp, sizeof w.tmp, "%s", name);
	if ((rc = wa_durable_write(&w, buf, len)) < 0)
		goto fail;
	COUNT(fsync_file);
	oplog("fsync", name);
	if (wa_compat_fsync(w.fd) < 0)
		goto fail;
	crashlog("fsync", w.fd, NULL);
	oplog("close", name);
	crashlog("close", w.fd, NULL);
	rc = close(w.fd);
	w.fd = -1;
	if (rc < 0)
		goto fail;
	return 0;
fail:
	{
		int saved = errno;
		if (w.fd >= 0)
			close(w.fd);
		if (unlinkat(dirfd, name, 0) == 0)
			crashlog("unlink", dirfd, name);
		oplog("unlink", name);
		errno = saved;
	}
	return WA_ESYS;
}

/* ---- files made durable by the caller (durable.h) --------------------- */

static int
write_all(int fd, const void *buf, size_t len, size_t *done)
{
	const char *p = buf;

	*done = 0;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return WA_ESYS;
		}
		if (n == 0) {
			errno = EIO;
			return WA_ESYS;
		}
		p += n;
		len -= (size_t)n;
		*done += (size_t)n;
	}
	return 0;
}

int
wa_durable_create_nosync(int *fdout, int dirfd, const char *name, const void *buf, size_t len)
{
	size_t done;
	int fd, saved;

	if (fdout)
		*fdout = -1;
	if (!name || !*name || strchr(name, '/'))
		return WA_EINVAL;
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? WA_EEXIST : WA_ESYS;
	oplog("create", name);
	crashlog("create", dirfd, name);
	if (write_all(fd, buf, len, &done) < 0)
		goto fail;
	oplog("write", name);
	crashlog_write(fd, buf, len);
	if (fdout) {
		*fdout = fd;
		return 0;
	}
	oplog("close", name);
	crashlog("close", fd, NULL);
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, name, 0);
	oplog("unlink", name);
	crashlog("unlink", dirfd, name);
	errno = saved;
	return WA_ESYS;
}

int
wa_durable_sync_close(int fd)
{
	int saved;

	COUNT(fsync_file);
	oplog("fsync", "-");
	if (wa_compat_fsync(fd) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return WA_ESYS;
	}
	crashlog("fsync", fd, NULL);
	oplog("close", "-");
	crashlog("close", fd, NULL);
	return close(fd) < 0 ? WA_ESYS : 0;
}

int
wa_durable_syncfs(int fd)
{
	COUNT(fsync_dir);
	oplog("syncfs", "-");
	if (wa_compat_syncfs(fd) < 0)
		return WA_ESYS;
	crashlog("syncfs", fd, NULL);
	return 0;
}

int
wa_durable_open_append(int dirfd, const char *name, int *created)
{
	int fd;

	*created = 0;
	fd = openat(dirfd, name, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
	    0600);
	if (fd >= 0) {
		*created = 1;
		oplog("create", name);
		crashlog("create", dirfd, name);
	} else if (errno == EEXIST) {
		fd = openat(dirfd, name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	}
	return fd >= 0 ? fd : WA_ESYS;
}

int
wa_durable_append(int fd, const void *buf, size_t len)
{
	size_t done;

	if (crash_due()) {
		/* the test seam: a torn append, then the crash */
		if (write_all(fd, buf, len / 2, &done) < 0) {
			/* crash anyway */
		}
		crash();
	}
	if (write_all(fd, buf, len, &done) < 0)
		return done ? WA_ESYNC : WA_ESYS;
	oplog("append", "-");
	crashlog_write(fd, buf, len);
	COUNT(fsync_file);
	oplog("fdatasync", "-");
	if (wa_compat_fdatasync(fd) < 0)
		return WA_ESYNC;
	crashlog("fsync", fd, NULL);
	return 0;
}

/*
 * Move without ever replacing: renameat2 RENAME_NOREPLACE, one atomic
 * step (a check with fstatat before a plain rename would leave a window in
 * which another process could create the target and lose it to us).
 *
 * Fallback where the filesystem or kernel refuses the flag (EINVAL, or
 * ENOSYS before Linux 3.15), decided per kind of entry:
 *   - anything but a folder: link(2) to the new name, which fails with
 *     EEXIST atomically, then unlink the old name.  A crash between the
 *     two leaves the same file under both names (nothing lost, nothing
 *     replaced); a filesystem without hard links gives WA_ESYS with
 *     link's errno (EPERM, EOPNOTSUPP).
 *   - a folder (hard links impossible): check, then rename(2).  rename
 *     never puts a folder over a file (ENOTDIR) or over a non-empty folder
 *     (ENOTEMPTY), so the only entry the window can lose is an empty
 *     folder made in it: no data.
 */
static int
move_noreplace(int fromdirfd, const char *from, int todirfd, const char *to)
{
	struct stat st;

#ifdef WA_TESTING
	{
		/* a competitor that makes the target in the last moment */
		const char *race = getenv("WA_TEST_MOVE_RACE");
		if (race && strcmp(race, to) == 0) {
			if (mkdirat(todirfd, to, 0700) == 0)
				crashlog("mkdir", todirfd, to);
			else if (errno != EEXIST)
				return WA_ESYS;
		}
	}
#endif
	if (wa_compat_rename_noreplace(fromdirfd, from, todirfd, to) == 0) {
		crashlog2("rename_noreplace", fromdirfd, from, todirfd, to);
		return 0;
	}
	if (errno == EEXIST)
		return WA_EEXIST;
	if (errno != EINVAL && errno != ENOSYS)
		return WA_ESYS;
	if (fstatat(fromdirfd, from, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return WA_ESYS;
	if (!S_ISDIR(st.st_mode)) {
		if (linkat(fromdirfd, from, todirfd, to, 0) < 0)
			return errno == EEXIST ? WA_EEXIST : WA_ESYS;
		crashlog2("link", fromdirfd, from, todirfd, to);
		if (unlinkat(fromdirfd, from, 0) < 0)
			return WA_ESYS;
		crashlog("unlink", fromdirfd, from);
		return 0;
	}
	if (fstatat(todirfd, to, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return WA_EEXIST;
	if (errno != ENOENT)
		return WA_ESYS;
	if (renameat(fromdirfd, from, todirfd, to) < 0)
		return WA_ESYS;
	crashlog2("rename", fromdirfd, from, todirfd, to);
	return 0;
}

int
wa_durable_move(int fromdirfd, const char *from, int todirfd, const char *to)
{
	int rc;

	COUNT(rename);
	oplog("move", from);
	if ((rc = move_noreplace(fromdirfd, from, todirfd, to)) < 0)
		return rc;
	if (sync_dir(todirfd, to) < 0)
		return WA_ESYNC;
	if (sync_dir(fromdirfd, from) < 0)
		return WA_ESYNC;
	return 0;
}

int
wa_durable_move_nosync(int fromdirfd, const char *from, int todirfd, const char *to)
{
	COUNT(rename);
	oplog("move", from);
	return move_noreplace(fromdirfd, from, todirfd, to);
}

int
wa_durable_exchange(int dirfd1, const char *name1, int dirfd2, const char *name2)
{
	COUNT(rename);
	oplog("exchange", name1);
	if (wa_compat_exchange(dirfd1, name1, dirfd2, name2) < 0)
		return WA_ESYS;
	crashlog2("exchange", dirfd1, name1, dirfd2, name2);
	if (sync_dir(dirfd1, name1) < 0 || sync_dir(dirfd2, name2) < 0)
		return WA_ESYNC;
	return 0;
}

int
wa_durable_unlink(int dirfd, const char *name)
{
	if (!name || !*name || strchr(name, '/'))
		return WA_EINVAL;
	oplog("unlink", name);
	if (unlinkat(dirfd, name, 0) < 0)
		return errno == ENOENT ? WA_ENOTFOUND : WA_ESYS;
	crashlog("unlink", dirfd, name);
	return 0;
}

int
wa_durable_mkdir(int dirfd, const char *name)
{
	oplog("mkdir", name);
	if (mkdirat(dirfd, name, 0700) < 0)
		return errno == EEXIST ? WA_EEXIST : WA_ESYS;
	crashlog("mkdir", dirfd, name);
	if (sync_dir(dirfd, name) < 0)
		return WA_ESYNC;
	return 0;
}

int
wa_durable_mkdir_path(const char *path)
{
	char *copy, *slash, *base;
	const char *parent;
	int pfd, rc;

	if (!path || !*path)
		return WA_EINVAL;
	if (!(copy = strdup(path)))
		return WA_ENOMEM;
	/* trailing slashes name the same folder */
	for (slash = copy + strlen(copy); slash > copy + 1 && slash[-1] == '/'; )
		*--slash = 0;
	if (!(slash = strrchr(copy, '/'))) {
		parent = ".";
		base = copy;
	} else {
		*slash = 0;
		parent = slash == copy ? "/" : copy;
		base = slash + 1;
	}
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		free(copy);
		return WA_EINVAL;
	}
	if ((pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = WA_ESYS;
	} else {
		rc = wa_durable_mkdir(pfd, base);
		{
			int saved = errno;
			close(pfd);
			errno = saved;
		}
	}
	{
		int saved = errno;
		free(copy);
		errno = saved;
	}
	return rc;
}

#define BATCH_SYNCFS_MIN 8	/* files in a batch from which one syncfs is the barrier */

/* ---- group commit (see durable.h) ------------------------------------- */

struct wa_batch_rm {
	char *name;
	int todirfd;     /* -1: unlink */
	char *to;
};

struct wa_durable_batch {
	int dirfd, stagefd;
	struct wa_durable **w;
	size_t nw, capw;
	struct wa_batch_rm *rm;
	size_t nrm, caprm;
};

int
wa_durable_batch_begin(struct wa_durable_batch **out, int dirfd, int stagefd)
{
	struct wa_durable_batch *b = calloc(1, sizeof *b);

	*out = NULL;
	if (!b)
		return WA_ENOMEM;
	b->dirfd = dirfd;
	b->stagefd = stagefd;
	*out = b;
	return 0;
}

int
wa_durable_batch_put(struct wa_durable_batch *b, const char *name, const void *buf, size_t len)
{
	struct wa_durable *w;
	int rc;

	if (b->nw == b->capw) {
		size_t cap = b->capw ? b->capw * 2 : 16;
		struct wa_durable **nw = realloc(b->w, cap * sizeof *nw);
		if (!nw)
			return WA_ENOMEM;
		b->w = nw;
		b->capw = cap;
	}
	if ((rc = wa_durable_begin(&w, b->dirfd, name, b->stagefd)) < 0)
		return rc;
	if ((rc = wa_durable_write(w, buf, len)) < 0) {
		wa_durable_abort(w);
		return rc;
	}
	b->w[b->nw++] = w;
	return 0;
}

static int
batch_rm(struct wa_durable_batch *b, const char *name, int todirfd, const char *to)
{
	struct wa_batch_rm *r;

	if (!name || !*name || strchr(name, '/') || (to && (!*to || strchr(to, '/'))))
		return WA_EINVAL;
	if (b->nrm == b->caprm) {
		size_t cap = b->caprm ? b->caprm * 2 : 8;
		struct wa_batch_rm *n = realloc(b->rm, cap * sizeof *n);
		if (!n)
			return WA_ENOMEM;
		b->rm = n;
		b->caprm = cap;
	}
	r = &b->rm[b->nrm];
	r->todirfd = todirfd;
	r->name = strdup(name);
	r->to = to ? strdup(to) : NULL;
	if (!r->name || (to && !r->to)) {
		free(r->name);
		free(r->to);
		return WA_ENOMEM;
	}
	b->nrm++;
	return 0;
}

int
wa_durable_batch_unlink(struct wa_durable_batch *b, const char *name)
{
	return batch_rm(b, name, -1, NULL);
}

int
wa_durable_batch_move(struct wa_durable_batch *b, const char *name, int todirfd, const char *to)
{
	return batch_rm(b, name, todirfd, to);
}

static void
batch_free(struct wa_durable_batch *b)
{
	size_t i;

	for (i = 0; i < b->nrm; i++) {
		free(b->rm[i].name);
		free(b->rm[i].to);
	}
	free(b->rm);
	free(b->w);
	free(b);
}

void
wa_durable_batch_abort(struct wa_durable_batch *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->nw; i++)
		if (b->w[i])
			discard(b->w[i]);
	batch_free(b);
}

int
wa_durable_batch_commit(struct wa_durable_batch *b)
{
	size_t i, j;
	int rc = 0;

	/* the barrier: every new file's data on disk before any rename; for
	 * many files one syncfs of their filesystem is cheaper than an fsync
	 * each (RELIABILITY.md "Group commit"; bench/README measures it) */
	if (b->nw >= BATCH_SYNCFS_MIN) {
#ifndef WA_TEST_NO_FSYNC
		COUNT(fsync_file);
		oplog("syncfs", "batch");
		if (wa_compat_syncfs(b->w[0]->fd) < 0)
			goto undo;
		crashlog("syncfs", b->w[0]->fd, NULL);
#endif
	}
	for (i = 0; i < b->nw; i++) {
		struct wa_durable *w = b->w[i];
		int crc;
		if (b->nw >= BATCH_SYNCFS_MIN)
			goto closeit;
#ifndef WA_TEST_NO_FSYNC
		COUNT(fsync_file);
		oplog("fsync", w->tmp);
		if (wa_compat_fsync(w->fd) < 0)
			goto undo;
		crashlog("fsync", w->fd, NULL);
#endif
closeit:
		oplog("close", w->tmp);
		crashlog("close", w->fd, NULL);
		crc = close(w->fd);
		w->fd = -1;
		if (crc < 0)
			goto undo;
	}
	for (i = 0; i < b->nw; i++) {
		struct wa_durable *w = b->w[i];
		COUNT(rename);
		oplog("rename", w->name);
		if (renameat(w->stagefd, w->tmp, w->dirfd, w->name) == 0) {
			crashlog2("rename", w->stagefd, w->tmp, w->dirfd, w->name);
		} else {
			int saved = errno;
			for (j = i; j < b->nw; j++) {
				discard(b->w[j]);
				b->w[j] = NULL;
			}
			for (j = 0; j < i; j++) {
				free(b->w[j]->name);
				free(b->w[j]);
				b->w[j] = NULL;
			}
			batch_free(b);
			errno = saved;
			return WA_ESYS;
		}
	}
	for (i = 0; i < b->nw; i++) {
		free(b->w[i]->name);
		free(b->w[i]);
		b->w[i] = NULL;
	}
#ifndef WA_TEST_NO_DIRSYNC
	if (b->nw && sync_dir(b->dirfd, "batch") < 0) {
		/* the new files may not survive a power cut: remove nothing */
		batch_free(b);
		return WA_ESYNC;
	}
#endif
	/* removals, only now that what replaces them is durable */
	for (i = 0; i < b->nrm && rc == 0; i++) {
		struct wa_batch_rm *r = &b->rm[i];
		if (r->todirfd < 0) {
			oplog("unlink", r->name);
			if (unlinkat(b->dirfd, r->name, 0) == 0)
				crashlog("unlink", b->dirfd, r->name);
			else if (errno != ENOENT)
				rc = WA_ESYS;
		} else {
			int mrc = wa_durable_move_nosync(b->dirfd, r->name, r->todirfd, r->to);
			if (mrc < 0 && !(mrc == WA_ESYS && errno == ENOENT))
				rc = mrc;
		}
	}
	if (b->nrm) {
		for (i = 0; i < b->nrm; i++) {
			int fd = b->rm[i].todirfd;
			for (j = 0; j < i; j++)
				if (b->rm[j].todirfd == fd)
					break;
			if (fd >= 0 && j == i && sync_dir(fd, "batch-to") < 0 && rc == 0)
				rc = WA_ESYNC;
		}
		if (sync_dir(b->dirfd, "batch-rm") < 0 && rc == 0)
			rc = WA_ESYNC;
	}
	batch_free(b);
	return rc;
undo:
	{
		int saved = errno;
		for (j = 0; j < b->nw; j++)
			discard(b->w[j]);
		b->nw = 0;
		batch_free(b);
		errno = saved;
	}
	return WA_ESYS;
}
