/*
 * status.c - the status file and the event history (status.h).
 *
 * The status file is small and replaced whole through the durable write.
 * The history is an append-only file: each line goes out in one write(2)
 * with O_APPEND, so after a crash the file ends with complete lines,
 * possibly followed by one torn line; opening it seals that line with a
 * newline so it stays a single bad line that readers skip.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/compat.h"
#include "store/durable.h"
#include "base/err.h"
#include "base/json.h"
#include "base/time.h"
#include "base/file.h"
#include "store/names.h"
#include "ops/status.h"
#include "base/version.h"
#include "signal/cipher.h"

#define LINE_MAX_BYTES (64u << 10)

/* ---- encode / decode ---------------------------------------------------- */

static int
set_time(json_t *o, const char *k, int64_t ms)
{
	char buf[40];

	if (!ms)
		return json_object_set_new(o, k, json_null());
	wa_time_iso(buf, sizeof buf, ms);
	return json_object_set_new(o, k, json_string(buf));
}

static int
set_str(json_t *o, const char *k, const char *s)
{
	return json_object_set_new(o, k, wa_json_text(s));
}

const char *
wa_status_class_name(size_t i)
{
	if (i == 0)
		return "other";
	return i <= WA_SIGF_INTERNAL && i < WA_STATUS_CLASSES ? wa_sigclass_name((enum wa_sigclass)i) : NULL;
}

/* {"bad_mac": 3, ...}: the classes that occurred; an index without a
 * name counts as "other" */
static int
set_classes(json_t *o, const char *k, const unsigned long *c)
{
	unsigned long f[WA_STATUS_CLASSES] = { 0 };
	json_t *m = json_object();
	size_t i;
	int bad = 0;

	if (!m)
		return -1;
	for (i = 0; i < WA_STATUS_CLASSES; i++)
		f[wa_status_class_name(i) ? i : 0] += c[i];
	for (i = 0; i < WA_STATUS_CLASSES; i++)
		if (f[i])
			bad |= json_object_set_new(m, wa_status_class_name(i), json_integer((json_int_t)f[i]));
	if (bad) {
		json_decref(m);
		return -1;
	}
	return json_object_set_new(o, k, m);
}

int
wa_status_encode(char **out, size_t *len, const struct wa_status *st, int64_t now)
{
	json_t *o = json_object();
	char *s, *r;
	size_t n;
	int bad = 0;

	*out = NULL;
	if (!o)
		return WA_ENOMEM;
	bad |= json_object_set_new(o, "state", json_string(wa_state_name(st->state)));
	bad |= set_time(o, "since", st->since);
	bad |= json_object_set_new(o, "pid", json_integer(st->pid));
	bad |= json_object_set_new(o, "pstart", st->pstart ? json_integer((json_int_t)st->pstart) : json_null());
	bad |= set_time(o, "started", st->started);
	bad |= set_time(o, "updated", now);
	bad |= set_time(o, "last_connected", st->last_connected);
	bad |= set_time(o, "last_inbound", st->last_inbound);
	bad |= set_str(o, "last_error", st->last_error);
	bad |= set_str(o, "class", st->klass);
	bad |= json_object_set_new(o, "code", st->code ? json_integer(st->code) : json_null());
	bad |= json_object_set_new(o, "reconnects", json_integer((json_int_t)st->reconnects));
	bad |= json_object_set_new(o, "reconnects_since_online",
	    json_integer((json_int_t)st->reconnects_since_online));
	bad |= set_time(o, "next_attempt", st->next_attempt);
	bad |= json_object_set_new(o, "exit_code", st->exit_code >= 0 ? json_integer(st->exit_code) : json_null());
	bad |= json_object_set_new(o, "version", json_string(WA_VERSION));
	bad |= set_str(o, "inbox", st->inbox);
	bad |= set_time(o, "last_message", st->last_message);
	bad |= json_object_set_new(o, "messages_received", json_integer((json_int_t)st->messages_received));
	bad |= json_object_set_new(o, "undecryptable", json_integer((json_int_t)st->undecryptable));
	bad |= set_classes(o, "decrypt_failures", st->decrypt_failures);
	bad |= set_classes(o, "decrypt_failures_recent", st->decrypt_recent);
	bad |= json_object_set_new(o, "retries", json_integer((json_int_t)st->retries));
	bad |= json_object_set_new(o, "repaired", json_integer((json_int_t)st->repaired));
	bad |= json_object_set_new(o, "quarantined", json_integer((json_int_t)st->quarantined));
	bad |= set_time(o, "phone_seen", st->phone_seen);
	bad |= set_time(o, "phone_pinged", st->phone_pinged);
	bad |= set_str(o, "outbox", st->outbox);
	bad |= json_object_set_new(o, "messages_sent", json_integer((json_int_t)st->messages_sent));
	bad |= json_object_set_new(o, "outbox_backlog", json_integer((json_int_t)st->outbox_backlog));
	bad |= set_time(o, "last_sent", st->last_sent);
	if (bad) {
		json_decref(o);
		return WA_ENOMEM;
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return WA_ENOMEM;
	n = strlen(s);
	if (!(r = realloc(s, n + 2))) {
		free(s);
		return WA_ENOMEM;
	}
	r[n] = '\n';
	r[n + 1] = 0;
	*out = r;
	*len = n + 1;
	return 0;
}

static int
get_time(int64_t *ms, const json_t *o, const char *k, int lenient)
{
	const json_t *v = json_object_get(o, k);

	*ms = 0;
	if (json_is_null(v) || (lenient && !v))
		return 0;
	if (lenient && (json_is_integer(v) || json_is_real(v))) {
		double d = json_number_value(v);
		if (d > 1e11)
			d /= 1000;          /* milliseconds */
		if (d <= 0 || d > 1e11)
			return WA_ECORRUPT;
		*ms = (int64_t)d * 1000;
		return 0;
	}
	if (!json_is_string(v))
		return WA_ECORRUPT;
	return wa_time_parse(ms, json_string_value(v)) < 0 ? WA_ECORRUPT : 0;
}

static int
get_str(char *dst, size_t n, const json_t *o, const char *k, int lenient)
{
	const json_t *v = json_object_get(o, k);

	dst[0] = 0;
	if (json_is_null(v) || (lenient && !v))
		return 0;
	if (!json_is_string(v))
		return WA_ECORRUPT;
	snprintf(dst, n, "%s", json_string_value(v));
	return 0;
}

static int
get_int(long long *x, const json_t *o, const char *k, int nullable)
{
	const json_t *v = json_object_get(o, k);

	if (nullable && json_is_null(v)) {
		*x = -1;
		return 0;
	}
	if (!json_is_integer(v))
		return WA_ECORRUPT;   /* lenient callers keep the default in *x */
	*x = json_integer_value(v);
	return 0;
}

/* {"class": count, ...} into c by class index (unknown names: "other").
 * Strict: a value that is not an object of non-negative integers is
 * corrupt; lenient: what is not one is skipped. */
static int
get_classes(unsigned long *c, const json_t *o, const char *k, int lenient)
{
	const json_t *m = json_object_get(o, k), *v;
	const char *name;
	size_t i;

	if (!m)
		return 0;
	if (!json_is_object(m))
		return lenient ? 0 : WA_ECORRUPT;
	json_object_foreach((json_t *)m, name, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			if (!lenient)
				return WA_ECORRUPT;
			continue;
		}
		for (i = 1; i < WA_STATUS_CLASSES; i++)
			if (wa_status_class_name(i) && strcmp(name, wa_status_class_name(i)) == 0)
				break;
		c[i < WA_STATUS_CLASSES ? i : 0] += (unsigned long)json_integer_value(v);
	}
	return 0;
}

/* strict: the first bad field fails the object; lenient: it keeps its
 * default and the rest is read */
#define FIELD(call) do { if ((call) < 0 && !lenient) return WA_ECORRUPT; } while (0)
/* a field added later: absent in an older wa-run's file, in either mode */
#define LATER(k) (lenient || !json_object_get(o, (k)))

int
wa_status_decode(struct wa_status *st, const json_t *o, int flags)
{
	int lenient = flags & WA_STATUS_LENIENT;
	const json_t *v;
	long long x;
	size_t i;
	int s;

	memset(st, 0, sizeof *st);
	st->exit_code = -1;
	st->state = WA_ST_COUNT;
	if (!json_is_object(o))
		return WA_ECORRUPT;
	v = json_object_get(o, "state");
	if (json_is_string(v))
		snprintf(st->state_name, sizeof st->state_name, "%s", json_string_value(v));
	if ((s = wa_state_parse(st->state_name)) >= 0)
		st->state = (enum wa_state)s;
	else if (!lenient)
		return WA_ECORRUPT;
	FIELD(get_time(&st->since, o, "since", lenient));
	FIELD(get_time(&st->started, o, "started", lenient));
	FIELD(get_time(&st->last_connected, o, "last_connected", lenient));
	FIELD(get_time(&st->last_inbound, o, "last_inbound", lenient));
	FIELD(get_time(&st->next_attempt, o, "next_attempt", lenient));
	FIELD(get_str(st->last_error, sizeof st->last_error, o, "last_error", lenient));
	FIELD(get_str(st->klass, sizeof st->klass, o, "class", lenient));
	x = 0;
	FIELD(get_int(&x, o, "pid", 0));
	st->pid = x > 0 && x < 0x7fffffff ? (long)x : 0;
	x = -1;
	FIELD(get_int(&x, o, "pstart", 1));
	st->pstart = x < 0 ? 0 : (unsigned long long)x;
	x = -1;
	FIELD(get_int(&x, o, "code", 1));
	st->code = x < 0 ? 0 : (int)x;
	x = 0;
	FIELD(get_int(&x, o, "reconnects", 0));
	st->reconnects = x < 0 ? 0 : (unsigned long)x;
	x = 0;
	FIELD(get_int(&x, o, "reconnects_since_online", 0));
	st->reconnects_since_online = x < 0 ? 0 : (unsigned long)x;
	x = -1;
	FIELD(get_int(&x, o, "exit_code", 1));
	st->exit_code = x >= 0 && x < 256 ? (int)x : -1;
	FIELD(get_str(st->inbox, sizeof st->inbox, o, "inbox", LATER("inbox")));
	FIELD(get_time(&st->last_message, o, "last_message", LATER("last_message")));
	if (json_object_get(o, "messages_received")) {
		x = 0;
		FIELD(get_int(&x, o, "messages_received", 0));
		st->messages_received = x < 0 ? 0 : (unsigned long)x;
	}
	if (json_object_get(o, "undecryptable")) {
		x = 0;
		FIELD(get_int(&x, o, "undecryptable", 0));
		st->undecryptable = x < 0 ? 0 : (unsigned long)x;
	}
	FIELD(get_time(&st->updated, o, "updated", LATER("updated")));
	FIELD(get_time(&st->phone_seen, o, "phone_seen", LATER("phone_seen")));
	FIELD(get_time(&st->phone_pinged, o, "phone_pinged", LATER("phone_pinged")));
	FIELD(get_time(&st->last_sent, o, "last_sent", LATER("last_sent")));
	/* the self-healing fields came later still */
	st->heal = json_is_object(json_object_get(o, "decrypt_failures"));
	FIELD(get_classes(st->decrypt_failures, o, "decrypt_failures", lenient));
	FIELD(get_classes(st->decrypt_recent, o, "decrypt_failures_recent", lenient));
	{
		static const char *const k[] = { "retries", "repaired", "quarantined", "messages_sent",
			"outbox_backlog" };
		unsigned long *dst[] = { &st->retries, &st->repaired, &st->quarantined, &st->messages_sent,
			&st->outbox_backlog };
		for (i = 0; i < 5; i++)
			if (json_object_get(o, k[i])) {
				x = 0;
				FIELD(get_int(&x, o, k[i], 0));
				*dst[i] = x < 0 ? 0 : (unsigned long)x;
			}
	}
	FIELD(get_str(st->outbox, sizeof st->outbox, o, "outbox", LATER("outbox")));
	return 0;
}

#undef LATER
#undef FIELD

int
wa_status_read(struct wa_status *st, int wafd)
{
	json_t *j;
	int rc;

	if ((rc = wa_json_read(&j, wafd, WA_STATUS, WA_SUBDIR, NULL)) < 0)
		return rc;
	rc = wa_status_decode(st, j, 0);
	json_decref(j);
	return rc;
}

int
wa_status_supersede(int wafd, int stagefd, const char *by, int64_t now)
{
	json_t *j = NULL, *sup;
	char when[40], *text;
	int rc;

	rc = wa_json_read(&j, wafd, WA_STATUS, WA_SUBDIR, NULL);
	if (rc == WA_ENOTFOUND || rc == WA_ECORRUPT || rc == WA_ETOOBIG)
		return 0;
	if (rc < 0)
		return rc;
	if (!json_is_object(j)) {
		json_decref(j);
		return 0;
	}
	wa_time_iso(when, sizeof when, now);
	if (!(sup = json_pack("{s:s, s:s}", "by", by, "at", when)) ||
	    json_object_set_new(j, "superseded", sup) < 0 ||
	    !(text = json_dumps(j, JSON_COMPACT))) {
		json_decref(j);
		return WA_ENOMEM;
	}
	json_decref(j);
	{
		size_t len = strlen(text);
		char *t = realloc(text, len + 2);
		if (!t) {
			free(text);
			return WA_ENOMEM;
		}
		text = t;
		text[len++] = '\n';
		text[len] = 0;
		rc = wa_durable_put(wafd, WA_STATUS, stagefd >= 0 ? stagefd : wafd, text, len);
	}
	free(text);
	return rc;
}

/* ---- the writer --------------------------------------------------------- */

void
wa_status_init(struct wa_statusw *w, int wafd, int stagefd, const struct wa_statusw_opts *o,
    int64_t now)
{
	memset(w, 0, sizeof *w);
	w->wafd = wafd;
	w->stagefd = stagefd;
	w->inbound_interval_ms = o && o->inbound_interval_ms > 0 ? o->inbound_interval_ms : 60000;
	w->st.state = WA_ST_STARTING;
	w->st.since = now;
	w->st.started = now;
	w->st.pid = (long)getpid();
	w->st.exit_code = -1;
	if (wa_compat_proc_start(getpid(), &w->st.pstart) < 0)
		w->st.pstart = 0;
	w->dirty = 1;
}

/* The recent window at now from the minute slots: 1 when it changed. */
static int
recent_update(struct wa_statusw *w, int64_t now)
{
	unsigned long r[WA_STATUS_CLASSES] = { 0 };
	int64_t m = now / 60000;
	size_t s, i;

	for (s = 0; s < WA_STATUS_WINDOW_MIN; s++)
		if (w->slot_min[s] > m - WA_STATUS_WINDOW_MIN && w->slot_min[s] <= m)
			for (i = 0; i < WA_STATUS_CLASSES; i++)
				r[i] += w->slot[s][i];
	if (memcmp(r, w->st.decrypt_recent, sizeof r) == 0)
		return 0;
	memcpy(w->st.decrypt_recent, r, sizeof r);
	return 1;
}

int
wa_status_flush(struct wa_statusw *w, int64_t now)
{
	char *buf;
	size_t len;
	int rc;

	if (recent_update(w, now))
		w->heal_changes++;
	if ((rc = wa_status_encode(&buf, &len, &w->st, now)) < 0)
		return rc;
	rc = wa_durable_put(w->wafd, WA_STATUS, w->stagefd, buf, len);
	free(buf);
	if (rc == 0 || rc == WA_ESYNC) {
		/* renamed in both cases: the file holds this version */
		if (w->inbound_written != w->st.last_inbound ||
		    w->messages_written != w->st.messages_received) {
			w->inbound_written = w->st.last_inbound;
			w->messages_written = w->st.messages_received;
			w->lazy_written_at = now;
		}
		if (w->heal_written != w->heal_changes) {
			w->heal_written = w->heal_changes;
			w->lazy_written_at = now;
		}
		if (w->phone_written != w->st.phone_seen) {
			w->phone_written = w->st.phone_seen;
			w->lazy_written_at = now;
		}
		w->written_at = now;
		w->dirty = 0;
		w->writes++;
	}
	return rc;
}

int
wa_status_state(struct wa_statusw *w, enum wa_state s, int64_t now)
{
	if (s != w->st.state || !w->written_at) {
		w->st.state = s;
		w->st.since = now;
		w->dirty = 1;
	}
	if (!w->dirty)
		return 0;
	return wa_status_flush(w, now);
}

static void
copyline(char *dst, size_t n, const char *s)
{
	size_t i;

	snprintf(dst, n, "%s", s ? s : "");
	for (i = 0; dst[i]; i++)
		if ((unsigned char)dst[i] < 0x20)
			dst[i] = ' ';
}

void
wa_status_error(struct wa_statusw *w, const char *klass, int code, const char *text)
{
	copyline(w->st.klass, sizeof w->st.klass, klass);
	copyline(w->st.last_error, sizeof w->st.last_error, text);
	w->st.code = code;
	w->dirty = 1;
}

void
wa_status_online(struct wa_statusw *w, int64_t now)
{
	w->st.last_connected = now;
	w->st.reconnects_since_online = 0;
	w->st.next_attempt = 0;
	w->dirty = 1;
}

void
wa_status_attempt(struct wa_statusw *w)
{
	w->st.reconnects++;
	w->st.reconnects_since_online++;
	w->dirty = 1;
}

void
wa_status_next(struct wa_statusw *w, int64_t when)
{
	w->st.next_attempt = when;
	w->dirty = 1;
}

void
wa_status_exit(struct wa_statusw *w, int exit_code)
{
	w->st.exit_code = exit_code;
	w->dirty = 1;
}

void
wa_status_inbox(struct wa_statusw *w, const char *path)
{
	copyline(w->st.inbox, sizeof w->st.inbox, path);
	w->dirty = 1;
}

void
wa_status_outbox(struct wa_statusw *w, const char *path)
{
	copyline(w->st.outbox, sizeof w->st.outbox, path);
	w->dirty = 1;
}

void
wa_status_sending(struct wa_statusw *w, int64_t now, unsigned long sent, unsigned long backlog)
{
	if (sent == w->st.messages_sent && backlog == w->st.outbox_backlog)
		return;
	if (sent > w->st.messages_sent)
		w->st.last_sent = now;
	w->st.messages_sent = sent;
	w->st.outbox_backlog = backlog;
	w->heal_changes++;	/* written lazily, with the self-healing counters */
}

void
wa_status_message(struct wa_statusw *w, int64_t now, int ok)
{
	w->st.last_message = now;
	w->st.messages_received++;
	if (!ok)
		w->st.undecryptable++;
}

void
wa_status_heal(struct wa_statusw *w, int64_t now, const unsigned long *failures, size_t n,
    unsigned long retries, unsigned long repaired, unsigned long quarantined)
{
	unsigned long f[WA_STATUS_CLASSES] = { 0 };
	int64_t m = now / 60000;
	size_t s = (size_t)(m % WA_STATUS_WINDOW_MIN), i;
	int changed = 0;

	for (i = 0; i < n; i++)
		f[i < WA_STATUS_CLASSES ? i : 0] += failures[i];
	for (i = 0; i < WA_STATUS_CLASSES; i++) {
		if (f[i] == w->st.decrypt_failures[i])
			continue;
		if (f[i] > w->st.decrypt_failures[i]) {
			if (w->slot_min[s] != m) {
				memset(w->slot[s], 0, sizeof w->slot[s]);
				w->slot_min[s] = m;
			}
			w->slot[s][i] += f[i] - w->st.decrypt_failures[i];
		}
		w->st.decrypt_failures[i] = f[i];
		changed = 1;
	}
	if (retries != w->st.retries || repaired != w->st.repaired || quarantined != w->st.quarantined) {
		w->st.retries = retries;
		w->st.repaired = repaired;
		w->st.quarantined = quarantined;
		changed = 1;
	}
	if (recent_update(w, now))
		changed = 1;
	if (changed)
		w->heal_changes++;
}

void
wa_status_phone(struct wa_statusw *w, int64_t now)
{
	w->st.phone_seen = now;
}

void
wa_status_phone_pinged(struct wa_statusw *w, int64_t now)
{
	w->st.phone_pinged = now;
	w->dirty = 1;
}

void
wa_status_phone_restore(struct wa_statusw *w, int64_t seen, int64_t pinged)
{
	w->st.phone_seen = w->phone_written = seen;
	w->st.phone_pinged = pinged;
}

int
wa_status_inbound(struct wa_statusw *w, int64_t now)
{
	w->st.last_inbound = now;
	return wa_status_tick(w, now);
}

int
wa_status_tick(struct wa_statusw *w, int64_t now)
{
	int inbound = w->st.last_inbound != w->inbound_written;
	int message = w->st.messages_received != w->messages_written;
	int phone = w->st.phone_seen != w->phone_written;
	int heal;

	if (recent_update(w, now))   /* failures aging out of the window */
		w->heal_changes++;
	heal = w->heal_changes != w->heal_written;
	if (!inbound && !message && !heal && !phone)
		return 0;
	if (phone && !w->phone_first) {
		w->phone_first = 1;
		return wa_status_flush(w, now);
	}
	/* the first inbound, the first message and the first self-healing
	 * change are written at once (e.g. right after online), later ones
	 * once the last write of a new one is interval old */
	if ((inbound && !w->inbound_written) || (message && !w->messages_written) || (heal && !w->heal_written))
		return wa_status_flush(w, now);
	if (now - w->lazy_written_at < w->inbound_interval_ms)
		return 0;
	return wa_status_flush(w, now);
}

/* ---- event history ------------------------------------------------------- */

struct wa_eventlog {
	int wafd;
	int fd;
	off_t size;
	long max_bytes;
	int keep;
	int nosync;
	unsigned long rotations;
};

static int
open_log(struct wa_eventlog *l)
{
	struct stat st;
	char last;
	int fd;

	fd = openat(l->wafd, WA_EVENTS, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0)
		return errno == ELOOP ? WA_EUNSAFE : WA_ESYS;
	if (fstat(fd, &st) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return WA_ESYS;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return WA_EUNSAFE;
	}
	l->fd = fd;
	l->size = st.st_size;
	if (st.st_size > 0) {
		/* a torn last line: end it, so it stays one bad line */
		int rfd = openat(l->wafd, WA_EVENTS, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		ssize_t n = -1;
		if (rfd >= 0) {
			n = pread(rfd, &last, 1, st.st_size - 1);
			close(rfd);
		}
		if (n == 1 && last != '\n') {
			if (write(fd, "\n", 1) != 1)
				return WA_ESYS;
			l->size++;
		}
	}
	return 0;
}

int
wa_eventlog_open(struct wa_eventlog **out, int wafd, const struct wa_eventlog_opts *o)
{
	struct wa_eventlog *l;
	int rc;

	*out = NULL;
	if (!(l = calloc(1, sizeof *l)))
		return WA_ENOMEM;
	l->wafd = wafd;
	l->fd = -1;
	l->max_bytes = o && o->max_bytes > 0 ? o->max_bytes : 1L << 20;
	l->keep = o && o->keep > 0 ? o->keep : 3;
	if (l->keep > 9)
		l->keep = 9;
	l->nosync = o ? o->nosync : 0;
	if ((rc = open_log(l)) < 0) {
		int saved = errno;
		if (l->fd >= 0)
			close(l->fd);
		free(l);
		errno = saved;
		return rc;
	}
	*out = l;
	return 0;
}

static int
rotate(struct wa_eventlog *l)
{
	char from[64], to[64];
	int i, rc;

	snprintf(to, sizeof to, "%s.%d", WA_EVENTS, l->keep);
	if (unlinkat(l->wafd, to, 0) < 0 && errno != ENOENT)
		return WA_ESYS;
	for (i = l->keep - 1; i >= 0; i--) {
		if (i)
			snprintf(from, sizeof from, "%s.%d", WA_EVENTS, i);
		else
			snprintf(from, sizeof from, "%s", WA_EVENTS);
		snprintf(to, sizeof to, "%s.%d", WA_EVENTS, i + 1);
		rc = wa_durable_move(l->wafd, from, l->wafd, to);
		if (rc == WA_EEXIST) {
			/* only if something else put it there: history, not data */
			if (unlinkat(l->wafd, to, 0) < 0)
				return WA_ESYS;
			rc = wa_durable_move(l->wafd, from, l->wafd, to);
		}
		if (rc == WA_ESYS && errno == ENOENT)
			continue;   /* a gap left by a crash mid-rotation */
		if (rc < 0)
			return rc;
	}
	close(l->fd);
	l->fd = -1;
	if ((rc = open_log(l)) < 0)
		return rc;
	l->rotations++;
	return l->nosync ? 0 : wa_durable_syncfd(l->wafd);
}

int
wa_eventlog_append(struct wa_eventlog *l, const char *line, size_t len)
{
	char *buf = NULL;
	const char *p = line;
	size_t n = len;
	ssize_t w;
	int rc;

	if (len == 0)
		return 0;
	if (len > LINE_MAX_BYTES)
		return WA_ETOOBIG;
	if (line[len - 1] != '\n') {
		/* one write per line: copy to add the newline */
		if (!(buf = malloc(len + 1)))
			return WA_ENOMEM;
		memcpy(buf, line, len);
		buf[len] = '\n';
		p = buf;
		n = len + 1;
	}
	if (l->fd < 0 && (rc = open_log(l)) < 0)
		goto out;
	if (l->size > 0 && l->size + (off_t)n > l->max_bytes && (rc = rotate(l)) < 0 && l->fd < 0)
		goto out;   /* a failed rotation keeps appending to the old file */
	do
		w = write(l->fd, p, n);
	while (w < 0 && errno == EINTR);
	if (w < 0) {
		rc = WA_ESYS;
		goto out;
	}
	l->size += w;
	if ((size_t)w < n) {
		/* disk full mid-line: try to end the torn line, report it */
		if (write(l->fd, "\n", 1) == 1)
			l->size++;
		errno = ENOSPC;
		rc = WA_ESYS;
		goto out;
	}
	rc = l->nosync ? 0 : wa_durable_syncfd(l->fd);
out:
	free(buf);
	return rc;
}

unsigned long
wa_eventlog_rotations(const struct wa_eventlog *l)
{
	return l->rotations;
}

void
wa_eventlog_close(struct wa_eventlog *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}

int
wa_eventlog_read(int wafd, const char *name, int (*fn)(void *arg, json_t *obj), void *arg,
    size_t *skipped)
{
	char *buf, *p, *end;
	size_t len, bad = 0;
	int rc;

	if ((rc = wa_file_read(&buf, &len, wafd, name, WA_SUBDIR, NULL)) < 0) {
		if (skipped)
			*skipped = 0;
		return rc;
	}
	p = buf;
	end = buf + len;
	rc = 0;
	while (p < end && rc == 0) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_error_t je;
		json_t *j;

		if (n > 0) {
			/* a line without its newline is the torn last line */
			j = nl ? json_loadb(p, n, JSON_REJECT_DUPLICATES, &je) : NULL;
			if (json_is_object(j))
				rc = fn(arg, j);
			else
				bad++;
			json_decref(j);
		}
		p += n + (nl ? 1 : 0);
	}
	free(buf);
	if (skipped)
		*skipped = bad;
	return rc;
}
