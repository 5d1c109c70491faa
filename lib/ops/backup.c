/*
 * backup.c - backup archives (see backup.h for the format).
 *
 * Writing: list the folder once, read every file into memory through one
 * descriptor (fstat before and after, re-read when it changed or a .json
 * file does not parse), then write the manifest and the members with
 * libarchive to the caller's output.  Reading everything first is what
 * lets the manifest, with every checksum, be the first member.
 *
 * Reading: the whole archive is verified in memory before the caller
 * writes anything: manifest first, members exactly the manifest's files,
 * safe names only, sizes and SHA-256 sums equal.
 *
 * Restoring: the verified files are written durably into a new folder
 * beside the target, which is then exchanged with the target in one
 * atomic rename; the old folder is kept under another name.
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ops/backup.h"
#include "base/version.h"
#include "base/bufjson.h"
#include "store/creds.h"
#include "store/durable.h"
#include "base/file.h"
#include "store/fname.h"
#include "store/names.h"
#include "store/scan.h"


#define WA_MANIFEST_MAX WA_FILE_MAX

/* ---- small helpers ---- */

static void
sha256_hex(char out[65], const void *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	size_t i;

	EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = 0;
}

static int
is_json_name(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && strcmp(name + n - 5, ".json") == 0;
}

static int
is_tmp_name(const char *name)
{
	return strncmp(name, WA_DURABLE_TMP_PREFIX, strlen(WA_DURABLE_TMP_PREFIX)) == 0;
}

/* A name under .wa that backups leave out entirely. */
static int
wa_private(const char *bare)
{
	return strcmp(bare, WA_LOCK) == 0 || strcmp(bare, WA_STAGE) == 0 ||
	    strcmp(bare, WA_QUARANTINE) == 0;
}

static void
wipe_free(void *p, size_t n)
{
	if (p) {
		OPENSSL_cleanse(p, n);
		free(p);
	}
}

static void
warnf(wa_backup_warn_fn *warn, void *arg, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
warnf(wa_backup_warn_fn *warn, void *arg, const char *fmt, ...)
{
	char line[WA_WHY_MAX];
	va_list ap;

	if (!warn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	warn(arg, line);
}

int
wa_backup_name_ok(const char *name)
{
	const char *bare = name;

	if (strncmp(name, WA_SUBDIR "/", sizeof WA_SUBDIR) == 0) {
		bare = name + sizeof WA_SUBDIR;
		if (wa_private(bare))
			return 0;
	} else if (strcmp(name, WA_SUBDIR) == 0 || strcmp(name, WA_MANIFEST) == 0) {
		return 0;
	}
	return wa_fname_safe(bare) && !is_tmp_name(bare);
}

void
wa_backup_stamp(char *out, size_t n, time_t t)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, n, "%Y%m%dT%H%M%SZ", &tm))
		snprintf(out, n, "%s", "19700101T000000Z");
}

int
wa_backup_dir(char **out, const char *authpath, const char *bdir)
{
	char *parent = NULL, *folder = NULL;
	const char *last;
	int rc;

	*out = NULL;
	if (bdir)
		return (*out = strdup(bdir)) ? 0 : WA_ENOMEM;
	if ((rc = wa_backup_path_split(&parent, &folder, authpath)) < 0)
		return rc;
	/* beside the auth folder, spelled as the user did when possible */
	last = strrchr(authpath, '/');
	last = last ? last + 1 : authpath;
	if ((strcmp(last, folder) == 0 ?
	    asprintf(out, "%s%s", authpath, WA_BACKUP_SUFFIX) :
	    asprintf(out, "%s/%s%s", parent, folder, WA_BACKUP_SUFFIX)) < 0) {
		*out = NULL;
		rc = WA_ENOMEM;
	}
	free(parent);
	free(folder);
	return rc;
}

int
wa_backup_dir_open(const char *path, struct wa_why *why)
{
	char *parent = NULL, *base = NULL;
	int pfd, fd, rc;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
		return fd;
	if (errno != ENOENT)
		return wa_why_set(why, WA_ESYS, "unable to open backups folder '%s': %s", path, strerror(errno));
	if ((rc = wa_backup_path_split(&parent, &base, path)) < 0)
		return wa_why_set(why, rc, "unable to create backups folder '%s': %s", path, wa_strerror(rc));
	if ((pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = wa_why_set(why, WA_ESYS, "unable to create backups folder '%s': '%s': %s",
		    path, parent, strerror(errno));
		goto out;
	}
	rc = wa_durable_mkdir(pfd, base);
	close(pfd);
	if (rc < 0 && rc != WA_EEXIST) {
		rc = wa_why_set(why, rc, "unable to create backups folder '%s': %s", path, wa_strerror(rc));
		goto out;
	}
	if ((rc = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		rc = wa_why_set(why, WA_ESYS, "unable to open backups folder '%s': %s", path, strerror(errno));
out:
	free(parent);
	free(base);
	return rc;
}

/* The highest sequence number among the names "<pre><suffix>" (0) and
 * "<pre>-N<suffix>" (N) in dirfd, -1 when there is none. */
static int
max_seq(int dirfd, const char *pre, const char *suffix)
{
	struct dirent *e;
	DIR *d;
	int fd, best = -1;
	size_t k = strlen(pre);

	if ((fd = dup(dirfd)) < 0)
		return -1;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	while ((e = readdir(d))) {
		const char *r = e->d_name + k;
		char *end;
		long v;

		if (strncmp(e->d_name, pre, k) != 0)
			continue;
		if (strcmp(r, suffix) == 0) {
			if (best < 0)
				best = 0;
			continue;
		}
		if (r[0] != '-' || r[1] < '1' || r[1] > '9')
			continue;
		v = strtol(r + 1, &end, 10);
		if (strcmp(end, suffix) == 0 && v > best && v < 1000000)
			best = (int)v;
	}
	closedir(d);
	return best;
}

/* "<pre><suffix>", or "<pre>-N<suffix>" with N one past the highest in
 * use: a name is never handed out twice, even after retention removed
 * it, so (stamp, N) is the order of creation. */
static int
next_name(char *out, size_t n, int dirfd, const char *pre, const char *suffix)
{
	struct stat st;
	int i = max_seq(dirfd, pre, suffix) + 1;

	for (;; i++) {
		if (i >= 1000000)
			return WA_EEXIST;
		if ((size_t)(i == 0 ? snprintf(out, n, "%s%s", pre, suffix) :
		    snprintf(out, n, "%s-%d%s", pre, i, suffix)) >= n)
			return WA_ETOOBIG;
		if (fstatat(dirfd, out, &st, AT_SYMLINK_NOFOLLOW) != 0)
			return 0;
	}
}

int
wa_backup_new_name(char *out, size_t n, int dirfd, const char *folder, time_t now)
{
	char stamp[20], pre[512];

	wa_backup_stamp(stamp, sizeof stamp, now);
	if ((size_t)snprintf(pre, sizeof pre, "%s-%s", folder, stamp) >= sizeof pre)
		return WA_ETOOBIG;
	return next_name(out, n, dirfd, pre, ".tar");
}

int
wa_backup_replaced_name(char *out, size_t n, int parentfd, const char *folder, time_t now)
{
	char stamp[20], pre[512];

	wa_backup_stamp(stamp, sizeof stamp, now);
	if ((size_t)snprintf(pre, sizeof pre, "%s%s%s", folder, WA_REPLACED_INFIX, stamp) >= sizeof pre)
		return WA_ETOOBIG;
	return next_name(out, n, parentfd, pre, "");
}

static void
iso_time(char *out, size_t n, time_t t)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, n, "%s", "1970-01-01T00:00:00Z");
}

static int identity_hex(char out[65], const json_t *creds);

/* ---- listing a folder ---- */

struct item {
	char *name;          /* member name: "creds.json", ".wa/status.json" */
	const char *bare;    /* points into name: the part inside its folder */
	int sub;             /* 1: inside .wa */
	const char *skip;    /* why it is not archived, or NULL */
};

struct items {
	struct item *v;
	size_t n, cap;
};

static void
items_free(struct items *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static int
items_add(struct items *l, int sub, const char *bare, const char *skip)
{
	struct item *it;
	size_t n = strlen(bare) + (sub ? sizeof WA_SUBDIR : 0) + 1;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct item *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return WA_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	it = &l->v[l->n];
	if (!(it->name = malloc(n)))
		return WA_ENOMEM;
	snprintf(it->name, n, "%s%s", sub ? WA_SUBDIR "/" : "", bare);
	it->bare = it->name + (sub ? sizeof WA_SUBDIR : 0);
	it->sub = sub;
	it->skip = skip;
	l->n++;
	return 0;
}

static const char *
kind_skip(enum wa_scan_kind k)
{
	switch (k) {
	case WA_SCAN_SYMLINK: return "is a symbolic link; not followed, not archived";
	case WA_SCAN_DIR: case WA_SCAN_SUBDIR: return "is a folder; not archived";
	case WA_SCAN_OTHERKIND: return "is not a regular file; not archived";
	case WA_SCAN_FILE: break;
	}
	return NULL;
}

static int
valid_utf8(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

/*
 * Every entry a backup considers, in member-name order per folder: files
 * to archive (skip NULL) and entries skipped with a reason.  Temporary
 * files and .wa's lock, tmp and quarantine are not listed at all.
 * *wafd is set to the open .wa folder, or -1.
 */
static int
list_folder(struct items *l, int *wafd, int dirfd, struct wa_why *why, const char *dirshow)
{
	struct wa_scan *s = NULL, *ws = NULL;
	size_t i;
	int rc;

	*wafd = -1;
	if ((rc = wa_scan_dir(&s, dirfd)) < 0)
		return wa_why_set(why, rc, "unable to list '%s': %s", dirshow, wa_strerror(rc));
	for (i = 0; i < s->n && rc == 0; i++) {
		const struct wa_scan_entry *e = &s->e[i];
		const char *skip = kind_skip(e->kind);
		if (e->kind == WA_SCAN_SUBDIR) {
			*wafd = openat(dirfd, WA_SUBDIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (*wafd < 0) {
				rc = wa_why_set(why, WA_ESYS, "unable to open '%s/%s': %s", dirshow, WA_SUBDIR, strerror(errno));
				break;
			}
			continue;
		}
		if (e->kind == WA_SCAN_FILE && is_tmp_name(e->name))
			continue;
		if (!skip && strcmp(e->name, WA_SUBDIR) == 0)
			skip = "is not a folder (wa's own sub-folder should be one); not archived";
		if (!skip && strcmp(e->name, WA_MANIFEST) == 0)
			skip = "has the name of the backup manifest; not archived";
		if (!skip && !valid_utf8(e->name))
			skip = "name is not valid UTF-8; not archived";
		if (!wa_fname_safe(e->name))
			skip = "unsafe name; not archived";
		rc = items_add(l, 0, e->name, skip);
	}
	if (rc == 0 && *wafd >= 0) {
		if ((rc = wa_scan_dir(&ws, *wafd)) < 0)
			rc = wa_why_set(why, rc, "unable to list '%s/%s': %s", dirshow, WA_SUBDIR, wa_strerror(rc));
		for (i = 0; rc == 0 && i < ws->n; i++) {
			const struct wa_scan_entry *e = &ws->e[i];
			const char *skip = kind_skip(e->kind);
			if (wa_private(e->name) || (e->kind == WA_SCAN_FILE && is_tmp_name(e->name)))
				continue;
			if (!skip && !valid_utf8(e->name))
				skip = "name is not valid UTF-8; not archived";
			if (!wa_fname_safe(e->name))
				skip = "unsafe name; not archived";
			rc = items_add(l, 1, e->name, skip);
		}
	}
	wa_scan_free(s);
	wa_scan_free(ws);
	if (rc < 0) {
		items_free(l);
		if (*wafd >= 0)
			close(*wafd);
		*wafd = -1;
	}
	return rc;
}

/* ---- writing ---- */

int
wa_backup_out_fd(void *arg, const void *buf, size_t len)
{
	int fd = *(int *)arg;
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return WA_ESYS;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
wa_backup_out_durable(void *arg, const void *buf, size_t len)
{
	return wa_durable_write(arg, buf, len);
}

struct got {
	unsigned char *data;
	size_t size;
	mode_t mode;
	time_t mtime;
	int valid;
};

static int
same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* One read of dirfd/bare: 0, WA_ENOTFOUND (gone), WA_EUNSAFE, WA_ETOOBIG,
 * WA_ESYS, WA_ENOMEM.  *stable: the file did not change during the read. */
static int
read_once(struct got *g, int *stable, int dirfd, const char *bare)
{
	struct stat a, b;
	size_t cap = 0, len = 0;
	unsigned char *buf = NULL;
	int fd, rc = 0;

	fd = openat(dirfd, bare, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? WA_ENOTFOUND : errno == ELOOP ? WA_EUNSAFE : WA_ESYS;
	if (fstat(fd, &a) < 0) {
		rc = WA_ESYS;
		goto out;
	}
	if (!S_ISREG(a.st_mode)) {
		rc = WA_EUNSAFE;
		goto out;
	}
	cap = (size_t)a.st_size + 1;
	for (;;) {
		ssize_t n;
		if (len == cap) {
			unsigned char *nb;
			if (cap > WA_FILE_MAX) {
				rc = WA_ETOOBIG;
				goto out;
			}
			if (!(nb = malloc(cap * 2))) {
				rc = WA_ENOMEM;
				goto out;
			}
			if (buf)
				memcpy(nb, buf, len);
			wipe_free(buf, cap);
			buf = nb;
			cap *= 2;
		}
		if (!buf && !(buf = malloc(cap))) {
			rc = WA_ENOMEM;
			goto out;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = WA_ESYS;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > WA_FILE_MAX) {
		rc = WA_ETOOBIG;
		goto out;
	}
	if (fstat(fd, &b) < 0) {
		rc = WA_ESYS;
		goto out;
	}
	*stable = same_stat(&a, &b) && (off_t)len == b.st_size;
	g->data = buf;
	g->size = len;
	g->mode = b.st_mode & 07777;
	g->mtime = b.st_mtim.tv_sec;
	buf = NULL;
out:
	if (buf)
		wipe_free(buf, cap);
	{
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return rc;
}

static int
parses(const unsigned char *buf, size_t len)
{
	json_t *j = len ? json_loadb((const char *)buf, len, JSON_DECODE_ANY, NULL) : NULL;

	json_decref(j);
	return j != NULL;
}

/* Read a file until a complete version is seen: unchanged during the read
 * and, for .json, parseable.  Otherwise the last version read, with
 * valid 0 for .json. */
static int
read_stable(struct got *g, int *reread, int dirfd, const char *bare)
{
	int json = is_json_name(bare), attempt, rc, stable;
	struct timespec ts;

	memset(g, 0, sizeof *g);
	*reread = 0;
	for (attempt = 0; attempt < WA_BACKUP_RETRIES; attempt++) {
		struct got t;
		if (attempt > 0)
			*reread = 1;
		stable = 0;
		memset(&t, 0, sizeof t);
		if ((rc = read_once(&t, &stable, dirfd, bare)) < 0) {
			wipe_free(g->data, g->size);
			memset(g, 0, sizeof *g);
			return rc;
		}
		wipe_free(g->data, g->size);
		*g = t;
		g->valid = json ? (stable && parses(t.data, t.size)) : -1;
		if (stable && g->valid != 0)
			return 0;
		if (stable && time(NULL) - g->mtime >= 2)
			break; /* nobody is writing it: it really does not parse */
		/* changed under us (Baileys writes in place): look again shortly */
		ts.tv_sec = 0;
		ts.tv_nsec = (1L << attempt) * 1000000L;
		if (ts.tv_nsec > 20000000L)
			ts.tv_nsec = 20000000L;
		nanosleep(&ts, NULL);
	}
	if (json) {
		/* the last read, judged on its own content */
		g->valid = parses(g->data, g->size);
	}
	return 0;
}

int
wa_backup_identity(char out[65], const json_t *creds)
{
	return identity_hex(out, creds);
}

static int
identity_hex(char out[65], const json_t *creds)
{
	const json_t *pub = json_object_get(json_object_get(creds, "signedIdentityKey"), "public");
	uint8_t *b;
	size_t n;

	out[0] = 0;
	if (!pub || wa_bufjson_decode(&b, &n, pub) < 0)
		return 0;
	if (n)
		sha256_hex(out, b, n);
	free(b);
	return 0;
}

static int
add_entry(struct archive *a, const char *name, const void *data, size_t size, mode_t mode, time_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	if (!e)
		return WA_ENOMEM;
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, mode & 0777);
	archive_entry_set_mtime(e, mtime, 0);
	r = archive_write_header(a, e);
	archive_entry_free(e);
	if (r < ARCHIVE_WARN)
		return WA_ESYS;
	if (size && archive_write_data(a, data, size) != (la_ssize_t)size)
		return WA_ESYS;
	if (archive_write_finish_entry(a) < ARCHIVE_WARN)
		return WA_ESYS;
	return 0;
}

struct sink {
	wa_backup_out_fn *fn;
	void *arg;
	int rc;
	int err;
};

static la_ssize_t
sink_write(struct archive *a, void *p, const void *buf, size_t n)
{
	struct sink *s = p;
	int rc = s->fn(s->arg, buf, n);

	if (rc < 0) {
		s->rc = rc;
		s->err = errno;
		archive_set_error(a, errno ? errno : EIO, "write failed");
		return -1;
	}
	return (la_ssize_t)n;
}

int
wa_backup_write(struct wa_backup_report *rep, int dirfd, const char *dirshow,
    const char *folder, time_t created, wa_backup_out_fn *out, void *outarg,
    wa_backup_warn_fn *warn, void *warnarg, struct wa_why *why)
{
	return wa_backup_write_flags(rep, dirfd, dirshow, folder, created, 0, out, outarg,
	    warn, warnarg, why);
}

int
wa_backup_write_flags(struct wa_backup_report *rep, int dirfd, const char *dirshow,
    const char *folder, time_t created, unsigned flags, wa_backup_out_fn *out, void *outarg,
    wa_backup_warn_fn *warn, void *warnarg, struct wa_why *why)
{
	struct items l = { 0 };
	struct got *g = NULL;
	struct archive *a = NULL;
	struct sink sk = { out, outarg, 0, 0 };
	json_t *man = NULL, *files;
	char *mtext = NULL, when[32], hex[65];
	size_t i;
	int wafd = -1, rc;
	time_t now = created;

	memset(rep, 0, sizeof *rep);
	rep->creds = -1;
	if ((rc = list_folder(&l, &wafd, dirfd, why, dirshow)) < 0)
		return rc;
	if ((flags & WA_BACKUP_AUTHLIKE) && (rc = wa_backup_authlike(dirfd)) <= 0) {
		rc = rc < 0 ? wa_why_set(why, rc, "unable to list '%s': %s", dirshow, wa_strerror(rc)) :
		    wa_why_set(why, WA_ECORRUPT, "'%s' does not look like an auth folder (no %s and no "
		    "file named like a Baileys auth file)", dirshow, WA_CREDS);
		goto out;
	}
	if (!(g = calloc(l.n ? l.n : 1, sizeof *g))) {
		rc = WA_ENOMEM;
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		struct item *it = &l.v[i];
		if (it->skip) {
			warnf(warn, warnarg, "'%s/%s' %s", dirshow, it->name, it->skip);
			rep->skipped++;
			continue;
		}
		{
			int reread = 0;
			rc = read_stable(&g[i], &reread, it->sub ? wafd : dirfd, it->bare);
			rep->rereads += reread && rc == 0;
		}
		if (rc == WA_ENOTFOUND) {
			/* removed since we listed the folder: not part of it any more */
			g[i].valid = -2;
			rc = 0;
			continue;
		}
		if (rc == WA_EUNSAFE) {
			warnf(warn, warnarg, "'%s/%s' %s", dirshow, it->name, "is no longer a regular file; not archived");
			g[i].valid = -2;
			rep->skipped++;
			rc = 0;
			continue;
		}
		if (rc < 0) {
			rc = wa_why_set(why, rc, "unable to read '%s/%s': %s", dirshow, it->name,
			    rc == WA_ETOOBIG ? "file too big" : wa_strerror(rc));
			goto out;
		}
		rep->bytes += g[i].size;
		if (rep->bytes > WA_BACKUP_MAX) {
			rc = wa_why_set(why, WA_ETOOBIG, "'%s': over %llu bytes; too big to back up",
			    dirshow, (unsigned long long)WA_BACKUP_MAX);
			goto out;
		}
		rep->files++;
		if (!it->sub && strcmp(it->name, WA_CREDS) == 0)
			rep->creds = g[i].valid;
		if (g[i].valid == 0 && !it->sub && strcmp(it->name, WA_CREDS) == 0 &&
		    (flags & WA_BACKUP_CREDS_VALID)) {
			rc = wa_why_set(why, WA_ECORRUPT, "'%s/%s' does not parse (torn or damaged); an archive of it "
			    "would not restore the session", dirshow, it->name);
			goto out;
		}
		if (g[i].valid == 0) {
			rep->invalid++;
			warnf(warn, warnarg, "'%s/%s' %s", dirshow, it->name,
			    "does not parse (archived as found, marked invalid)");
		}
	}

	/* the manifest */
	iso_time(when, sizeof when, now);
	if (!(man = json_object()) || !(files = json_array())) {
		rc = WA_ENOMEM;
		goto out;
	}
	json_object_set_new(man, "format", json_string(WA_BACKUP_FORMAT));
	json_object_set_new(man, "version", json_integer(WA_BACKUP_VERSION));
	json_object_set_new(man, "created", json_string(when));
	json_object_set_new(man, "wa_version", json_string(WA_VERSION));
	json_object_set_new(man, "folder", folder && valid_utf8(folder) ? json_string(folder) : json_null());
	{
		json_t *creds = NULL, *meid;
		for (i = 0; i < l.n; i++)
			if (!l.v[i].sub && !l.v[i].skip && g[i].valid == 1 && strcmp(l.v[i].name, WA_CREDS) == 0)
				creds = json_loadb((const char *)g[i].data, g[i].size, 0, NULL);
		wa_creds_account(rep->account, sizeof rep->account, creds);
		identity_hex(rep->identity, creds);
		meid = json_object_get(json_object_get(creds, "me"), "id");
		json_object_set_new(man, "account", rep->account[0] ? json_string(rep->account) : json_null());
		json_object_set_new(man, "me", json_is_string(meid) ? json_string(json_string_value(meid)) : json_null());
		json_object_set_new(man, "identity", rep->identity[0] ? json_string(rep->identity) : json_null());
		json_decref(creds);
	}
	json_object_set_new(man, "files", files);
	for (i = 0; i < l.n; i++) {
		json_t *f;
		char mode[8];
		if (l.v[i].skip || g[i].valid == -2)
			continue;
		sha256_hex(hex, g[i].data, g[i].size);
		snprintf(mode, sizeof mode, "%04o", (unsigned)g[i].mode);
		if (!(f = json_pack("{s:s, s:I, s:s, s:s}", "name", l.v[i].name,
		    "size", (json_int_t)g[i].size, "mode", mode, "sha256", hex))) {
			rc = WA_ENOMEM;
			goto out;
		}
		if (g[i].valid >= 0)
			json_object_set_new(f, "valid", json_boolean(g[i].valid));
		json_array_append_new(files, f);
	}
	if (!(mtext = json_dumps(man, JSON_INDENT(1)))) {
		rc = WA_ENOMEM;
		goto out;
	}

	/* the archive */
	if (!(a = archive_write_new())) {
		rc = WA_ENOMEM;
		goto out;
	}
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open(a, &sk, NULL, sink_write, NULL) != ARCHIVE_OK)
		goto archerr;
	if ((rc = add_entry(a, WA_MANIFEST, mtext, strlen(mtext), 0600, now)) < 0)
		goto archerr;
	for (i = 0; i < l.n; i++) {
		if (l.v[i].skip || g[i].valid == -2)
			continue;
		if ((rc = add_entry(a, l.v[i].name, g[i].data, g[i].size, g[i].mode, g[i].mtime)) < 0)
			goto archerr;
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		goto archerr;
	rc = 0;
	goto out;
archerr:
	if (sk.rc < 0) {
		errno = sk.err;
		rc = wa_why_set(why, sk.rc, "unable to write the archive: %s", wa_strerror(sk.rc));
	} else {
		rc = wa_why_set(why, WA_ESYS, "unable to write the archive: %s",
		    a ? archive_error_string(a) : "?");
		errno = EIO;
	}
out:
	if (a)
		archive_write_free(a);
	if (mtext)
		wipe_free(mtext, strlen(mtext));
	json_decref(man);
	if (g)
		for (i = 0; i < l.n; i++)
			wipe_free(g[i].data, g[i].size);
	free(g);
	items_free(&l);
	if (wafd >= 0)
		close(wafd);
	return rc;
}

/* ---- reading and verifying ---- */

struct source {
	int fd;
	int err;
	unsigned long long total;
	unsigned char buf[65536];
};

static la_ssize_t
source_read(struct archive *a, void *p, const void **out)
{
	struct source *s = p;
	ssize_t n;

	for (;;) {
		n = read(s->fd, s->buf, sizeof s->buf);
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (n < 0) {
		s->err = errno;
		archive_set_error(a, errno, "%s", strerror(errno));
		return -1;
	}
	*out = s->buf;
	s->total += (unsigned long long)n;
	return n;
}

void
wa_backup_free(struct wa_backup *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->n; i++) {
		wipe_free(b->f[i].data, b->f[i].size);
		free(b->f[i].name);
	}
	free(b->f);
	json_decref(b->manifest);
	free(b);
}

static const char *
str_or_empty(const json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "";
}

static int
hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == 0;
}

/* Check the manifest and fill b->f (names, sizes, validity); idx maps
 * each name to its position. */
static int
check_manifest(struct wa_backup *b, json_t *idx, const char *show, struct wa_why *why)
{
	json_t *m = b->manifest, *files, *v;
	size_t i;

	if (!json_is_object(m))
		return wa_why_set(why, WA_ECORRUPT, "'%s': manifest is not a JSON object", show);
	if (strcmp(str_or_empty(json_object_get(m, "format")), WA_BACKUP_FORMAT) != 0)
		return wa_why_set(why, WA_ECORRUPT, "'%s': not a wa backup (manifest format is not \"%s\")",
		    show, WA_BACKUP_FORMAT);
	v = json_object_get(m, "version");
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return wa_why_set(why, WA_ECORRUPT, "'%s': manifest has no valid format version", show);
	if (json_integer_value(v) > WA_BACKUP_VERSION)
		return wa_why_set(why, WA_ECORRUPT, "'%s': archive format version %lld is newer than this wa reads (%d)",
		    show, (long long)json_integer_value(v), WA_BACKUP_VERSION);
	for (i = 0; i < 5; i++) {
		static const char *k[] = { "created", "folder", "account", "me", "identity" };
		v = json_object_get(m, k[i]);
		if (v && !json_is_string(v) && !json_is_null(v))
			return wa_why_set(why, WA_ECORRUPT, "'%s': manifest field \"%s\" is not a string", show, k[i]);
	}
	b->created = str_or_empty(json_object_get(m, "created"));
	b->folder = str_or_empty(json_object_get(m, "folder"));
	b->account = str_or_empty(json_object_get(m, "account"));
	b->me = str_or_empty(json_object_get(m, "me"));
	b->identity = str_or_empty(json_object_get(m, "identity"));
	files = json_object_get(m, "files");
	if (!json_is_array(files))
		return wa_why_set(why, WA_ECORRUPT, "'%s': manifest has no file list", show);
	if (json_array_size(files) && !(b->f = calloc(json_array_size(files), sizeof *b->f)))
		return WA_ENOMEM;
	json_array_foreach(files, i, v) {
		const json_t *name = json_object_get(v, "name"), *size = json_object_get(v, "size");
		const json_t *sum = json_object_get(v, "sha256"), *valid = json_object_get(v, "valid");
		const char *nm;
		if (!json_is_object(v) || !json_is_string(name) || !json_is_integer(size) ||
		    !json_is_string(sum) || (valid && !json_is_boolean(valid)))
			return wa_why_set(why, WA_ECORRUPT, "'%s': manifest entry %zu is malformed", show, i + 1);
		nm = json_string_value(name);
		if (!wa_backup_name_ok(nm) || strlen(nm) != json_string_length(name))
			return wa_why_set(why, WA_ECORRUPT, "'%s': manifest lists an unsafe name '%.200s'", show, nm);
		if (json_integer_value(size) < 0 || json_integer_value(size) > (json_int_t)WA_FILE_MAX)
			return wa_why_set(why, WA_ECORRUPT, "'%s': manifest size of '%s' is out of range", show, nm);
		if (!hex64(json_string_value(sum)))
			return wa_why_set(why, WA_ECORRUPT, "'%s': manifest checksum of '%s' is malformed", show, nm);
		if (json_object_get(idx, nm))
			return wa_why_set(why, WA_ECORRUPT, "'%s': manifest lists '%s' twice", show, nm);
		if (json_object_set_new(idx, nm, json_integer((json_int_t)i)) < 0)
			return WA_ENOMEM;
		if (!(b->f[i].name = strdup(nm)))
			return WA_ENOMEM;
		b->f[i].size = (size_t)json_integer_value(size);
		b->f[i].valid = valid ? json_is_true(valid) : -1;
		b->n = i + 1;
		b->bytes += b->f[i].size;
		if (b->bytes > WA_BACKUP_MAX)
			return wa_why_set(why, WA_ETOOBIG, "'%s': over %llu bytes; too big to restore",
			    show, (unsigned long long)WA_BACKUP_MAX);
	}
	return 0;
}

/* Read the current member's data: exactly size bytes, then its end. */
static int
read_member(unsigned char **out, struct archive *a, size_t size)
{
	unsigned char *buf = malloc(size ? size : 1), extra;
	size_t got = 0;
	la_ssize_t n;

	*out = NULL;
	if (!buf)
		return WA_ENOMEM;
	while (got < size) {
		n = archive_read_data(a, buf + got, size - got);
		if (n < 0) {
			wipe_free(buf, size);
			return WA_ECORRUPT;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != size || (n = archive_read_data(a, &extra, 1)) != 0) {
		wipe_free(buf, size);
		return n < 0 ? WA_ECORRUPT : WA_EMISMATCH;
	}
	*out = buf;
	return 0;
}

static const char *
member_kind(struct archive_entry *e)
{
	if (archive_entry_hardlink(e))
		return "a hard link";
	switch (archive_entry_filetype(e)) {
	case AE_IFREG: return NULL;
	case AE_IFLNK: return "a symbolic link";
	case AE_IFDIR: return "a folder";
	default: return "a device or special file";
	}
}

static int read_archive(struct wa_backup **out, int fd, const char *show, int manifest_only,
    struct wa_why *why);

int
wa_backup_read(struct wa_backup **out, int fd, const char *show, struct wa_why *why)
{
	return read_archive(out, fd, show, 0, why);
}

int
wa_backup_read_manifest(struct wa_backup **out, int fd, const char *show, struct wa_why *why)
{
	return read_archive(out, fd, show, 1, why);
}

int
wa_backup_usable(const struct wa_backup *b)
{
	const struct wa_backup_file *f = wa_backup_find(b, WA_CREDS);

	return f && f->valid == 1;
}

static int
read_archive(struct wa_backup **out, int fd, const char *show, int manifest_only, struct wa_why *why)
{
	struct wa_backup *b;
	struct archive *a;
	struct archive_entry *e;
	struct source *src;
	json_t *idx = NULL, *sums;
	unsigned char *seen = NULL;
	size_t i;
	int r, rc = 0, first = 1;

	*out = NULL;
	b = calloc(1, sizeof *b);
	src = calloc(1, sizeof *src);
	idx = json_object();
	if (!b || !src || !idx) {
		free(b);
		free(src);
		json_decref(idx);
		return WA_ENOMEM;
	}
	src->fd = fd;
	if (!(a = archive_read_new())) {
		rc = WA_ENOMEM;
		goto out;
	}
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	if (archive_read_open(a, src, NULL, source_read, NULL) != ARCHIVE_OK)
		goto archerr;
	for (;;) {
		const char *name, *bad;
		json_t *pos;
		unsigned char *data;
		char hex[65];
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			goto archerr;
		name = archive_entry_pathname(e);
		if (!name)
			name = "";
		if ((bad = member_kind(e))) {
			rc = wa_why_set(why, WA_ECORRUPT, "'%s': member '%.200s' is %s", show, name, bad);
			goto out;
		}
		if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0) {
			rc = wa_why_set(why, WA_ECORRUPT, "'%s': member '%.200s' has no size", show, name);
			goto out;
		}
		if (first) {
			first = 0;
			if (strcmp(name, WA_MANIFEST) != 0) {
				rc = wa_why_set(why, WA_ECORRUPT, "'%s': not a wa backup (first member is '%.200s', not %s)",
				    show, name, WA_MANIFEST);
				goto out;
			}
			if (archive_entry_size(e) > (la_int64_t)WA_MANIFEST_MAX) {
				rc = wa_why_set(why, WA_ETOOBIG, "'%s': manifest too big", show);
				goto out;
			}
			if ((rc = read_member(&data, a, (size_t)archive_entry_size(e))) < 0) {
				if (rc == WA_ECORRUPT)
					goto archerr;
				rc = wa_why_set(why, rc, "'%s': manifest size does not match its header", show);
				goto out;
			}
			b->manifest = json_loadb((const char *)data, (size_t)archive_entry_size(e), 0, NULL);
			free(data);
			if (!b->manifest) {
				rc = wa_why_set(why, WA_ECORRUPT, "'%s': manifest is not valid JSON", show);
				goto out;
			}
			if ((rc = check_manifest(b, idx, show, why)) < 0)
				goto out;
			if (manifest_only) {
				rc = 0;
				*out = b;
				b = NULL;
				goto out;
			}
			if (!(seen = calloc(b->n ? b->n : 1, 1))) {
				rc = WA_ENOMEM;
				goto out;
			}
			continue;
		}
		if (!wa_backup_name_ok(name)) {
			rc = wa_why_set(why, WA_ECORRUPT, "'%s': member '%.200s' has an unsafe name", show, name);
			goto out;
		}
		if (!(pos = json_object_get(idx, name))) {
			rc = wa_why_set(why, WA_ECORRUPT, "'%s': member '%.200s' is not in the manifest", show, name);
			goto out;
		}
		i = (size_t)json_integer_value(pos);
		if (seen[i]) {
			rc = wa_why_set(why, WA_ECORRUPT, "'%s': member '%s' appears twice", show, name);
			goto out;
		}
		if ((size_t)archive_entry_size(e) != b->f[i].size) {
			rc = wa_why_set(why, WA_EMISMATCH, "'%s': '%s' is %lld bytes, the manifest says %zu",
			    show, name, (long long)archive_entry_size(e), b->f[i].size);
			goto out;
		}
		if ((rc = read_member(&data, a, b->f[i].size)) < 0) {
			if (rc == WA_ECORRUPT)
				goto archerr;
			rc = wa_why_set(why, rc, "'%s': '%s' does not match its header size", show, name);
			goto out;
		}
		b->f[i].data = data;
		sha256_hex(hex, data, b->f[i].size);
		sums = json_object_get(json_array_get(json_object_get(b->manifest, "files"), i), "sha256");
		if (strcmp(hex, json_string_value(sums)) != 0) {
			rc = wa_why_set(why, WA_EMISMATCH, "'%s': '%s' fails its checksum (damaged archive)", show, name);
			goto out;
		}
		seen[i] = 1;
	}
	if (first) {
		rc = wa_why_set(why, WA_ECORRUPT, "'%s': empty archive (no manifest)", show);
		goto out;
	}
	for (i = 0; i < b->n; i++) {
		if (!seen[i]) {
			rc = wa_why_set(why, WA_ECORRUPT, "'%s': '%s' is in the manifest but not in the archive",
			    show, b->f[i].name);
			goto out;
		}
	}
	rc = 0;
	*out = b;
	b = NULL;
	goto out;
archerr:
	if (src->err) {
		errno = src->err;
		rc = wa_why_set(why, WA_ESYS, "unable to read '%s': %s", show, strerror(src->err));
	} else if (src->total == 0) {
		rc = wa_why_set(why, WA_ECORRUPT, "'%s': empty, not an archive", show);
	} else {
		const char *msg = archive_error_string(a);
		rc = wa_why_set(why, WA_ECORRUPT, "'%s': damaged or not an archive: %s", show,
		    msg ? msg : "unexpected end");
	}
out:
	if (a)
		archive_read_free(a);
	free(src);
	free(seen);
	json_decref(idx);
	wa_backup_free(b);
	return rc;
}

const struct wa_backup_file *
wa_backup_find(const struct wa_backup *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->f[i].name, name) == 0)
			return &b->f[i];
	return NULL;
}

/* ---- what a restore would change ---- */

struct change {
	const char *name;
	const char *what;
};

static int
bychange(const void *a, const void *b)
{
	return strcmp(((const struct change *)a)->name, ((const struct change *)b)->name);
}

static int
bystr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
byfile(const void *a, const void *b)
{
	return strcmp((*(const struct wa_backup_file *const *)a)->name,
	    (*(const struct wa_backup_file *const *)b)->name);
}

int
wa_backup_diff(const struct wa_backup *b, int dirfd, wa_backup_diff_fn *fn, void *arg,
    struct wa_why *why)
{
	struct items l = { 0 };
	const struct wa_backup_file **sorted = NULL;
	struct change *c = NULL;
	const char **here = NULL;
	size_t nc = 0, i;
	int wafd = -1, rc = 0;

	if (dirfd >= 0 && (rc = list_folder(&l, &wafd, dirfd, why, "folder")) < 0)
		return rc;
	if (!(c = calloc(l.n + b->n + 1, sizeof *c)) || !(sorted = calloc(b->n + 1, sizeof *sorted))) {
		rc = WA_ENOMEM;
		goto out;
	}
	for (i = 0; i < b->n; i++)
		sorted[i] = &b->f[i];
	qsort(sorted, b->n, sizeof *sorted, byfile);
	for (i = 0; i < l.n; i++) {
		const struct wa_backup_file key = { .name = l.v[i].name }, *kp = &key, **hit;
		hit = bsearch(&kp, sorted, b->n, sizeof *sorted, byfile);
		c[nc].name = l.v[i].name;
		if (!hit) {
			c[nc].what = "removed";
		} else if (l.v[i].skip) {
			c[nc].what = "changed";
		} else {
			char *buf;
			size_t len;
			char h1[65], h2[65];
			rc = wa_file_read(&buf, &len, l.v[i].sub ? wafd : dirfd, l.v[i].bare, NULL, NULL);
			if (rc == WA_ENOTFOUND) {
				rc = 0;
				continue;
			}
			if (rc < 0) {
				c[nc].what = "changed";
				rc = 0;
			} else {
				sha256_hex(h1, buf, len);
				sha256_hex(h2, (*hit)->data, (*hit)->size);
				c[nc].what = strcmp(h1, h2) == 0 ? "same" : "changed";
				wipe_free(buf, len);
			}
		}
		nc++;
	}
	if (!(here = calloc(l.n + 1, sizeof *here))) {
		rc = WA_ENOMEM;
		goto out;
	}
	for (i = 0; i < l.n; i++)
		here[i] = l.v[i].name;
	qsort(here, l.n, sizeof *here, bystr);
	for (i = 0; i < b->n; i++) {
		if (!bsearch(&b->f[i].name, here, l.n, sizeof *here, bystr)) {
			c[nc].name = b->f[i].name;
			c[nc].what = "added";
			nc++;
		}
	}
	qsort(c, nc, sizeof *c, bychange);
	for (i = 0; i < nc; i++)
		fn(arg, c[i].what, c[i].name);
out:
	free(c);
	free(here);
	free(sorted);
	items_free(&l);
	if (wafd >= 0)
		close(wafd);
	return rc;
}

/* ---- building the restored folder and swapping it in ---- */

static int
opendir_at(int at, const char *name)
{
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Unlink the regular files (and leftover temporary files) in fd, then
 * remove the sub-folder named sub if given. */
static int
empty_folder(int fd)
{
	struct wa_scan *s;
	size_t i;
	int rc;

	if ((rc = wa_scan_dir(&s, fd)) < 0)
		return rc;
	for (i = 0; i < s->n; i++)
		if (s->e[i].kind == WA_SCAN_FILE && unlinkat(fd, s->e[i].name, 0) < 0 && errno != ENOENT)
			rc = WA_ESYS;
	wa_scan_free(s);
	return rc;
}

int
wa_backup_unstage(int parentfd, const char *stage)
{
	int fd, wafd, rc;

	if ((fd = opendir_at(parentfd, stage)) < 0)
		return errno == ENOENT ? 0 : WA_ESYS;
	if ((wafd = opendir_at(fd, WA_SUBDIR)) >= 0) {
		rc = empty_folder(wafd);
		close(wafd);
		if (rc == 0 && unlinkat(fd, WA_SUBDIR, AT_REMOVEDIR) < 0)
			rc = WA_ESYS;
		if (rc < 0) {
			close(fd);
			return rc;
		}
	}
	rc = empty_folder(fd);
	close(fd);
	if (rc == 0 && unlinkat(parentfd, stage, AT_REMOVEDIR) < 0)
		rc = WA_ESYS;
	return rc;
}

int
wa_backup_extract(const struct wa_backup *b, int parentfd, const char *stage, struct wa_why *why)
{
	size_t i;
	int fd = -1, wafd = -1, rc;

	if ((rc = wa_durable_mkdir(parentfd, stage)) < 0)
		return wa_why_set(why, rc, "unable to create '%s': %s", stage, wa_strerror(rc));
	if ((fd = opendir_at(parentfd, stage)) < 0) {
		rc = wa_why_set(why, WA_ESYS, "unable to open '%s': %s", stage, strerror(errno));
		goto fail;
	}
	for (i = 0; i < b->n; i++) {
		const char *name = b->f[i].name;
		int sub = strncmp(name, WA_SUBDIR "/", sizeof WA_SUBDIR) == 0, dfd;
		if (!wa_backup_name_ok(name)) {
			rc = wa_why_set(why, WA_EINVAL, "'%s': unsafe name", name);
			goto fail;
		}
		if (sub && wafd < 0) {
			if ((rc = wa_durable_mkdir(fd, WA_SUBDIR)) < 0 ||
			    (rc = wafd = opendir_at(fd, WA_SUBDIR)) < 0) {
				rc = wa_why_set(why, rc < 0 && rc != -1 ? rc : WA_ESYS,
				    "unable to create '%s/%s': %s", stage, WA_SUBDIR, strerror(errno));
				goto fail;
			}
		}
		dfd = sub ? wafd : fd;
		if (sub)
			name += sizeof WA_SUBDIR;
		if ((rc = wa_durable_create(dfd, name, b->f[i].data, b->f[i].size)) < 0) {
			rc = wa_why_set(why, rc, "unable to write '%s/%s': %s", stage, b->f[i].name, wa_strerror(rc));
			goto fail;
		}
	}
	if ((wafd >= 0 && wa_durable_syncfd(wafd) < 0) || wa_durable_syncfd(fd) < 0 ||
	    wa_durable_syncfd(parentfd) < 0) {
		rc = wa_why_set(why, WA_ESYS, "unable to flush '%s': %s", stage, strerror(errno));
		goto fail;
	}
	if (wafd >= 0)
		close(wafd);
	close(fd);
	return 0;
fail:
	{
		int saved = errno;
		if (wafd >= 0)
			close(wafd);
		if (fd >= 0)
			close(fd);
		wa_backup_unstage(parentfd, stage);
		errno = saved;
	}
	return rc;
}

static int
no_exchange(void)
{
#ifdef WA_TESTING
	const char *e = getenv("WA_TEST_NO_EXCHANGE");
	return e && *e == '1';
#else
	return 0;
#endif
}

int
wa_backup_swap(int parentfd, const char *stage, const char *target, const char *replaced,
    int *exchanged, int *replaced_used, struct wa_why *why)
{
	struct stat st;
	int rc, ex;

	*exchanged = 0;
	*replaced_used = 0;
	if (fstatat(parentfd, target, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return wa_why_set(why, WA_ESYS, "'%s': %s", target, strerror(errno));
		/* no-replace: an (empty) folder made at target meanwhile wins */
		rc = wa_durable_move(parentfd, stage, parentfd, target);
		if (rc == WA_EEXIST)
			return wa_why_set(why, rc, "'%s' appeared meanwhile; it was left alone", target);
		if (rc < 0 && rc != WA_ESYNC)
			return wa_why_set(why, rc, "unable to move '%s' to '%s': %s", stage, target, wa_strerror(rc));
		return rc == WA_ESYNC ? wa_why_set(why, rc, "'%s': %s", target, wa_strerror(rc)) : 0;
	}
	if (fstatat(parentfd, replaced, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return wa_why_set(why, WA_EEXIST, "'%s' already exists", replaced);
	*replaced_used = 1;
	if (no_exchange()) {
		errno = ENOSYS;
		rc = WA_ESYS;
	} else {
		rc = wa_durable_exchange(parentfd, stage, parentfd, target);
	}
	if (rc == 0 || rc == WA_ESYNC) {
		/* the restored folder is in place; the old one is under stage */
		*exchanged = 1;
		ex = wa_durable_move(parentfd, stage, parentfd, replaced);
		if (ex < 0 && ex != WA_ESYNC)
			return wa_why_set(why, ex, "restored, but the old folder is still at '%s' (could not rename it to '%s': %s)",
			    stage, replaced, wa_strerror(ex));
		if (rc == WA_ESYNC || ex == WA_ESYNC)
			return wa_why_set(why, WA_ESYNC, "'%s': %s", target, wa_strerror(WA_ESYNC));
		return 0;
	}
	if (!(errno == ENOSYS || errno == EINVAL || errno == ENOTSUP))
		return wa_why_set(why, rc, "unable to exchange '%s' and '%s': %s", stage, target, wa_strerror(rc));
	/* no atomic exchange here: two moves, target is briefly absent */
	rc = wa_durable_move(parentfd, target, parentfd, replaced);
	if (rc < 0 && rc != WA_ESYNC)
		return wa_why_set(why, rc, "unable to move '%s' to '%s': %s", target, replaced, wa_strerror(rc));
	ex = wa_durable_move(parentfd, stage, parentfd, target);
	if (ex < 0 && ex != WA_ESYNC) {
		int saved = errno, back;
		const char *what = ex == WA_EEXIST ? "it appeared meanwhile" : wa_strerror(ex);
		/* put the old folder back; when that fails too, say where it is */
		back = wa_durable_move(parentfd, replaced, parentfd, target);
		errno = saved;
		if (back < 0 && back != WA_ESYNC)
			return wa_why_set(why, ex, "unable to move '%s' to '%s': %s; the old folder could not be "
			    "moved back (%s) and is now at '%s'", stage, target, what,
			    back == WA_EEXIST ? "the name is taken" : wa_strerror(back), replaced);
		*replaced_used = 0;
		return wa_why_set(why, ex, "unable to move '%s' to '%s': %s; the old folder was moved back",
		    stage, target, what);
	}
	if (rc == WA_ESYNC || ex == WA_ESYNC)
		return wa_why_set(why, WA_ESYNC, "'%s': %s", target, wa_strerror(WA_ESYNC));
	return 0;
}

/* ---- the backups folder ---- */

/* Length of the stamp-and-suffix part if file is ours, else 0; *seq the
 * -N suffix (0 when absent). */
static size_t
ours(const char *file, const char *folder, unsigned long *seq)
{
	size_t fl = strlen(folder), i;
	const char *p;

	*seq = 0;
	if (strncmp(file, folder, fl) != 0 || file[fl] != '-')
		return 0;
	p = file + fl + 1;
	for (i = 0; i < 16; i++) {
		char c = p[i];
		if (i == 8 ? c != 'T' : i == 15 ? c != 'Z' : !(c >= '0' && c <= '9'))
			return 0;
	}
	p += 16;
	if (*p == '-') {
		char *end;
		if (!(p[1] >= '1' && p[1] <= '9'))
			return 0;
		*seq = strtoul(p + 1, &end, 10);
		p = end;
	}
	return strcmp(p, ".tar") == 0 ? 16 : 0;
}

int
wa_backup_is_ours(const char *file, const char *folder)
{
	unsigned long seq;

	return ours(file, folder, &seq) != 0;
}

/* A name with its sort key, so the comparison needs no outside state
 * (qsort's comparator gets none: a static would make listing
 * non-reentrant). */
struct aged {
	char *name;
	const char *stamp;      /* points into name: 16 characters */
	unsigned long seq;
};

static int
byage(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;
	int k;

	if ((k = strncmp(x->stamp, y->stamp, 16)) != 0)
		return k;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void
wa_backup_names_free(char **names)
{
	char **p;

	if (!names)
		return;
	for (p = names; *p; p++)
		free(*p);
	free(names);
}

int
wa_backup_list(char ***names, size_t *n, int dirfd, const char *folder)
{
	struct wa_scan *s;
	struct aged *v;
	char **out = NULL;
	size_t i, k = 0, off = strlen(folder) + 1;
	int rc;

	*names = NULL;
	*n = 0;
	if ((rc = wa_scan_dir(&s, dirfd)) < 0)
		return rc;
	if (!(v = calloc(s->n + 1, sizeof *v))) {
		wa_scan_free(s);
		return WA_ENOMEM;
	}
	for (i = 0; i < s->n; i++) {
		if (s->e[i].kind != WA_SCAN_FILE || !ours(s->e[i].name, folder, &v[k].seq))
			continue;
		if (!(v[k].name = strdup(s->e[i].name))) {
			rc = WA_ENOMEM;
			break;
		}
		v[k].stamp = v[k].name + off;
		k++;
	}
	wa_scan_free(s);
	if (rc == 0 && !(out = calloc(k + 1, sizeof *out)))
		rc = WA_ENOMEM;
	if (rc < 0) {
		for (i = 0; i < k; i++)
			free(v[i].name);
		free(v);
		return rc;
	}
	qsort(v, k, sizeof *v, byage);
	for (i = 0; i < k; i++)
		out[i] = v[i].name;
	free(v);
	*names = out;
	*n = k;
	return 0;
}

/* Whether dirfd/name is an archive with a readable manifest whose
 * creds.json is marked valid. */
static int
usable_at(int dirfd, const char *name)
{
	struct wa_backup *b = NULL;
	struct wa_why why = { "" };
	int fd, ok;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		return 0;
	ok = wa_backup_read_manifest(&b, fd, name, &why) == 0 && wa_backup_usable(b);
	wa_backup_free(b);
	close(fd);
	return ok;
}

int
wa_backup_retain(int dirfd, const char *folder, size_t keep, const char *spare,
    void (*fn)(void *arg, const char *name), void *arg)
{
	char **v, *del;
	size_t n, i, good = 0;
	int rc, removed = 0;

	if (keep == 0)
		return 0;
	if ((rc = wa_backup_list(&v, &n, dirfd, folder)) < 0)
		return rc;
	/* the archive just written first (a name freed in the same second can
	 * be reused, so it may sort before older ones), then from the newest:
	 * the first keep usable archives stay, with everything before the
	 * keep-th in that order; the rest go */
	if (!(del = calloc(n + 1, 1))) {
		wa_backup_names_free(v);
		return WA_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (spare && strcmp(v[i], spare) == 0) {
			good += usable_at(dirfd, v[i]);
			break;
		}
	}
	for (i = n; i-- > 0;) {
		if (spare && strcmp(v[i], spare) == 0)
			continue;
		if (good >= keep)
			del[i] = 1;
		else
			good += usable_at(dirfd, v[i]);
	}
	for (i = 0; good >= keep && i < n; i++) {
		if (!del[i])
			continue;
		if (unlinkat(dirfd, v[i], 0) < 0) {
			if (errno == ENOENT)
				continue;
			rc = WA_ESYS;
			break;
		}
		removed = 1;
		if (fn)
			fn(arg, v[i]);
	}
	free(del);
	{
		int saved = errno;
		wa_backup_names_free(v);
		errno = saved;
	}
	if (rc == 0 && removed && wa_durable_syncfd(dirfd) < 0)
		rc = WA_ESYS;
	return rc;
}

/* The creation time in an archive's name, "<folder>-YYYYmmddTHHMMSSZ...";
 * -1 when it does not parse. */
static time_t
stamp_time(const char *name, const char *folder)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	if (sscanf(name + strlen(folder) + 1, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

int
wa_backup_retain_age(int dirfd, const char *folder, long long max_age, time_t now, const char *spare,
    void (*fn)(void *arg, const char *name), void *arg)
{
	char **v;
	const char *keep = NULL;
	size_t n, i;
	int rc, removed = 0;

	if (max_age <= 0)
		return 0;
	if ((rc = wa_backup_list(&v, &n, dirfd, folder)) < 0)
		return rc;
	/* the newest usable archive: the one just written when it is usable
	 * (its name may sort before older ones: see wa_backup_retain), else
	 * the first usable one from the newest */
	if (spare && usable_at(dirfd, spare))
		keep = spare;
	for (i = n; !keep && i-- > 0;)
		if (usable_at(dirfd, v[i]))
			keep = v[i];
	for (i = 0; keep && i < n; i++) {
		time_t t = stamp_time(v[i], folder);
		if (strcmp(v[i], keep) == 0 || (spare && strcmp(v[i], spare) == 0))
			continue;
		if (t < 0 || (long long)now - (long long)t <= max_age)
			continue;
		if (unlinkat(dirfd, v[i], 0) < 0) {
			if (errno == ENOENT)
				continue;
			rc = WA_ESYS;
			break;
		}
		removed = 1;
		if (fn)
			fn(arg, v[i]);
	}
	{
		int saved = errno;
		wa_backup_names_free(v);
		errno = saved;
	}
	if (rc == 0 && removed && wa_durable_syncfd(dirfd) < 0)
		rc = WA_ESYS;
	return rc;
}

/* ---- the folders wa-restore replaced ---- */

/* Whether file is "<folder>.replaced-YYYYmmddTHHMMSSZ[-N]"; *seq the N. */
static int
replaced_name(const char *file, const char *folder, unsigned long *seq)
{
	size_t fl = strlen(folder), sl = strlen(WA_REPLACED_INFIX), i;
	const char *p;

	*seq = 0;
	if (strncmp(file, folder, fl) != 0 || strncmp(file + fl, WA_REPLACED_INFIX, sl) != 0)
		return 0;
	p = file + fl + sl;
	for (i = 0; i < 16; i++) {
		char c = p[i];
		if (i == 8 ? c != 'T' : i == 15 ? c != 'Z' : !(c >= '0' && c <= '9'))
			return 0;
	}
	p += 16;
	if (*p == '-') {
		char *end;
		if (!(p[1] >= '1' && p[1] <= '9'))
			return 0;
		*seq = strtoul(p + 1, &end, 10);
		p = end;
	}
	return *p == 0;
}

/* Remove the folder parentfd/name and everything in it, never following
 * a link (links are unlinked, not their targets). */
static int
remove_tree(int parentfd, const char *name, int depth)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	if (depth > 16)
		return WA_EUNSAFE;
	if ((fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : WA_ESYS;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return WA_ESYS;
	}
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				rc = WA_ESYS;
			continue;
		}
		if (S_ISDIR(st.st_mode))
			rc = remove_tree(fd, de->d_name, depth + 1);
		else if (unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT)
			rc = WA_ESYS;
	}
	if (rc == 0 && errno != 0 && !de)
		rc = WA_ESYS;
	closedir(d);
	if (rc == 0 && unlinkat(parentfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = WA_ESYS;
	return rc;
}

int
wa_backup_retain_replaced(int parentfd, const char *folder, size_t keep, const char *spare,
    void (*fn)(void *arg, const char *name), void *arg)
{
	struct wa_scan *s;
	struct aged *v;
	size_t i, k = 0, off = strlen(folder) + strlen(WA_REPLACED_INFIX);
	int rc, removed = 0;

	if (keep == 0)
		return 0;
	if ((rc = wa_scan_dir(&s, parentfd)) < 0)
		return rc;
	if (!(v = calloc(s->n + 1, sizeof *v))) {
		wa_scan_free(s);
		return WA_ENOMEM;
	}
	for (i = 0; i < s->n; i++) {
		if (s->e[i].kind != WA_SCAN_DIR || !replaced_name(s->e[i].name, folder, &v[k].seq))
			continue;
		v[k].name = s->e[i].name;
		v[k].stamp = v[k].name + off;
		k++;
	}
	qsort(v, k, sizeof *v, byage);
	for (i = 0; k > keep && i < k - keep; i++) {
		if (spare && strcmp(v[i].name, spare) == 0)
			continue;
		if ((rc = remove_tree(parentfd, v[i].name, 0)) < 0)
			break;
		removed = 1;
		if (fn)
			fn(arg, v[i].name);
	}
	{
		int saved = errno;
		free(v);
		wa_scan_free(s);
		errno = saved;
	}
	if (rc == 0 && removed && wa_durable_syncfd(parentfd) < 0)
		rc = WA_ESYS;
	return rc;
}

int
wa_backup_authlike(int dirfd)
{
	struct wa_scan *s;
	size_t i, other = 0;
	int rc, yes = 0;

	if ((rc = wa_scan_dir(&s, dirfd)) < 0)
		return rc;
	for (i = 0; i < s->n && !yes; i++) {
		const struct wa_scan_entry *e = &s->e[i];
		enum wa_ftype t;
		if (e->kind == WA_SCAN_SUBDIR || is_tmp_name(e->name))
			continue;
		t = wa_fname_classify(e->name, NULL, NULL);
		if ((e->kind == WA_SCAN_FILE || e->kind == WA_SCAN_SYMLINK) &&
		    t != WA_FT_OTHER && t != WA_FT_OTHER_JSON)
			yes = 1;
		other++;
	}
	wa_scan_free(s);
	return yes || other == 0;
}

int
wa_backup_path_split(char **dir, char **base, const char *path)
{
	char *p, *real = NULL, *slash;
	size_t n;
	int rc = 0;

	*dir = *base = NULL;
	if (!(p = strdup(path)))
		return WA_ENOMEM;
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = 0;
	slash = strrchr(p, '/');
	{
		const char *last = slash ? slash + 1 : p;
		if (strcmp(last, ".") == 0 || strcmp(last, "..") == 0 || strcmp(p, "/") == 0 || !*last) {
			if (!(real = realpath(p, NULL))) {
				rc = WA_ESYS;
				goto out;
			}
			free(p);
			p = real;
			if (strcmp(p, "/") == 0) {
				rc = WA_EINVAL;
				goto out;
			}
			slash = strrchr(p, '/');
		}
	}
	if (!slash) {
		*dir = strdup(".");
		*base = strdup(p);
	} else {
		*base = strdup(slash + 1);
		*slash = 0;
		*dir = strdup(slash == p ? "/" : p);
	}
	if (!*dir || !*base) {
		free(*dir);
		free(*base);
		*dir = *base = NULL;
		rc = WA_ENOMEM;
	}
out:
	free(p);
	return rc;
}
