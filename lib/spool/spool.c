/*
 * spool.c - the inbox spool (spool.h): maildir folders, and a record of
 * every name and key ever delivered, loaded into a hash set at open.
 *
 * A commit makes its files durable in tmp/ first (one fsync each, or one
 * syncfs barrier for a batch of at least syncfs_min files: see
 * bench/spool-rate.c for the figures), then appends their record lines and
 * fdatasyncs the record, then moves them to new/ (never replacing) and
 * fsyncs new/.  The record line is the commit point: a name in the record
 * is a file that was complete on disk before the line was written, so open
 * moves a recorded name still in tmp/ on to new/ and removes an unrecorded
 * one (its message was never acknowledged; the server delivers it again).
 *
 * A torn record line (a crash mid-append) is the last line of its file and
 * has no newline.  It is ignored; when it is today's file, the one a commit
 * appends to, open writes the file again without it first (a durable
 * replace), so a later line never follows a torn one.  Any other line
 * that is not "<name> <key>" is WA_ECORRUPT: the record is what makes a
 * redelivery recognised, and a guess would deliver twice or lose.
 *
 * After a failure that leaves the disk state unknown (the record's
 * fdatasync, a rename, the new/ fsync) the handle refuses to commit again
 * (WA_ESYNC): the temps stay in tmp/ and a fresh open decides from the
 * record what they are.
 *
 * The set: open addressing with linear probing over (hash, offset) slots;
 * each key is stored once in an arena as a status byte, the key, a NUL.
 * Status: recorded, pending (added, not committed) or dropped (aborted:
 * absent, revived by the next add of the same key).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "spool/spool.h"
#include "store/durable.h"
#include "store/lock.h"
#include "store/names.h"
#include "store/stage.h"

#define SEEN_DIR "seen"             /* in DIR/.wa: the record */
#define SYNCFS_MIN_DEFAULT 8

enum { ST_RECORDED = 1, ST_PENDING = 2, ST_DROPPED = 3 };

struct slot {
	uint32_t hash;
	uint32_t off;      /* arena offset + 1; 0: empty */
};

struct pending {
	uint32_t off;      /* the key's entry in the arena */
	int fd;            /* the temp file, open until commit; -1 once closed */
	char name[WA_SPOOL_NAME_MAX];
};

struct wa_spool {
	char *dir;
	int fd, tmpfd, newfd, curfd, wafd, seenfd, stagefd;
	struct wa_lock *lock;
	struct slot *slot;
	size_t cap, n;
	char *arena;
	size_t alen, acap;
	struct pending *p;
	size_t np, capp;
	int closed;        /* the pending temps are closed (syncfs on commit) */
	size_t syncfs_min;
	long long last_sec;
	long last_ctr;
	char host[64];
	long pid;
	int recfd;         /* today's record, open for appending */
	char recday[16];
	int broken;        /* a commit failed with the disk state unknown */
};

/* ---- the hash set ----------------------------------------------------- */

static uint32_t
hash_key(const char *k, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)k[i];
		h *= 1099511628211ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static void *
xrealloc(void *p, size_t n)
{
	if (WA_TEST_ALLOC_FAILS())
		return NULL;
	return realloc(p, n);
}

/* The arena entry of key, or 0 when absent; *h gets its hash. */
static uint32_t
set_find(const struct wa_spool *sp, const char *k, size_t len, uint32_t *h)
{
	size_t i;

	*h = hash_key(k, len);
	if (!sp->cap)
		return 0;
	for (i = *h & (sp->cap - 1); sp->slot[i].off; i = (i + 1) & (sp->cap - 1)) {
		const char *e = sp->arena + sp->slot[i].off;
		if (sp->slot[i].hash == *h && strncmp(e, k, len) == 0 && e[len] == 0)
			return sp->slot[i].off;
	}
	return 0;
}

static int
set_grow(struct wa_spool *sp)
{
	size_t cap = sp->cap ? sp->cap * 2 : 1024, i, j;
	struct slot *ns;

	if (cap > ((size_t)1 << 31))
		return WA_ENOMEM;
	if (WA_TEST_ALLOC_FAILS() || !(ns = calloc(cap, sizeof *ns)))
		return WA_ENOMEM;
	for (i = 0; i < sp->cap; i++) {
		if (!sp->slot[i].off)
			continue;
		for (j = sp->slot[i].hash & (cap - 1); ns[j].off; j = (j + 1) & (cap - 1))
			;
		ns[j] = sp->slot[i];
	}
	free(sp->slot);
	sp->slot = ns;
	sp->cap = cap;
	return 0;
}

/* Insert a key known to be absent, with hash h.  *off gets its entry. */
static int
set_insert(struct wa_spool *sp, const char *k, size_t len, uint32_t h, int status, uint32_t *off)
{
	size_t need = len + 2, i;
	int rc;

	if ((sp->n + 1) * 10 > sp->cap * 7 && (rc = set_grow(sp)) < 0)
		return rc;
	if (sp->alen + need > sp->acap) {
		size_t cap = sp->acap ? sp->acap : 1 << 16;
		char *na;
		while (cap < sp->alen + need)
			cap *= 2;
		if (cap >= UINT32_MAX)
			return WA_ENOMEM;
		if (!(na = xrealloc(sp->arena, cap)))
			return WA_ENOMEM;
		sp->arena = na;
		sp->acap = cap;
	}
	sp->arena[sp->alen] = (char)status;
	memcpy(sp->arena + sp->alen + 1, k, len);
	sp->arena[sp->alen + 1 + len] = 0;
	for (i = h & (sp->cap - 1); sp->slot[i].off; i = (i + 1) & (sp->cap - 1))
		;
	sp->slot[i].hash = h;
	sp->slot[i].off = (uint32_t)sp->alen + 1;
	*off = sp->slot[i].off;
	sp->alen += need;
	sp->n++;
	return 0;
}

#define STATUS(sp, off) ((sp)->arena[(off) - 1])
#define KEY(sp, off) ((sp)->arena + (off))

/* ---- names and keys --------------------------------------------------- */

static int
key_ok(const char *k, size_t len)
{
	size_t i;

	if (len < 1 || len > WA_SPOOL_KEY_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)k[i] <= 0x20 || (unsigned char)k[i] >= 0x7f)
			return 0;
	return 1;
}

static int
hostch(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '-' || c == '_';
}

/* "<10 digits>.<6 digits>_<pid>.<host>": 1 with the seconds and counter. */
static int
name_parse(const char *s, size_t len, long long *sec, long *ctr)
{
	size_t i, j;

	if (len < 21 || len >= WA_SPOOL_NAME_MAX)
		return 0;
	for (i = 0; i < 10; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	if (s[10] != '.')
		return 0;
	for (i = 11; i < 17; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	if (s[17] != '_')
		return 0;
	for (j = 18; j < len && s[j] >= '0' && s[j] <= '9'; j++)
		;
	if (j == 18 || j > 28 || j + 1 >= len || s[j] != '.')
		return 0;
	for (j++; j < len; j++)
		if (!hostch((unsigned char)s[j]))
			return 0;
	if (sec)
		*sec = strtoll(s, NULL, 10);
	if (ctr)
		*ctr = strtol(s + 11, NULL, 10);
	return 1;
}

static void
name_note(struct wa_spool *sp, long long sec, long ctr)
{
	if (sec > sp->last_sec || (sec == sp->last_sec && ctr > sp->last_ctr)) {
		sp->last_sec = sec;
		sp->last_ctr = ctr;
	}
}

/* The next name: (seconds, counter) strictly above the last one used. */
static void
name_next(struct wa_spool *sp, char name[WA_SPOOL_NAME_MAX])
{
	long long now = (long long)time(NULL), sec;
	long ctr;

	if (now > sp->last_sec) {
		sec = now;
		ctr = 0;
	} else {
		sec = sp->last_sec;
		ctr = sp->last_ctr + 1;
		if (ctr > 999999) {
			sec++;
			ctr = 0;
		}
	}
	sp->last_sec = sec;
	sp->last_ctr = ctr;
	snprintf(name, WA_SPOOL_NAME_MAX, "%010lld.%06ld_%ld.%s", sec, ctr, sp->pid, sp->host);
}

static void
day_of(time_t t, char out[16])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, 16, "%Y-%m-%d", &tm))
		snprintf(out, 16, "1970-01-01");
}

/* "YYYY-MM-DD.log" */
static int
recname_ok(const char *s)
{
	static const char pat[] = "dddd-dd-dd.log";
	size_t i;

	if (strlen(s) != sizeof pat - 1)
		return 0;
	for (i = 0; i < sizeof pat - 1; i++)
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			return 0;
	return 1;
}

/* ---- folders ---------------------------------------------------------- */

static int
opendirat(int at, const char *name)
{
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Open (making it when missing) a private folder; a symlink is refused,
 * group and other bits are taken away. */
static int
subdir(int at, const char *path, const char *name, int *out, struct wa_why *why)
{
	struct stat st;
	int fd, rc;

	if ((fd = opendirat(at, name)) < 0 && errno == ENOENT) {
		if ((rc = wa_durable_mkdir(at, name)) < 0 && rc != WA_EEXIST)
			return wa_why_set(why, rc, "unable to create '%s/%s': %s", path, name,
			    rc == WA_ESYNC ? "not known durable" : wa_strerror(rc));
		fd = opendirat(at, name);
	}
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return wa_why_set(why, WA_EUNSAFE, "'%s/%s' is not a real folder (symbolic link?)",
			    path, name);
		return wa_why_set(why, WA_ESYS, "unable to open '%s/%s': %s", path, name, strerror(errno));
	}
	if (fstat(fd, &st) < 0 || ((st.st_mode & 077) && fchmod(fd, 0700) < 0)) {
		rc = wa_why_set(why, WA_EUNSAFE, "unable to make '%s/%s' private (0700): %s", path, name,
		    strerror(errno));
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

static int
open_layout(struct wa_spool *sp, struct wa_why *why)
{
	struct stat st;
	char wa[PATH_MAX];
	int rc;

	if (lstat(sp->dir, &st) < 0) {
		if (errno != ENOENT)
			return wa_why_set(why, WA_ESYS, "'%s': %s", sp->dir, strerror(errno));
		rc = wa_durable_mkdir_path(sp->dir);
		if (rc < 0 && rc != WA_EEXIST)
			return wa_why_set(why, rc, "unable to create '%s': %s", sp->dir,
			    rc == WA_ESYNC ? "not known durable" : wa_strerror(rc));
	} else if (S_ISLNK(st.st_mode)) {
		return wa_why_set(why, WA_EUNSAFE, "'%s' is a symbolic link; pass the real folder", sp->dir);
	}
	if ((sp->fd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return wa_why_set(why, errno == ELOOP || errno == ENOTDIR ? WA_EUNSAFE : WA_ESYS,
		    "unable to open '%s': %s", sp->dir, strerror(errno));
	if (fstat(sp->fd, &st) < 0 || ((st.st_mode & 077) && fchmod(sp->fd, 0700) < 0))
		return wa_why_set(why, WA_EUNSAFE, "unable to make '%s' private (0700): %s", sp->dir,
		    strerror(errno));
	if ((rc = subdir(sp->fd, sp->dir, WA_SUBDIR, &sp->wafd, why)) < 0)
		return rc;
	rc = wa_lock_acquire(&sp->lock, sp->wafd, "wa-spool", NULL);
	if (rc == WA_ELOCKED)
		return wa_why_set(why, rc, "'%s' is in use by another process", sp->dir);
	if (rc < 0)
		return wa_why_set(why, rc, "unable to lock '%s/%s/%s': %s", sp->dir, WA_SUBDIR, WA_LOCK,
		    wa_strerror(rc));
	snprintf(wa, sizeof wa, "%s/%s", sp->dir, WA_SUBDIR);
	if ((rc = subdir(sp->wafd, wa, WA_STAGE, &sp->stagefd, why)) < 0 ||
	    (rc = subdir(sp->wafd, wa, SEEN_DIR, &sp->seenfd, why)) < 0 ||
	    (rc = subdir(sp->fd, sp->dir, "tmp", &sp->tmpfd, why)) < 0 ||
	    (rc = subdir(sp->fd, sp->dir, "new", &sp->newfd, why)) < 0 ||
	    (rc = subdir(sp->fd, sp->dir, "cur", &sp->curfd, why)) < 0)
		return rc;
	if (wa_stage_sweep(sp->stagefd, NULL) < 0)
		return wa_why_set(why, WA_ESYS, "unable to sweep '%s/%s': %s", wa, WA_STAGE, strerror(errno));
	return 0;
}

/* ---- listing ---------------------------------------------------------- */

struct names {
	char **v;
	unsigned char *rec;
	size_t n, cap;
};

static void
names_free(struct names *ns)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	free(ns->rec);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dirfd that keep(name) accepts, sorted. */
static int
list(struct names *ns, int dirfd, int (*keep)(const char *))
{
	DIR *d;
	struct dirent *e;
	int fd, rc = 0;

	memset(ns, 0, sizeof *ns);
	if ((fd = dup(dirfd)) < 0)
		return WA_ESYS;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return WA_ESYS;
	}
	rewinddir(d);
	while ((errno = 0, e = readdir(d))) {
		if (!keep(e->d_name))
			continue;
		if (ns->n == ns->cap) {
			size_t cap = ns->cap ? ns->cap * 2 : 16;
			char **nv = xrealloc(ns->v, cap * sizeof *nv);
			if (!nv) {
				rc = WA_ENOMEM;
				break;
			}
			ns->v = nv;
			ns->cap = cap;
		}
		if (WA_TEST_ALLOC_FAILS() || !(ns->v[ns->n] = strdup(e->d_name))) {
			rc = WA_ENOMEM;
			break;
		}
		ns->n++;
	}
	if (!rc && errno)
		rc = WA_ESYS;
	closedir(d);
	if (!rc && ns->n && (WA_TEST_ALLOC_FAILS() || !(ns->rec = calloc(ns->n, 1))))
		rc = WA_ENOMEM;
	if (rc) {
		names_free(ns);
		memset(ns, 0, sizeof *ns);
		return rc;
	}
	if (ns->n)
		qsort(ns->v, ns->n, sizeof *ns->v, cmpstr);
	return 0;
}

static int
keep_ours(const char *s)
{
	return name_parse(s, strlen(s), NULL, NULL);
}

/* ---- the record ------------------------------------------------------- */

/* Read a whole file (opened here, no link followed) into *buf. */
static int
slurp(int dirfd, const char *name, char **buf, size_t *cap, size_t *len)
{
	struct stat st;
	int fd, saved;
	size_t n = 0;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		return errno == ELOOP ? WA_EUNSAFE : WA_ESYS;
	if (fstat(fd, &st) < 0)
		goto sys;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return WA_EUNSAFE;
	}
	if ((size_t)st.st_size + 1 > *cap) {
		char *nb = xrealloc(*buf, (size_t)st.st_size + 1);
		if (!nb) {
			close(fd);
			return WA_ENOMEM;
		}
		*buf = nb;
		*cap = (size_t)st.st_size + 1;
	}
	for (;;) {
		ssize_t r;
		if (n + 1 >= *cap) {
			char *nb = xrealloc(*buf, *cap * 2);
			if (!nb) {
				close(fd);
				return WA_ENOMEM;
			}
			*buf = nb;
			*cap *= 2;
		}
		r = read(fd, *buf + n, *cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto sys;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return 0;
sys:
	saved = errno;
	close(fd);
	errno = saved;
	return WA_ESYS;
}

/* Load one record file.  *torn: its last line had no newline (ignored);
 * *good: the length of its complete lines. */
static int
load_file(struct wa_spool *sp, const char *file, char *buf, size_t len, struct names *tmp,
    int *torn, size_t *good, struct wa_why *why)
{
	size_t pos = 0, line = 0;
	int rc;

	*torn = 0;
	while (pos < len) {
		char *nl = memchr(buf + pos, '\n', len - pos), *sp1;
		size_t n, kl, nlen;
		long long sec;
		long ctr;
		uint32_t h, off;

		line++;
		if (!nl) {
			*torn = 1;
			break;
		}
		n = (size_t)(nl - (buf + pos));
		sp1 = memchr(buf + pos, ' ', n);
		nlen = sp1 ? (size_t)(sp1 - (buf + pos)) : 0;
		kl = sp1 ? n - nlen - 1 : 0;
		if (!sp1 || !name_parse(buf + pos, nlen, &sec, &ctr) || !key_ok(sp1 + 1, kl))
			return wa_why_set(why, WA_ECORRUPT, "'%s/%s/%s/%s' line %zu: not \"<name> <key>\"",
			    sp->dir, WA_SUBDIR, SEEN_DIR, file, line);
		name_note(sp, sec, ctr);
		if (!set_find(sp, sp1 + 1, kl, &h)) {
			if ((rc = set_insert(sp, sp1 + 1, kl, h, ST_RECORDED, &off)) < 0)
				return wa_why_set(why, rc, "unable to load '%s/%s/%s/%s': %s", sp->dir,
				    WA_SUBDIR, SEEN_DIR, file, wa_strerror(rc));
		}
		if (tmp->n) {
			char *key = buf + pos, **hit;
			buf[pos + nlen] = 0;
			hit = bsearch(&key, tmp->v, tmp->n, sizeof *tmp->v, cmpstr);
			if (hit)
				tmp->rec[hit - tmp->v] = 1;
			buf[pos + nlen] = ' ';
		}
		pos += n + 1;
	}
	*good = pos;
	return 0;
}

static int
keep_record(const char *s)
{
	return recname_ok(s);
}

static int
load_record(struct wa_spool *sp, int keep_days, struct names *tmp, struct wa_why *why)
{
	struct names rf;
	char cutoff[16], *buf = NULL;
	size_t i, cap = 0, len, good, removed = 0;
	int rc, torn;

	day_of(time(NULL), sp->recday);
	day_of(time(NULL) - (time_t)keep_days * 86400, cutoff);
	if ((rc = list(&rf, sp->seenfd, keep_record)) < 0)
		return wa_why_set(why, rc, "unable to list '%s/%s/%s': %s", sp->dir, WA_SUBDIR, SEEN_DIR,
		    wa_strerror(rc));
	for (i = 0; i < rf.n && rc == 0; i++) {
		if (strncmp(rf.v[i], cutoff, 10) < 0) {
			/* an index of what the server can no longer redeliver */
			if (unlinkat(sp->seenfd, rf.v[i], 0) < 0 && errno != ENOENT)
				rc = wa_why_set(why, WA_ESYS, "unable to remove '%s/%s/%s/%s': %s", sp->dir,
				    WA_SUBDIR, SEEN_DIR, rf.v[i], strerror(errno));
			removed++;
			continue;
		}
		if ((rc = slurp(sp->seenfd, rf.v[i], &buf, &cap, &len)) < 0) {
			rc = wa_why_set(why, rc, "unable to read '%s/%s/%s/%s': %s", sp->dir, WA_SUBDIR,
			    SEEN_DIR, rf.v[i], rc == WA_EUNSAFE ? "not a regular file" : wa_strerror(rc));
			break;
		}
		if ((rc = load_file(sp, rf.v[i], buf, len, tmp, &torn, &good, why)) < 0)
			break;
		if (torn && strncmp(rf.v[i], sp->recday, 10) == 0) {
			/* the file commits append to: write it again without the torn line */
			if ((rc = wa_durable_put(sp->seenfd, rf.v[i], sp->stagefd, buf, good)) < 0)
				rc = wa_why_set(why, rc, "unable to repair the torn last line of '%s/%s/%s/%s': %s",
				    sp->dir, WA_SUBDIR, SEEN_DIR, rf.v[i],
				    rc == WA_ESYNC ? "not known durable" : wa_strerror(rc));
		}
	}
	if (rc == 0 && removed && wa_durable_syncfd(sp->seenfd) < 0)
		rc = wa_why_set(why, WA_ESYS, "unable to flush '%s/%s/%s': %s", sp->dir, WA_SUBDIR, SEEN_DIR,
		    strerror(errno));
	free(buf);
	names_free(&rf);
	return rc;
}

/* What a crash left in tmp/: recorded names go on to new/, ours that are
 * not recorded are removed. */
static int
recover_tmp(struct wa_spool *sp, struct names *tmp, struct wa_why *why)
{
	size_t i, moved = 0;
	struct stat st;
	int rc;

	for (i = 0; i < tmp->n; i++) {
		const char *n = tmp->v[i];
		if (fstatat(sp->tmpfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (tmp->rec[i] && st.st_nlink == 1) {
			rc = wa_durable_move_nosync(sp->tmpfd, n, sp->newfd, n);
			if (rc == 0) {
				moved++;
				continue;
			}
			if (rc != WA_EEXIST)
				return wa_why_set(why, rc, "unable to move '%s/tmp/%s' to new/: %s", sp->dir, n,
				    wa_strerror(rc));
			/* already in new/ (a link + unlink move cut short): the copy goes */
		}
		if (unlinkat(sp->tmpfd, n, 0) < 0 && errno != ENOENT)
			return wa_why_set(why, WA_ESYS, "unable to remove '%s/tmp/%s': %s", sp->dir, n,
			    strerror(errno));
	}
	if (moved && wa_durable_syncfd(sp->newfd) < 0)
		return wa_why_set(why, WA_ESYNC, "'%s/new' not known durable: %s", sp->dir, strerror(errno));
	return 0;
}

/* ---- open ------------------------------------------------------------- */

int
wa_spool_open(struct wa_spool **out, const char *dir, int keep_days, struct wa_why *why)
{
	struct wa_spool *sp;
	struct names tmp;
	size_t n, i;
	int rc;

	*out = NULL;
	if (!dir || !*dir || keep_days < 0 || keep_days > 3660)
		return wa_why_set(why, WA_EINVAL, "invalid spool folder or keep_days");
	if (WA_TEST_ALLOC_FAILS() || !(sp = calloc(1, sizeof *sp)))
		return wa_why_set(why, WA_ENOMEM, "%s", wa_strerror(WA_ENOMEM));
	sp->fd = sp->tmpfd = sp->newfd = sp->curfd = sp->wafd = sp->seenfd = sp->stagefd = sp->recfd = -1;
	sp->syncfs_min = SYNCFS_MIN_DEFAULT;
	sp->pid = (long)getpid();
	if (WA_TEST_ALLOC_FAILS() || !(sp->dir = strdup(dir))) {
		free(sp);
		return wa_why_set(why, WA_ENOMEM, "%s", wa_strerror(WA_ENOMEM));
	}
	n = strlen(sp->dir);
	while (n > 1 && sp->dir[n - 1] == '/')
		sp->dir[--n] = 0;
	if (gethostname(sp->host, sizeof sp->host - 1) < 0 || !sp->host[0])
		snprintf(sp->host, sizeof sp->host, "localhost");
	sp->host[sizeof sp->host - 1] = 0;
	for (i = 0; sp->host[i]; i++)
		if (!hostch((unsigned char)sp->host[i]))
			sp->host[i] = '_';

	if ((rc = open_layout(sp, why)) < 0)
		goto fail;
	if ((rc = list(&tmp, sp->tmpfd, keep_ours)) < 0) {
		rc = wa_why_set(why, rc, "unable to list '%s/tmp': %s", sp->dir, wa_strerror(rc));
		goto fail;
	}
	if ((rc = load_record(sp, keep_days, &tmp, why)) == 0)
		rc = recover_tmp(sp, &tmp, why);
	names_free(&tmp);
	if (rc < 0)
		goto fail;
	*out = sp;
	return 0;
fail:
	wa_spool_free(sp);
	return rc;
}

/* ---- add, commit, abort ----------------------------------------------- */

static void
drop_pending(struct wa_spool *sp, int unlink_temps)
{
	size_t i;

	for (i = 0; i < sp->np; i++) {
		struct pending *p = &sp->p[i];
		if (p->fd >= 0)
			close(p->fd);
		if (unlink_temps)
			unlinkat(sp->tmpfd, p->name, 0);
		STATUS(sp, p->off) = ST_DROPPED;
	}
	sp->np = 0;
	sp->closed = 0;
}

void
wa_spool_free(struct wa_spool *sp)
{
	int saved = errno;

	if (!sp)
		return;
	drop_pending(sp, !sp->broken);
	if (sp->recfd >= 0)
		close(sp->recfd);
	if (sp->tmpfd >= 0)
		close(sp->tmpfd);
	if (sp->newfd >= 0)
		close(sp->newfd);
	if (sp->curfd >= 0)
		close(sp->curfd);
	if (sp->seenfd >= 0)
		close(sp->seenfd);
	if (sp->stagefd >= 0)
		close(sp->stagefd);
	wa_lock_release(sp->lock);
	if (sp->wafd >= 0)
		close(sp->wafd);
	if (sp->fd >= 0)
		close(sp->fd);
	free(sp->p);
	free(sp->slot);
	free(sp->arena);
	free(sp->dir);
	free(sp);
	errno = saved;
}

int
wa_spool_seen(const struct wa_spool *sp, const char *key)
{
	uint32_t h, off;
	size_t len = strlen(key);

	if (!key_ok(key, len))
		return 0;
	off = set_find(sp, key, len, &h);
	return off && STATUS(sp, off) == ST_RECORDED;
}

size_t
wa_spool_pending(const struct wa_spool *sp)
{
	return sp->np;
}

const char *
wa_spool_dir(const struct wa_spool *sp)
{
	return sp->dir;
}

void
wa_spool_set_syncfs_min(struct wa_spool *sp, size_t n)
{
	sp->syncfs_min = n;
}

/* Close every pending temp (checked): from now on commit uses syncfs. */
static int
close_pending(struct wa_spool *sp)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < sp->np; i++) {
		if (sp->p[i].fd >= 0 && close(sp->p[i].fd) < 0 && rc == 0)
			rc = WA_ESYS;
		sp->p[i].fd = -1;
	}
	sp->closed = 1;
	return rc;
}

int
wa_spool_add(struct wa_spool *sp, const char *key, const void *buf, size_t len,
    char name[WA_SPOOL_NAME_MAX])
{
	size_t klen = strlen(key);
	struct pending *p;
	uint32_t h, off;
	int rc, fd;

	if (name)
		name[0] = 0;
	if (sp->broken)
		return WA_ESYNC;
	if (!key_ok(key, klen))
		return WA_EINVAL;
	off = set_find(sp, key, klen, &h);
	if (off && STATUS(sp, off) != ST_DROPPED)
		return WA_EEXIST;
	if (sp->np == sp->capp) {
		size_t cap = sp->capp ? sp->capp * 2 : 16;
		struct pending *np = xrealloc(sp->p, cap * sizeof *np);
		if (!np)
			return WA_ENOMEM;
		sp->p = np;
		sp->capp = cap;
	}
	if (!off && (rc = set_insert(sp, key, klen, h, ST_DROPPED, &off)) < 0)
		return rc;
	p = &sp->p[sp->np];
	name_next(sp, p->name);
	rc = wa_durable_create_nosync(sp->closed ? NULL : &fd, sp->tmpfd, p->name, buf, len);
	if (rc < 0)
		return rc;
	p->fd = sp->closed ? -1 : fd;
	p->off = off;
	STATUS(sp, off) = ST_PENDING;
	sp->np++;
	if (name)
		memcpy(name, p->name, WA_SPOOL_NAME_MAX);
	if (!sp->closed && sp->syncfs_min && sp->np >= sp->syncfs_min && (rc = close_pending(sp)) < 0) {
		int saved = errno;
		drop_pending(sp, 1);
		errno = saved;
		return rc;
	}
	return 0;
}

void
wa_spool_abort(struct wa_spool *sp)
{
	if (sp)
		drop_pending(sp, 1);
}

/* Step 1: the temps' data on stable storage. */
static int
sync_temps(struct wa_spool *sp, struct wa_why *why)
{
	size_t i;
	int rc = 0, fd;

	if (sp->closed) {
		if (wa_durable_syncfs(sp->tmpfd) == 0)
			return 0;
		if (errno != ENOSYS && errno != EINVAL)
			return wa_why_set(why, WA_ESYS, "unable to flush '%s/tmp' to disk: %s", sp->dir,
			    strerror(errno));
		/* no syncfs here: each file then */
		for (i = 0; i < sp->np; i++) {
			fd = openat(sp->tmpfd, sp->p[i].name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 || wa_durable_sync_close(fd) < 0)
				return wa_why_set(why, WA_ESYS, "unable to flush '%s/tmp/%s' to disk: %s",
				    sp->dir, sp->p[i].name, strerror(errno));
		}
		return 0;
	}
	for (i = 0; i < sp->np; i++) {
		fd = sp->p[i].fd;
		sp->p[i].fd = -1;
		if (rc == 0 && wa_durable_sync_close(fd) < 0)
			rc = wa_why_set(why, WA_ESYS, "unable to flush '%s/tmp/%s' to disk: %s", sp->dir,
			    sp->p[i].name, strerror(errno));
		else if (rc < 0)
			close(fd);
	}
	return rc;
}

/* Today's record, open for appending; *created when made just now. */
static int
record_fd(struct wa_spool *sp, int *created, struct wa_why *why)
{
	char day[16], file[32];
	struct stat st;
	int fd;

	*created = 0;
	day_of(time(NULL), day);
	if (sp->recfd >= 0 && strcmp(day, sp->recday) == 0)
		return sp->recfd;
	if (sp->recfd >= 0)
		close(sp->recfd);
	sp->recfd = -1;
	snprintf(sp->recday, sizeof sp->recday, "%s", day);
	snprintf(file, sizeof file, "%s.log", day);
	fd = wa_durable_open_append(sp->seenfd, file, created);
	if (fd < 0)
		return wa_why_set(why, errno == ELOOP ? WA_EUNSAFE : WA_ESYS, "unable to open '%s/%s/%s/%s': %s",
		    sp->dir, WA_SUBDIR, SEEN_DIR, file, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return wa_why_set(why, WA_EUNSAFE, "'%s/%s/%s/%s' is not a regular file", sp->dir, WA_SUBDIR,
		    SEEN_DIR, file);
	}
	sp->recfd = fd;
	return fd;
}

static int
broken(struct wa_spool *sp, int rc)
{
	int saved = errno;

	sp->broken = 1;
	if (sp->recfd >= 0)
		close(sp->recfd);
	sp->recfd = -1;
	/* the temps stay in tmp/: the next open decides from the record */
	drop_pending(sp, 0);
	errno = saved;
	return rc;
}

int
wa_spool_commit(struct wa_spool *sp, struct wa_why *why)
{
	size_t i, len = 0, cap = 0;
	char *lines = NULL;
	int rc, fd, created;

	if (sp->broken)
		return wa_why_set(why, WA_ESYNC, "'%s': an earlier commit failed; open the spool again",
		    sp->dir);
	if (sp->np == 0)
		return 0;
	/* 1. the files, complete on disk */
	if ((rc = sync_temps(sp, why)) < 0)
		goto drop;
	/* 2. their record lines */
	for (i = 0; i < sp->np; i++)
		cap += strlen(sp->p[i].name) + strlen(KEY(sp, sp->p[i].off)) + 2;
	if (WA_TEST_ALLOC_FAILS() || !(lines = malloc(cap + 1))) {
		rc = wa_why_set(why, WA_ENOMEM, "%s", wa_strerror(WA_ENOMEM));
		goto drop;
	}
	for (i = 0; i < sp->np; i++)
		len += (size_t)snprintf(lines + len, cap + 1 - len, "%s %s\n", sp->p[i].name,
		    KEY(sp, sp->p[i].off));
	if ((fd = record_fd(sp, &created, why)) < 0) {
		rc = fd;
		goto drop;
	}
	rc = wa_durable_append(fd, lines, len);
	free(lines);
	lines = NULL;
	if (rc == WA_ESYS) {
		rc = wa_why_set(why, rc, "unable to write '%s/%s/%s/%s.log': %s", sp->dir, WA_SUBDIR,
		    SEEN_DIR, sp->recday, strerror(errno));
		goto drop;
	}
	if (rc < 0) {
		rc = wa_why_set(why, WA_ESYNC, "'%s/%s/%s/%s.log' not known durable: %s", sp->dir,
		    WA_SUBDIR, SEEN_DIR, sp->recday, strerror(errno));
		return broken(sp, rc);
	}
	if (created && wa_durable_syncfd(sp->seenfd) < 0) {
		rc = wa_why_set(why, WA_ESYNC, "'%s/%s/%s' not known durable: %s", sp->dir, WA_SUBDIR,
		    SEEN_DIR, strerror(errno));
		return broken(sp, rc);
	}
	/* 3. visible in new/ */
	for (i = 0; i < sp->np; i++) {
		rc = wa_durable_move_nosync(sp->tmpfd, sp->p[i].name, sp->newfd, sp->p[i].name);
		if (rc < 0) {
			rc = wa_why_set(why, WA_ESYNC, "unable to move '%s/tmp/%s' to new/: %s", sp->dir,
			    sp->p[i].name, wa_strerror(rc));
			return broken(sp, rc);
		}
	}
	if (wa_durable_syncfd(sp->newfd) < 0) {
		rc = wa_why_set(why, WA_ESYNC, "'%s/new' not known durable: %s", sp->dir, strerror(errno));
		return broken(sp, rc);
	}
	for (i = 0; i < sp->np; i++)
		STATUS(sp, sp->p[i].off) = ST_RECORDED;
	sp->np = 0;
	sp->closed = 0;
	return 0;
drop:
	{
		int saved = errno;
		free(lines);
		drop_pending(sp, 1);
		errno = saved;
	}
	return rc;
}

/* ---- backlog ---------------------------------------------------------- */

static int
dotless(const char *name)
{
	return name[0] != '.';
}

int
wa_spool_backlog(const char *dir, size_t *count, time_t *oldest, struct wa_why *why)
{
	return wa_spool_backlog_of(dir, dotless, count, oldest, why);
}

int
wa_spool_backlog_of(const char *dir, int (*ours)(const char *name), size_t *count, time_t *oldest,
    struct wa_why *why)
{
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd, nfd, rc = 0;

	*count = 0;
	*oldest = 0;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return wa_why_set(why, errno == ENOENT ? WA_ENOTFOUND :
		    errno == ELOOP || errno == ENOTDIR ? WA_EUNSAFE : WA_ESYS,
		    "unable to open '%s': %s", dir, strerror(errno));
	nfd = opendirat(fd, "new");
	close(fd);
	if (nfd < 0)
		return wa_why_set(why, errno == ENOENT ? WA_ENOTFOUND :
		    errno == ELOOP || errno == ENOTDIR ? WA_EUNSAFE : WA_ESYS,
		    "unable to open '%s/new': %s", dir, strerror(errno));
	if (!(d = fdopendir(nfd))) {
		close(nfd);
		return wa_why_set(why, WA_ESYS, "unable to read '%s/new': %s", dir, strerror(errno));
	}
	while ((errno = 0, e = readdir(d))) {
		if (!ours(e->d_name))
			continue;
		if (fstatat(nfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)   /* taken by the consumer meanwhile */
				continue;
			rc = wa_why_set(why, WA_ESYS, "unable to read '%s/new/%s': %s", dir, e->d_name,
			    strerror(errno));
			break;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		(*count)++;
		if (!*oldest || st.st_mtime < *oldest)
			*oldest = st.st_mtime;
	}
	if (!rc && errno)
		rc = wa_why_set(why, WA_ESYS, "unable to read '%s/new': %s", dir, strerror(errno));
	closedir(d);
	return rc;
}
