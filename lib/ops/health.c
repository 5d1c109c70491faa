/*
 * health.c - the checks behind wa-check (see health.h for the contract).
 *
 * One pass over the folder listing (wa_scan_dir: readdir + fstatat, no
 * open), then every JSON file is read once into one reused buffer and run
 * through wa_json_check, a syntax-only validator with no allocation: on a
 * 10,000-file folder that is what keeps the check well under 200 ms
 * (building a jansson tree for every file took most of that budget).
 * Only creds.json and the status file are decoded with jansson.
 *
 * Nothing here writes, renames, locks or follows a symbolic link: the
 * folder is opened with O_NOFOLLOW|O_DIRECTORY, files with O_NOFOLLOW and
 * checked to be regular files after opening.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "store/creds.h"
#include "store/durable.h"
#include "base/file.h"
#include "ops/backup.h"
#include "ops/health.h"
#include "ops/status.h"
#include "base/time.h"
#include "store/names.h"
#include "store/scan.h"
#include "spool/spool.h"

#define RECENT_SECS 2      /* a file modified this recently may be mid-write */
#define RETRY_ROUNDS 3
#define RETRY_PAUSE_MS 100

const char *
wa_sev_name(enum wa_sev s)
{
	switch (s) {
	case WA_SEV_OK: return "ok";
	case WA_SEV_WARNING: return "warning";
	case WA_SEV_CRITICAL: return "critical";
	case WA_SEV_UNKNOWN: return "unknown";
	}
	return "unknown";
}

static int
rank(enum wa_sev s)
{
	switch (s) {
	case WA_SEV_OK: return 0;
	case WA_SEV_WARNING: return 1;
	case WA_SEV_UNKNOWN: return 2;
	case WA_SEV_CRITICAL: return 3;
	}
	return 2;
}

int
wa_sev_worse(enum wa_sev a, enum wa_sev b)
{
	return rank(a) > rank(b);
}

/* ---- the JSON validator ------------------------------------------------ */

static const unsigned char *
ws(const unsigned char *p, const unsigned char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int
hexdig(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One UTF-8 sequence starting at *pp (a byte >= 0x80); advances *pp. */
static int
utf8(const unsigned char **pp, const unsigned char *e)
{
	const unsigned char *p = *pp;
	unsigned char c = *p, lo = 0x80, hi = 0xbf;
	int n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		if (c == 0xe0)
			lo = 0xa0;          /* overlong */
		else if (c == 0xed)
			hi = 0x9f;          /* UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;          /* above U+10FFFF */
	} else
		return -1;
	for (i = 1; i <= n; i++) {
		if (p + i >= e)
			return -2;
		if (p[i] < lo || p[i] > hi)
			return -1;
		lo = 0x80;
		hi = 0xbf;
	}
	*pp = p + n + 1;
	return 0;
}

#define FAIL(at, text) do { if (pos) *pos = (size_t)((at) - b); if (reason) *reason = (text); return WA_ECORRUPT; } while (0)
#define EOI "unexpected end of input"

/* Scan a string body from just after its opening quote to just after the
 * closing one (*pp moves there).  -1 with *at and *why on an error. */
static int
scan_string(const unsigned char **pp, const unsigned char *e, const unsigned char **at, const char **why)
{
	const unsigned char *p = *pp, *q;
	int i, r;

#define SFAIL(where, text) do { *at = (where); *why = (text); return -1; } while (0)
	for (;;) {
		if (p == e)
			SFAIL(p, EOI);
		if (*p == '"') {
			*pp = p + 1;
			return 0;
		}
		if (*p < 0x20)
			SFAIL(p, "control character in a string");
		if (*p == '\\') {
			if (++p == e)
				SFAIL(p, EOI);
			if (*p == 'u') {
				for (i = 1; i <= 4; i++) {
					if (p + i >= e)
						SFAIL(e, EOI);
					if (!hexdig(p[i]))
						SFAIL(p + i, "invalid \\u escape");
				}
				p += 5;
			} else if (strchr("\"\\/bfnrt", *p) && *p) {
				p++;
			} else {
				SFAIL(p, "invalid escape");
			}
			continue;
		}
		if (*p >= 0x80) {
			q = p;
			if ((r = utf8(&p, e)) < 0)
				SFAIL(q, r == -2 ? EOI : "invalid UTF-8");
			continue;
		}
		p++;
	}
#undef SFAIL
}

int
wa_json_check(const char *buf, size_t len, size_t *pos, const char **reason)
{
	const unsigned char *b = (const unsigned char *)buf, *p = b, *e = b + len;
	unsigned char stack[WA_JSON_MAX_DEPTH];
	size_t depth = 0;
	const unsigned char *at;
	const char *why;

	p = ws(p, e);
	if (p == e)
		FAIL(p, len ? "only white space" : "empty file");
value:
	p = ws(p, e);
	if (p == e)
		FAIL(p, EOI);
	switch (*p) {
	case '{':
	case '[':
		if (depth == WA_JSON_MAX_DEPTH)
			FAIL(p, "nested too deeply");
		stack[depth++] = *p;
		p = ws(p + 1, e);
		if (p < e && *p == (stack[depth - 1] == '{' ? '}' : ']')) {
			p++;
			depth--;
			goto after;
		}
		if (stack[depth - 1] == '[')
			goto value;
		goto key;
	case '"':
		goto string;
	case 't':
		if (e - p >= 4 && memcmp(p, "true", 4) == 0) { p += 4; goto after; }
		goto literal;
	case 'f':
		if (e - p >= 5 && memcmp(p, "false", 5) == 0) { p += 5; goto after; }
		goto literal;
	case 'n':
		if (e - p >= 4 && memcmp(p, "null", 4) == 0) { p += 4; goto after; }
		goto literal;
	default:
		if (*p == '-' || (*p >= '0' && *p <= '9'))
			goto number;
		FAIL(p, "unexpected character");
	}
literal:
	{
		const char *w = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
		size_t i;
		for (i = 0; w[i] && p + i < e; i++)
			if (p[i] != (unsigned char)w[i])
				FAIL(p + i, "invalid literal");
		FAIL(e, EOI);
	}
number:
	if (*p == '-' && ++p == e)
		FAIL(p, EOI);
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	else
		FAIL(p, "invalid number");
	if (p < e && *p == '.') {
		if (++p == e)
			FAIL(p, EOI);
		if (*p < '0' || *p > '9')
			FAIL(p, "invalid number");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		if (++p < e && (*p == '+' || *p == '-'))
			p++;
		if (p == e)
			FAIL(p, EOI);
		if (*p < '0' || *p > '9')
			FAIL(p, "invalid number");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	/* a truncated number ("12" of "123") is caught by the depth check in
	 * after: only a top-level number can end the input */
	goto after;
string:
	p++;
	if (scan_string(&p, e, &at, &why) < 0)
		FAIL(at, why);
	goto after;
key:
	p = ws(p, e);
	if (p == e)
		FAIL(p, EOI);
	if (*p != '"')
		FAIL(p, "expected a string key");
	p++;
	if (scan_string(&p, e, &at, &why) < 0)
		FAIL(at, why);
	p = ws(p, e);
	if (p == e)
		FAIL(p, EOI);
	if (*p != ':')
		FAIL(p, "expected ':'");
	p++;
	goto value;
after:
	p = ws(p, e);
	if (depth == 0) {
		if (p != e)
			FAIL(p, "unexpected data after the end");
		return 0;
	}
	if (p == e)
		FAIL(p, EOI);
	if (*p == ',') {
		p++;
		if (stack[depth - 1] == '{')
			goto key;
		goto value;
	}
	if (*p == (stack[depth - 1] == '{' ? '}' : ']')) {
		p++;
		depth--;
		goto after;
	}
	FAIL(p, stack[depth - 1] == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
}

#undef FAIL

/* ---- wa-run's status file --------------------------------------------- */

int
wa_runstatus_final(const char *state)
{
	int s = wa_state_parse(state);

	return s >= 0 && wa_state_final((enum wa_state)s);
}

static void
oneline(char *dst)
{
	for (; *dst; dst++)   /* no control characters */
		if ((unsigned char)*dst < 0x20)
			*dst = ' ';
}

int
wa_runstatus_parse(struct wa_runstatus *st, const json_t *o)
{
	struct wa_status s;

	memset(st, 0, sizeof *st);
	st->alive = -1;
	st->exit_code = -1;
	if (wa_status_decode(&s, o, WA_STATUS_LENIENT) < 0)
		return 0;   /* not an object: not a status */
	st->present = 1;
	snprintf(st->state, sizeof st->state, "%s", s.state_name);
	snprintf(st->last_error, sizeof st->last_error, "%s", s.last_error);
	snprintf(st->klass, sizeof st->klass, "%s", s.klass);
	oneline(st->state);
	oneline(st->last_error);
	oneline(st->klass);
	st->since = (time_t)(s.since / 1000);
	st->last_inbound = (time_t)(s.last_inbound / 1000);
	st->pid = s.pid;
	st->exit_code = s.exit_code;
	snprintf(st->inbox, sizeof st->inbox, "%s", s.inbox);
	oneline(st->inbox);
	st->last_message = (time_t)(s.last_message / 1000);
	/* counters of an older wa-run (absent) are unknown, not 0 */
	st->messages_received = json_is_integer(json_object_get(o, "messages_received")) ?
	    (long)s.messages_received : -1;
	st->undecryptable = json_is_integer(json_object_get(o, "undecryptable")) ? (long)s.undecryptable : -1;
	st->updated = (time_t)(s.updated / 1000);
	st->heal_present = s.heal;
	memcpy(st->failures, s.decrypt_failures, sizeof st->failures);
	memcpy(st->recent, s.decrypt_recent, sizeof st->recent);
	st->retries = s.retries;
	st->repaired = s.repaired;
	st->quarantined = s.quarantined;
	st->phone_seen = (time_t)(s.phone_seen / 1000);
	st->phone_pinged = (time_t)(s.phone_pinged / 1000);
	{
		/* written by the sending side when it exists; read leniently */
		const json_t *v = json_object_get(o, "last_sent");
		int64_t ms = 0;
		if (json_is_string(v) && wa_time_parse(&ms, json_string_value(v)) == 0 && ms > 0)
			st->last_sent = (time_t)(ms / 1000);
	}
	return 0;
}

/* ---- the check ----------------------------------------------------------- */

struct ctx {
	struct wa_health *h;
	const struct wa_health_opts *o;
	const char *dir;        /* the folder as given, for messages */
	size_t cap;
	int nomem;
	char *buf;
	size_t bufcap;
	uid_t euid;
	time_t now;
};

static void __attribute__((format(printf, 5, 6)))
add(struct ctx *c, enum wa_sev sev, const char *kind, const char *rel, const char *fmt, ...)
{
	struct wa_problem *p;
	va_list ap;
	char msg[1024];

	if (c->nomem)
		return;
	if (c->h->nproblems == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		struct wa_problem *np = realloc(c->h->problems, ncap * sizeof *np);
		if (!np) {
			c->nomem = 1;
			return;
		}
		c->h->problems = np;
		c->cap = ncap;
	}
	p = &c->h->problems[c->h->nproblems];
	p->sev = sev;
	p->kind = kind;
	p->path = NULL;
	p->fix = NULL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!(p->message = strdup(msg))) {
		c->nomem = 1;
		return;
	}
	if (rel) {
		size_t len = strlen(c->dir) + strlen(rel) + 2;
		if (!(p->path = malloc(len))) {
			free(p->message);
			c->nomem = 1;
			return;
		}
		if (!*rel)
			snprintf(p->path, len, "%s", c->dir);
		else if (strcmp(c->dir, "/") == 0)
			snprintf(p->path, len, "/%s", rel);
		else
			snprintf(p->path, len, "%s/%s", c->dir, rel);
	}
	c->h->nproblems++;
}

/* The path of the problem just added, when it is outside the folder:
 * base/name. */
static void
setpath(struct ctx *c, const char *base, const char *name)
{
	struct wa_problem *p;

	if (c->nomem || !c->h->nproblems)
		return;
	p = &c->h->problems[c->h->nproblems - 1];
	free(p->path);
	if (asprintf(&p->path, "%s/%s", base, name) < 0) {
		p->path = NULL;
		c->nomem = 1;
	}
}

/* Add "; fix with: FIX" to the message of the problem just added. */
static void
fix_in_message(struct ctx *c)
{
	struct wa_problem *p;
	char *m;

	if (c->nomem || !c->h->nproblems)
		return;
	p = &c->h->problems[c->h->nproblems - 1];
	if (!p->fix || asprintf(&m, "%s; fix with: %s", p->message, p->fix) < 0)
		return;
	free(p->message);
	p->message = m;
}

/* Append s to the fix being built, single-quoted for the shell. */
static void
quote(char *out, size_t n, const char *s)
{
	size_t k = strlen(out);

	if (k + 1 < n)
		out[k++] = '\'';
	for (; *s && k + 5 < n; s++) {
		if (*s == '\'') {
			memcpy(out + k, "'\\''", 4);
			k += 4;
		} else {
			out[k++] = *s;
		}
	}
	if (k + 1 < n)
		out[k++] = '\'';
	out[k] = 0;
}

/*
 * The fix of the problem just added: fmt is the command, where each "%P"
 * is replaced by the folder joined with the next argument (a name inside
 * it, "" for the folder itself), quoted, and each "%Q" by the next
 * argument, quoted.  Nothing else is interpreted.
 */
static void
setfix(struct ctx *c, const char *fmt, ...)
{
	struct wa_problem *p;
	char out[2048] = "";
	const char *rel;
	va_list ap;
	size_t k;

	if (c->nomem || !c->h->nproblems)
		return;
	p = &c->h->problems[c->h->nproblems - 1];
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (fmt[0] == '%' && fmt[1] == 'Q') {
			quote(out, sizeof out, va_arg(ap, const char *));
			fmt++;
			continue;
		}
		if (fmt[0] == '%' && fmt[1] == 'P') {
			char path[1200];
			rel = va_arg(ap, const char *);
			if (!*rel)
				snprintf(path, sizeof path, "%s", c->dir);
			else
				snprintf(path, sizeof path, "%s/%s", strcmp(c->dir, "/") ? c->dir : "", rel);
			quote(out, sizeof out, path);
			fmt++;
			continue;
		}
		k = strlen(out);
		if (k + 1 < sizeof out) {
			out[k] = *fmt;
			out[k + 1] = 0;
		}
	}
	va_end(ap);
	free(p->fix);
	if (!(p->fix = strdup(out)))
		c->nomem = 1;
}

static void
isotime(char *buf, size_t n, time_t t)
{
	struct tm tm;

	if (!t || !gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "?");
}

/* 45s, 1m30s, 5m, 1h30m, 2d3h: the two largest units, zeros left out */
static void
duration(char *buf, size_t n, long s)
{
	static const struct { long secs; char unit; } u[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t i;

	for (i = 0; i < 3 && s < u[i].secs; i++)
		;
	if (i < 3 && s % u[i].secs / u[i + 1].secs)
		snprintf(buf, n, "%ld%c%ld%c", s / u[i].secs, u[i].unit, s % u[i].secs / u[i + 1].secs, u[i + 1].unit);
	else
		snprintf(buf, n, "%ld%c", s / u[i].secs, u[i].unit);
}

/* 512, 3k, 40M, 2G (rounded down) */
static void
size_str(char *buf, size_t n, long long v)
{
	static const char u[] = "kMGTP";
	int i = -1;

	while (v >= 10240 && i < 4) {
		v /= 1024;
		i++;
	}
	if (i < 0 && v >= 1024) {
		v /= 1024;
		i = 0;
	}
	if (i < 0)
		snprintf(buf, n, "%lld bytes", v);
	else
		snprintf(buf, n, "%lld%c", v, u[i]);
}

/*
 * Read dirfd/name into c->buf (NUL-terminated).  0; WA_ENOTFOUND;
 * WA_EUNSAFE (a symbolic link or not a regular file); WA_ETOOBIG;
 * WA_ESYS with errno; WA_ENOMEM.  *st is the opened file's stat.
 */
static int
slurp(struct ctx *c, int dirfd, const char *name, size_t *len, struct stat *st)
{
	size_t got = 0;
	int fd, rc = 0;

	*len = 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? WA_ENOTFOUND : errno == ELOOP ? WA_EUNSAFE : WA_ESYS;
	if (fstat(fd, st) < 0) {
		rc = WA_ESYS;
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		rc = WA_EUNSAFE;
		goto out;
	}
	for (;;) {
		ssize_t n;
		if (got + 1 >= c->bufcap) {
			size_t ncap = c->bufcap ? c->bufcap * 2 : 65536;
			char *nb;
			if ((unsigned long long)st->st_size + 2 > ncap)
				ncap = (size_t)st->st_size + 2;
			if (ncap > WA_FILE_MAX + 2) {
				if (got > WA_FILE_MAX) {
					rc = WA_ETOOBIG;
					goto out;
				}
				ncap = WA_FILE_MAX + 2;
			}
			if (!(nb = realloc(c->buf, ncap))) {
				rc = WA_ENOMEM;
				goto out;
			}
			c->buf = nb;
			c->bufcap = ncap;
		}
		n = read(fd, c->buf + got, c->bufcap - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = WA_ESYS;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > WA_FILE_MAX) {
			rc = WA_ETOOBIG;
			goto out;
		}
	}
	c->buf[got] = 0;
	*len = got;
out:
	{
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return rc;
}

/* Report an error from slurp for the auth file rel (file owner uid). */
static void
read_problem(struct ctx *c, int rc, const char *rel, uid_t owner, enum wa_sev sev)
{
	int creds = strcmp(rel, WA_CREDS) == 0;

	if (rc == WA_EUNSAFE && creds) {
		add(c, WA_SEV_CRITICAL, "creds_unsafe", rel, "not a regular file; put the real file in its "
		    "place, or restore it with wa-restore");
	} else if (rc == WA_EUNSAFE) {
		add(c, WA_SEV_CRITICAL, "file_unsafe", rel, "not a regular file; move it away with wa-prune --corrupt");
		setfix(c, "wa-prune -d %P --corrupt", "");
	} else if (rc == WA_ETOOBIG && creds) {
		add(c, sev, "creds_corrupt", rel, "over the %u byte limit for an auth file; restore it with "
		    "wa-restore", WA_FILE_MAX);
		setfix(c, "wa-restore -d %P --latest", "");
	} else if (rc == WA_ETOOBIG) {
		add(c, sev, "file_too_big", rel, "over the %u byte limit for an auth file; move it away with "
		    "wa-prune --corrupt", WA_FILE_MAX);
		setfix(c, "wa-prune -d %P --corrupt", "");
	} else if (rc == WA_ESYS && (errno == EACCES || errno == EPERM) && owner != c->euid) {
		add(c, WA_SEV_UNKNOWN, "unreadable", rel, "cannot read it as uid %ld (%s): run wa-check as the "
		    "folder's owner", (long)c->euid, strerror(errno));
	} else if (rc == WA_ESYS && (errno == EACCES || errno == EPERM)) {
		add(c, WA_SEV_CRITICAL, "unreadable", rel, "its owner cannot read it (%s): Baileys would take it "
		    "as missing", strerror(errno));
	} else if (rc == WA_ESYS) {
		add(c, WA_SEV_UNKNOWN, "unreadable", rel, "cannot read it: %s", strerror(errno));
	}
}

/* The one rule for modes (wa-authdir(5)): a key file with group or other
 * bits is a WARNING here; every wa tool that writes the folder (wa-run,
 * wa-prune, wa-restore's result) sets it to 0600 and says so. */
static void
perm_problem(struct ctx *c, const char *rel, mode_t mode)
{
	if (mode & 077) {
		add(c, WA_SEV_WARNING, strcmp(rel, WA_CREDS) == 0 ? "creds_mode" : "file_mode", rel,
		    "mode %04o lets group or others read secret keys; the next wa-run or wa-prune sets it "
		    "to 0600", (unsigned)(mode & 07777));
		setfix(c, "chmod 600 %P", rel);
		fix_in_message(c);
	}
}

/* A JSON file that did not parse, kept until re-read. */
struct bad {
	const char *name;
	enum wa_ftype type;
	int rc;                 /* WA_ECORRUPT or a slurp error */
	int err;                /* errno for WA_ESYS */
	size_t pos, len;
	const char *reason;
	struct stat st;
	int settled;            /* re-read, and unchanged or valid: final */
};

/* Read and validate dirfd/name.  0 valid; otherwise b is filled. */
static int
check_one(struct ctx *c, int dirfd, const char *name, struct bad *b)
{
	int rc;

	b->name = name;
	if ((rc = slurp(c, dirfd, name, &b->len, &b->st)) < 0) {
		b->rc = rc;
		b->err = errno;
		return rc;
	}
	if (wa_json_check(c->buf, b->len, &b->pos, &b->reason) < 0) {
		b->rc = WA_ECORRUPT;
		return WA_ECORRUPT;
	}
	return 0;
}

static int
recent(const struct ctx *c, const struct bad *b)
{
	return b->rc == WA_ECORRUPT && b->st.st_mtime >= c->now - RECENT_SECS;
}

static int
same_version(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static const char *
parse_hint(enum wa_ftype t)
{
	switch (t) {
	case WA_FT_CREDS:
		return "Baileys would start a new identity: do not start the bot, restore it with wa-restore";
	case WA_FT_OTHER_JSON:
		return "not a Baileys file; wa-prune --corrupt moves it away";
	case WA_FT_SESSION:
		return "that contact gets Bad MAC errors: move it away with wa-prune --corrupt";
	default:
		return "move it away with wa-prune --corrupt";
	}
}

static const char *
corrupt_kind(enum wa_ftype t)
{
	switch (t) {
	case WA_FT_CREDS: return "creds_corrupt";
	case WA_FT_SESSION: return "session_corrupt";
	default: return "file_corrupt";
	}
}

static void
bad_problem(struct ctx *c, const struct bad *b)
{
	enum wa_sev sev = b->type == WA_FT_OTHER_JSON ? WA_SEV_WARNING : WA_SEV_CRITICAL;

	if (b->rc == WA_ENOTFOUND)
		return;   /* removed since the listing: fine */
	if (b->rc != WA_ECORRUPT) {
		errno = b->err;
		read_problem(c, b->rc, b->name, b->st.st_uid, sev);
		return;
	}
	if (b->len == 0)
		add(c, sev, corrupt_kind(b->type), b->name, "empty file (0 bytes, a torn write); %s",
		    parse_hint(b->type));
	else
		add(c, sev, corrupt_kind(b->type), b->name, "not valid JSON at byte %zu of %zu: %s%s; %s",
		    b->pos, b->len, b->reason, b->pos >= b->len ? " (truncated)" : "", parse_hint(b->type));
	if (b->type == WA_FT_CREDS)
		setfix(c, "wa-restore -d %P --latest", "");
	else
		setfix(c, "wa-prune -d %P --corrupt", "");
}

static void check_creds_content(struct ctx *c, int fd, const struct wa_scan_entry *e);

static void
check_creds(struct ctx *c, int fd, const struct wa_scan *s)
{
	const struct wa_scan_entry *e = wa_scan_find(s, WA_CREDS);

	if (!e) {
		add(c, WA_SEV_CRITICAL, "creds_missing", WA_CREDS, "missing: not an auth folder, or never paired (run wa-pair); "
		    "if it was paired, restore it with wa-restore");
		return;
	}
	if (e->kind == WA_SCAN_SYMLINK)
		return;   /* reported with every other symbolic link */
	if (e->kind != WA_SCAN_FILE) {
		add(c, WA_SEV_CRITICAL, "creds_unsafe", WA_CREDS, "not a regular file; put the real file in "
		    "its place, or restore it with wa-restore");
		return;
	}
	/* content first: a torn creds.json is the news, its mode second */
	check_creds_content(c, fd, e);
	perm_problem(c, WA_CREDS, e->st.st_mode);
}

static void
check_creds_content(struct ctx *c, int fd, const struct wa_scan_entry *e)
{
	struct wa_creds_info info;
	struct bad b;
	json_error_t je;
	json_t *j;
	int i, rc;

	memset(&b, 0, sizeof b);
	b.type = WA_FT_CREDS;
	b.st = e->st;
	rc = check_one(c, fd, WA_CREDS, &b);
	for (i = 0; rc < 0 && i < RETRY_ROUNDS && recent(c, &b); i++) {
		struct stat old = b.st;
		pause_ms(RETRY_PAUSE_MS);
		if ((rc = check_one(c, fd, WA_CREDS, &b)) < 0 && same_version(&old, &b.st))
			break;
	}
	if (rc == WA_ENOTFOUND) {
		add(c, WA_SEV_CRITICAL, "creds_missing", WA_CREDS, "missing (removed while checking)");
		return;
	}
	if (rc < 0) {
		bad_problem(c, &b);
		return;
	}
	if (!(j = json_loadb(c->buf, b.len, 0, &je))) {
		add(c, WA_SEV_CRITICAL, "creds_corrupt", WA_CREDS, "not readable by wa at byte %d: %s; restore "
		    "it with wa-restore", je.position, je.text);
		setfix(c, "wa-restore -d %P --latest", "");
		return;
	}
	wa_creds_inspect(&info, j);
	snprintf(c->h->me, sizeof c->h->me, "%s", info.me);
	snprintf(c->h->lid, sizeof c->h->lid, "%s", info.lid);
	snprintf(c->h->platform, sizeof c->h->platform, "%s", info.platform);
	wa_creds_account(c->h->account, sizeof c->h->account, j);
	json_decref(j);
	c->h->creds_ok = info.complete;
	c->h->paired = info.paired;
	if (!info.complete) {
		add(c, WA_SEV_CRITICAL, "creds_corrupt", WA_CREDS, "incomplete: %s; restore it with wa-restore",
		    info.problem);
		setfix(c, "wa-restore -d %P --latest", "");
	} else if (!info.paired) {
		add(c, WA_SEV_CRITICAL, "not_paired", WA_CREDS, "not paired: run wa-pair (%s)", info.problem);
		setfix(c, "wa-pair -d %P", "");
	}
}

/*
 * A part of .wa that is not what it must be (a symbolic link, a file
 * where a folder belongs): wa tools that write refuse the folder.  It is
 * wa's own, never Baileys' data: the fix removes a link (never what it
 * points to) and moves anything else aside, so that the next writer makes
 * a new one.  name NULL: .wa itself.
 */
static void
aside(struct ctx *c, const char *kind, const char *name)
{
	char rel[64], to[96], path[1200];
	struct stat st;
	int link;

	snprintf(rel, sizeof rel, "%s%s%s", WA_SUBDIR, name ? "/" : "", name ? name : "");
	snprintf(to, sizeof to, "%s.moved-aside-%lld", rel, (long long)c->now);
	snprintf(path, sizeof path, "%s/%s", c->dir, rel);
	link = lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
	add(c, WA_SEV_CRITICAL, kind, rel, "not a real %s (%s): wa tools that write (wa-run, wa-prune, "
	    "wa-restore) refuse the folder; %s", name && strcmp(name, WA_LOCK) == 0 ? "file" : "folder",
	    link ? "a symbolic link" : "something else is there",
	    link ? "remove the link with rm (what it points to stays)" : "move it aside with mv");
	if (link)
		setfix(c, "rm %P", rel);
	else
		setfix(c, "mv -T %P %P", rel, to);
}

static void
check_quarantine(struct ctx *c, int wafd)
{
	struct stat st;

	if (fstatat(wafd, WA_QUARANTINE, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
		aside(c, "quarantine_unsafe", WA_QUARANTINE);
}

/* Free space and inodes of the folder's file system. */
static void
check_disk(struct ctx *c, int fd)
{
	struct statvfs sv;
	char have[32], want[32];

	if (fstatvfs(fd, &sv) < 0) {
		if (c->o->min_free >= 0 || c->o->min_inodes >= 0)
			add(c, WA_SEV_UNKNOWN, "unreadable", "", "cannot tell the free space: %s", strerror(errno));
		return;
	}
	c->h->free_bytes = (long long)sv.f_bavail * (long long)sv.f_frsize;
	c->h->free_inodes = sv.f_files ? (long long)sv.f_favail : -1;   /* 0 files: no inode limit */
	if (c->o->min_free >= 0 && c->h->free_bytes < c->o->min_free) {
		size_str(have, sizeof have, c->h->free_bytes);
		size_str(want, sizeof want, c->o->min_free);
		add(c, WA_SEV_WARNING, "disk_space", "", "only %s free on its file system, under the minimum "
		    "of %s: a full disk stops every write (sessions, pre-keys, creds.json)", have, want);
	}
	if (c->o->min_inodes >= 0 && c->h->free_inodes >= 0 && c->h->free_inodes < c->o->min_inodes)
		add(c, WA_SEV_WARNING, "disk_inodes", "", "only %lld free inodes on its file system, under "
		    "the minimum of %lld: every new file (a session, a pre-key) will fail",
		    c->h->free_inodes, c->o->min_inodes);
}

/* The time of the backup archive dfd/name of folder: the stamp in its
 * name (wa-backup's "<folder>-YYYYmmddTHHMMSSZ[-N].tar", the order
 * wa-restore --latest goes by), when the archive verifies completely and
 * its creds.json is valid JSON; else 0. */
static time_t
backup_valid(int dfd, const char *name, const char *folder)
{
	struct wa_backup *b;
	const struct wa_backup_file *f;
	struct wa_why why;
	struct stat st;
	struct tm tm;
	time_t t = 0;
	int fd;

	memset(&tm, 0, sizeof tm);
	if (sscanf(name + strlen(folder) + 1, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && wa_backup_read(&b, fd, name, &why) == 0) {
		if ((f = wa_backup_find(b, WA_CREDS)) && f->valid == 1)
			t = timegm(&tm);
		wa_backup_free(b);
	}
	close(fd);
	return t;
}

/* The newest valid backup in the backups folder, against max_backup_age. */
static void
check_backup(struct ctx *c)
{
	const char *bdir = c->o->backup_dir;
	char **names = NULL, *parent = NULL, *base = NULL, d1[32], d2[32], when[32];
	size_t n = 0, i;
	int dfd, rc;
	time_t t = 0;

	if (c->o->max_backup_age < 0 || !bdir)
		return;
	duration(d2, sizeof d2, c->o->max_backup_age);
	if ((rc = wa_backup_path_split(&parent, &base, c->dir)) < 0) {
		if (rc == WA_ENOMEM)
			c->nomem = 1;
		return;
	}
	dfd = open(bdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT) {
		add(c, WA_SEV_CRITICAL, "backup_missing", "", "no backup at all ('%s' does not exist): a torn "
		    "creds.json could not be restored; make one with wa-backup", bdir);
		setfix(c, "wa-backup -d %P -B %Q", "", bdir);
		goto out;
	}
	if (dfd < 0 || (rc = wa_backup_list(&names, &n, dfd, base)) < 0) {
		if (rc == WA_ENOMEM)
			c->nomem = 1;
		else
			add(c, WA_SEV_UNKNOWN, "backup_unknown", "", "cannot list the backups in '%s': %s", bdir,
			    strerror(errno));
		goto out;
	}
	for (i = n; i > 0 && !t; i--)
		t = backup_valid(dfd, names[i - 1], base);
	c->h->backup_time = t;
	if (!t) {
		add(c, WA_SEV_CRITICAL, "backup_missing", "", "no valid backup in '%s': a torn creds.json "
		    "could not be restored; make one with wa-backup", bdir);
		setfix(c, "wa-backup -d %P -B %Q", "", bdir);
	} else if (c->now - t > c->o->max_backup_age) {
		duration(d1, sizeof d1, (long)(c->now - t));
		isotime(when, sizeof when, t);
		add(c, WA_SEV_WARNING, "backup_old", "", "the newest valid backup in '%s' is from %s (%s ago), "
		    "older than the maximum of %s: are backups still being made?", bdir, when, d1, d2);
		setfix(c, "wa-backup -d %P -B %Q", "", bdir);
	}
out:
	if (dfd >= 0)
		close(dfd);
	wa_backup_names_free(names);
	free(parent);
	free(base);
}

static int
is_tmp(const char *name)
{
	return strncmp(name, WA_DURABLE_TMP_PREFIX, sizeof WA_DURABLE_TMP_PREFIX - 1) == 0;
}

static void
check_symlink(struct ctx *c, int dirfd, const char *name, const char *rel)
{
	char target[256];
	ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);

	if (n < 0)
		n = 0;
	target[n] = 0;
	if (strcmp(rel, WA_CREDS) == 0) {
		add(c, WA_SEV_CRITICAL, "creds_unsafe", rel, "symbolic link to '%s': wa never follows links "
		    "in the folder (Baileys does); put the file itself in its place", target);
		return;
	}
	add(c, WA_SEV_CRITICAL, "file_unsafe", rel, "symbolic link to '%s': wa never follows links in the "
	    "folder (Baileys does); put the file itself in its place, or move the link away with "
	    "wa-prune --corrupt", target);
	setfix(c, "wa-prune -d %P --corrupt", "");
}

static void
check_stage(struct ctx *c, int wafd, int writer)
{
	struct wa_scan *s;
	char rel[600];
	size_t i;
	int fd;

	if ((fd = openat(wafd, WA_STAGE, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			aside(c, "stage_unsafe", WA_STAGE);
		else if (errno != ENOENT)
			add(c, WA_SEV_UNKNOWN, "unreadable", WA_SUBDIR "/" WA_STAGE, "cannot open it: %s", strerror(errno));
		return;
	}
	if (wa_scan_dir(&s, fd) < 0) {
		add(c, WA_SEV_UNKNOWN, "unreadable", WA_SUBDIR "/" WA_STAGE, "cannot list it: %s", strerror(errno));
		close(fd);
		return;
	}
	for (i = 0; i < s->n; i++) {
		if (s->e[i].kind == WA_SCAN_DIR || s->e[i].kind == WA_SCAN_SUBDIR)
			continue;
		c->h->tmpfiles++;
		snprintf(rel, sizeof rel, "%s/%s/%s", WA_SUBDIR, WA_STAGE, s->e[i].name);
		if (!writer) {
			add(c, WA_SEV_WARNING, "tmp_leftover", rel, "leftover temporary file from an interrupted "
			    "write (never data); remove it with wa-prune --tmp");
			setfix(c, "wa-prune -d %P --tmp", "");
		}
	}
	wa_scan_free(s);
	close(fd);
}

static void
check_lock(struct ctx *c, int wafd)
{
	struct wa_lock_holder *l = &c->h->lock;
	char when[32];
	int rc = wa_lock_inspect(wafd, l);

	if (rc == WA_ENOTFOUND)
		return;
	if (rc == WA_EUNSAFE) {
		aside(c, "lock_unsafe", WA_LOCK);
		return;
	}
	if (rc < 0) {
		add(c, WA_SEV_UNKNOWN, "unreadable", WA_SUBDIR "/" WA_LOCK, "cannot read it: %s", strerror(errno));
		return;
	}
	c->h->lock_present = 1;
	if (l->pid > 0 && !l->alive && l->held != 1) {
		isotime(when, sizeof when, l->since);
		add(c, WA_SEV_WARNING, "lock_stale", WA_SUBDIR "/" WA_LOCK, "stale lock: pid %ld (%s) since %s is no longer "
		    "running (it crashed or was killed); the next writer takes it over",
		    (long)l->pid, l->prog[0] ? l->prog : "?", when);
	}
}

/* wa-run's other states that need a person (wa-run(1)); 1 when one was
 * reported. */
static int
run_state_problem(struct ctx *c, const struct wa_runstatus *r, const char *rel, const char *when)
{
	static const struct {
		const char *state;
		const char *text;
	} tab[] = {
		{ "outdated", "the server says this client version is outdated (405): update wa" },
		{ "refused", "the server refused the login" },
		{ "retries_exhausted", "it gave up reconnecting after its reconnect budget; its "
		    "supervisor decides whether to start it again" },
		{ "failed", "a local error stopped it" },
		{ "banned", "the account is temporarily banned (402)" },
	};
	size_t i;

	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		if (strcmp(r->state, tab[i].state) != 0)
			continue;
		/* a disk error only when wa-run said so (exit 74), never guessed */
		if (strcmp(r->state, "failed") == 0 && r->exit_code == 74)
			add(c, WA_SEV_CRITICAL, "run_stopped", rel, "wa-run reports failed since %s: a write or "
			    "fsync failed (last error: %s)", when, r->last_error[0] ? r->last_error : "none recorded");
		else if (r->last_error[0])
			add(c, WA_SEV_CRITICAL, "run_stopped", rel, "wa-run reports %s since %s: %s (last error: %s)",
			    r->state, when, tab[i].text, r->last_error);
		else
			add(c, WA_SEV_CRITICAL, "run_stopped", rel, "wa-run reports %s since %s: %s", r->state, when,
			    tab[i].text);
		return 1;
	}
	return 0;
}

static void
check_status(struct ctx *c, int wafd)
{
	struct wa_runstatus *r = &c->h->run;
	const char *rel = WA_SUBDIR "/" WA_STATUS;
	char when[32], d1[32], d2[32];
	struct stat st;
	json_error_t je;
	json_t *j = NULL;
	const json_t *sup;
	char supby[32] = "";
	size_t len, i;
	time_t ref, supat = 0;
	int64_t supms = 0;
	int rc, superseded = 0;

	memset(r, 0, sizeof *r);
	r->alive = -1;
	r->exit_code = -1;
	rc = wafd < 0 ? WA_ENOTFOUND : slurp(c, wafd, WA_STATUS, &len, &st);
	if (rc == 0 && !(j = json_loadb(c->buf, len, 0, &je))) {
		add(c, WA_SEV_WARNING, "status_bad", rel, "not valid JSON at byte %d: %s; ignored", je.position, je.text);
	} else if (rc == 0 && !json_is_object(j)) {
		add(c, WA_SEV_WARNING, "status_bad", rel, "not a JSON object; ignored");
	} else if (rc == 0) {
		wa_runstatus_parse(r, j);
		sup = json_object_get(j, "superseded");
		if (json_is_object(sup)) {
			const json_t *by = json_object_get(sup, "by"), *at = json_object_get(sup, "at");
			superseded = 1;
			snprintf(supby, sizeof supby, "%s", json_is_string(by) ? json_string_value(by) : "?");
			for (i = 0; supby[i]; i++)   /* one line: no control characters */
				if ((unsigned char)supby[i] < 0x20)
					supby[i] = ' ';
			if (!json_is_string(at) || wa_time_parse(&supms, json_string_value(at)) < 0)
				supms = 0;
			supat = (time_t)(supms / 1000);
		}
	} else if (rc == WA_EUNSAFE) {
		add(c, WA_SEV_WARNING, "status_bad", rel, "not a regular file (a symbolic link?); ignored");
	} else if (rc != WA_ENOTFOUND && rc != WA_ENOMEM) {
		add(c, WA_SEV_WARNING, "status_bad", rel, "cannot read it: %s; ignored",
		    rc == WA_ESYS ? strerror(errno) : wa_strerror(rc));
	}
	json_decref(j);

	if (r->present && superseded) {
		/* wa-pair or wa-restore replaced the folder since wa-run wrote
		 * this: its state is history, not a problem of the folder */
		if (r->pid > 0)
			r->alive = kill((pid_t)r->pid, 0) == 0 || errno == EPERM;
		if (c->o->max_silence < 0)
			return;
		isotime(when, sizeof when, supat);
		add(c, WA_SEV_UNKNOWN, "silence_unknown", rel, "superseded by %s at %s: wa-run has not run since, so "
		    "silence cannot be checked", supby, supat ? when : "?");
		return;
	}
	if (r->present) {
		isotime(when, sizeof when, r->since);
		if (r->pid > 0)
			r->alive = kill((pid_t)r->pid, 0) == 0 || errno == EPERM;
		if (strcmp(r->state, "logged_out") == 0)
			add(c, WA_SEV_CRITICAL, "logged_out", rel, "wa-run reports logged_out since %s: the phone removed "
			    "this device; pair again with wa-pair", when);
		else if (strcmp(r->state, "replaced") == 0)
			add(c, WA_SEV_CRITICAL, "replaced", rel, "wa-run reports replaced since %s: another client "
			    "connected with these credentials (the same folder running twice?)", when);
		else if (run_state_problem(c, r, rel, when))
			;
		else if (r->alive == 0 && !wa_runstatus_final(r->state) && r->exit_code < 0)
			add(c, WA_SEV_WARNING, "run_stale", rel, "stale status: wa-run pid %ld is not running, but its "
			    "status still says '%s' since %s (it died without updating it)",
			    r->pid, r->state[0] ? r->state : "?", when);
		ref = r->last_inbound ? r->last_inbound : r->since;
		if (ref)
			c->h->silence = c->now > ref ? (long)(c->now - ref) : 0;
	}
	if (c->o->max_silence < 0)
		return;
	duration(d2, sizeof d2, c->o->max_silence);
	if (!r->present) {
		if (rc == WA_ENOTFOUND)
			add(c, WA_SEV_UNKNOWN, "silence_unknown", rel, "no status file, so silence cannot be checked "
			    "(is wa-run running on this folder?)");
		else
			add(c, WA_SEV_UNKNOWN, "silence_unknown", rel, "no usable status file, so silence cannot be checked");
		return;
	}
	if (c->h->silence < 0) {
		add(c, WA_SEV_UNKNOWN, "silence_unknown", rel, "has neither last_inbound nor since, so silence cannot be checked");
		return;
	}
	if (c->h->silence > c->o->max_silence) {
		duration(d1, sizeof d1, c->h->silence);
		if (r->last_inbound) {
			isotime(when, sizeof when, r->last_inbound);
			add(c, WA_SEV_CRITICAL, "silence", rel, "nothing received for %s (last inbound %s), over the "
			    "maximum silence of %s", d1, when, d2);
		} else {
			add(c, WA_SEV_CRITICAL, "silence", rel, "nothing received yet, and state '%s' since %s (%s ago), "
			    "over the maximum silence of %s", r->state[0] ? r->state : "?", when, d1, d2);
		}
	}
}

/*
 * Failed decryptions in the status file's recent window: wa-run heals
 * them by itself (retry receipts, quarantine of the peer's broken state),
 * but a storm of them (many per minute from a peer that never recovers,
 * or from many) is something to look at.
 */
static void
check_decrypt(struct ctx *c)
{
	struct wa_runstatus *r = &c->h->run;
	const char *rel = WA_SUBDIR "/" WA_STATUS;
	char list[512];
	size_t i, n = 0;
	unsigned long over = 0;

	if (!r->present || !r->heal_present)
		return;
	if (r->updated && c->now - r->updated > WA_STATUS_WINDOW_MIN * 60) {
		memset(r->recent, 0, sizeof r->recent);
		r->recent_stale = 1;
	}
	if (c->o->max_decrypt_failures < 0)
		return;
	list[0] = 0;
	for (i = 0; i < WA_STATUS_CLASSES; i++)
		if (r->recent[i] > (unsigned long)c->o->max_decrypt_failures && wa_status_class_name(i)) {
			n += (size_t)snprintf(list + n, n < sizeof list ? sizeof list - n : 0, "%s%s %lu",
			    n ? ", " : "", wa_status_class_name(i), r->recent[i]);
			if (n >= sizeof list)
				n = sizeof list - 1;
			over++;
		}
	if (over)
		add(c, WA_SEV_WARNING, "decrypt_storm", rel, "failed decryptions in the last %d minutes over the maximum "
		    "of %ld per class: %s (wa-run asks the senders to send again and quarantines the broken "
		    "sessions by itself; see wa(7) for when to step in)", WA_STATUS_WINDOW_MIN,
		    c->o->max_decrypt_failures, list);
}

/*
 * Reconnects over the last 24 hours, from the event history (the current
 * file and the one before it): its "reconnect" lines with a ts in the
 * window.  Lines are matched as text (wa-run writes ts first and event
 * third, event.h), so a large history costs one read, not a JSON parse
 * per line.  -1 when there is no history.
 */
static long
count_reconnects(struct ctx *c, int wafd)
{
	static const char *const names[] = { WA_EVENTS ".1", WA_EVENTS };
	const char *key = ",\"event\":\"reconnect\",";
	int64_t from = ((int64_t)c->now - 86400) * 1000, ts;
	long n = -1;
	size_t i, len;
	char *buf, *p, *nl, tsbuf[40];

	if (wafd < 0)
		return -1;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (wa_file_read(&buf, &len, wafd, names[i], NULL, NULL) < 0)
			continue;
		if (n < 0)
			n = 0;
		for (p = buf; p < buf + len; p = nl + 1) {
			char *q;
			size_t k;
			if (!(nl = memchr(p, '\n', (size_t)(buf + len - p))))
				break;   /* a torn last line */
			*nl = 0;
			if (strncmp(p, "{\"ts\":\"", 7) != 0 || !strstr(p, key))
				continue;
			q = p + 7;
			for (k = 0; q[k] && q[k] != '"' && k < sizeof tsbuf - 1; k++)
				tsbuf[k] = q[k];
			tsbuf[k] = 0;
			if (wa_time_parse(&ts, tsbuf) == 0 && ts >= from)
				n++;
		}
		free(buf);
	}
	return n;
}

/*
 * Our primary phone: WhatsApp logs a companion device out when the phone
 * has not been online for about 14 days; wa-run records the last stanza
 * from it (phone_seen).  A folder whose wa-runs never saw the phone is
 * not judged (nothing to measure from).
 */
static void
check_phone(struct ctx *c)
{
	struct wa_runstatus *r = &c->h->run;
	const char *rel = WA_SUBDIR "/" WA_STATUS;
	char when[32], d1[32], d2[32];
	int crit;

	if (!r->present || !r->phone_seen)
		return;
	c->h->phone_silence = c->now > r->phone_seen ? (long)(c->now - r->phone_seen) : 0;
	crit = c->o->phone_crit >= 0 && c->h->phone_silence > c->o->phone_crit;
	if (!crit && (c->o->phone_warn < 0 || c->h->phone_silence <= c->o->phone_warn))
		return;
	isotime(when, sizeof when, r->phone_seen);
	duration(d1, sizeof d1, c->h->phone_silence);
	duration(d2, sizeof d2, crit ? c->o->phone_crit : c->o->phone_warn);
	add(c, crit ? WA_SEV_CRITICAL : WA_SEV_WARNING, "phone_offline", rel, "the phone has not been seen for %s "
	    "(last %s), over %s: WhatsApp logs this device out after about 14 days without the phone; "
	    "open WhatsApp on the phone", d1, when, d2);
}

/*
 * The inbox: which one (opts, the status file, DIR.inbox when it exists),
 * what waits in its new/ and for how long.  A consumer that stopped is an
 * outage even while wa-run is healthy: messages pile up unread.
 */
static void
check_inbox(struct ctx *c)
{
	struct wa_health *h = c->h;
	const char *fix = "the consumer of INBOX/new is not keeping up or has stopped: check that it runs, "
	    "and that it moves each message it handled out of new/ (to cur/, maildir)";
	struct wa_why why = WA_WHY_INIT;
	struct stat st;
	char *def = NULL, d1[32], d2[32], when[32];
	const char *in = c->o->inbox;
	size_t count = 0;
	time_t oldest = 0;
	int rc;

	if (!in && h->run.present && h->run.inbox[0])
		in = h->run.inbox;
	if (!in) {
		if (asprintf(&def, "%s%s", c->dir, WA_INBOX_SUFFIX) < 0) {
			c->nomem = 1;
			return;
		}
		if (lstat(def, &st) < 0 || !S_ISDIR(st.st_mode)) {
			free(def);
			return;   /* no inbox here: nothing to say */
		}
		in = def;
	}
	if (!(h->inbox = strdup(in))) {
		c->nomem = 1;
		free(def);
		return;
	}
	free(def);
	if (stat(h->inbox, &st) < 0 && errno == ENOENT)
		return;   /* a missing inbox is not a problem (nothing received yet) */
	rc = wa_spool_backlog(h->inbox, &count, &oldest, &why);
	if (rc < 0 && (rc == WA_ENOTFOUND || (rc == WA_ESYS && errno == ENOENT))) {
		rc = 0;   /* no new/ yet: nothing waits */
		count = 0;
		oldest = 0;
	}
	if (rc == WA_ENOMEM) {
		c->nomem = 1;
		return;
	}
	if (rc < 0) {
		if (c->o->max_backlog >= 0 || c->o->max_backlog_age >= 0) {
			add(c, WA_SEV_UNKNOWN, "backlog_unknown", NULL, "cannot count the messages waiting: %s",
			    wa_why_text(&why, rc));
			setpath(c, h->inbox, "new");
		}
		return;
	}
	h->backlog = (long)count;
	if (count && oldest)
		h->backlog_age = c->now > oldest ? (long)(c->now - oldest) : 0;
	if (c->o->max_backlog >= 0 && count > (size_t)c->o->max_backlog) {
		add(c, WA_SEV_WARNING, "backlog", NULL, "%zu message%s waiting, over the maximum of %ld: %s",
		    count, count == 1 ? "" : "s", c->o->max_backlog, fix);
		setpath(c, h->inbox, "new");
	}
	if (c->o->max_backlog_age >= 0 && h->backlog_age > c->o->max_backlog_age) {
		/* over twice the maximum (no overflow: age > max >= 0 here) */
		int crit = h->backlog_age - c->o->max_backlog_age > c->o->max_backlog_age;
		duration(d1, sizeof d1, h->backlog_age);
		duration(d2, sizeof d2, c->o->max_backlog_age);
		isotime(when, sizeof when, oldest);
		add(c, crit ? WA_SEV_CRITICAL : WA_SEV_WARNING, "backlog_age", NULL, "the oldest waiting message "
		    "is from %s (%s ago), over %sthe maximum of %s: %s", when, d1, crit ? "twice " : "", d2, fix);
		setpath(c, h->inbox, "new");
	}
}

static void
sort_problems(struct wa_health *h)
{
	/* stable: insertion sort (the list is short, or sorted already) */
	size_t i, j;

	for (i = 1; i < h->nproblems; i++) {
		struct wa_problem p = h->problems[i];
		for (j = i; j > 0 && rank(h->problems[j - 1].sev) < rank(p.sev); j--)
			h->problems[j] = h->problems[j - 1];
		h->problems[j] = p;
	}
}

static void
check_folder(struct ctx *c, int fd)
{
	struct wa_health *h = c->h;
	struct wa_scan *s;
	struct bad *bad = NULL;
	size_t nbad = 0, i, t;
	int wafd, writer, round;

	if (wa_scan_dir(&s, fd) < 0) {
		if (errno == ENOMEM)
			c->nomem = 1;
		else
			add(c, WA_SEV_UNKNOWN, "unreadable", "", "cannot list it: %s", strerror(errno));
		return;
	}
	h->scanned = 1;
	for (t = 0; t < WA_FT_COUNT; t++) {
		h->count[t] = s->count[t];
		h->files += s->count[t];
	}

	wafd = openat(fd, WA_SUBDIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (wafd < 0 && (errno == ENOTDIR || errno == ELOOP))
		aside(c, "wa_unsafe", NULL);
	else if (wafd < 0 && errno != ENOENT)
		add(c, WA_SEV_UNKNOWN, "unreadable", WA_SUBDIR, "cannot open it: %s", strerror(errno));
	if (wafd >= 0)
		check_lock(c, wafd);
	writer = h->lock.pid > 0 && h->lock.alive;
	/* wa's own parts first: their fixes (mv) come before the fixes that
	 * need them (wa-prune), in the list as in a script running it */
	if (wafd >= 0) {
		check_stage(c, wafd, writer);
		check_quarantine(c, wafd);
	}

	check_creds(c, fd, s);

	if (!(bad = calloc(s->n ? s->n : 1, sizeof *bad))) {
		c->nomem = 1;
		goto out;
	}
	for (i = 0; i < s->n; i++) {
		const struct wa_scan_entry *e = &s->e[i];
		if (strcmp(e->name, WA_CREDS) == 0 && e->kind != WA_SCAN_SYMLINK)
			continue;   /* check_creds did it */
		switch (e->kind) {
		case WA_SCAN_SUBDIR:
			if (e->st.st_mode & 077) {
				add(c, WA_SEV_WARNING, "folder_mode", e->name, "mode %04o lets group or others "
				    "into wa's own folder", (unsigned)(e->st.st_mode & 07777));
				setfix(c, "chmod 700 %P", e->name);
				fix_in_message(c);
			}
			continue;
		case WA_SCAN_DIR:
			/* the listing types only regular files: classify the name */
			if (wa_fname_classify(e->name, NULL, NULL) != WA_FT_OTHER)
			{
				add(c, WA_SEV_CRITICAL, strcmp(e->name, WA_CREDS) ? "file_unsafe" : "creds_unsafe",
				    e->name, "a folder where an auth file should be%s", strcmp(e->name, WA_CREDS) ?
				    "; move it away with wa-prune --corrupt" : "");
				if (strcmp(e->name, WA_CREDS))
					setfix(c, "wa-prune -d %P --corrupt", "");
			}
			continue;
		case WA_SCAN_SYMLINK:
			if (strcmp(e->name, WA_SUBDIR) != 0)   /* .wa: reported above */
				check_symlink(c, fd, e->name, e->name);
			continue;
		case WA_SCAN_OTHERKIND:
			if (wa_fname_classify(e->name, NULL, NULL) != WA_FT_OTHER)
			{
				add(c, WA_SEV_CRITICAL, "file_unsafe", e->name, "not a regular file (a fifo, socket "
				    "or device); move it away with wa-prune --corrupt");
				setfix(c, "wa-prune -d %P --corrupt", "");
			}
			continue;
		case WA_SCAN_FILE:
			break;
		}
		if (is_tmp(e->name)) {
			h->tmpfiles++;
			if (!writer) {
				add(c, WA_SEV_WARNING, "tmp_leftover", e->name, "leftover temporary file from an "
				    "interrupted write (never data); remove it with wa-prune --tmp");
				setfix(c, "wa-prune -d %P --tmp", "");
			}
			continue;
		}
		if (e->type == WA_FT_CREDS || e->type == WA_FT_OTHER)
			continue;
		perm_problem(c, e->name, e->st.st_mode);
		bad[nbad].type = e->type;
		bad[nbad].st = e->st;
		if (check_one(c, fd, e->name, &bad[nbad]) < 0)
			nbad++;
		else
			memset(&bad[nbad], 0, sizeof bad[nbad]);
	}
	/*
	 * A file that failed and was modified in the last seconds may be
	 * half-way through an in-place write (Baileys truncates, then
	 * writes): look again after a pause.  One that did not change during
	 * the pause stays reported; one that keeps changing gets up to
	 * RETRY_ROUNDS looks.
	 */
	for (round = 0; round < RETRY_ROUNDS; round++) {
		size_t k, pending = 0;
		for (k = 0; k < nbad; k++)
			pending += !bad[k].settled && recent(c, &bad[k]);
		if (!pending)
			break;
		pause_ms(RETRY_PAUSE_MS);
		for (k = 0; k < nbad; k++) {
			struct bad old = bad[k];
			if (old.settled || !recent(c, &old))
				continue;
			if (check_one(c, fd, old.name, &bad[k]) == 0) {
				bad[k].rc = 0;
				bad[k].settled = 1;
			} else if (same_version(&old.st, &bad[k].st)) {
				bad[k].settled = 1;
			}
			bad[k].type = old.type;
		}
	}
	for (i = 0; i < nbad; i++)
		if (bad[i].rc)
			bad_problem(c, &bad[i]);

	check_disk(c, fd);
	if (c->o->crit_files >= 0 && h->files > (size_t)c->o->crit_files)
		add(c, WA_SEV_CRITICAL, "too_many_files", "", "%zu files, over the critical threshold of %ld "
		    "(wa-prune can move stale sessions and sender keys away)", h->files, c->o->crit_files);
	else if (c->o->warn_files >= 0 && h->files > (size_t)c->o->warn_files)
		add(c, WA_SEV_WARNING, "too_many_files", "", "%zu files, over the warning threshold of %ld "
		    "(wa-prune can move stale sessions and sender keys away)", h->files, c->o->warn_files);
	check_status(c, wafd);
	check_decrypt(c);
	check_phone(c);
	c->h->reconnects_24h = c->h->run.present ? count_reconnects(c, wafd) : -1;
	check_inbox(c);
	check_backup(c);
out:
	free(bad);
	if (wafd >= 0)
		close(wafd);
	wa_scan_free(s);
}

int
wa_health_check(struct wa_health **out, const char *path, const struct wa_health_opts *opts)
{
	static const struct wa_health_opts defaults = WA_HEALTH_OPTS_INIT;
	struct wa_health *h;
	struct ctx c;
	struct stat st;
	char *dir;
	size_t i, n;
	int fd;

	*out = NULL;
	if (!(h = calloc(1, sizeof *h)))
		return WA_ENOMEM;
	/* "auth/" would print as auth//creds.json, and lstat("link/")
	 * follows a symbolic link: drop trailing slashes, as authdir does */
	if (!(dir = strdup(path))) {
		free(h);
		return WA_ENOMEM;
	}
	for (n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = 0;
	path = dir;
	memset(&c, 0, sizeof c);
	c.h = h;
	c.o = opts ? opts : &defaults;
	c.dir = path;
	c.euid = geteuid();
	c.now = c.o->now ? c.o->now : time(NULL);
	h->silence = -1;
	h->backlog = h->backlog_age = -1;
	h->reconnects_24h = h->phone_silence = -1;
	h->run.alive = -1;
	h->free_bytes = h->free_inodes = -1;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			add(&c, WA_SEV_CRITICAL, "folder_missing", "", "no such folder");
		else if (errno == ENOTDIR)
			add(&c, WA_SEV_CRITICAL, "folder_missing", "", "no such folder (a parent is not a folder)");
		else
			add(&c, WA_SEV_UNKNOWN, "unreadable", "", "cannot look at it: %s", strerror(errno));
	} else if (S_ISLNK(st.st_mode)) {
		char target[256];
		ssize_t tn = readlink(path, target, sizeof target - 1);
		target[tn > 0 ? tn : 0] = 0;
		add(&c, WA_SEV_CRITICAL, "folder_unsafe", "", "symbolic link to '%s': wa tools refuse a linked folder; "
		    "pass the real folder", target);
	} else if (!S_ISDIR(st.st_mode)) {
		add(&c, WA_SEV_CRITICAL, "folder_unsafe", "", "not a folder");
	} else if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if ((errno == EACCES || errno == EPERM) && st.st_uid == c.euid)
			add(&c, WA_SEV_CRITICAL, "unreadable", "", "its owner cannot open it: %s", strerror(errno));
		else if (errno == EACCES || errno == EPERM)
			add(&c, WA_SEV_UNKNOWN, "unreadable", "", "cannot open it as uid %ld (%s): run wa-check as the "
			    "folder's owner", (long)c.euid, strerror(errno));
		else
			add(&c, WA_SEV_UNKNOWN, "unreadable", "", "cannot open it: %s", strerror(errno));
	} else {
		if (st.st_mode & 077) {
			add(&c, WA_SEV_WARNING, "folder_mode", "", "folder mode %04o lets group or others list it",
			    (unsigned)(st.st_mode & 07777));
			setfix(&c, "chmod 700 %P", "");
			fix_in_message(&c);
		}
		check_folder(&c, fd);
		close(fd);
	}
	free(c.buf);
	free(dir);
	if (c.nomem) {
		wa_health_free(h);
		return WA_ENOMEM;
	}
	sort_problems(h);
	h->status = WA_SEV_OK;
	for (i = 0; i < h->nproblems; i++)
		if (wa_sev_worse(h->problems[i].sev, h->status))
			h->status = h->problems[i].sev;
	*out = h;
	return 0;
}

void
wa_health_free(struct wa_health *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->nproblems; i++) {
		free(h->problems[i].path);
		free(h->problems[i].message);
		free(h->problems[i].fix);
	}
	free(h->problems);
	free(h->inbox);
	free(h);
}

const struct wa_problem *
wa_health_worst(const struct wa_health *h)
{
	return h->nproblems ? &h->problems[0] : NULL;
}
