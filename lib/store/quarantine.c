/*
 * quarantine.c - where files go instead of being deleted (quarantine.h):
 * one stamped sub-folder per run, moves that never replace, and purge,
 * the one real deletion, which an operator asks for.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/durable.h"
#include "base/err.h"
#include "store/names.h"
#include "store/quarantine.h"

int
wa_quarantine_begin(struct wa_quarantine **out, struct wa_authdir *ad, time_t now)
{
	struct wa_quarantine *q;
	int fd;

	*out = NULL;
	if (!ad->lock)
		return WA_EINVAL;
	if ((fd = wa_authdir_subdir(ad, WA_QUARANTINE, 1)) < 0)
		return fd;
	if (!(q = calloc(1, sizeof *q))) {
		close(fd);
		return WA_ENOMEM;
	}
	q->qfd = fd;
	q->efd = -1;
	q->when = now;
	*out = q;
	return 0;
}

char *
wa_quarantine_stamp(char *out, size_t n, time_t t, pid_t pid)
{
	struct tm tm;
	char ts[32];

	if (!gmtime_r(&t, &tm) || !strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm))
		snprintf(ts, sizeof ts, "19700101T000000Z");
	snprintf(out, n, "%s-%ld", ts, (long)pid);
	return out;
}

static int
digits(const char *s, int n)
{
	int v = 0;

	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return v;
}

int
wa_quarantine_parse(const char *name, time_t *when)
{
	struct tm tm;
	const char *p;
	int i;

	/* YYYYmmddTHHMMSSZ-PID[.N] */
	for (i = 0; i < 16; i++) {
		char c = name[i];
		if (i == 8 ? c != 'T' : i == 15 ? c != 'Z' : (c < '0' || c > '9'))
			return WA_EINVAL;
	}
	if (name[16] != '-' || name[17] < '0' || name[17] > '9')
		return WA_EINVAL;
	for (p = name + 17; *p >= '0' && *p <= '9'; p++)
		;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return WA_EINVAL;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if (*p)
		return WA_EINVAL;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = digits(name, 4) - 1900;
	tm.tm_mon = digits(name + 4, 2) - 1;
	tm.tm_mday = digits(name + 6, 2);
	tm.tm_hour = digits(name + 9, 2);
	tm.tm_min = digits(name + 11, 2);
	tm.tm_sec = digits(name + 13, 2);
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return WA_EINVAL;
	if (when)
		*when = timegm(&tm);
	return 0;
}

/* Make the run's folder: STAMP, or STAMP.1, STAMP.2 ... if taken. */
static int
make_entry(struct wa_quarantine *q)
{
	char base[32];   /* 16 + '-' + pid: fits, and leaves room for ".N" in q->name */
	int i, rc;

	wa_quarantine_stamp(base, sizeof base, q->when, getpid());
	for (i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(q->name, sizeof q->name, "%s", base);
		else
			snprintf(q->name, sizeof q->name, "%s.%d", base, i);
		rc = wa_durable_mkdir(q->qfd, q->name);
		if (rc == WA_EEXIST)
			continue;
		if (rc < 0 && rc != WA_ESYNC) {
			q->name[0] = 0;
			return rc;
		}
		q->efd = openat(q->qfd, q->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (q->efd < 0) {
			q->name[0] = 0;
			return WA_ESYS;
		}
		return rc;
	}
	q->name[0] = 0;
	return WA_EEXIST;
}

int
wa_quarantine_move(struct wa_quarantine *q, int fromfd, const char *name)
{
	size_t i;
	int rc;

	for (i = 0; i < q->nfrom && q->from[i] != fromfd; i++)
		;
	if (i == q->nfrom && q->nfrom == sizeof q->from / sizeof q->from[0])
		return WA_EINVAL;
	if (q->efd < 0 && (rc = make_entry(q)) < 0 && rc != WA_ESYNC)
		return rc;
	if ((rc = wa_durable_move_nosync(fromfd, name, q->efd, name)) < 0)
		return rc;
	if (i == q->nfrom)
		q->from[q->nfrom++] = fromfd;
	q->moved++;
	q->dirty = 1;
	return 0;
}

int
wa_quarantine_commit(struct wa_quarantine *q)
{
	size_t i;

	if (!q->dirty)
		return 0;
	/* the destination first: a file is never only in a folder that a
	 * crash can roll back while its removal from the other survives */
	if (wa_durable_syncfd(q->efd) < 0)
		return WA_ESYNC;
	for (i = 0; i < q->nfrom; i++)
		if (wa_durable_syncfd(q->from[i]) < 0)
			return WA_ESYNC;
	q->dirty = 0;
	return 0;
}

void
wa_quarantine_end(struct wa_quarantine *q)
{
	if (!q)
		return;
	if (q->dirty && wa_quarantine_commit(q) < 0) {
		/* the caller chose not to look; nothing more to do here */
	}
	if (q->efd >= 0)
		close(q->efd);
	close(q->qfd);
	free(q);
}

static int
bytime(const void *a, const void *b)
{
	const struct wa_quarantine_entry *x = a, *y = b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	return strcmp(x->name, y->name);
}

int
wa_quarantine_list(struct wa_quarantine_entry **out, size_t *n, int qfd)
{
	struct wa_quarantine_entry *v = NULL;
	size_t cap = 0, k = 0;
	struct dirent *d;
	DIR *dir;
	int fd, rc = 0;

	*out = NULL;
	*n = 0;
	if ((fd = openat(qfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return WA_ESYS;
	if (!(dir = fdopendir(fd))) {
		close(fd);
		return WA_ESYS;
	}
	for (;;) {
		time_t when;
		errno = 0;
		if (!(d = readdir(dir))) {
			if (errno)
				rc = WA_ESYS;
			break;
		}
		size_t len = strlen(d->d_name);
		if (len >= WA_QUARANTINE_NAME_MAX || wa_quarantine_parse(d->d_name, &when) < 0)
			continue;
		if (k == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct wa_quarantine_entry *nv = realloc(v, ncap * sizeof *nv);
			if (!nv) {
				rc = WA_ENOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		memcpy(v[k].name, d->d_name, len + 1);
		v[k].when = when;
		k++;
	}
	{
		int saved = errno;
		closedir(dir);
		errno = saved;
	}
	if (rc < 0) {
		free(v);
		return rc;
	}
	if (k)
		qsort(v, k, sizeof *v, bytime);
	*out = v;
	*n = k;
	return 0;
}

/* Empty the folder dirfd (recursively, depth-limited), not following links. */
static int
empty_dir(int dirfd, int depth)
{
	struct dirent *d;
	DIR *dir;
	int fd, rc = 0;

	if (depth > 8) {
		errno = ELOOP;
		return WA_ESYS;
	}
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return WA_ESYS;
	if (!(dir = fdopendir(fd))) {
		close(fd);
		return WA_ESYS;
	}
	for (;;) {
		struct stat st;
		errno = 0;
		if (!(d = readdir(dir))) {
			if (errno)
				rc = WA_ESYS;
			break;
		}
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			rc = WA_ESYS;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				rc = WA_ESYS;
				break;
			}
			rc = empty_dir(sub, depth + 1);
			close(sub);
			if (rc < 0)
				break;
			if (unlinkat(dirfd, d->d_name, AT_REMOVEDIR) < 0) {
				rc = WA_ESYS;
				break;
			}
		} else if (unlinkat(dirfd, d->d_name, 0) < 0 && errno != ENOENT) {
			rc = WA_ESYS;
			break;
		}
	}
	{
		int saved = errno;
		closedir(dir);
		errno = saved;
	}
	return rc;
}

int
wa_quarantine_purge(int qfd, const char *name)
{
	int fd, rc;

	if (wa_quarantine_parse(name, NULL) < 0)
		return WA_EINVAL;
	if ((fd = openat(qfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ELOOP || errno == ENOTDIR ? WA_EUNSAFE : WA_ESYS;
	rc = empty_dir(fd, 0);
	{
		int saved = errno;
		close(fd);
		errno = saved;
	}
	if (rc < 0)
		return rc;
	if (unlinkat(qfd, name, AT_REMOVEDIR) < 0)
		return WA_ESYS;
	return wa_durable_syncfd(qfd) < 0 ? WA_ESYNC : 0;
}
