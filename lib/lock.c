#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat.h"
#include "err.h"
#include "lock.h"
#include "names.h"

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

	if (n < 0)
		return WA_ESYS;
	buf[n] = 0;
	parse_holder(buf, h);
	return 0;
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
	char buf[160];
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
	n = snprintf(buf, sizeof buf, "pid=%ld start=%lld pstart=%llu prog=%s\n",
	    (long)getpid(), (long long)time(NULL), pstart, prog ? prog : "?");
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		int saved = errno;
		close(fd);
		errno = saved;
		return WA_ESYS;
	}
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
	if (ftruncate(l->fd, 0) < 0) {
		/* the information is stale, the flock still goes with close */
	}
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
