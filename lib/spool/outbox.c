/*
 * outbox.c - the outbox spool (outbox.h): maildir folders written by many
 * wa-send processes without a lock, read and finished by one runner.
 *
 * A writer makes a job durable in tmp/ (exclusive create, write, fsync,
 * close), then moves it into new/ with a rename that never replaces, and
 * fsyncs new/: the job appears in new/ complete or not at all, and once
 * put returned it survives a power cut.  A writer that dies before the
 * move leaves a file in tmp/ that nobody was told about (wa-send printed
 * no id); the runner removes it at open once it is an hour old.
 *
 * The runner holds OUT/.wa/lock, lists new/ in name order, and moves each
 * job to cur/ when it is done (sent or failed, as its status file says).
 * It indexes the ids of cur/ and new/ in a hash table at open, so that a
 * retry receipt for any id of the last keep_days finds its job without
 * reading the folder; a miss reads new/ again (a writer may have added
 * the job since).  Every write, move and removal goes through
 * store/durable.c.
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

#include "base/compat.h"
#include "base/err.h"
#include "spool/outbox.h"
#include "spool/spool.h"
#include "store/durable.h"
#include "store/lock.h"
#include "store/names.h"
#include "store/stage.h"
#include "wire/jid.h"

#define STATUS_DIR "status"
#define JOB_FILE_MAX (1 << 20)      /* a job file is at most this big */
#define TMP_STALE_S 3600            /* a temp in tmp/ older than this is a crash's */
#define READ_IDS_MAX 256

enum { IN_NONE = -1, IN_NEW = 0, IN_CUR = 1 };

struct ent {
	char *id;          /* NULL: empty slot */
	char *name;
	int where;         /* IN_NEW, IN_CUR, IN_NONE (removed) */
};

struct wa_outbox {
	char *dir;
	int flags;
	int keep_days;
	int fd, tmpfd, newfd, curfd, statusfd, wafd, stagefd;
	int watchfd;       /* -2: not tried yet */
	struct wa_lock *lock;
	struct ent *ent;   /* the runner's index */
	size_t cap, n;
};

/* ---- names ------------------------------------------------------------ */

int
wa_outbox_id_ok(const char *id)
{
	size_t i;

	if (!id)
		return 0;
	for (i = 0; id[i]; i++) {
		char c = id[i];
		if (i >= WA_OUTBOX_ID_MAX - 1 ||
		    !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return 0;
	}
	return i > 0;
}

static int
digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* "<13 digits>.<pid>_<6 digits>.<ID>": 1 with the time and the id. */
static int
name_parse(const char *s, int64_t *ms, const char **id)
{
	size_t len = strlen(s), j;

	if (len < 13 + 1 + 1 + 1 + 6 + 1 + 1 || len >= WA_OUTBOX_NAME_MAX)
		return 0;
	if (!digits(s, 13) || s[13] != '.')
		return 0;
	for (j = 14; j < len && s[j] >= '0' && s[j] <= '9'; j++)
		;
	if (j == 14 || j > 24 || s[j] != '_' || j + 8 > len)
		return 0;
	if (!digits(s + j + 1, 6) || s[j + 7] != '.' || !wa_outbox_id_ok(s + j + 8))
		return 0;
	if (ms)
		*ms = strtoll(s, NULL, 10);
	if (id)
		*id = s + j + 8;
	return 1;
}

static int
name_ok(const char *s)
{
	return name_parse(s, NULL, NULL);
}

static int
name_has_id(const char *s, const char *id)
{
	const char *nid;

	return name_parse(s, NULL, &nid) && strcmp(nid, id) == 0;
}

/* Per process: the milliseconds never go back, the counter counts. */
static int64_t last_ms;
static long counter = -1;

static void
name_next(char name[WA_OUTBOX_NAME_MAX], const char *id)
{
	struct timespec ts;
	int64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (ms < last_ms)
		ms = last_ms;
	if (++counter > 999999) {
		counter = 0;
		ms = last_ms + 1;  /* keep the order when the counter wraps */
	}
	if (ms > 9999999999999LL)
		ms = 9999999999999LL;
	last_ms = ms;
	snprintf(name, WA_OUTBOX_NAME_MAX, "%013lld.%ld_%06ld.%s", (long long)ms, (long)getpid(),
	    counter, id);
}

/* ---- checks ----------------------------------------------------------- */

int
wa_outbox_utf8_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned c = *p, need, cp, min;
		if (c == 0)
			return 0;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1; cp = c & 0x1f; min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2; cp = c & 0x0f; min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		if ((size_t)(end - p) < need + 1)
			return 0;
		for (p++; need; need--, p++) {
			if ((*p & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (*p & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

static int
chars_ok(const char *s, const char *extra)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (extra && *extra && strchr(extra, *s))))
			return 0;
	return 1;
}

int
wa_outbox_jid_ok(const char *jid, int group)
{
	char back[WA_JID_STR_MAX];
	struct wa_jid j;

	if (!jid || strlen(jid) >= WA_OUTBOX_JID_MAX || wa_jid_parse(&j, jid) < 0)
		return 0;
	if (j.agent || j.device || wa_jid_format(back, sizeof back, &j) < 0 || strcmp(back, jid) != 0)
		return 0;
	switch (j.type) {
	case WA_JID_PN:
	case WA_JID_LID:
		return chars_ok(j.user, NULL);
	case WA_JID_GROUP:
		return group && chars_ok(j.user, "-");
	default:
		return 0;
	}
}

int
wa_outbox_norm_to(char out[WA_OUTBOX_JID_MAX], const char *to)
{
	const char *p = to;
	size_t n = 0;

	out[0] = 0;
	if (!to)
		return WA_EINVAL;
	if (strchr(to, '@')) {
		const char *at = strchr(to, '@');
		if (strcmp(at, "@c.us") == 0) {
			if ((size_t)(at - to) + sizeof "@s.whatsapp.net" > WA_OUTBOX_JID_MAX)
				return WA_EINVAL;
			snprintf(out, WA_OUTBOX_JID_MAX, "%.*s@s.whatsapp.net", (int)(at - to), to);
		} else if (strlen(to) < WA_OUTBOX_JID_MAX) {
			snprintf(out, WA_OUTBOX_JID_MAX, "%s", to);
		}
		if (!wa_outbox_jid_ok(out, 1)) {
			out[0] = 0;
			return WA_EINVAL;
		}
		return 0;
	}
	if (*p == '+')
		p++;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			if (n == 0 && *p == '0')
				break;
			if (n >= 15)
				break;
			out[n++] = *p;
		} else if (!strchr(" -.()", *p) || (n == 0 && *p != '(')) {
			break;  /* a separator only between digits (or an opening parenthesis) */
		}
	}
	if (*p || n < 6) {
		out[0] = 0;
		return WA_EINVAL;
	}
	snprintf(out + n, WA_OUTBOX_JID_MAX - n, "@s.whatsapp.net");
	return 0;
}

static const char *
str_field(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* {"id":ID,"participant":JID?,...}: reply_to or target */
static int
ref_check(const json_t *o, const char *what, int from_me, struct wa_why *why)
{
	const json_t *p;

	if (!json_is_object(o))
		return wa_why_set(why, WA_EINVAL, "\"%s\" is not an object", what);
	if (!wa_outbox_id_ok(str_field(o, "id")))
		return wa_why_set(why, WA_EINVAL, "\"%s\".\"id\" is not a message id", what);
	if ((p = json_object_get(o, "participant")) && !json_is_null(p) &&
	    !wa_outbox_jid_ok(json_string_value(p), 0))
		return wa_why_set(why, WA_EINVAL, "\"%s\".\"participant\" is not a user JID", what);
	if (from_me && !json_is_boolean(json_object_get(o, "from_me")))
		return wa_why_set(why, WA_EINVAL, "\"%s\".\"from_me\" is not true or false", what);
	return 0;
}

int
wa_outbox_job_check(const json_t *job, struct wa_why *why)
{
	const char *type, *s;
	const json_t *v, *p;
	size_t i, len;

	if (!json_is_object(job))
		return wa_why_set(why, WA_EINVAL, "not a JSON object");
	v = json_object_get(job, "v");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		return wa_why_set(why, WA_EINVAL, "\"v\" is not 1");
	if (!wa_outbox_id_ok(str_field(job, "id")))
		return wa_why_set(why, WA_EINVAL, "\"id\" is not a message id (1 to 64 of A-Z a-z 0-9)");
	if (!wa_outbox_jid_ok(str_field(job, "to"), 1))
		return wa_why_set(why, WA_EINVAL, "\"to\" is not a phone number, LID or group JID");
	if (!json_is_integer(json_object_get(job, "created_ms")))
		return wa_why_set(why, WA_EINVAL, "\"created_ms\" is not an integer");
	if (!(type = str_field(job, "type")))
		return wa_why_set(why, WA_EINVAL, "\"type\" is missing");
	if (strcmp(type, "text") == 0) {
		v = json_object_get(job, "text");
		if (!json_is_string(v) || (len = json_string_length(v)) == 0)
			return wa_why_set(why, WA_EINVAL, "\"text\" is missing or empty");
		if (len > WA_OUTBOX_TEXT_MAX)
			return wa_why_set(why, WA_EINVAL, "\"text\" is over %d bytes", WA_OUTBOX_TEXT_MAX);
		if (!wa_outbox_utf8_ok(json_string_value(v), len))
			return wa_why_set(why, WA_EINVAL, "\"text\" is not valid UTF-8");
		if ((p = json_object_get(job, "reply_to")) && !json_is_null(p))
			return ref_check(p, "reply_to", 0, why);
		return 0;
	}
	if (strcmp(type, "reaction") == 0) {
		v = json_object_get(job, "emoji");
		if (!json_is_string(v))
			return wa_why_set(why, WA_EINVAL, "\"emoji\" is missing");
		len = json_string_length(v);
		if (len > WA_OUTBOX_EMOJI_MAX || !wa_outbox_utf8_ok(json_string_value(v), len))
			return wa_why_set(why, WA_EINVAL, "\"emoji\" is not \"\" or 1 to %d bytes of UTF-8",
			    WA_OUTBOX_EMOJI_MAX);
		return ref_check(json_object_get(job, "target"), "target", 1, why);
	}
	if (strcmp(type, "read") == 0) {
		v = json_object_get(job, "ids");
		if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > READ_IDS_MAX)
			return wa_why_set(why, WA_EINVAL, "\"ids\" is not an array of 1 to %d message ids",
			    READ_IDS_MAX);
		for (i = 0; i < json_array_size(v); i++)
			if (!wa_outbox_id_ok(json_string_value(json_array_get(v, i))))
				return wa_why_set(why, WA_EINVAL, "\"ids\"[%zu] is not a message id", i);
		if ((p = json_object_get(job, "participant")) && !json_is_null(p) &&
		    !wa_outbox_jid_ok(json_string_value(p), 0))
			return wa_why_set(why, WA_EINVAL, "\"participant\" is not a user JID");
		return 0;
	}
	if (strcmp(type, "revoke") == 0)
		return ref_check(json_object_get(job, "target"), "target", 0, why);
	for (s = type; *s && (unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f; s++)
		;
	return wa_why_set(why, WA_EINVAL, "\"type\" %s%s%s is not text, reaction, read or revoke",
	    *s ? "" : "\"", *s ? "(unprintable)" : type, *s ? "" : "\"");
}

/* ---- the index (runner) ----------------------------------------------- */

static uint64_t
hash_id(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct ent *
idx_find(const struct wa_outbox *ob, const char *id)
{
	size_t i;

	if (!ob->cap)
		return NULL;
	for (i = hash_id(id) & (ob->cap - 1); ob->ent[i].id; i = (i + 1) & (ob->cap - 1))
		if (strcmp(ob->ent[i].id, id) == 0)
			return &ob->ent[i];
	return NULL;
}

static int
idx_grow(struct wa_outbox *ob)
{
	size_t cap = ob->cap ? ob->cap * 2 : 256, i, j;
	struct ent *ne;

	if (WA_TEST_ALLOC_FAILS() || !(ne = calloc(cap, sizeof *ne)))
		return WA_ENOMEM;
	for (i = 0; i < ob->cap; i++) {
		if (!ob->ent[i].id)
			continue;
		for (j = hash_id(ob->ent[i].id) & (cap - 1); ne[j].id; j = (j + 1) & (cap - 1))
			;
		ne[j] = ob->ent[i];
	}
	free(ob->ent);
	ob->ent = ne;
	ob->cap = cap;
	return 0;
}

/* Record name (its id from the name) as being in where. */
static int
idx_set(struct wa_outbox *ob, const char *name, int where)
{
	const char *id;
	struct ent *e;
	char *nn;
	size_t i;
	int rc;

	if (!(ob->flags & WA_OUTBOX_RUNNER) || !name_parse(name, NULL, &id))
		return 0;
	if ((e = idx_find(ob, id))) {
		if (strcmp(e->name, name) != 0) {
			if (e->where != IN_NONE && where == IN_NEW)
				return 0;  /* a second job with an id in use: keep the first */
			if (WA_TEST_ALLOC_FAILS() || !(nn = strdup(name)))
				return WA_ENOMEM;
			free(e->name);
			e->name = nn;
			e->id = nn + (id - name);  /* the key lives in the name */
		}
		e->where = where;
		return 0;
	}
	if ((ob->n + 1) * 10 > ob->cap * 7 && (rc = idx_grow(ob)) < 0)
		return rc;
	for (i = hash_id(id) & (ob->cap - 1); ob->ent[i].id; i = (i + 1) & (ob->cap - 1))
		;
	if (WA_TEST_ALLOC_FAILS() || !(ob->ent[i].name = strdup(name)))
		return WA_ENOMEM;
	ob->ent[i].id = ob->ent[i].name + (id - name);
	ob->ent[i].where = where;
	ob->n++;
	return 0;
}

/* ---- folders ---------------------------------------------------------- */

static int
opendirat(int at, const char *name)
{
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int
private_fd(int fd, const char *path, const char *name, struct wa_why *why)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || ((st.st_mode & 077) && fchmod(fd, 0700) < 0))
		return wa_why_set(why, WA_EUNSAFE, "unable to make '%s%s%s' private (0700): %s", path,
		    name ? "/" : "", name ? name : "", strerror(errno));
	return 0;
}

/* Open DIR's sub-folder name (making it when missing and create). */
static int
subdir(int at, const char *path, const char *name, int create, int *out, struct wa_why *why)
{
	int fd, rc;

	if ((fd = opendirat(at, name)) < 0 && errno == ENOENT) {
		if (!create)
			return wa_why_set(why, WA_ENOTFOUND, "'%s/%s' does not exist", path, name);
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
	if ((rc = private_fd(fd, path, name, why)) < 0) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

static int
open_top(struct wa_outbox *ob, struct wa_why *why)
{
	struct stat st;
	int rc;

	if (lstat(ob->dir, &st) < 0) {
		if (errno != ENOENT)
			return wa_why_set(why, WA_ESYS, "unable to open '%s': %s", ob->dir, strerror(errno));
		if (!(ob->flags & WA_OUTBOX_CREATE))
			return wa_why_set(why, WA_ENOTFOUND, "'%s' does not exist", ob->dir);
		rc = wa_durable_mkdir_path(ob->dir);
		if (rc < 0 && rc != WA_EEXIST)
			return wa_why_set(why, rc == WA_ESYS && errno == ENOENT ? WA_ENOTFOUND : rc,
			    "unable to create '%s': %s", ob->dir,
			    rc == WA_ESYNC ? "not known durable" : wa_strerror(rc));
	} else if (S_ISLNK(st.st_mode)) {
		return wa_why_set(why, WA_EUNSAFE, "'%s' is a symbolic link; pass the real folder", ob->dir);
	}
	if ((ob->fd = open(ob->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return wa_why_set(why, errno == ELOOP || errno == ENOTDIR ? WA_EUNSAFE : WA_ESYS,
		    "unable to open '%s': %s", ob->dir,
		    errno == ENOTDIR ? "not a folder" : strerror(errno));
	return private_fd(ob->fd, ob->dir, NULL, why);
}

static int
open_layout(struct wa_outbox *ob, struct wa_why *why)
{
	int create = !!(ob->flags & WA_OUTBOX_CREATE), rc;
	char wa[PATH_MAX];

	if ((rc = open_top(ob, why)) < 0)
		return rc;
	if ((rc = subdir(ob->fd, ob->dir, "tmp", create, &ob->tmpfd, why)) < 0 ||
	    (rc = subdir(ob->fd, ob->dir, "new", create, &ob->newfd, why)) < 0 ||
	    (rc = subdir(ob->fd, ob->dir, "cur", create, &ob->curfd, why)) < 0 ||
	    (rc = subdir(ob->fd, ob->dir, STATUS_DIR, create, &ob->statusfd, why)) < 0)
		return rc;
	if (!(ob->flags & WA_OUTBOX_RUNNER))
		return 0;
	if ((rc = subdir(ob->fd, ob->dir, WA_SUBDIR, 1, &ob->wafd, why)) < 0)
		return rc;
	rc = wa_lock_acquire(&ob->lock, ob->wafd, "wa-outbox", NULL);
	if (rc == WA_ELOCKED)
		return wa_why_set(why, rc, "'%s' is in use by another process", ob->dir);
	if (rc < 0)
		return wa_why_set(why, rc, "unable to lock '%s/%s/%s': %s", ob->dir, WA_SUBDIR, WA_LOCK,
		    wa_strerror(rc));
	snprintf(wa, sizeof wa, "%s/%s", ob->dir, WA_SUBDIR);
	if ((rc = subdir(ob->wafd, wa, WA_STAGE, 1, &ob->stagefd, why)) < 0)
		return rc;
	if (wa_stage_sweep(ob->stagefd, NULL) < 0)
		return wa_why_set(why, WA_ESYS, "unable to sweep '%s/%s': %s", wa, WA_STAGE, strerror(errno));
	return 0;
}

/* ---- listing ---------------------------------------------------------- */

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
wa_outbox_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The names in dirfd that keep accepts (all when NULL, but "." and ".."),
 * sorted. */
static int
list(int dirfd, int (*keep)(const char *), char ***out, size_t *nout)
{
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;
	int fd, rc = 0;

	*out = NULL;
	*nout = 0;
	if ((fd = dup(dirfd)) < 0)
		return WA_ESYS;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return WA_ESYS;
	}
	rewinddir(d);
	while ((errno = 0, e = readdir(d))) {
		if (keep ? !keep(e->d_name) : (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nv = WA_TEST_ALLOC_FAILS() ? NULL : realloc(v, nc * sizeof *nv);
			if (!nv) {
				rc = WA_ENOMEM;
				break;
			}
			v = nv;
			cap = nc;
		}
		if (WA_TEST_ALLOC_FAILS() || !(v[n] = strdup(e->d_name))) {
			rc = WA_ENOMEM;
			break;
		}
		n++;
	}
	if (!rc && errno)
		rc = WA_ESYS;
	{
		int saved = errno;
		closedir(d);
		errno = saved;
	}
	if (rc) {
		wa_outbox_names_free(v, n);
		return rc;
	}
	if (n)
		qsort(v, n, sizeof *v, cmpstr);
	*out = v;
	*nout = n;
	return 0;
}

/* The first name in dirfd for id, by reading the folder: 1 with *name
 * (the caller's), 0 when none, or a WA_E* code. */
static int
scan_id(int dirfd, const char *id, char **name)
{
	struct dirent *e;
	DIR *d;
	int fd, rc = 0;

	*name = NULL;
	if ((fd = dup(dirfd)) < 0)
		return WA_ESYS;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return WA_ESYS;
	}
	rewinddir(d);
	while ((errno = 0, e = readdir(d))) {
		if (!name_has_id(e->d_name, id))
			continue;
		rc = (*name = strdup(e->d_name)) ? 1 : WA_ENOMEM;
		break;
	}
	if (!rc && errno)
		rc = WA_ESYS;
	{
		int saved = errno;
		closedir(d);
		errno = saved;
	}
	return rc;
}

/* ---- reading a file --------------------------------------------------- */

/* The JSON object in dirfd/name (no link followed, a regular file of at
 * most JOB_FILE_MAX bytes).  WA_ENOTFOUND, WA_ECORRUPT (why: the reason
 * only), WA_ESYS, WA_ENOMEM. */
static int
read_json(int dirfd, const char *name, json_t **out, struct wa_why *why)
{
	json_error_t jerr;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc = 0;

	*out = NULL;
	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return wa_why_set(why, WA_ENOTFOUND, "no such file");
		if (errno == ELOOP)
			return wa_why_set(why, WA_ECORRUPT, "a symbolic link, not a regular file");
		return wa_why_set(why, WA_ESYS, "%s", strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		rc = wa_why_set(why, WA_ESYS, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = wa_why_set(why, WA_ECORRUPT, "not a regular file");
		goto out;
	}
	if (st.st_size > JOB_FILE_MAX) {
		rc = wa_why_set(why, WA_ECORRUPT, "over %d bytes", JOB_FILE_MAX);
		goto out;
	}
	if (WA_TEST_ALLOC_FAILS() || !(buf = malloc((size_t)st.st_size + 1))) {
		rc = wa_why_set(why, WA_ENOMEM, "%s", wa_strerror(WA_ENOMEM));
		goto out;
	}
	while (len < (size_t)st.st_size + 1) {
		ssize_t r = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = wa_why_set(why, WA_ESYS, "%s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > (size_t)st.st_size) {
		rc = wa_why_set(why, WA_ECORRUPT, "grew while read");
		goto out;
	}
	*out = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*out)
		rc = wa_why_set(why, WA_ECORRUPT, "not JSON (byte %d: %s)", jerr.position, jerr.text);
	else if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		rc = wa_why_set(why, WA_ECORRUPT, "not a JSON object");
	}
out:
	{
		int saved = errno;
		free(buf);
		close(fd);
		errno = saved;
	}
	return rc;
}

/* ---- tmp/ after a crash (runner) -------------------------------------- */

static int
recover_tmp(struct wa_outbox *ob, struct wa_why *why)
{
	char **v;
	size_t n, i, removed = 0;
	time_t now = time(NULL);
	struct stat st;
	int rc;

	if ((rc = list(ob->tmpfd, name_ok, &v, &n)) < 0)
		return wa_why_set(why, rc, "unable to list '%s/tmp': %s", ob->dir, wa_strerror(rc));
	for (i = 0; i < n && rc == 0; i++) {
		if (fstatat(ob->tmpfd, v[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (st.st_mtime > now - TMP_STALE_S)
			continue;  /* maybe a writer at work */
		rc = wa_durable_unlink(ob->tmpfd, v[i]);
		if (rc == WA_ENOTFOUND)
			rc = 0;
		else if (rc < 0)
			rc = wa_why_set(why, rc, "unable to remove '%s/tmp/%s': %s", ob->dir, v[i],
			    wa_strerror(rc));
		else
			removed++;
	}
	wa_outbox_names_free(v, n);
	if (rc == 0 && removed && wa_durable_syncfd(ob->tmpfd) < 0)
		rc = wa_why_set(why, WA_ESYS, "unable to flush '%s/tmp': %s", ob->dir, strerror(errno));
	return rc;
}

static int
index_dir(struct wa_outbox *ob, int dirfd, const char *sub, int where, struct wa_why *why)
{
	char **v;
	size_t n, i;
	int rc;

	if ((rc = list(dirfd, name_ok, &v, &n)) < 0)
		return wa_why_set(why, rc, "unable to list '%s/%s': %s", ob->dir, sub, wa_strerror(rc));
	for (i = 0; i < n && rc == 0; i++)
		if ((rc = idx_set(ob, v[i], where)) < 0)
			rc = wa_why_set(why, rc, "%s", wa_strerror(rc));
	wa_outbox_names_free(v, n);
	return rc;
}

/* ---- open, free ------------------------------------------------------- */

int
wa_outbox_open(struct wa_outbox **out, const char *dir, int flags, int keep_days, struct wa_why *why)
{
	struct wa_outbox *ob;
	size_t n;
	int rc;

	*out = NULL;
	if (!dir || !*dir || keep_days < 0 || keep_days > 3660 ||
	    (flags & ~(WA_OUTBOX_CREATE | WA_OUTBOX_RUNNER)))
		return wa_why_set(why, WA_EINVAL, "invalid outbox folder, flags or keep_days");
	if (WA_TEST_ALLOC_FAILS() || !(ob = calloc(1, sizeof *ob)))
		return wa_why_set(why, WA_ENOMEM, "%s", wa_strerror(WA_ENOMEM));
	ob->fd = ob->tmpfd = ob->newfd = ob->curfd = ob->statusfd = ob->wafd = ob->stagefd = -1;
	ob->watchfd = -2;
	ob->flags = flags;
	ob->keep_days = keep_days;
	if (WA_TEST_ALLOC_FAILS() || !(ob->dir = strdup(dir))) {
		free(ob);
		return wa_why_set(why, WA_ENOMEM, "%s", wa_strerror(WA_ENOMEM));
	}
	n = strlen(ob->dir);
	while (n > 1 && ob->dir[n - 1] == '/')
		ob->dir[--n] = 0;
	if ((rc = open_layout(ob, why)) < 0)
		goto fail;
	if (flags & WA_OUTBOX_RUNNER) {
		if ((rc = recover_tmp(ob, why)) < 0 ||
		    (rc = index_dir(ob, ob->curfd, "cur", IN_CUR, why)) < 0 ||
		    (rc = index_dir(ob, ob->newfd, "new", IN_NEW, why)) < 0)
			goto fail;
	}
	*out = ob;
	return 0;
fail:
	wa_outbox_free(ob);
	return rc;
}

static void
closefd(int fd)
{
	if (fd >= 0)
		close(fd);
}

void
wa_outbox_free(struct wa_outbox *ob)
{
	int saved = errno;
	size_t i;

	if (!ob)
		return;
	closefd(ob->tmpfd);
	closefd(ob->newfd);
	closefd(ob->curfd);
	closefd(ob->statusfd);
	closefd(ob->stagefd);
	if (ob->watchfd >= 0)
		close(ob->watchfd);
	wa_lock_release(ob->lock);
	closefd(ob->wafd);
	closefd(ob->fd);
	for (i = 0; i < ob->cap; i++)
		free(ob->ent[i].name);
	free(ob->ent);
	free(ob->dir);
	free(ob);
	errno = saved;
}

const char *
wa_outbox_dir(const struct wa_outbox *ob)
{
	return ob->dir;
}

/* ---- put -------------------------------------------------------------- */

/* Where a job with id is: 1 with *name and *where, 0 when nowhere. */
static int
locate(struct wa_outbox *ob, const char *id, char **name, int *where)
{
	struct ent *e;
	int rc;

	*name = NULL;
	if (ob->flags & WA_OUTBOX_RUNNER) {
		if ((e = idx_find(ob, id)) && e->where != IN_NONE) {
			*where = e->where;
			return (*name = strdup(e->name)) ? 1 : WA_ENOMEM;
		}
	} else {
		if ((rc = scan_id(ob->curfd, id, name)) != 0) {
			*where = IN_CUR;
			return rc;
		}
	}
	*where = IN_NEW;
	if ((rc = scan_id(ob->newfd, id, name)) == 1 && (rc = idx_set(ob, *name, IN_NEW)) == 0)
		rc = 1;
	return rc;
}

int
wa_outbox_put(struct wa_outbox *ob, const json_t *job, char name[WA_OUTBOX_NAME_MAX], struct wa_why *why)
{
	char nm[WA_OUTBOX_NAME_MAX], *buf = NULL, *there = NULL;
	const char *id;
	size_t len;
	int rc, fd, where;

	if (name)
		name[0] = 0;
	if ((rc = wa_outbox_job_check(job, why)) < 0)
		return rc;
	id = str_field(job, "id");
	if ((rc = locate(ob, id, &there, &where)) != 0) {
		if (rc == 1)
			rc = wa_why_set(why, WA_EEXIST, "a job with id %s is already in '%s/%s/%s'", id,
			    ob->dir, where == IN_CUR ? "cur" : "new", there);
		else
			rc = wa_why_set(why, rc, "unable to read '%s': %s", ob->dir, wa_strerror(rc));
		free(there);
		return rc;
	}
	if (WA_TEST_ALLOC_FAILS() || !(buf = json_dumps(job, JSON_COMPACT)))
		return wa_why_set(why, WA_ENOMEM, "%s", wa_strerror(WA_ENOMEM));
	len = strlen(buf);
	name_next(nm, id);
	rc = wa_durable_create_nosync(&fd, ob->tmpfd, nm, buf, len);
	free(buf);
	if (rc < 0)
		return wa_why_set(why, rc, "unable to write '%s/tmp/%s': %s", ob->dir, nm, wa_strerror(rc));
	if ((rc = wa_durable_sync_close(fd)) < 0) {
		rc = wa_why_set(why, rc, "unable to write '%s/tmp/%s': %s", ob->dir, nm, wa_strerror(rc));
		goto undo;
	}
	if ((rc = wa_durable_move_nosync(ob->tmpfd, nm, ob->newfd, nm)) < 0) {
		rc = wa_why_set(why, rc, "unable to move '%s/tmp/%s' to new/: %s", ob->dir, nm,
		    wa_strerror(rc));
		goto undo;
	}
	if (wa_durable_syncfd(ob->newfd) < 0)
		return wa_why_set(why, WA_ESYNC, "'%s/new/%s' not known durable: %s", ob->dir, nm,
		    strerror(errno));
	if ((rc = idx_set(ob, nm, IN_NEW)) < 0)
		return wa_why_set(why, rc, "%s", wa_strerror(rc));
	if (name)
		snprintf(name, WA_OUTBOX_NAME_MAX, "%s", nm);
	return 0;
undo:
	{
		int saved = errno;
		wa_durable_unlink(ob->tmpfd, nm);
		errno = saved;
	}
	return rc;
}

/* ---- the runner's side ------------------------------------------------ */

int
wa_outbox_queued(struct wa_outbox *ob, char ***names, size_t *n, struct wa_why *why)
{
	size_t i;
	int rc;

	if ((rc = list(ob->newfd, name_ok, names, n)) < 0)
		return wa_why_set(why, rc, "unable to list '%s/new': %s", ob->dir, wa_strerror(rc));
	for (i = 0; i < *n; i++) {
		if ((rc = idx_set(ob, (*names)[i], IN_NEW)) < 0) {
			wa_outbox_names_free(*names, *n);
			*names = NULL;
			*n = 0;
			return wa_why_set(why, rc, "%s", wa_strerror(rc));
		}
	}
	return 0;
}

int
wa_outbox_load(struct wa_outbox *ob, const char *name, json_t **job, struct wa_why *why)
{
	struct wa_why w = WA_WHY_INIT;
	const char *id, *sub = "new";
	int rc;

	*job = NULL;
	if (!name_parse(name, NULL, &id))
		return wa_why_set(why, WA_EINVAL, "'%s': not a job name", name);
	rc = read_json(ob->newfd, name, job, &w);
	if (rc == WA_ENOTFOUND) {
		sub = "cur";
		rc = read_json(ob->curfd, name, job, &w);
	}
	if (rc == WA_ENOTFOUND)
		return wa_why_set(why, rc, "no job '%s' in '%s/new' or cur/", name, ob->dir);
	if (rc < 0)
		return wa_why_set(why, rc, "'%s/%s/%s': %s", ob->dir, sub, name, w.text);
	if ((rc = wa_outbox_job_check(*job, &w)) < 0) {
		rc = wa_why_set(why, WA_ECORRUPT, "'%s/%s/%s': %s", ob->dir, sub, name, w.text);
	} else if (strcmp(str_field(*job, "id"), id) != 0) {
		rc = wa_why_set(why, WA_ECORRUPT, "'%s/%s/%s': its \"id\" is not the one in its name",
		    ob->dir, sub, name);
	}
	if (rc < 0) {
		json_decref(*job);
		*job = NULL;
	}
	return rc;
}

int
wa_outbox_finish(struct wa_outbox *ob, const char *name, struct wa_why *why)
{
	int rc;

	if (!name_ok(name))
		return wa_why_set(why, WA_EINVAL, "'%s': not a job name", name);
	rc = wa_durable_move(ob->newfd, name, ob->curfd, name);
	if (rc == WA_ESYS && errno == ENOENT)
		return wa_why_set(why, WA_ENOTFOUND, "no job '%s' in '%s/new'", name, ob->dir);
	if (rc == WA_EEXIST)
		return wa_why_set(why, rc, "'%s/cur/%s' exists already", ob->dir, name);
	if (rc == WA_ESYNC)
		return wa_why_set(why, rc, "'%s/cur/%s' not known durable: %s", ob->dir, name,
		    strerror(errno));
	if (rc < 0)
		return wa_why_set(why, rc, "unable to move '%s/new/%s' to cur/: %s", ob->dir, name,
		    wa_strerror(rc));
	if ((rc = idx_set(ob, name, IN_CUR)) < 0)
		return wa_why_set(why, rc, "%s", wa_strerror(rc));
	return 0;
}

int
wa_outbox_finish_many(struct wa_outbox *ob, char *const *names, size_t n, struct wa_why *why)
{
	struct wa_why w;
	size_t i, moved = 0;
	int rc, first = 0;

	for (i = 0; i < n; i++) {
		w = (struct wa_why)WA_WHY_INIT;
		if (!name_ok(names[i])) {
			if (!first)
				first = wa_why_set(why, WA_EINVAL, "'%s': not a job name", names[i]);
			continue;
		}
		rc = wa_durable_move_nosync(ob->newfd, names[i], ob->curfd, names[i]);
		if (rc == WA_ESYS && errno == ENOENT)
			rc = wa_why_set(&w, WA_ENOTFOUND, "no job '%s' in '%s/new'", names[i], ob->dir);
		else if (rc == WA_EEXIST)
			rc = wa_why_set(&w, rc, "'%s/cur/%s' exists already", ob->dir, names[i]);
		else if (rc < 0)
			rc = wa_why_set(&w, rc, "unable to move '%s/new/%s' to cur/: %s", ob->dir, names[i],
			    wa_strerror(rc));
		else {
			moved++;
			if ((rc = idx_set(ob, names[i], IN_CUR)) < 0)
				rc = wa_why_set(&w, rc, "%s", wa_strerror(rc));
		}
		if (rc < 0 && !first) {
			first = rc;
			if (why)
				*why = w;
		}
	}
	/* the moves are durable once both folders are */
	if (moved && (wa_durable_syncfd(ob->curfd) < 0 || wa_durable_syncfd(ob->newfd) < 0))
		return wa_why_set(why, WA_ESYNC, "'%s/cur' not known durable: %s", ob->dir, strerror(errno));
	return first;
}

int
wa_outbox_find(struct wa_outbox *ob, const char *id, json_t **job)
{
	char *name = NULL;
	int rc, where;

	*job = NULL;
	if (!wa_outbox_id_ok(id))
		return WA_EINVAL;
	if ((rc = locate(ob, id, &name, &where)) <= 0)
		return rc == 0 || rc == WA_ESYS ? WA_ENOTFOUND : rc;
	rc = wa_outbox_load(ob, name, job, NULL);
	free(name);
	return rc == WA_ENOMEM ? rc : rc < 0 ? WA_ENOTFOUND : 0;
}

/* ---- status files ----------------------------------------------------- */

int
wa_outbox_status_write(struct wa_outbox *ob, const json_t *status, struct wa_why *why)
{
	const char *id = str_field(status, "id");
	char file[WA_OUTBOX_ID_MAX + 8], *buf;
	size_t len;
	int rc;

	if (!(ob->flags & WA_OUTBOX_RUNNER))
		return wa_why_set(why, WA_EINVAL, "'%s': only the runner writes status files", ob->dir);
	if (!json_is_object(status) || !wa_outbox_id_ok(id) || !json_is_string(json_object_get(status, "state")))
		return wa_why_set(why, WA_EINVAL, "a status needs a message \"id\" and a \"state\"");
	snprintf(file, sizeof file, "%s.json", id);
	if (WA_TEST_ALLOC_FAILS() || !(buf = json_dumps(status, JSON_COMPACT)))
		return wa_why_set(why, WA_ENOMEM, "%s", wa_strerror(WA_ENOMEM));
	len = strlen(buf);
	rc = wa_durable_put(ob->statusfd, file, ob->stagefd, buf, len);
	free(buf);
	if (rc < 0)
		return wa_why_set(why, rc, "unable to write '%s/%s/%s': %s", ob->dir, STATUS_DIR, file,
		    rc == WA_ESYNC ? "not known durable" : wa_strerror(rc));
	return 0;
}

int
wa_outbox_status_write_many(struct wa_outbox *ob, const json_t *const *statuses, size_t n,
    struct wa_why *why)
{
	struct wa_durable_batch *b = NULL;
	char file[WA_OUTBOX_ID_MAX + 8], *buf;
	const char *id;
	size_t i;
	int rc;

	if (!(ob->flags & WA_OUTBOX_RUNNER))
		return wa_why_set(why, WA_EINVAL, "'%s': only the runner writes status files", ob->dir);
	for (i = 0; i < n; i++) {
		id = str_field(statuses[i], "id");
		if (!json_is_object(statuses[i]) || !wa_outbox_id_ok(id) ||
		    !json_is_string(json_object_get(statuses[i], "state")))
			return wa_why_set(why, WA_EINVAL, "a status needs a message \"id\" and a \"state\"");
	}
	if (!n)
		return 0;
	if (n == 1)
		return wa_outbox_status_write(ob, statuses[0], why);
	if ((rc = wa_durable_batch_begin(&b, ob->statusfd, ob->stagefd)) < 0)
		return wa_why_set(why, rc, "%s", wa_strerror(rc));
	for (i = 0; i < n; i++) {
		id = str_field(statuses[i], "id");
		snprintf(file, sizeof file, "%s.json", id);
		if (WA_TEST_ALLOC_FAILS() || !(buf = json_dumps(statuses[i], JSON_COMPACT))) {
			wa_durable_batch_abort(b);
			return wa_why_set(why, WA_ENOMEM, "%s", wa_strerror(WA_ENOMEM));
		}
		rc = wa_durable_batch_put(b, file, buf, strlen(buf));
		free(buf);
		if (rc < 0) {
			wa_durable_batch_abort(b);
			return wa_why_set(why, rc, "unable to write '%s/%s/%s': %s", ob->dir, STATUS_DIR, file,
			    wa_strerror(rc));
		}
	}
	if ((rc = wa_durable_batch_commit(b)) < 0)
		return wa_why_set(why, rc, "unable to write %zu files in '%s/%s': %s", n, ob->dir, STATUS_DIR,
		    rc == WA_ESYNC ? "not known durable" : wa_strerror(rc));
	return 0;
}

int
wa_outbox_status_read(const char *dir, const char *id, json_t **status, struct wa_why *why)
{
	struct wa_why w = WA_WHY_INIT;
	char file[WA_OUTBOX_ID_MAX + 8];
	const char *sid;
	int fd, sfd, rc;

	*status = NULL;
	if (!wa_outbox_id_ok(id))
		return wa_why_set(why, WA_EINVAL, "'%s': not a message id", id);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return wa_why_set(why, errno == ENOENT ? WA_ENOTFOUND :
		    errno == ELOOP || errno == ENOTDIR ? WA_EUNSAFE : WA_ESYS,
		    "unable to open '%s': %s", dir, strerror(errno));
	sfd = opendirat(fd, STATUS_DIR);
	close(fd);
	if (sfd < 0) {
		if (errno == ENOENT)
			return wa_why_set(why, WA_ENOTFOUND, "no status for %s yet", id);
		return wa_why_set(why, errno == ELOOP || errno == ENOTDIR ? WA_EUNSAFE : WA_ESYS,
		    "unable to open '%s/%s': %s", dir, STATUS_DIR, strerror(errno));
	}
	snprintf(file, sizeof file, "%s.json", id);
	rc = read_json(sfd, file, status, &w);
	close(sfd);
	if (rc == WA_ENOTFOUND)
		return wa_why_set(why, rc, "no status for %s yet", id);
	if (rc < 0)
		return wa_why_set(why, rc, "'%s/%s/%s': %s", dir, STATUS_DIR, file, w.text);
	sid = str_field(*status, "id");
	if (!sid || strcmp(sid, id) != 0 || !json_is_string(json_object_get(*status, "state"))) {
		json_decref(*status);
		*status = NULL;
		return wa_why_set(why, WA_ECORRUPT, "'%s/%s/%s': not a status of %s (\"id\", \"state\")",
		    dir, STATUS_DIR, file, id);
	}
	return 0;
}

/* ---- prune ------------------------------------------------------------ */

static int64_t
ms_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

/* "ID.json" with a valid ID: 1 with id copied out. */
static int
status_name(const char *s, char id[WA_OUTBOX_ID_MAX])
{
	size_t n = strlen(s);

	if (n < 6 || n - 5 >= WA_OUTBOX_ID_MAX || strcmp(s + n - 5, ".json") != 0)
		return 0;
	memcpy(id, s, n - 5);
	id[n - 5] = 0;
	return wa_outbox_id_ok(id);
}

int
wa_outbox_prune(struct wa_outbox *ob, int64_t now_ms, size_t *removed, struct wa_why *why)
{
	int64_t cutoff = now_ms - (int64_t)ob->keep_days * 86400000;
	char **v = NULL, **q = NULL, id[WA_OUTBOX_ID_MAX], file[WA_OUTBOX_ID_MAX + 8];
	size_t n = 0, nq = 0, i, gone = 0, sgone = 0;
	struct stat st;
	const char *nid;
	struct ent *e;
	int64_t ms;
	int rc;

	if (removed)
		*removed = 0;
	if (!(ob->flags & WA_OUTBOX_RUNNER))
		return wa_why_set(why, WA_EINVAL, "'%s': only the runner prunes", ob->dir);
	/* what is queued counts as a job, also when it arrived since open */
	if ((rc = wa_outbox_queued(ob, &q, &nq, why)) < 0)
		return rc;
	wa_outbox_names_free(q, nq);
	if ((rc = list(ob->curfd, name_ok, &v, &n)) < 0)
		return wa_why_set(why, rc, "unable to list '%s/cur': %s", ob->dir, wa_strerror(rc));
	for (i = 0; i < n && rc == 0; i++) {
		name_parse(v[i], &ms, &nid);
		if (fstatat(ob->curfd, v[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (ms_of(&st.st_ctim) > ms)
			ms = ms_of(&st.st_ctim);  /* finished: moved into cur/ */
		if (ms >= cutoff)
			continue;
		if ((rc = wa_durable_unlink(ob->curfd, v[i])) < 0 && rc != WA_ENOTFOUND) {
			rc = wa_why_set(why, rc, "unable to remove '%s/cur/%s': %s", ob->dir, v[i],
			    wa_strerror(rc));
			break;
		}
		gone++;
		if ((e = idx_find(ob, nid)) && strcmp(e->name, v[i]) == 0)
			e->where = IN_NONE;
		if ((e = idx_find(ob, nid)) && e->where != IN_NONE) {
			rc = 0;
			continue;  /* the id has another job: its status stays */
		}
		snprintf(file, sizeof file, "%s.json", nid);
		if ((rc = wa_durable_unlink(ob->statusfd, file)) == 0)
			sgone++;
		else if (rc != WA_ENOTFOUND)
			rc = wa_why_set(why, rc, "unable to remove '%s/%s/%s': %s", ob->dir, STATUS_DIR,
			    file, wa_strerror(rc));
		else
			rc = 0;
	}
	wa_outbox_names_free(v, n);
	v = NULL;
	n = 0;
	/* status files of no job (a job removed by hand, a crash in a prune) */
	if (rc == 0 && (rc = list(ob->statusfd, NULL, &v, &n)) < 0)
		rc = wa_why_set(why, rc, "unable to list '%s/%s': %s", ob->dir, STATUS_DIR,
		    wa_strerror(rc));
	for (i = 0; i < n && rc == 0; i++) {
		if (!status_name(v[i], id) || ((e = idx_find(ob, id)) && e->where != IN_NONE))
			continue;
		if (fstatat(ob->statusfd, v[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    ms_of(&st.st_mtim) >= cutoff)
			continue;
		if ((rc = wa_durable_unlink(ob->statusfd, v[i])) == 0)
			sgone++;
		else if (rc != WA_ENOTFOUND)
			rc = wa_why_set(why, rc, "unable to remove '%s/%s/%s': %s", ob->dir, STATUS_DIR,
			    v[i], wa_strerror(rc));
		else
			rc = 0;
	}
	wa_outbox_names_free(v, n);
	if (gone && wa_durable_syncfd(ob->curfd) < 0 && rc == 0)
		rc = wa_why_set(why, WA_ESYS, "unable to flush '%s/cur': %s", ob->dir, strerror(errno));
	if (sgone && wa_durable_syncfd(ob->statusfd) < 0 && rc == 0)
		rc = wa_why_set(why, WA_ESYS, "unable to flush '%s/%s': %s", ob->dir, STATUS_DIR,
		    strerror(errno));
	if (removed)
		*removed = gone;
	return rc;
}

/* ---- watching new/ ---------------------------------------------------- */

int
wa_outbox_watch_fd(struct wa_outbox *ob)
{
	char path[PATH_MAX];

	if (ob->watchfd == -2) {
		snprintf(path, sizeof path, "%s/new", ob->dir);
		ob->watchfd = wa_compat_watch_dir(path);
		if (ob->watchfd < 0)
			ob->watchfd = -1;
	}
	return ob->watchfd;
}

int
wa_outbox_watch_drain(struct wa_outbox *ob)
{
	int n;

	if (ob->watchfd < 0)
		return 0;
	n = wa_compat_watch_drain(ob->watchfd);
	return n < 0 ? WA_ESYS : n;
}

struct took {
	struct wa_outbox *ob;
	char **v;
	size_t n, cap;
};

static int
take_one(void *arg, const char *name)
{
	struct took *t = arg;
	int rc;

	if (!name_ok(name))
		return 0;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **nv = WA_TEST_ALLOC_FAILS() ? NULL : realloc(t->v, cap * sizeof *nv);
		if (!nv)
			return WA_ENOMEM;
		t->v = nv;
		t->cap = cap;
	}
	if (WA_TEST_ALLOC_FAILS() || !(t->v[t->n] = strdup(name)))
		return WA_ENOMEM;
	t->n++;
	if ((rc = idx_set(t->ob, name, IN_NEW)) < 0)
		return rc;
	return 0;
}

int
wa_outbox_watch_take(struct wa_outbox *ob, char ***names, size_t *n)
{
	struct took t = { ob, NULL, 0, 0 };
	int rc, lost = 0;

	*names = NULL;
	*n = 0;
	if (ob->watchfd < 0)
		return 1;
	rc = wa_compat_watch_names(ob->watchfd, take_one, &t, &lost);
	if (rc < 0) {
		wa_outbox_names_free(t.v, t.n);
		return rc == -1 ? WA_ESYS : rc;
	}
	if (t.n)
		qsort(t.v, t.n, sizeof *t.v, cmpstr);
	*names = t.v;
	*n = t.n;
	return lost;
}

/* ---- backlog ---------------------------------------------------------- */

int
wa_outbox_backlog(const char *dir, size_t *count, time_t *oldest, struct wa_why *why)
{
	return wa_spool_backlog_of(dir, name_ok, count, oldest, why);
}
