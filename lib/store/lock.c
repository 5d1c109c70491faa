/*
 * lock.c - the one-writer lock (lock.h): flock on .wa/lock, whose fixed-
 * size record names the holder; a holder that wrote no record is found in
 * the kernel's lock table.  The record is overwritten in place, never
 * renamed: the lock lives on the inode.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/compat.h"
#include "base/err.h"
#include "store/lock.h"
#include "store/names.h"

struct wa_lock {
	int fd;
};

static void
parse_holder(const char *buf, struct wa_lock_holder *h)
{
	const char *p;
	size_t n;

	memset(h, 0, sizeof *h);
	if ((p = strstr(buf, "pid=")))
		h->pid = (pid_t)strtol(p + 4, NULL, 10);
	if ((p = strstr(buf, "start=")) && (p == buf || p[-1] == ' '))
		h->since = (time_t)strtoll(p + 6, NULL, 10);
	if ((p = strstr(buf, "pstart=")))
		h->pstart = strtoull(p + 7, NULL, 10);
	if ((p = strstr(buf, "prog="))) {
		p += 5;
		n = strcspn(p, " \n");
		if (n >= sizeof h->prog)
			n = sizeof h->prog - 1;
		memcpy(h->prog, p, n);
		h->prog[n] = 0;
	}
	if (h->pid > 0) {
		unsigned long long now;
		h->alive = kill(h->pid, 0) == 0 || errno == EPERM;
		if (h->alive && h->pstart && wa_compat_proc_start(h->pid, &now) == 0 && now != h->pstart)
			h->alive = 0; /* the pid was recycled */
	}
}

static int
read_holder(int fd, struct wa_lock_holder *h)
{
	char buf[256];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	pid_t kpid;

	if (n < 0)
		return WA_ESYS;
	buf[n] = 0;
	parse_holder(buf, h);
	h->held = wa_compat_flock_holder(fd, &kpid);
	if (h->held == 1 && (h->pid <= 0 || !h->alive)) {
		/* the record is not the holder's: someone locked without one */
		memset(h->prog, 0, sizeof h->prog);
		h->pid = kpid;
		h->since = 0;
		h->pstart = 0;
		h->alive = 1;
		h->foreign = 1;
		if (kpid > 0)
			wa_compat_proc_name(kpid, h->prog, sizeof h->prog);
	}
	return 0;
}

#define RECORD_SIZE 128

/* Write a fixed-size record (padded with spaces, ending in a newline). */
static void
record(int fd, const char *text, int n)
{
	char rec[RECORD_SIZE];

	memset(rec, ' ', sizeof rec);
	if (n > RECORD_SIZE - 1)
		n = RECORD_SIZE - 1;
	memcpy(rec, text, (size_t)n);
	rec[RECORD_SIZE - 1] = '\n';
	if (pwrite(fd, rec, sizeof rec, 0) != (ssize_t)sizeof rec) {
		/* best effort: see wa_lock_acquire */
	}
}

static int
open_lockfile(int wafd, int flags)
{
	struct stat st;
	int fd = openat(wafd, WA_LOCK, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);

	if (fd < 0)
		return errno == ELOOP ? WA_EUNSAFE : WA_ESYS;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return WA_EUNSAFE;
	}
	return fd;
}

int
wa_lock_acquire(struct wa_lock **out, int wafd, const char *prog, struct wa_lock_holder *holder)
{
	struct wa_lock *l;
	unsigned long long pstart = 0;
	char buf[RECORD_SIZE];
	int fd, n;

	*out = NULL;
	if (holder)
		memset(holder, 0, sizeof *holder);
	if ((fd = open_lockfile(wafd, O_RDWR | O_CREAT)) < 0)
		return fd;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;
		if (saved == EWOULDBLOCK || saved == EAGAIN) {
			if (holder)
				read_holder(fd, holder);
			close(fd);
			return WA_ELOCKED;
		}
		close(fd);
		errno = saved;
		return WA_ESYS;
	}
	wa_compat_proc_start(getpid(), &pstart);
	n = snprintf(buf, sizeof buf, "pid=%ld start=%lld pstart=%llu prog=%.40s",
	    (long)getpid(), (long long)time(NULL), pstart, prog ? prog : "?");
	/* The record always has the same size and is overwritten in place, so
	 * after the first time no block is ever allocated for it: a writer on
	 * a full disk gets the lock and then a clear error from the write it
	 * really wanted to make.  The record is information, not the lock:
	 * if it cannot be written the flock is still ours. */
	record(fd, buf, n);
	if (!(l = malloc(sizeof *l))) {
		close(fd);
		return WA_ENOMEM;
	}
	l->fd = fd;
	*out = l;
	return 0;
}

void
wa_lock_release(struct wa_lock *l)
{
	if (!l)
		return;
	record(l->fd, "pid=0", 5);
	close(l->fd);
	free(l);
}

int
wa_lock_inspect(int wafd, struct wa_lock_holder *holder)
{
	int fd, rc;

	memset(holder, 0, sizeof *holder);
	if ((fd = open_lockfile(wafd, O_RDONLY)) < 0)
		return fd == WA_ESYS && errno == ENOENT ? WA_ENOTFOUND : fd;
	rc = read_holder(fd, holder);
	close(fd);
	return rc;
}
