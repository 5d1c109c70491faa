/*
 * wa-run - keep one auth folder's WhatsApp session online: log in, stay
 * up (keepalive), and when the connection ends, do what its class says
 * (reconnect at once, back off, wait out a ban, or exit with a code of
 * its own), telling the operator each step: a status file, an event
 * history, JSON lines on standard output, --on-event, --webhook and
 * systemd's notify socket.
 *
 * The pieces are in lib/: session.h (one connection), disconnect.h (the
 * classes), backoff.h (the delays), loop.h, status.h, event.h, notify.h,
 * sdnotify.h, outq.h.  This file wires them up: one poll loop, one
 * session at a time, and a small state machine
 *
 *	starting -> connecting -> online -> (disconnect) -> connecting | backoff | banned | final
 *
 * where the final states (status.h) end the process with the exit code
 * of their class.  Nothing here ever writes creds.json: the session does,
 * field by field, and no class deletes or rewrites credentials.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/authdir.h"
#include "base/backoff.h"
#include "store/creds.h"
#include "store/durable.h"
#include "store/scan.h"
#include "session/disconnect.h"
#include "ops/event.h"
#include "ops/metrics.h"
#include "base/file.h"
#include "base/loop.h"
#include "store/names.h"
#include "ops/notify.h"
#include "base/outq.h"
#include "ops/sdnotify.h"
#include "session/run.h"
#include "session/session.h"
#include "store/stage.h"
#include "ops/status.h"
#include "crypto/pair.h"
#include "session/recv.h"
#include "session/send.h"
#include "spool/outbox.h"
#include "session/retry.h"
#include "signal/cipher.h"
#include "signal/store.h"
#include "spool/spool.h"
#include "tool.h"
#include "base/version.h"

#define USAGE "wa-run [-hv] [--version] [-d dir] [--backoff base,cap] [--ban-wait min,max] " \
	"[--budget attempts,duration] [--debug] [--keepalive min,max,deadline] [--keep-sent days] " \
	"[--log file] [--inbox dir] [--login-timeout duration] [--on-event command] " \
	"[--on-message command] [--metrics file] [--outbox dir] [--passive] [--phone-ping duration] " \
	"[--retry-wait duration] [--stable duration] [--webhook url]"

#define STOP_MS 1000		/* SIGTERM: the orderly close may take this long */
#define CLOSE_MS 500		/* ... of which sending what is queued and the close frame */
#define GRACE_MS 3000		/* at exit: pending notifications and output get this long */
#define STOP_GRACE_MS 500	/* ... after a SIGTERM (exit within 2 s) */
#define TICK_MS 10000		/* status: write a pending last_inbound */
#define OUT_MAX (1u << 20)	/* event lines waiting for a slow standard output */
#define LOG_MAX (256u << 10)	/* log lines waiting for a slow standard error */
#define OUT_WARN_MS 60000	/* "standard output is not being read": at most this often */
#define RECV_BATCH 100		/* messages per group commit, at most */
#define METRICS_MS 5000		/* --metrics: looked at this often, written when it changed */
#define METRICS_MAX_MS 60000	/* ... and at least this often (uptime) */
#define PHONE_PING_MS (7L * 86400000)	/* --phone-ping default */
#define PHONE_PING_EVERY_MS 86400000L	/* at most one ping a day (mautrix-whatsapp's interval) */
#define OUTBOX_POLL_MS 1000	/* no inotify: look into the outbox's new/ this often */
#define PRUNE_MS 3600000	/* the outbox's cur/: pruned this often */

/* ---- configuration ----------------------------------------------------- */

struct cfg {
	int verbose;			/* 0 warnings, 1 -v, 2 --debug */
	const char *log_path;		/* --log */
	const char *on_event;		/* --on-event */
	const char *webhook;		/* --webhook */
	const char *inbox;		/* --inbox */
	const char *on_message;		/* --on-message */
	const char *metrics;		/* --metrics */
	long phone_ping;		/* --phone-ping, ms; 0 never */
	const char *outbox;		/* --outbox */
	int keep_sent;			/* --keep-sent, days */
	long retry_wait;		/* --retry-wait, ms */
	int passive;
	long ka_min, ka_max, ka_deadline;	/* ms */
	long login_timeout;		/* ms */
	struct wa_backoff_policy bp;
	long ban_min, ban_max;		/* s; 0: none / never */
};

/* "250ms", "2s", "5m", "1h", "1d", or a bare number of seconds; -1 when
 * malformed or over a day count that overflows. */
static long
dur_ms(const char *s)
{
	char *e;
	long long v;
	long mul;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &e, 10);
	if (errno || v < 0)
		return -1;
	if (strcmp(e, "ms") == 0)
		mul = 1;
	else if (!*e || strcmp(e, "s") == 0)
		mul = 1000;
	else if (strcmp(e, "m") == 0)
		mul = 60000;
	else if (strcmp(e, "h") == 0)
		mul = 3600000;
	else if (strcmp(e, "d") == 0)
		mul = 86400000;
	else
		return -1;
	if (v > 400LL * 86400000 / mul)
		return -1;
	return (long)(v * mul);
}

/* Split "a,b[,c]" into n durations in ms. */
static int
dur_list(const char *s, long *out, int n)
{
	char buf[128], *p, *comma;
	int i;

	if (strlen(s) >= sizeof buf)
		return -1;
	snprintf(buf, sizeof buf, "%s", s);
	p = buf;
	for (i = 0; i < n; i++) {
		comma = strchr(p, ',');
		if ((comma == NULL) != (i == n - 1))
			return -1;
		if (comma)
			*comma = 0;
		if ((out[i] = dur_ms(p)) < 0)
			return -1;
		p = comma ? comma + 1 : p;
	}
	return 0;
}

static void __attribute__((noreturn))
bad_value(const char *what, const char *v, const char *want)
{
	tool_err("%s: '%s' is not %s", what, v, want);
	tool_usage(USAGE, stderr, WA_EXIT_USAGE);
}

/* One timer setting, from an option or its environment variable. */
static void
set_timer(struct cfg *c, int opt, const char *v, const char *what)
{
	long d[3];
	char *e;
	long n;

	switch (opt) {
	case 'K':
		if (dur_list(v, d, 3) < 0 || d[0] <= 0 || d[1] < d[0] || d[2] <= 0 || d[1] > 86400000)
			bad_value(what, v, "min,max,deadline (durations, 0 < min <= max; e.g. 20s,30s,10s)");
		c->ka_min = d[0];
		c->ka_max = d[1];
		c->ka_deadline = d[2];
		break;
	case 'B':
		if (dur_list(v, d, 2) < 0 || d[0] <= 0 || d[1] < d[0])
			bad_value(what, v, "base,cap (durations, 0 < base <= cap; e.g. 1s,60s)");
		c->bp.base_ms = d[0];
		c->bp.cap_ms = d[1];
		break;
	case 'S':
		if ((n = dur_ms(v)) < 0)
			bad_value(what, v, "a duration (e.g. 60s)");
		c->bp.stable_ms = n;
		break;
	case 'U': {
		const char *comma = strchr(v, ',');
		errno = 0;
		n = strtol(v, &e, 10);
		if (!comma || e != comma || errno || n < 0 || v[0] < '0' || v[0] > '9' ||
		    (d[0] = dur_ms(comma + 1)) < 0)
			bad_value(what, v, "attempts,duration (0 turns a limit off; e.g. 100,1h)");
		c->bp.max_attempts = (unsigned)n;
		c->bp.max_total_ms = d[0];
		break;
	}
	case 'W':
		if (dur_list(v, d, 2) < 0 || (d[1] && d[1] < d[0]))
			bad_value(what, v, "min,max (durations; max 0: never wait; e.g. 60s,48h)");
		c->ban_min = (d[0] + 999) / 1000;
		c->ban_max = (d[1] + 999) / 1000;
		break;
	case 'L':
		if ((n = dur_ms(v)) <= 0 || n > 86400000)
			bad_value(what, v, "a duration over 0 (e.g. 20s)");
		c->login_timeout = n;
		break;
	}
}

static void
cfg_env(struct cfg *c)
{
	static const struct {
		int opt;
		const char *name;
	} env[] = {
		{ 'B', "WA_RUN_BACKOFF" },
		{ 'W', "WA_RUN_BAN_WAIT" },
		{ 'U', "WA_RUN_BUDGET" },
		{ 'K', "WA_RUN_KEEPALIVE" },
		{ 'L', "WA_RUN_LOGIN_TIMEOUT" },
		{ 'S', "WA_RUN_STABLE" },
	};
	const char *v;
	size_t i;

	for (i = 0; i < sizeof env / sizeof env[0]; i++)
		if ((v = getenv(env[i].name)) && *v)
			set_timer(c, env[i].opt, v, env[i].name);
}

/* ---- the running process ----------------------------------------------- */

struct run {
	struct cfg cfg;
	const char *dir;
	struct wa_authdir *ad;
	json_t *creds;
	struct wa_loop *loop;
	struct wa_run *run;		/* the state machine (lib/session/run.h) */
	struct wa_statusw sw;
	struct wa_eventlog *elog;
	struct wa_outq *out;
	struct wa_notify *notify;
	struct wa_sdnotify sd;
	int logfd;
	struct wa_outq *logq;		/* standard error (no --log): written without blocking */
	unsigned long log_dropped;	/* log lines dropped, reported so far */

	unsigned long seq;		/* events */
	enum wa_state state;		/* as the events and the status file last said */
	int wd_timer, tick_timer;
	int stopping;			/* the signal */
	int ready_sent;
	int status_err;			/* errno of the last failed status write, 0 */
	int sync_failed;		/* a status write was renamed but not flushed (R6) */
	int elog_err;
	unsigned long out_dropped;	/* reported so far */
	int64_t out_warned_at;		/* monotonic ms of the last such warning, 0 never */
	unsigned long out_suppressed;	/* drop warnings held back since then */
	int done, exit_code;
	sigset_t stopsigs;		/* SIGTERM, SIGINT, SIGHUP */
	char **cmd;			/* --on-event's words */
	char *absdir;			/* dir, allocated */
	/* receiving (recv.h): the inbox, the key store, the pipeline */
	char *inbox;			/* the inbox folder, absolute */
	struct wa_spool *spool;
	struct wa_sigstore *store;
	struct wa_recv *recv;
	struct wa_retries *retries;
	char **msgcmd;			/* --on-message's words */
	struct wa_notify *msgnotify;
	/* --metrics: the file's folder and name, what was last written */
	struct {
		int dirfd;
		char *name;
		int timer;
		int err;		/* errno of the last failed write, 0 */
		unsigned long reconnects[WA_METRICS_DC];
		long prekeys;		/* -1 unknown */
		struct wa_metrics last;	/* as last written, now_ms 0 */
		int64_t written_at;	/* mono ms, 0 never */
	} mx;
	/* our primary phone (device 0 of our own account) */
	struct {
		char pn[64], lid[64];	/* the users of me.id and me.lid */
		int offline;		/* phone_offline was fired for this silence */
		int64_t tried_at;	/* wall ms of the last ping attempt, 0 none */
		int nosession;		/* "no session" was said */
	} ph;
	/* sending (send.h): the outbox and the engine */
	char *outbox;			/* the outbox folder, absolute */
	struct wa_outbox *ob;
	struct wa_send *send;
	json_t *known;			/* job file name in new/ -> its chat: each job is read once to learn it */
	struct chatq *chatq;		/* the chats with jobs waiting, each's names in name order */
	size_t nchatq, capchatq;
	json_t *chatidx;		/* chat -> its index in chatq */
	int queued_stale;		/* list new/ again (only names not yet known are read) */
	json_t *fresh;			/* names the watch descriptor reported, to learn */
	json_t *names;			/* message id -> job file name, for the jobs handed to the engine */
	json_t *statuses;		/* message id -> status changed in this turn, to write */
	json_t *settled;		/* jobs settled in this turn: finished and reported at its end */
	int watch_id, poll_timer;
	int64_t pruned_at;
	/* where receiving spends its time, logged at exit with -v (bench/recv.mjs) */
	struct {
		unsigned long commits, stanzas, largest;
		int64_t take_us, commit_us;
	} rs;
};

/* One line on stderr (or --log FILE): "wa-run: [warning: ]text", with
 * the time in front in a file.  prefix: add the level's word. */
static void
vlog(struct run *r, enum wa_log_level lv, int prefix, const char *fmt, va_list ap)
{
	char line[1200], ts[40];
	size_t n = 0;
	int max = r->cfg.verbose >= 2 ? WA_LOG_DEBUG : r->cfg.verbose ? WA_LOG_INFO : WA_LOG_WARN;

	if ((int)lv > max)
		return;
	if (r->cfg.log_path) {
		wa_time_iso(ts, sizeof ts, wa_clock_wall_ms());
		n = (size_t)snprintf(line, sizeof line, "%s ", ts);
	}
	n += (size_t)snprintf(line + n, sizeof line - n, "%s: %s", tool_name, !prefix ? "" :
	    lv == WA_LOG_ERROR ? "error: " : lv == WA_LOG_WARN ? "warning: " : "");
	if (n < sizeof line)
		vsnprintf(line + n, sizeof line - n, fmt, ap);
	n = strlen(line);
	if (n >= sizeof line - 1)
		n = sizeof line - 2;
	line[n++] = '\n';
	/* standard error goes through a queue, like standard output: a
	 * reader that stops reading (2>&1 | stalled) must never block the
	 * session; lines it could not take are dropped and counted */
	if (r->logq && !r->cfg.log_path) {
		unsigned long d = wa_outq_dropped(r->logq);
		if (d > r->log_dropped && !wa_outq_pending(r->logq) && !wa_outq_error(r->logq)) {
			char note[160];
			int k = snprintf(note, sizeof note, "%s: warning: standard error was not being read: "
			    "%lu log lines dropped\n", tool_name, d - r->log_dropped);
			r->log_dropped = d;
			wa_outq_push(r->logq, note, (size_t)k);
		}
		wa_outq_push(r->logq, line, n);
		return;
	}
	/* one write: lines from the on-event commands sharing stderr do not
	 * cut into it; a failure to log has nowhere to be reported */
	if (write(r->logfd, line, n) < 0)
		(void)0;
}

static void __attribute__((format(printf, 3, 4)))
logmsg(struct run *r, enum wa_log_level lv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(r, lv, 1, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
lograw(struct run *r, enum wa_log_level lv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(r, lv, 0, fmt, ap);
	va_end(ap);
}

/* the run's and the session's lines (already redacted: no key bytes) as they are */
static void
run_log(void *arg, enum wa_log_level lv, const char *line)
{
	lograw(arg, lv, "%s", line);
}

static void warning(struct run *r, int log, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* notify's lines: each on stderr; the ones that lose a notification
 * (given up, dropped, could not run) are also a warning event */
static void
notify_log(void *arg, enum wa_notify_log kind, const char *line)
{
	struct run *r = arg;

	logmsg(r, WA_LOG_WARN, "%s", line);
	if (kind == WA_NOTIFY_LOST)
		warning(r, 0, "%s", line);
}

/* --log FILE: open (or reopen, SIGHUP) for appending. */
static int
open_log(struct run *r)
{
	int fd = open(r->cfg.log_path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
	    0600);

	if (fd < 0)
		return -1;
	if (r->logfd > 2)
		close(r->logfd);
	r->logfd = fd;
	return 0;
}

/* ---- events and state ------------------------------------------------- */

static void
emit(struct run *r, struct wa_event *e)
{
	char *line = NULL;
	size_t len;
	int rc;

	e->seq = ++r->seq;
	e->dir = r->dir;
	if (!e->ts)
		e->ts = wa_clock_wall_ms();
	if (wa_event_format(&line, &len, e) < 0) {
		logmsg(r, WA_LOG_ERROR, "out of memory formatting an event");
		return;
	}
	if (r->out)
		wa_outq_push(r->out, line, len);
	if (e->type == WA_EV_MESSAGE || e->type == WA_EV_RECEIPT || e->type == WA_EV_SENT ||
	    e->type == WA_EV_DELIVERED || e->type == WA_EV_READ) {
		/* message content never reaches the history or --on-event; nor
		 * does each message's fate (its status file has it, durably) */
		if (r->msgnotify && e->type == WA_EV_MESSAGE && wa_notify_event(r->msgnotify, e) < 0)
			logmsg(r, WA_LOG_WARN, "out of memory queueing --on-message");
		free(line);
		return;
	}
	if (r->elog) {
		rc = wa_eventlog_append(r->elog, line, len);
		if (rc < 0 && !r->elog_err) {
			r->elog_err = rc == WA_ESYS ? errno : EIO;
			logmsg(r, WA_LOG_WARN, "cannot append to '%s/%s/%s': %s (further failures not reported)",
			    r->dir, WA_SUBDIR, WA_EVENTS, rc == WA_ESYS ? strerror(r->elog_err) : wa_strerror(rc));
		} else if (rc == 0 && r->elog_err) {
			logmsg(r, WA_LOG_WARN, "'%s/%s/%s' is written again", r->dir, WA_SUBDIR, WA_EVENTS);
			r->elog_err = 0;
		}
	}
	if (r->notify && wa_notify_event(r->notify, e) < 0)
		logmsg(r, WA_LOG_WARN, "out of memory queueing a notification");
	free(line);
	/* standard output nobody reads: say so at once, then at most once
	 * every OUT_WARN_MS with the lines dropped meanwhile */
	if (r->out && wa_outq_dropped(r->out) > r->out_dropped) {
		unsigned long d = wa_outq_dropped(r->out);
		int64_t now = wa_clock_mono_ms();
		if (wa_outq_error(r->out)) {
			if (!r->out_dropped)
				logmsg(r, WA_LOG_WARN, "standard output: %s; events go on in '%s/%s/%s'",
				    strerror(wa_outq_error(r->out)), r->dir, WA_SUBDIR, WA_EVENTS);
		} else if (r->out_warned_at && now - r->out_warned_at < OUT_WARN_MS) {
			r->out_suppressed++;
			return;
		} else {
			if (r->out_suppressed)
				logmsg(r, WA_LOG_WARN, "standard output is not being read: %lu event lines "
				    "dropped in the last %ld s (%lu such warnings suppressed; the lines are in "
				    "'%s/%s/%s')", d - r->out_dropped, (long)((now - r->out_warned_at) / 1000),
				    r->out_suppressed, r->dir, WA_SUBDIR, WA_EVENTS);
			else
				logmsg(r, WA_LOG_WARN, "standard output is not being read: %lu event lines "
				    "dropped (they are in '%s/%s/%s'; this warning repeats at most every %d s)",
				    d - r->out_dropped, r->dir, WA_SUBDIR, WA_EVENTS, OUT_WARN_MS / 1000);
			r->out_warned_at = now;
			r->out_suppressed = 0;
		}
		r->out_dropped = d;
	}
}

/* A warning event (and, when log is set, the same line on stderr). */

static void
warning(struct run *r, int log, const char *fmt, ...)
{
	struct wa_event e;
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (log)
		logmsg(r, WA_LOG_WARN, "%s", text);
	wa_event_init(&e, WA_EV_WARNING, r->state);
	e.reason = text;
	emit(r, &e);
}

static void finish(struct run *r, enum wa_state st, int code, const char *reason, const char *klass,
    int dccode, int outage);
static void fail(struct run *r, int err, const char *reason);

/* A status write failed: ENOSPC and friends are warned about and retried
 * with the next write (R7); a rename whose directory fsync failed means
 * the disk cannot be trusted: exit (R6). */
static void
status_failed(struct run *r, int rc)
{
	int e = rc == WA_ESYS ? errno : 0;

	if (rc == WA_ESYNC) {
		r->sync_failed = 1;
		if (!r->done)
			fail(r, WA_ESYNC, "'.wa/status.json' was renamed but the folder could not be flushed "
			    "to disk (fsync failed): exiting so that a restart finds a disk it can trust");
		return;
	}
	if (e && e == r->status_err)
		return;
	r->status_err = e ? e : EIO;
	warning(r, 1, "cannot write '%s/%s/%s': %s; the next state change tries again", r->dir, WA_SUBDIR,
	    WA_STATUS, e ? strerror(e) : wa_strerror(rc));
}

static void
status_ok(struct run *r)
{
	if (r->status_err) {
		logmsg(r, WA_LOG_WARN, "'%s/%s/%s' is written again", r->dir, WA_SUBDIR, WA_STATUS);
		r->status_err = 0;
	}
}

static void
sd_status(struct run *r, const char *what)
{
	char msg[320];

	snprintf(msg, sizeof msg, "STATUS=%s", what);
	wa_sdnotify_send(&r->sd, msg);
}

/* A reason as the log shows it after the state's name: "stopped:
 * SIGTERM" after "stopped" is "SIGTERM" (one wording, no stutter). */
static const char *
unstutter(enum wa_state st, const char *reason)
{
	size_t n = strlen(wa_state_name(st));

	if (reason && strncmp(reason, wa_state_name(st), n) == 0 && reason[n] == ':' && reason[n + 1] == ' ')
		return reason + n + 2;
	return reason;
}

static void metrics_write(struct run *r, int force);

/* Move to st: status file, then the state event. */
static void
set_state(struct run *r, enum wa_state st, const char *reason, const char *klass, int code, int outage)
{
	enum wa_state prev = r->state;
	struct wa_event e;
	char what[300];
	int rc;

	r->state = st;
	rc = wa_status_state(&r->sw, st, wa_clock_wall_ms());
	if (st != prev) {
		wa_event_init(&e, WA_EV_STATE, st);
		e.prev = prev;
		e.reason = reason;
		e.klass = klass;
		e.code = code;
		e.outage = outage;
		emit(r, &e);
		reason = unstutter(st, reason);
		logmsg(r, WA_LOG_INFO, "state %s -> %s%s%s", wa_state_name(prev), wa_state_name(st),
		    reason ? ": " : "", reason ? reason : "");
		snprintf(what, sizeof what, "%s%s%s", wa_state_name(st), reason ? ": " : "", reason ? reason : "");
		sd_status(r, what);
	}
	if (rc < 0)
		status_failed(r, rc);
	else
		status_ok(r);
	metrics_write(r, 1);
}

/* ---- the end ---------------------------------------------------------- */

static const char *
signame(int signo)
{
	switch (signo) {
	case SIGTERM: return "SIGTERM";
	case SIGINT: return "SIGINT";
	case SIGHUP: return "SIGHUP";
	default: return "a signal";
	}
}

static void
cancel_timers(struct run *r)
{
	int *t[] = { &r->wd_timer, &r->tick_timer, &r->mx.timer };
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (*t[i])
			wa_loop_timer_cancel(r->loop, *t[i]);
		*t[i] = 0;
	}
}

static const char *
hint(enum wa_state st)
{
	switch (st) {
	case WA_ST_LOGGED_OUT: return "; creds.json is left as it was: pair again with wa-pair";
	case WA_ST_REPLACED: return "; another client uses these credentials: stop it (wa-run does not fight it)";
	case WA_ST_OUTDATED: return "; update wa";
	case WA_ST_RETRIES_EXHAUSTED: return "; giving up for the supervisor to decide";
	default: return "";
	}
}

/* Enter a final state and stop the loop; the caller's round ends, then
 * main drains the notifications and exits with code. */
static void
finish(struct run *r, enum wa_state st, int code, const char *reason, const char *klass, int dccode,
    int outage)
{
	struct wa_event e;

	if (r->done)
		return;
	r->done = 1;
	r->exit_code = code;
	cancel_timers(r);
	wa_status_next(&r->sw, 0);
	wa_status_exit(&r->sw, code);
	if (klass)
		wa_status_error(&r->sw, klass, dccode, reason);
	/* an outage that was notified as down is notified as over */
	set_state(r, st, reason, klass, dccode, outage);
	/* the final state could not be made durable: not a clean exit (R6) */
	if (code == WA_EXIT_OK && r->sync_failed)
		r->exit_code = code = WA_EXIT_IOERR;
	wa_event_init(&e, WA_EV_EXIT, st);
	e.exit_code = code;
	emit(r, &e);
	wa_sdnotify_send(&r->sd, "STOPPING=1");
	if (r->rs.commits)
		logmsg(r, WA_LOG_INFO, "inbox: %lu stanzas in %lu group commits (largest %lu); "
		    "%lld ms taking them (decrypt, stage), %lld ms committing and replying",
		    r->rs.stanzas, r->rs.commits, r->rs.largest, (long long)(r->rs.take_us / 1000),
		    (long long)(r->rs.commit_us / 1000));
	if (code == WA_EXIT_OK)
		logmsg(r, WA_LOG_INFO, "exit 0, %s%s%s", wa_state_name(st), reason ? ": " : "",
		    reason ? unstutter(st, reason) : "");
	else
		lograw(r, WA_LOG_ERROR, "%s%s (%s, exit %d)", reason ? reason : wa_state_name(st), hint(st),
		    wa_state_name(st), code);
	wa_loop_stop(r->loop);
}

/* ---- the run's hooks (lib/session/run.h) ------------------------------------ */

static void flush_turn(struct run *r);
static void requeue(struct run *r);
static void status_sending(struct run *r);
static void prune_outbox(struct run *r);
static int pump_outbox(struct run *r, char why_out[WA_WHY_MAX]);

/* The exit status of a run's end. */
static int
end_code(const struct wa_run_end *e)
{
	if (e->retries_spent)
		return WA_EXIT_RETRIES;
	if (e->dc)
		return tool_exit_for_dc(e->dc);
	if (e->err)
		return e->err == WA_EINVAL || e->err == WA_ESYNC ? tool_exit_for(e->err) : WA_EXIT_SOFTWARE;
	return WA_EXIT_OK;	/* stopped */
}

/* A local failure: the run ends failed (or, before it exists, the process). */
static void
fail(struct run *r, int err, const char *reason)
{
	if (r->run && !wa_run_done(r->run))
		wa_run_fail(r->run, err, reason);
	else
		finish(r, WA_ST_FAILED, err == WA_ESYNC ? tool_exit_for(err) : WA_EXIT_SOFTWARE, reason, "local",
		    0, WA_OUTAGE_NONE);
}

static void
on_state(void *arg, struct wa_run *run, const struct wa_run_change *c)
{
	struct run *r = arg;

	(void)run;
	if (c->state == WA_ST_CONNECTING && c->connects > 1)
		wa_status_attempt(&r->sw);
	if (c->state == WA_ST_ONLINE)
		wa_status_online(&r->sw, wa_clock_wall_ms());
	wa_status_next(&r->sw, c->next_at);
	set_state(r, c->state, c->reason, c->klass, c->code, c->outage);
}

static void
on_connecting(void *arg, struct wa_run *run, unsigned attempt)
{
	struct wa_event e;

	(void)run;
	wa_event_init(&e, WA_EV_CONNECTING, WA_ST_CONNECTING);
	e.attempt = attempt;
	emit(arg, &e);
}

static void
on_online(void *arg, struct wa_run *run, unsigned attempt, int64_t downtime_ms, int outage)
{
	struct run *r = arg;
	struct wa_event e;

	(void)run;
	wa_event_init(&e, WA_EV_ONLINE, WA_ST_ONLINE);
	e.attempt = attempt;
	e.downtime_ms = downtime_ms;
	e.outage = outage;
	emit(r, &e);
	if (e.outage && e.downtime_ms >= 0)
		logmsg(r, WA_LOG_WARN, "online again after %lld ms offline", (long long)e.downtime_ms);
	else if (e.outage)
		logmsg(r, WA_LOG_WARN, "online after %u failed attempts", attempt);
	if (!r->ready_sent) {
		wa_sdnotify_send(&r->sd, "READY=1\nSTATUS=online");
		r->ready_sent = 1;
	}
}

static void
on_disconnect(void *arg, struct wa_run *run, const struct wa_dc *dc, const char *action, int64_t online_ms)
{
	struct run *r = arg;
	struct wa_event e;

	(void)run;
	/* what the server acknowledged before the end: settled first */
	if (r->send)
		flush_turn(r);
	wa_event_init(&e, WA_EV_DISCONNECT, r->state);
	e.klass = wa_dc_class_name(dc->klass);
	e.code = dc->code;
	e.reason = dc->reason;
	e.action = action;
	e.online_ms = online_ms;
	emit(r, &e);
	logmsg(r, dc->klass == WA_DC_STOPPED || dc->klass == WA_DC_RESTART ? WA_LOG_INFO : WA_LOG_WARN,
	    "disconnected: %s (%s, %s)", dc->reason, wa_dc_class_name(dc->klass), action);
	wa_status_error(&r->sw, wa_dc_class_name(dc->klass), dc->code, dc->reason);
	if (strcmp(action, "exit") != 0 && dc->klass != WA_DC_STOPPED && (size_t)dc->klass < WA_METRICS_DC)
		r->mx.reconnects[dc->klass]++;
	/* the jobs in flight stay queued: sent again, freshly encrypted, once online */
	if (r->send) {
		wa_send_connection_lost(r->send);
		json_object_clear(r->names);
		requeue(r);
	}
}

static void
on_banned(void *arg, struct wa_run *run, int ban_code, int64_t until_ms)
{
	struct wa_event e;

	(void)run;
	wa_event_init(&e, WA_EV_BANNED, WA_ST_BANNED);
	e.ban_code = ban_code;
	e.until = until_ms;
	emit(arg, &e);
}

static void
on_reconnect(void *arg, struct wa_run *run, long delay_ms, unsigned attempt, int64_t at_ms)
{
	struct run *r = arg;
	struct wa_event e;

	(void)run;
	wa_event_init(&e, WA_EV_RECONNECT, r->state);
	e.delay_ms = delay_ms;
	e.attempt = attempt;
	e.at = at_ms;
	emit(r, &e);
	logmsg(r, WA_LOG_INFO, "reconnecting in %ld ms (attempt %u)", delay_ms, attempt);
}

static void
on_prekeys(void *arg, struct wa_run *run, const struct wa_session_prekeys *p)
{
	struct run *r = arg;
	struct wa_event e;

	(void)run;
	if (p->rc < 0) {
		warning(r, 0, "pre-keys: %s", p->why);	/* the session logged it */
		return;
	}
	r->mx.prekeys = p->server_count;
	wa_event_init(&e, WA_EV_PREKEYS, r->state);
	e.server_count = p->server_count;
	e.uploaded = p->uploaded;
	emit(r, &e);
	if (p->uploaded)
		logmsg(r, WA_LOG_INFO, "%u pre-keys uploaded (%u..%u)", p->uploaded, p->first, p->last);
}

static void
on_inbound(void *arg, struct wa_run *run, time_t when)
{
	struct run *r = arg;
	int rc;

	(void)run;
	(void)when;
	if ((rc = wa_status_inbound(&r->sw, wa_clock_wall_ms())) < 0)
		status_failed(r, rc);
}

static void
on_end(void *arg, struct wa_run *run, const struct wa_run_end *e)
{
	(void)run;
	finish(arg, e->state, end_code(e), e->reason, e->klass, e->code, e->outage);
}

/* ---- timers and signals ---------------------------------------------------- */

static void
watchdog(void *arg)
{
	struct run *r = arg;
	int rc;

	r->wd_timer = 0;
	if (r->done)
		return;
	wa_sdnotify_send(&r->sd, "WATCHDOG=1");
	if ((rc = wa_loop_timer(r->loop, wa_sdnotify_watchdog_ms(&r->sd), watchdog, r)) > 0)
		r->wd_timer = rc;
}

static int flush_inbox(struct run *r, char why_out[WA_WHY_MAX]);
static void status_heal(struct run *r);
static void phone_check(struct run *r);
static void phone_restore(struct run *r);

/* The tick: TICK_MS, or often enough for a short --retry-wait. */
static int
tick_ms(const struct run *r)
{
	long w = r->cfg.retry_wait ? r->cfg.retry_wait / 2 : TICK_MS;

	return (int)(w < TICK_MS ? (w < 100 ? 100 : w) : TICK_MS);
}

static void
tick(void *arg)
{
	struct run *r = arg;
	int rc;

	r->tick_timer = 0;
	if (r->done)
		return;
	status_heal(r);
	status_sending(r);
	prune_outbox(r);
	if ((rc = wa_status_tick(&r->sw, wa_clock_wall_ms())) < 0)
		status_failed(r, rc);
	phone_check(r);
	/* messages whose sender never answered a retry: stored undecryptable */
	if (r->recv && r->run && wa_run_session(r->run) && wa_recv_tick(r->recv, wa_clock_wall_ms()) == 0 &&
	    wa_recv_pending(r->recv) > 0) {
		char why[WA_WHY_MAX] = "";
		if ((rc = flush_inbox(r, why)) < 0)
			wa_session_fail_storage(wa_run_session(r->run), rc, why);
	}
	if (!r->done && (rc = wa_loop_timer(r->loop, tick_ms(r), tick, r)) > 0)
		r->tick_timer = rc;
}

static void
on_stop(void *arg, int signo)
{
	struct run *r = arg;

	if (r->done)
		return;
	r->stopping = signo;
	if (!r->run) {
		char reason[64];
		snprintf(reason, sizeof reason, "stopped: %s", signame(signo));
		finish(r, WA_ST_STOPPED, WA_EXIT_OK, reason, "stopped", 0, WA_OUTAGE_NONE);
	} else if (wa_run_stop(r->run, signame(signo)) > 0)
		wa_sdnotify_send(&r->sd, "STOPPING=1");
}

static void
on_hup(void *arg, int signo)
{
	struct run *r = arg;

	(void)signo;
	if (!r->cfg.log_path) {
		logmsg(r, WA_LOG_INFO, "SIGHUP: no --log file to reopen");
		return;
	}
	if (open_log(r) < 0)
		logmsg(r, WA_LOG_WARN, "SIGHUP: cannot reopen '%s': %s; still writing to the old file",
		    r->cfg.log_path, strerror(errno));
	else
		logmsg(r, WA_LOG_INFO, "SIGHUP: reopened '%s'", r->cfg.log_path);
}

/* ---- start ------------------------------------------------------------------ */

/* A refusal before any connection: status and events say it too, then exit. */
static int
refuse(struct run *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
refuse(struct run *r, int code, const char *fmt, ...)
{
	char text[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	finish(r, WA_ST_FAILED, code, text, "local", 0, WA_OUTAGE_NONE);
	return code;
}

static void
mode_warn(void *arg, const char *name, mode_t old)
{
	struct run *r = arg;

	logmsg(r, WA_LOG_WARN, "'%s/%s': mode %04o let group or others read secret keys; set to 0600",
	    r->dir, name, (unsigned)old);
}

/* The mode rule of wa-authdir(5), as wa-prune applies it: key files
 * with group/other bits are set to 0600, each with a warning.  One that
 * cannot be changed is refused (77), like every unsafe folder. */
static void
fix_modes(struct run *r)
{
	struct wa_scan *s;
	const char *failed;
	size_t n;

	if (wa_scan_dir(&s, r->ad->fd) < 0) {
		logmsg(r, WA_LOG_WARN, "cannot list '%s': %s", r->dir, strerror(errno));
		return;
	}
	if (wa_scan_fix_modes(&n, &failed, r->ad->fd, s, 0, mode_warn, r) < 0)
		refuse(r, WA_EXIT_NOPERM, "unable to set the mode of '%s/%s' to 0600: %s", r->dir, failed,
		    strerror(errno));
	wa_scan_free(s);
}

/* ---- --metrics FILE (ops/metrics.h) --------------------------------------- */

/* The file's folder, opened once: every write is a durable replace in it
 * (the temporary file, named .wa-tmp.*, is not a *.prom file, so the
 * textfile collector never reads a half-written one). */
static void
metrics_open(struct run *r)
{
	const char *path = r->cfg.metrics, *slash = strrchr(path, '/');
	char *dir;

	if (!*path || (slash && !slash[1])) {
		tool_err("--metrics: '%s' is not a file name", path);
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	}
	if (!(dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".")) ||
	    !(r->mx.name = strdup(slash ? slash + 1 : path)))
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
	if ((r->mx.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		tool_die(WA_EXIT_CANTCREAT, "--metrics: unable to open the folder '%s': %s", dir, strerror(errno));
	free(dir);
}

/* A spool's new/ (inbox or outbox): messages waiting and the oldest's age;
 * a spool that does not exist yet holds nothing. */
static void
spool_count(const char *dir, long *count, long *age)
{
	struct wa_why why = WA_WHY_INIT;
	struct stat st;
	size_t n = 0;
	time_t oldest = 0, now = time(NULL);

	*count = 0;
	if (age)
		*age = 0;
	if (stat(dir, &st) < 0)
		return;
	if (wa_spool_backlog(dir, &n, &oldest, &why) < 0) {
		*count = -1;
		return;
	}
	*count = (long)n;
	if (age && n && oldest)
		*age = now > oldest ? (long)(now - oldest) : 0;
}

/* Write the metrics file: always when force (a state change), else when
 * something changed or METRICS_MAX_MS passed. */
static void
metrics_write(struct run *r, int force)
{
	struct wa_metrics m;
	char *buf, outbox[4200];
	size_t len;
	int64_t mono = wa_clock_mono_ms();
	int rc;

	if (r->mx.dirfd < 0)
		return;
	memset(&m, 0, sizeof m);
	m.account = json_string_value(json_object_get(json_object_get(r->creds, "me"), "id"));
	m.dir = r->dir;
	m.state = r->state;
	m.started_ms = r->sw.st.started;
	m.since_ms = r->sw.st.since;
	m.last_inbound_ms = r->sw.st.last_inbound;
	memcpy(m.reconnects, r->mx.reconnects, sizeof m.reconnects);
	m.messages_in = r->sw.st.messages_received;
	m.undecryptable = r->sw.st.undecryptable;
	memcpy(m.decrypt_failures, r->sw.st.decrypt_failures, sizeof m.decrypt_failures);
	m.retries = r->sw.st.retries;
	m.repaired = r->sw.st.repaired;
	spool_count(r->inbox, &m.inbox_backlog, &m.inbox_oldest_age_s);
	snprintf(outbox, sizeof outbox, "%s", r->outbox ? r->outbox : "");
	if (!r->outbox)
		snprintf(outbox, sizeof outbox, "%s.outbox", r->absdir);
	spool_count(outbox, &m.outbox_backlog, NULL);
	m.messages_out = r->sw.st.messages_sent;
	m.prekeys_server = r->mx.prekeys;
	m.phone_seen_ms = r->sw.st.phone_seen;
	if (!force && r->mx.written_at && mono - r->mx.written_at < METRICS_MAX_MS &&
	    memcmp(&m, &r->mx.last, sizeof m) == 0)
		return;
	memcpy(&r->mx.last, &m, sizeof m);
	m.now_ms = wa_clock_wall_ms();
	if (wa_metrics_format(&buf, &len, &m) < 0) {
		logmsg(r, WA_LOG_WARN, "out of memory formatting the metrics");
		return;
	}
	rc = wa_durable_put(r->mx.dirfd, r->mx.name, r->mx.dirfd, buf, len);
	free(buf);
	if (rc < 0 && rc != WA_ESYNC) {
		int e = rc == WA_ESYS ? errno : EIO;
		if (e != r->mx.err)
			logmsg(r, WA_LOG_WARN, "--metrics: cannot write '%s': %s; trying again", r->cfg.metrics,
			    rc == WA_ESYS ? strerror(e) : wa_strerror(rc));
		r->mx.err = e;
		return;
	}
	if (r->mx.err)
		logmsg(r, WA_LOG_WARN, "--metrics: '%s' is written again", r->cfg.metrics);
	r->mx.err = 0;
	r->mx.written_at = mono;
}

static void
metrics_tick(void *arg)
{
	struct run *r = arg;
	int rc;

	r->mx.timer = 0;
	if (r->done)
		return;
	status_heal(r);
	metrics_write(r, 0);
	if ((rc = wa_loop_timer(r->loop, METRICS_MS, metrics_tick, r)) > 0)
		r->mx.timer = rc;
}

/* Options and environment into r->cfg, the folder into r->dir; --on-event
 * checked, --log opened: every usage error before anything starts. */
static void
parse_args(struct run *r, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backoff", required_argument, NULL, 'B' },
		{ "ban-wait", required_argument, NULL, 'W' },
		{ "budget", required_argument, NULL, 'U' },
		{ "debug", no_argument, NULL, 'D' },
		{ "keepalive", required_argument, NULL, 'K' },
		{ "keep-sent", required_argument, NULL, 'k' },
		{ "outbox", required_argument, NULL, 'O' },
		{ "log", required_argument, NULL, 'G' },
		{ "login-timeout", required_argument, NULL, 'L' },
		{ "inbox", required_argument, NULL, 'I' },
		{ "on-event", required_argument, NULL, 'E' },
		{ "on-message", required_argument, NULL, 'M' },
		{ "metrics", required_argument, NULL, 'X' },
		{ "phone-ping", required_argument, NULL, 'Y' },
		{ "passive", no_argument, NULL, 'P' },
		{ "retry-wait", required_argument, NULL, 'R' },
		{ "stable", required_argument, NULL, 'S' },
		{ "webhook", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const optnames[128] = {
		['B'] = "--backoff", ['W'] = "--ban-wait", ['U'] = "--budget", ['K'] = "--keepalive",
		['L'] = "--login-timeout", ['S'] = "--stable",
	};
	static const struct wa_backoff_policy defpol = WA_BACKOFF_POLICY_INIT;
	const char *dopt = NULL;
	int c;

	r->cfg.bp = defpol;
	r->cfg.ka_min = 20000;
	r->cfg.ka_max = 30000;
	r->cfg.ka_deadline = 10000;
	r->cfg.login_timeout = 20000;
	r->cfg.ban_min = WA_DC_BAN_MIN_WAIT;
	r->cfg.ban_max = WA_DC_BAN_MAX_WAIT;
	r->cfg.phone_ping = PHONE_PING_MS;
	cfg_env(&r->cfg);
	while ((c = getopt_long(argc, argv, "d:hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dopt = optarg; break;
		case 'h': tool_usage(USAGE, stdout, 0);
		case 'V': tool_version(WA_EXIT_IOERR);
		case 'v': if (r->cfg.verbose < 1) r->cfg.verbose = 1; break;
		case 'D': r->cfg.verbose = 2; break;
		case 'G': r->cfg.log_path = optarg; break;
		case 'E': r->cfg.on_event = optarg; break;
		case 'I': r->cfg.inbox = optarg; break;
		case 'M': r->cfg.on_message = optarg; break;
		case 'X': r->cfg.metrics = optarg; break;
		case 'Y':
			if ((r->cfg.phone_ping = dur_ms(optarg)) < 0)
				bad_value("--phone-ping", optarg, "a duration (0 turns it off; e.g. 7d)");
			break;
		case 'O': r->cfg.outbox = optarg; break;
		case 'k': {
			char *e;
			long v = strtol(optarg, &e, 10);
			if (e == optarg || *e || v < 1 || v > 3650)
				bad_value("--keep-sent", optarg, "a number of days from 1 to 3650");
			r->cfg.keep_sent = (int)v;
			break;
		}
		case 'H': r->cfg.webhook = optarg; break;
		case 'P': r->cfg.passive = 1; break;
		case 'R':
			if ((r->cfg.retry_wait = dur_ms(optarg)) < 100)
				bad_value("--retry-wait", optarg, "a duration of at least 100ms, e.g. 60s");
			break;
		case 'B': case 'W': case 'U': case 'K': case 'L': case 'S':
			set_timer(&r->cfg, c, optarg, optnames[c]);
			break;
		default: tool_usage(USAGE, stderr, WA_EXIT_USAGE);
		}
	}
	if (optind != argc)
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	if (!tool_authdir(dopt)) {
		tool_err("no auth folder: use -d DIR or set WA_AUTH_DIR");
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	}
	r->dir = r->absdir = tool_absolute_dir(tool_authdir(dopt));
	if (r->cfg.on_event) {
		r->cmd = tool_split_words(r->cfg.on_event, "--on-event");
		tool_check_command(r->cmd[0], "--on-event", USAGE);
	}
	if (r->cfg.on_message) {
		r->msgcmd = tool_split_words(r->cfg.on_message, "--on-message");
		tool_check_command(r->msgcmd[0], "--on-message", USAGE);
	}
	if (r->cfg.inbox && !*r->cfg.inbox) {
		tool_err("--inbox: empty folder name");
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	}
	if (r->cfg.inbox) {
		r->inbox = tool_absolute_dir(r->cfg.inbox);
	} else {
		size_t n = strlen(r->absdir) + sizeof WA_INBOX_SUFFIX;
		if (!(r->inbox = malloc(n)))
			tool_die(WA_EXIT_SOFTWARE, "out of memory");
		snprintf(r->inbox, n, "%s%s", r->absdir, WA_INBOX_SUFFIX);
	}
	r->mx.dirfd = -1;
	r->mx.prekeys = -1;
	if (r->cfg.metrics)
		metrics_open(r);
	if (r->cfg.outbox && !*r->cfg.outbox) {
		tool_err("--outbox: empty folder name");
		tool_usage(USAGE, stderr, WA_EXIT_USAGE);
	}
	if (r->cfg.outbox) {
		r->outbox = tool_absolute_dir(r->cfg.outbox);
	} else {
		size_t n = strlen(r->absdir) + sizeof WA_OUTBOX_SUFFIX;
		if (!(r->outbox = malloc(n)))
			tool_die(WA_EXIT_SOFTWARE, "out of memory");
		snprintf(r->outbox, n, "%s%s", r->absdir, WA_OUTBOX_SUFFIX);
	}
	if (!r->cfg.keep_sent)
		r->cfg.keep_sent = WA_OUTBOX_KEEP_DAYS;
	if (r->cfg.log_path && open_log(r) < 0)
		tool_die(WA_EXIT_CANTCREAT, "--log: unable to open '%s': %s", r->cfg.log_path, strerror(errno));
	if (!r->cfg.log_path && wa_outq_new(&r->logq, 2, LOG_MAX) < 0)
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
}

/* Signals first (a SIGTERM from now on is an orderly stop), and the
 * notify socket read and removed from the environment before any
 * command is spawned. */
static void
setup_loop(struct run *r)
{
	struct sigaction sa;
	int rc;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	if ((rc = wa_sdnotify_open(&r->sd, 1)) < 0)
		logmsg(r, WA_LOG_WARN, "NOTIFY_SOCKET is not usable (%s): not telling the service manager",
		    rc == WA_ESYS ? strerror(errno) : wa_strerror(rc));
	if (wa_loop_new(&r->loop) < 0 || wa_loop_signal(r->loop, SIGTERM, on_stop, r) < 0 ||
	    wa_loop_signal(r->loop, SIGINT, on_stop, r) < 0 || wa_loop_signal(r->loop, SIGHUP, on_hup, r) < 0 ||
	    (r->logq && wa_outq_attach(r->logq, r->loop) < 0))
		tool_die(WA_EXIT_SOFTWARE, "cannot set up the event loop: %s", strerror(errno));
	/* a signal that came meanwhile (or was blocked by whoever started
	 * us) is delivered now, to the self-pipe: the first loop round
	 * stops in order */
	sigprocmask(SIG_UNBLOCK, &r->stopsigs, NULL);
}

/* The folder, locked for the whole life of the process; its status file,
 * event history, standard output and the notifications. */
static void
open_folder(struct run *r)
{
	struct wa_notify_opts no = WA_NOTIFY_OPTS_INIT;
	struct wa_why why = { "" };
	size_t swept = 0, out_max = OUT_MAX;
	int rc;

	rc = wa_authdir_open(&r->ad, r->dir, WA_AUTHDIR_WRITE, tool_name, NULL, &why);
	if (rc < 0)
		tool_die(rc == WA_EINVAL ? WA_EXIT_NOINPUT : tool_exit_for(rc), "%s%s", why.text,
		    rc == WA_ELOCKED ? "; only one writer at a time: stop it first" : "");
	if (wa_stage_sweep(r->ad->stagefd, &swept) < 0)
		logmsg(r, WA_LOG_WARN, "cannot sweep '%s/%s/%s': %s", r->dir, WA_SUBDIR, WA_STAGE, strerror(errno));
	else if (swept)
		logmsg(r, WA_LOG_INFO, "removed %zu leftover temporary files from '%s/%s/%s'", swept, r->dir,
		    WA_SUBDIR, WA_STAGE);
	wa_status_init(&r->sw, r->ad->wafd, r->ad->stagefd, NULL, wa_clock_wall_ms());
	phone_restore(r);
	r->state = WA_ST_STARTING;
	if ((rc = wa_eventlog_open(&r->elog, r->ad->wafd, NULL)) < 0) {
		logmsg(r, WA_LOG_WARN, "cannot open '%s/%s/%s': %s; no event history", r->dir, WA_SUBDIR,
		    WA_EVENTS, rc == WA_ESYS ? strerror(errno) : wa_strerror(rc));
		r->elog = NULL;
	}
#ifdef WA_TESTING
	/* test builds: a small bound, so that a test sees lines dropped
	 * after a few hundred events instead of a mebibyte of them */
	if (getenv("WA_TEST_RUN_OUT_MAX"))
		out_max = (size_t)strtoul(getenv("WA_TEST_RUN_OUT_MAX"), NULL, 10);
#endif
	if (wa_outq_new(&r->out, 1, out_max) < 0 || wa_outq_attach(r->out, r->loop) < 0)
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
	if (r->cfg.on_event || r->cfg.webhook) {
		no.argv = r->cmd;
		no.url = r->cfg.webhook;
		no.auth_dir = r->dir;
		no.log = notify_log;
		no.log_arg = r;
		if ((rc = wa_notify_new(&r->notify, &no, &why)) < 0) {
			wa_authdir_close(r->ad);
			tool_die(rc == WA_EINVAL ? WA_EXIT_USAGE : WA_EXIT_SOFTWARE, "%s",
			    why.text[0] ? why.text : wa_strerror(rc));
		}
		if (wa_notify_attach(r->notify, r->loop) < 0)
			tool_die(WA_EXIT_SOFTWARE, "out of memory");
	}
	if (r->msgcmd) {
		struct wa_notify_opts mo = WA_NOTIFY_OPTS_INIT;
		mo.argv = r->msgcmd;
		mo.auth_dir = r->dir;
		mo.only = WA_EV_MESSAGE;
		mo.queue_max = 10000;
		mo.log = notify_log;
		mo.log_arg = r;
		if ((rc = wa_notify_new(&r->msgnotify, &mo, &why)) < 0 || wa_notify_attach(r->msgnotify, r->loop) < 0)
			tool_die(WA_EXIT_SOFTWARE, "--on-message: %s", why.text[0] ? why.text : wa_strerror(rc));
	}
}

/* The start event and the first status file. */
static void
announce_start(struct run *r)
{
	struct wa_event e;
	int rc;

	wa_event_init(&e, WA_EV_START, WA_ST_STARTING);
	e.pid = (long)getpid();
	e.version = WA_VERSION;
	emit(r, &e);
	if ((rc = wa_status_state(&r->sw, WA_ST_STARTING, wa_clock_wall_ms())) < 0)
		status_failed(r, rc);
}

/* The credentials: read once, changed only by the session. */
static void
load_creds(struct run *r)
{
	struct wa_why why = { "" };
	struct wa_creds_info info;
	int rc;

	rc = wa_creds_read(&r->creds, &info, r->ad, &why);
	if (rc == WA_ENOTFOUND)
		refuse(r, WA_EXIT_NOINPUT, "'%s/%s' does not exist: pair the folder first with wa-pair",
		    r->dir, WA_CREDS);
	else if (rc == WA_ECORRUPT || rc == WA_ETOOBIG)
		refuse(r, WA_EXIT_DATAERR, "%s: wa-run never logs in with credentials it cannot read; "
		    "see wa-check, and wa-restore for a backup", why.text);
	else if (rc < 0)
		refuse(r, tool_exit_for(rc), "%s", why.text);
	else if (!info.paired)
		refuse(r, WA_EXIT_NOINPUT, "'%s/%s' is not paired: %s; pair it with wa-pair", r->dir,
		    WA_CREDS, strncmp(info.problem, "not paired: ", 12) == 0 ? info.problem + 12 :
		    info.problem);
}

/* ---- receiving (recv.h, wa-message(5)) --------------------------------------- */

#define INBOX_KEEP_DAYS 14	/* the server keeps offline messages this long */

static int
recv_send(void *arg, const struct wa_node *n)
{
	struct run *r = arg;
	struct wa_session *s = r->run ? wa_run_session(r->run) : NULL;
	struct wa_why why = WA_WHY_INIT;

	if (!s || wa_session_state(s) == WA_SESSION_CLOSED)
		return WA_ECLOSED;
	return wa_conn_send(wa_session_conn(s), n, &why);
}

/* status.json's self-healing counters from the receiver's: memory, written lazily */
static void
status_heal(struct run *r)
{
	const struct wa_recv_stats *st;

	if (!r->recv)
		return;
	st = wa_recv_stats(r->recv);
	wa_status_heal(&r->sw, wa_clock_wall_ms(), st->failures, WA_RECV_CLASSES, st->retries, st->repaired,
	    st->quarantined);
}

static void
recv_message(void *arg, const struct wa_recv_msg *m)
{
	struct run *r = arg;
	struct wa_event e;
	const char *st = json_string_value(json_object_get(m->rec, "status"));
	json_t *f = json_deep_copy(m->rec);

	/* status.json's last_message and counters: memory, written lazily */
	wa_status_message(&r->sw, wa_clock_wall_ms(), !st || strcmp(st, "undecryptable") != 0);
	status_heal(r);
	if (!f || json_object_set_new(f, "path", json_string(m->path)) < 0) {
		json_decref(f);
		logmsg(r, WA_LOG_WARN, "out of memory reporting message %s",
		    json_string_value(json_object_get(m->rec, "id")));
		return;
	}
	wa_event_init(&e, WA_EV_MESSAGE, r->state);
	e.fields = f;
	emit(r, &e);
	json_decref(f);
}

static void
recv_receipt(void *arg, const struct wa_node *n)
{
	struct run *r = arg;
	struct wa_event e;
	json_t *f = json_object();
	const char *k[] = { "id", "from", "participant", "recipient", "type" };
	size_t i;

	if (!f)
		return;
	for (i = 0; i < sizeof k / sizeof k[0]; i++) {
		const char *v = wa_node_attr(n, k[i]);
		json_object_set_new(f, k[i], v ? wa_json_text(v) : json_null());
	}
	wa_event_init(&e, WA_EV_RECEIPT, r->state);
	e.fields = f;
	emit(r, &e);
	json_decref(f);
	if (r->send)
		wa_send_receipt(r->send, n);
}

static void
recv_offline(void *arg, unsigned long count, int64_t ms)
{
	struct run *r = arg;
	struct wa_event e;
	json_t *f = json_pack("{s:I, s:I}", "count", (json_int_t)count, "ms", (json_int_t)ms);

	logmsg(r, WA_LOG_INFO, "offline backlog: %lu stanzas in %lld ms", count, (long long)ms);
	wa_event_init(&e, WA_EV_OFFLINE, r->state);
	e.fields = f;
	emit(r, &e);
	json_decref(f);
}

static void
recv_event(void *arg, const char *kind, const json_t *ev)
{
	struct run *r = arg;
	struct wa_event e;

	status_heal(r);
	if (strcmp(kind, "decrypt_failed") == 0) {
		wa_event_init(&e, WA_EV_DECRYPT_FAILED, r->state);
		logmsg(r, WA_LOG_WARN, "cannot decrypt from %s (%s): asked the sender to send again",
		    json_string_value(json_object_get(ev, "sender")), json_string_value(json_object_get(ev, "class")));
	} else if (strcmp(kind, "repaired") == 0) {
		wa_event_init(&e, WA_EV_REPAIRED, r->state);
		logmsg(r, WA_LOG_WARN, "repaired: %s decrypts again after %lld retries",
		    json_string_value(json_object_get(ev, "sender")),
		    (long long)json_integer_value(json_object_get(ev, "retries")));
	} else if (strcmp(kind, "identity") == 0) {
		wa_event_init(&e, WA_EV_IDENTITY, r->state);
		logmsg(r, WA_LOG_WARN, "the identity of %s changed: its sessions went to quarantine",
		    json_string_value(json_object_get(ev, "jid")));
	} else if (strcmp(kind, "undecryptable") == 0) {
		wa_event_init(&e, WA_EV_UNDECRYPTABLE, r->state);
	} else {
		logmsg(r, WA_LOG_INFO, "%s: %lld", kind, (long long)json_integer_value(json_object_get(ev, "count")));
		return;
	}
	e.fields = ev;
	emit(r, &e);
}

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
recv_prekey(void *arg, uint32_t *id, uint8_t pub[32])
{
	struct run *r = arg;
	struct wa_session *s = r->run ? wa_run_session(r->run) : NULL;
	struct wa_why why = WA_WHY_INIT;
	int rc;

	if (!s)
		return WA_ECLOSED;
	if ((rc = wa_session_retry_prekey(s, id, pub, &why)) < 0)
		logmsg(r, WA_LOG_WARN, "no fresh pre-key for a retry receipt: %s", wa_why_text(&why, rc));
	return rc;
}

static int
recv_device_identity(void *arg, uint8_t **out, size_t *len)
{
	struct run *r = arg;

	return wa_pair_device_identity(out, len, r->creds);
}

static int
flush_inbox(struct run *r, char why_out[WA_WHY_MAX])
{
	struct wa_why why = WA_WHY_INIT;
	size_t n = wa_recv_pending(r->recv);
	int64_t t0 = n ? mono_us() : 0;
	int rc = wa_recv_flush(r->recv, &why);

	if (n) {
		r->rs.commit_us += mono_us() - t0;
		r->rs.commits++;
		r->rs.stanzas += n;
		if (n > r->rs.largest)
			r->rs.largest = n;
	}
	if (rc < 0) {
		logmsg(r, WA_LOG_ERROR, "%s: nothing acknowledged; the server keeps the messages",
		    wa_why_text(&why, rc));
		if (why_out)
			snprintf(why_out, WA_WHY_MAX, "%s", wa_why_text(&why, rc));
	}
	return rc;
}

/* ---- phone liveness --------------------------------------------------------
 *
 * WhatsApp logs a companion device out when its primary phone has not
 * been online for about 14 days.  Any stanza from the phone (device 0 of
 * our own account, PN or LID form: its receipts, its messages to other
 * chats, its peer messages) is recorded as phone_seen in the status file.
 * After --phone-ping of silence, phone_offline fires once and wa-run sends
 * the request mautrix-whatsapp sends (connector/phoneping.go,
 * sendHackyPhonePing): a peer message to our own phone (category=peer,
 * push_priority=high) holding a ProtocolMessage of type
 * APP_STATE_SYNC_KEY_REQUEST, which the phone answers when it is online;
 * at most once a day.  wa-protocol(7) has the stanza.
 */

/* 1 when jid is device 0 of our own account */
static int
phone_jid(const struct run *r, const char *jid)
{
	const char *at, *colon;
	size_t ulen;

	if (!jid || !(at = strchr(jid, '@')))
		return 0;
	colon = memchr(jid, ':', (size_t)(at - jid));
	if (colon && strcmp(colon, ":0") != 0 && !(colon[1] == '0' && colon + 2 == at))
		return 0;
	ulen = (size_t)((colon ? colon : at) - jid);
	if (strcmp(at, "@s.whatsapp.net") == 0)
		return r->ph.pn[0] && strlen(r->ph.pn) == ulen && strncmp(jid, r->ph.pn, ulen) == 0;
	if (strcmp(at, "@lid") == 0)
		return r->ph.lid[0] && strlen(r->ph.lid) == ulen && strncmp(jid, r->ph.lid, ulen) == 0;
	return 0;
}

/* the user part of a JID into out ("" when none) */
static void
jid_user(char *out, size_t n, const char *jid)
{
	size_t k = jid ? strcspn(jid, ":@") : 0;

	snprintf(out, n, "%.*s", k < n ? (int)k : 0, jid ? jid : "");
}

/* The users of our own JIDs. */
static void
phone_init(struct run *r)
{
	json_t *me = json_object_get(r->creds, "me");

	jid_user(r->ph.pn, sizeof r->ph.pn, json_string_value(json_object_get(me, "id")));
	jid_user(r->ph.lid, sizeof r->ph.lid, json_string_value(json_object_get(me, "lid")));
}

/* The phone times of the last status file, before the first write: a
 * restart does not forget how long the phone has been silent. */
static void
phone_restore(struct run *r)
{
	json_t *old = NULL;
	struct wa_status st;

	if (wa_json_read(&old, r->ad->wafd, WA_STATUS, WA_SUBDIR, NULL) == 0 &&
	    wa_status_decode(&st, old, WA_STATUS_LENIENT) == 0) {
		wa_status_phone_restore(&r->sw, st.phone_seen, st.phone_pinged);
		r->sw.st.last_sent = st.last_sent;	/* wa-check's "last out" outlives a restart */
	}
	json_decref(old);
}

static void
phone_node(struct run *r, const struct wa_node *n)
{
	if (!phone_jid(r, wa_node_attr(n, "from")) && !phone_jid(r, wa_node_attr(n, "participant")))
		return;
	wa_status_phone(&r->sw, wa_clock_wall_ms());
	if (r->ph.offline) {
		logmsg(r, WA_LOG_WARN, "the phone is online again");
		r->ph.offline = 0;
	}
}

/* The ping: encrypted to our phone over the session it made with us, the
 * session stored before the ciphertext leaves (R3).  0 sent, else < 0. */
static int
phone_ping(struct run *r)
{
	/* Message{protocolMessage{type: APP_STATE_SYNC_KEY_REQUEST (7),
	 * appStateSyncKeyRequest{}}}: the empty request mautrix-whatsapp
	 * sends when it knows no key id, then 1..16 bytes of padding */
	static const uint8_t msg[] = { 0x62, 0x04, 0x10, 0x07, 0x42, 0x00 };
	struct wa_sigfail f = { 0 };
	struct wa_why why = WA_WHY_INIT;
	struct wa_node *n = NULL, *enc = NULL, *di = NULL;
	uint8_t pt[sizeof msg + 16], rnd[9], *ct = NULL, *dev = NULL;
	char jid[96], id[24];
	size_t ctlen = 0, devlen = 0, pad, i;
	int type = 0, rc;

	if (!r->store || !r->ph.pn[0] || getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		return WA_EINVAL;
	pad = (size_t)(rnd[0] & 0x0f) + 1;
	memcpy(pt, msg, sizeof msg);
	memset(pt + sizeof msg, (int)pad, pad);
	snprintf(jid, sizeof jid, "%s@s.whatsapp.net", r->ph.pn);
	snprintf(id, sizeof id, "3EB0");
	for (i = 1; i < sizeof rnd; i++)
		snprintf(id + 4 + 2 * (i - 1), sizeof id - 4 - 2 * (i - 1), "%02X", rnd[i]);
	if (wa_sigcipher_encrypt(&ct, &ctlen, &type, r->store, jid, pt, sizeof msg + pad, &f) < 0) {
		if (f.cls == WA_SIGF_NO_SESSION) {
			if (!r->ph.nosession)
				logmsg(r, WA_LOG_WARN, "cannot ping the phone: no Signal session with it yet "
				    "(it makes one when it first sends this device anything)");
			r->ph.nosession = 1;
		} else {
			logmsg(r, WA_LOG_WARN, "cannot ping the phone: %s: %s", wa_sigclass_name(f.cls), f.detail);
		}
		return WA_EINVAL;
	}
	if ((rc = wa_sigstore_commit(r->store, &why)) < 0) {
		logmsg(r, WA_LOG_WARN, "cannot ping the phone: %s", wa_why_text(&why, rc));
		free(ct);
		return rc;
	}
	rc = wa_node_make(&n, "message", "id", id, "to", jid, "type", "text", "category", "peer",
	    "push_priority", "high", (char *)NULL);
	if (rc == 0)
		rc = wa_node_make(&enc, "enc", "v", "2", "type", type == WA_SIG_PKMSG ? "pkmsg" : "msg", (char *)NULL);
	if (rc == 0 && (rc = wa_node_set_bytes(enc, ct, ctlen)) == 0 && (rc = wa_node_child_add(n, enc)) == 0)
		enc = NULL;
	if (rc == 0 && type == WA_SIG_PKMSG && wa_pair_device_identity(&dev, &devlen, r->creds) == 0 &&
	    (rc = wa_node_new(&di, "device-identity")) == 0 && (rc = wa_node_set_bytes(di, dev, devlen)) == 0 &&
	    (rc = wa_node_child_add(n, di)) == 0)
		di = NULL;
	if (rc == 0)
		rc = recv_send(r, n);
	wa_node_free(n);
	wa_node_free(enc);
	wa_node_free(di);
	free(ct);
	free(dev);
	if (rc < 0)
		logmsg(r, WA_LOG_WARN, "cannot ping the phone: %s", wa_strerror(rc));
	else
		logmsg(r, WA_LOG_INFO, "pinged the phone (message %s)", id);
	return rc;
}

/* From the tick: the silence, the event once, a ping at most once a day. */
static void
phone_check(struct run *r)
{
	int64_t now = wa_clock_wall_ms(), seen = r->sw.st.phone_seen;
	struct wa_event e;
	json_t *f;
	char when[40];
	int pinged = 0, rc;

	if (!r->cfg.phone_ping || !seen || now - seen < r->cfg.phone_ping || r->state != WA_ST_ONLINE)
		return;
	if (now - r->sw.st.phone_pinged >= PHONE_PING_EVERY_MS && (!r->ph.tried_at ||
	    now - r->ph.tried_at >= PHONE_PING_EVERY_MS) && r->recv && !wa_recv_pending(r->recv)) {
		r->ph.tried_at = now;
		if (phone_ping(r) == 0) {
			pinged = 1;
			wa_status_phone_pinged(&r->sw, now);
			if ((rc = wa_status_flush(&r->sw, now)) < 0)
				status_failed(r, rc);
		}
	}
	if (r->ph.offline)
		return;
	r->ph.offline = 1;
	wa_time_iso(when, sizeof when, seen);
	logmsg(r, WA_LOG_WARN, "the phone has sent nothing since %s: open WhatsApp on it (WhatsApp logs this "
	    "device out after about 14 days without the phone)", when);
	f = json_pack("{s:s, s:I, s:b}", "phone_seen", when, "quiet_ms", (json_int_t)(now - seen), "pinged", pinged);
	wa_event_init(&e, WA_EV_PHONE_OFFLINE, r->state);
	e.fields = f;
	emit(r, &e);
	json_decref(f);
}

static int
on_node(void *arg, struct wa_run *run, const struct wa_node *n)
{
	struct run *r = arg;
	int64_t t0;
	int rc;

	(void)run;
	phone_node(r, n);
	if (r->send && wa_send_node(r->send, n) == 1)
		return 0;	/* the server's ack of one of ours */
	if (!r->recv)
		return 0;
	t0 = mono_us();
	rc = wa_recv_node(r->recv, n);
	r->rs.take_us += mono_us() - t0;
	if (rc < 0)
		return rc;
	/* a long read turn (the offline backlog) commits in batches */
	if (wa_recv_pending(r->recv) >= RECV_BATCH) {
		char why[WA_WHY_MAX] = "";
		if ((rc = flush_inbox(r, why)) < 0 && wa_run_session(run))
			wa_session_fail_storage(wa_run_session(run), rc, why);
	}
	return 0;
}

static int
on_turn(void *arg, struct wa_run *run, char why[WA_WHY_MAX])
{
	struct run *r = arg;

	int rc;

	(void)run;
	if (r->recv && (rc = flush_inbox(r, why)) < 0)
		return rc;
	return pump_outbox(r, why);
}

/* The inbox, the key store and the pipeline between them. */
static void
open_inbox(struct run *r)
{
	struct wa_recv_opts o = { 0 };
	struct wa_why why = WA_WHY_INIT;
	json_t *me = json_object_get(r->creds, "me");
	int rc;

	if ((rc = wa_spool_open(&r->spool, r->inbox, INBOX_KEEP_DAYS, &why)) < 0) {
		refuse(r, tool_exit_for(rc), "inbox: %s", wa_why_text(&why, rc));
		return;
	}
	wa_status_inbox(&r->sw, r->inbox);
	if ((rc = wa_sigstore_open(&r->store, r->ad, &why)) < 0) {
		refuse(r, rc == WA_ECORRUPT ? WA_EXIT_DATAERR : tool_exit_for(rc), "%s", wa_why_text(&why, rc));
		return;
	}
	if ((rc = wa_retries_open(&r->retries, r->ad->wafd, r->ad->stagefd, &why)) < 0) {
		refuse(r, tool_exit_for(rc), "'%s/%s/%s': %s", r->dir, WA_SUBDIR, WA_RETRIES_FILE, wa_why_text(&why, rc));
		return;
	}
	if (why.text[0])
		warning(r, 1, "%s", why.text);
	o.spool = r->spool;
	o.store = r->store;
	o.me = json_string_value(json_object_get(me, "id"));
	o.me_lid = json_string_value(json_object_get(me, "lid"));
	o.batch = RECV_BATCH;
	o.send = recv_send;
	o.on_message = recv_message;
	o.on_receipt = recv_receipt;
	o.on_offline = recv_offline;
	o.on_event = recv_event;
	o.retries = r->retries;
	o.retry_wait_ms = r->cfg.retry_wait;
	o.fresh_prekey = recv_prekey;
	o.device_identity = recv_device_identity;
	o.arg = r;
	if ((rc = wa_recv_new(&r->recv, &o)) < 0)
		refuse(r, rc == WA_ENOMEM ? WA_EXIT_SOFTWARE : WA_EXIT_DATAERR,
		    "'%s/%s': me.id is not a JID wa can receive for", r->dir, WA_CREDS);
	logmsg(r, WA_LOG_INFO, "inbox '%s'", r->inbox);
}

/* ---- sending (send.h, the outbox of wa-message(5)) ----------------------------- */

/* The job file name's id: what follows its last '.' */
static const char *
name_id(const char *name)
{
	const char *d = strrchr(name, '.');

	return d ? d + 1 : name;
}

static void
status_sending(struct run *r)
{
	if (r->send)
		wa_status_sending(&r->sw, wa_clock_wall_ms(), wa_send_stats(r->send)->sent, json_object_size(r->known));
}

/* ---- the queue: new/ as wa-run knows it --------------------------------------
 *
 * Each job file in new/ is read once when it is first listed, to learn its
 * chat (r->known) and whether its status is already settled; its name then
 * waits in its chat's queue (struct chatq, name order) until the engine
 * takes it, when it is read a second time.  Listing new/ again (on the
 * watch descriptor's word, or every second without inotify) reads only the
 * names not known yet, so the work per job does not grow with the backlog
 * (bench/README, "Sending").  A job stays known until it is finished (moved
 * to cur/); a lost connection puts the jobs in flight back at the heads of
 * their chats' queues (requeue), in name order. */
struct chatq {
	char *to;
	char **v;		/* names, sorted; v[head..n) wait */
	size_t head, n, cap;
};

static void
chatq_clear(struct run *r)
{
	size_t i, j;

	for (i = 0; i < r->nchatq; i++) {
		for (j = r->chatq[i].head; j < r->chatq[i].n; j++)
			free(r->chatq[i].v[j]);
		free(r->chatq[i].v);
		free(r->chatq[i].to);
	}
	r->nchatq = 0;
	json_object_clear(r->chatidx);
}

/* Add name to chat to's queue, in name order (a name listed late, from a
 * writer whose clock is behind, goes before the later ones).  0 or WA_ENOMEM. */
static int
chatq_add(struct run *r, const char *to, const char *name)
{
	json_t *ix = json_object_get(r->chatidx, to);
	struct chatq *q;
	size_t k;
	char *nm;

	if (!ix) {
		if (r->nchatq == r->capchatq) {
			size_t cap = r->capchatq ? r->capchatq * 2 : 8;
			struct chatq *nq = realloc(r->chatq, cap * sizeof *nq);
			if (!nq)
				return WA_ENOMEM;
			r->chatq = nq;
			r->capchatq = cap;
		}
		q = &r->chatq[r->nchatq];
		memset(q, 0, sizeof *q);
		if (!(q->to = strdup(to)) ||
		    json_object_set_new(r->chatidx, to, json_integer((json_int_t)r->nchatq)) < 0) {
			free(q->to);
			return WA_ENOMEM;
		}
		r->nchatq++;
	} else
		q = &r->chatq[json_integer_value(ix)];
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		char **nv;
		if (q->head) {	/* reuse the room of the names taken */
			memmove(q->v, q->v + q->head, (q->n - q->head) * sizeof *q->v);
			q->n -= q->head;
			q->head = 0;
		} else {
			if (!(nv = realloc(q->v, cap * sizeof *nv)))
				return WA_ENOMEM;
			q->v = nv;
			q->cap = cap;
		}
	}
	if (!(nm = strdup(name)))
		return WA_ENOMEM;
	for (k = q->n; k > q->head && strcmp(q->v[k - 1], name) > 0; k--)
		;
	memmove(q->v + k + 1, q->v + k, (q->n - k) * sizeof *q->v);
	q->v[k] = nm;
	q->n++;
	return 0;
}

/* Drop the chat queues that are empty (their order among chats does not
 * matter: chats are independent). */
static void
chatq_compact(struct run *r)
{
	size_t i = 0;

	while (i < r->nchatq) {
		struct chatq *q = &r->chatq[i];
		if (q->head < q->n) {
			i++;
			continue;
		}
		json_object_del(r->chatidx, q->to);
		free(q->to);
		free(q->v);
		if (i != r->nchatq - 1) {
			*q = r->chatq[r->nchatq - 1];
			json_object_set_new(r->chatidx, q->to, json_integer((json_int_t)i));
		}
		r->nchatq--;
	}
}

static int
cmpname(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The connection ended: every known job not finished waits again, in name
 * order per chat (the engine forgot the ones in flight). */
static void
requeue(struct run *r)
{
	const char *name;
	json_t *to;
	char **v;
	size_t n = 0, i;

	chatq_clear(r);
	if (!json_object_size(r->known))
		return;
	if (!(v = malloc(json_object_size(r->known) * sizeof *v))) {
		json_object_clear(r->known);	/* listed and read again */
		r->queued_stale = 1;
		return;
	}
	json_object_foreach(r->known, name, to)
		v[n++] = (char *)name;
	qsort(v, n, sizeof *v, cmpname);
	for (i = 0; i < n; i++)
		if (chatq_add(r, json_string_value(json_object_get(r->known, v[i])), v[i]) < 0) {
			chatq_clear(r);
			json_object_clear(r->known);
			r->queued_stale = 1;
			break;
		}
	free(v);
}

/* A job's status, as it is now: the one changed in this turn, else the
 * file, else a new one.  Borrowed from r->statuses. */
static json_t *
job_status(struct run *r, const char *id, const char *to, int create)
{
	json_t *st = json_object_get(r->statuses, id);
	struct wa_why why = WA_WHY_INIT;

	if (st)
		return st;
	if (wa_outbox_status_read(r->outbox, id, &st, &why) < 0) {
		if (!create)
			return NULL;
		st = json_pack("{s:i, s:s, s:s?, s:s}", "v", 1, "id", id, "to", to, "state", "queued");
		if (!st)
			return NULL;
	}
	if (json_object_set_new(r->statuses, id, st) < 0)
		return NULL;
	return st;
}

static void
send_event(struct run *r, enum wa_event_type t, const char *id, const char *to, const char *k, const char *v)
{
	struct wa_event e;
	json_t *f = json_pack("{s:s, s:s?}", "id", id, "to", to);

	if (!f)
		return;
	if (k && v)
		json_object_set_new(f, k, wa_json_text(v));
	wa_event_init(&e, t, r->state);
	e.fields = f;
	emit(r, &e);
	json_decref(f);
}

/* The end of a turn: the statuses changed in it (acks, receipts, failures)
 * written as one group commit, then the settled jobs moved new/ -> cur/
 * together, then their events.  A failed write is logged: the job's fate
 * is still decided (its place in new/ or cur/ says it). */
static void
flush_turn(struct run *r)
{
	size_t n = json_object_size(r->statuses), nd = json_array_size(r->settled), i = 0;
	const json_t **sts = NULL;
	char **names = NULL;
	struct wa_why why = WA_WHY_INIT;
	const char *id;
	json_t *st, *d;
	int rc;

	if (!n && !nd)
		return;
	if (n && (sts = malloc(n * sizeof *sts))) {
		json_object_foreach(r->statuses, id, st) {
			json_object_set_new(st, "updated_ms", json_integer(wa_clock_wall_ms()));
			sts[i++] = st;
		}
		if ((rc = wa_outbox_status_write_many(r->ob, sts, n, &why)) < 0)
			logmsg(r, WA_LOG_WARN, "outbox: statuses of %zu jobs: %s", n, wa_why_text(&why, rc));
	} else if (n)
		logmsg(r, WA_LOG_WARN, "outbox: statuses of %zu jobs: out of memory", n);
	free(sts);
	if (nd && (names = malloc(nd * sizeof *names))) {
		size_t k = 0;
		json_array_foreach(r->settled, i, d)
			if (json_string_value(json_object_get(d, "name")))
				names[k++] = (char *)json_string_value(json_object_get(d, "name"));
		why = (struct wa_why)WA_WHY_INIT;
		if (k && (rc = wa_outbox_finish_many(r->ob, names, k, &why)) < 0)
			logmsg(r, WA_LOG_WARN, "outbox: %s", wa_why_text(&why, rc));
	}
	free(names);
	json_array_foreach(r->settled, i, d) {
		const char *did = json_string_value(json_object_get(d, "id"));
		const char *to = json_string_value(json_object_get(d, "to"));
		const char *err = json_string_value(json_object_get(d, "error"));
		const char *name = json_string_value(json_object_get(d, "name"));
		if (json_is_true(json_object_get(d, "report"))) {
			if (err)
				send_event(r, WA_EV_SEND_FAILED, did, to, "error", err);
			else
				send_event(r, WA_EV_SENT, did, to, NULL, NULL);
		}
		if (name)
			json_object_del(r->known, name);
		json_object_del(r->names, did);
	}
	json_array_clear(r->settled);
	json_object_clear(r->statuses);
	status_sending(r);
}

/* The job's fate is settled: its status now, its move to cur/ and its
 * event at the end of the turn (flush_turn).  report: print the event. */
static void
job_done(struct run *r, const json_t *job, const char *state, const char *error, int64_t sent_ms, int report)
{
	const char *id = json_string_value(json_object_get(job, "id"));
	const char *to = json_string_value(json_object_get(job, "to"));
	const char *name = json_string_value(json_object_get(r->names, id));
	json_t *st = job_status(r, id, to, 1), *d;

	if (st) {
		json_object_set_new(st, "state", json_string(state));
		if (sent_ms)
			json_object_set_new(st, "sent_ms", json_integer(sent_ms));
		if (error)
			json_object_set_new(st, "error", json_string(error));
	}
	d = json_pack("{s:s, s:s?, s:s?, s:s?, s:b}", "id", id, "to", to, "name", name, "error", error,
	    "report", report);
	if (!d || json_array_append_new(r->settled, d) < 0)
		logmsg(r, WA_LOG_WARN, "outbox: %s: out of memory", id);
}

static void
send_sent(void *arg, const json_t *job, int64_t t_ms)
{
	struct run *r = arg;

	(void)t_ms;
	job_done(r, job, "sent", NULL, wa_clock_wall_ms(), 1);
}

static void
send_failed(void *arg, const json_t *job, const char *why)
{
	struct run *r = arg;
	const char *id = json_string_value(json_object_get(job, "id"));

	logmsg(r, WA_LOG_WARN, "outbox: %s not sent: %s", id, why);
	job_done(r, job, "failed", why, 0, 1);
}

static int
state_rank(const char *s)
{
	static const char *const order[] = { "queued", "sending", "sent", "delivered", "read" };
	size_t i;

	for (i = 0; s && i < sizeof order / sizeof order[0]; i++)
		if (strcmp(s, order[i]) == 0)
			return (int)i;
	return -1;
}

/* A peer's receipt for id: the job's status gets the device's time (once
 * per device and kind), written at the end of the turn. */
static void
send_status(void *arg, const char *id, const char *device, const char *type, int64_t t_ms)
{
	struct run *r = arg;
	json_t *st, *devs, *d;
	const char *key = strcmp(type, "delivered") == 0 ? "delivered_ms" : "read_ms";
	const char *state = strcmp(type, "delivered") == 0 ? "delivered" : "read";
	const char *cur;

	if (!r->ob || !wa_outbox_id_ok(id) || !(st = job_status(r, id, NULL, 0)))
		return;		/* not one of ours (or no longer kept) */
	cur = json_string_value(json_object_get(st, "state"));
	if (cur && strcmp(cur, "failed") == 0)
		return;
	if (!(devs = json_object_get(st, "devices"))) {
		if (!(devs = json_object()) || json_object_set_new(st, "devices", devs) < 0)
			return;
	}
	if (!(d = json_object_get(devs, device))) {
		if (!(d = json_object()) || json_object_set_new(devs, device, d) < 0)
			return;
	}
	if (json_object_get(d, key))
		return;
	json_object_set_new(d, key, json_integer(t_ms));
	if (strcmp(state, "read") == 0 && !json_object_get(d, "delivered_ms"))
		json_object_set_new(d, "delivered_ms", json_integer(t_ms));
	if (state_rank(state) > state_rank(cur))
		json_object_set_new(st, "state", json_string(state));
	send_event(r, strcmp(state, "read") == 0 ? WA_EV_READ : WA_EV_DELIVERED, id,
	    json_string_value(json_object_get(st, "to")), "device", device);
}

static int
send_find(void *arg, const char *id, json_t **job)
{
	struct run *r = arg;

	return r->ob ? wa_outbox_find(r->ob, id, job) : WA_ENOTFOUND;
}

static int
send_iq(void *arg, struct wa_node *iq, wa_conn_iq_fn fn, void *fnarg)
{
	struct run *r = arg;
	struct wa_session *s = r->run ? wa_run_session(r->run) : NULL;
	struct wa_why why = WA_WHY_INIT;

	if (!s || wa_session_state(s) != WA_SESSION_ONLINE)
		return WA_ECLOSED;
	return wa_conn_iq(wa_session_conn(s), iq, 0, fn, fnarg, &why);
}

static void
send_log(void *arg, int level, const char *line)
{
	logmsg(arg, (enum wa_log_level)level, "%s", line);
}

static int
online_now(struct run *r)
{
	struct wa_session *s = r->run ? wa_run_session(r->run) : NULL;

	return s && wa_session_state(s) == WA_SESSION_ONLINE;
}

/* A status whose job's fate is decided: sent or later, or failed. */
static int
settled(const json_t *st)
{
	const char *s = json_string_value(json_object_get(st, "state"));

	return s && (strcmp(s, "sent") == 0 || strcmp(s, "delivered") == 0 ||
	    strcmp(s, "read") == 0 || strcmp(s, "failed") == 0);
}

/* A job that cannot be read as one: failed with the reason, finished. */
static void
fail_bad(struct run *r, const char *name, const char *id, const char *reason)
{
	json_t *bad = json_pack("{s:s}", "id", id);

	json_object_set_new(r->names, id, json_string(name));
	if (bad) {
		send_failed(r, bad, reason);
		json_decref(bad);
	}
}

/* Learn a name in new/ not known yet: its job is read once (its chat,
 * and whether a kill came between its final status and new/ -> cur/:
 * then it is only finished, never sent again). */
static void
learn(struct run *r, const char *name)
{
	struct wa_why why = WA_WHY_INIT;
	const char *id = name_id(name), *to;
	json_t *job = NULL, *st = NULL;
	int rc;

	if (json_object_get(r->known, name) || json_object_get(r->names, id))
		return;
	if ((rc = wa_outbox_load(r->ob, name, &job, &why)) < 0) {
		if (rc == WA_ECORRUPT && wa_outbox_id_ok(id))
			fail_bad(r, name, id, wa_why_text(&why, rc));
		else if (rc != WA_ENOTFOUND) {
			logmsg(r, WA_LOG_WARN, "outbox: %s", wa_why_text(&why, rc));
			r->queued_stale = 1;	/* try it again on the next pass */
		}
		return;
	}
	to = json_string_value(json_object_get(job, "to"));
	if (wa_outbox_status_read(r->outbox, id, &st, NULL) == 0 && settled(st)) {
		/* killed after its final status and before new/ -> cur/:
		 * finish it, never send it again */
		json_object_set_new(r->names, id, json_string(name));
		job_done(r, job, json_string_value(json_object_get(st, "state")), NULL, 0, 0);
	} else if (json_object_set_new(r->known, name, json_string(to)) < 0 || chatq_add(r, to, name) < 0) {
		json_object_del(r->known, name);
		logmsg(r, WA_LOG_WARN, "outbox: %s: out of memory", name);
		r->queued_stale = 1;
	}
	json_decref(st);
	json_decref(job);
}

/* Learn what is new in new/: the names the watch descriptor reported
 * (r->fresh), or, when told to (start, a lost connection's end, lost
 * events, no inotify), every name listed; only unknown names are read. */
static void
scan(struct run *r)
{
	struct wa_why why = WA_WHY_INIT;
	char **v = NULL;
	size_t n = 0, i;
	json_t *x;
	int rc;

	if (r->queued_stale) {
		if ((rc = wa_outbox_queued(r->ob, &v, &n, &why)) < 0)
			logmsg(r, WA_LOG_WARN, "outbox: %s", wa_why_text(&why, rc));
		else {
			r->queued_stale = 0;
			json_array_clear(r->fresh);
		}
		for (i = 0; i < n; i++)
			learn(r, v[i]);
		wa_outbox_names_free(v, n);
	}
	json_array_foreach(r->fresh, i, x)
		learn(r, json_string_value(x));
	json_array_clear(r->fresh);
	status_sending(r);
}

/* Hand the waiting jobs to the engine, each chat's in name order, while
 * it takes them (send.h: a bound per chat and in all). */
static void
hand(struct run *r)
{
	struct wa_why why = WA_WHY_INIT;
	size_t i;
	int rc;

	for (i = 0; i < r->nchatq && wa_send_inflight(r->send) < WA_SEND_MAX_INFLIGHT; i++) {
		struct chatq *q = &r->chatq[i];

		while (q->head < q->n && wa_send_inflight(r->send) < WA_SEND_MAX_INFLIGHT &&
		    !wa_send_busy(r->send, q->to)) {
			char *name = q->v[q->head];
			const char *id = name_id(name);
			json_t *job = NULL;

			rc = wa_outbox_load(r->ob, name, &job, &why);
			if (rc == WA_ENOMEM) {
				logmsg(r, WA_LOG_WARN, "outbox: %s", wa_why_text(&why, rc));
				return;
			}
			q->head++;
			if (rc < 0) {
				/* gone (removed by hand) or changed since it was listed */
				json_object_del(r->known, name);
				if (rc == WA_ECORRUPT && wa_outbox_id_ok(id))
					fail_bad(r, name, id, wa_why_text(&why, rc));
				else
					logmsg(r, WA_LOG_WARN, "outbox: %s", wa_why_text(&why, rc));
				free(name);
				continue;
			}
			json_object_set_new(r->names, id, json_string(name));
			rc = wa_send_job(r->send, job);
			if (rc < 0 && rc != WA_EINVAL) {
				/* not taken (WA_ENOMEM): it waits again */
				json_object_del(r->names, id);
				q->head--;
				json_decref(job);
				return;
			}
			/* WA_EINVAL: failed (on_failed), finished at the turn's end */
			free(name);
			json_decref(job);
		}
	}
	chatq_compact(r);
}

static void
feed(struct run *r)
{
	if (!r->send || !online_now(r))
		return;
	if (r->queued_stale || json_array_size(r->fresh))
		scan(r);
	hand(r);
}

/* New jobs, what is ready leaves, and the turn's statuses.  Only when the
 * receiving side has nothing staged (send.h).  Negative: the key store
 * could not be committed (why). */
static int
pump_outbox(struct run *r, char why_out[WA_WHY_MAX])
{
	struct wa_why why = WA_WHY_INIT;
	int rc = 0;

	if (!r->send)
		return 0;
	feed(r);
	if (online_now(r) && (rc = wa_send_pump(r->send, &why)) < 0) {
		logmsg(r, WA_LOG_ERROR, "%s: nothing sent; the jobs stay queued", wa_why_text(&why, rc));
		if (why_out)
			snprintf(why_out, WA_WHY_MAX, "%s", wa_why_text(&why, rc));
	}
	flush_turn(r);
	return rc;
}

static void
pump_now(struct run *r)
{
	char why[WA_WHY_MAX] = "";
	int rc;

	if (r->recv && wa_recv_pending(r->recv))
		return;		/* the turn's end does it */
	if ((rc = pump_outbox(r, why)) < 0 && r->run && wa_run_session(r->run))
		wa_session_fail_storage(wa_run_session(r->run), rc, why);
}

static void
outbox_watch(void *arg, int fd, short revents)
{
	struct run *r = arg;
	char **v = NULL;
	size_t n = 0, i;

	(void)fd;
	(void)revents;
	/* a new job adds its name; only lost events make new/ be listed again */
	if (wa_outbox_watch_take(r->ob, &v, &n) != 0)
		r->queued_stale = 1;
	for (i = 0; i < n; i++)
		if (json_array_append_new(r->fresh, json_string(v[i])) < 0)
			r->queued_stale = 1;
	wa_outbox_names_free(v, n);
	pump_now(r);
}

static void
outbox_poll(void *arg)
{
	struct run *r = arg;
	int rc;

	r->poll_timer = 0;
	if (r->done)
		return;
	r->queued_stale = 1;
	pump_now(r);
	if ((rc = wa_loop_timer(r->loop, OUTBOX_POLL_MS, outbox_poll, r)) > 0)
		r->poll_timer = rc;
}

static void
prune_outbox(struct run *r)
{
	struct wa_why why = WA_WHY_INIT;
	size_t n = 0;
	int64_t now = wa_clock_wall_ms();
	int rc;

	if (!r->ob || (r->pruned_at && now - r->pruned_at < PRUNE_MS))
		return;
	r->pruned_at = now;
	if ((rc = wa_outbox_prune(r->ob, now, &n, &why)) < 0)
		logmsg(r, WA_LOG_WARN, "outbox: %s", wa_why_text(&why, rc));
	else if (n)
		logmsg(r, WA_LOG_INFO, "outbox: %zu sent jobs older than %d days removed", n, r->cfg.keep_sent);
}

/* The outbox (made when missing; its lock is ours) and the engine. */
static void
open_outbox(struct run *r)
{
	struct wa_send_opts o = { 0 };
	struct wa_why why = WA_WHY_INIT;
	json_t *me = json_object_get(r->creds, "me");
	int rc, fd;

	if ((rc = wa_outbox_open(&r->ob, r->outbox, WA_OUTBOX_CREATE | WA_OUTBOX_RUNNER, r->cfg.keep_sent,
	    &why)) < 0) {
		refuse(r, tool_exit_for(rc), "outbox: %s", wa_why_text(&why, rc));
		return;
	}
	wa_status_outbox(&r->sw, r->outbox);
	if (!(r->names = json_object()) || !(r->statuses = json_object()) || !(r->known = json_object()) ||
	    !(r->chatidx = json_object()) || !(r->settled = json_array()) || !(r->fresh = json_array()))
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
	o.store = r->store;
	o.me = json_string_value(json_object_get(me, "id"));
	o.me_lid = json_string_value(json_object_get(me, "lid"));
	o.send = recv_send;
	o.iq = send_iq;
	o.device_identity = recv_device_identity;
	o.find_job = send_find;
	o.on_sent = send_sent;
	o.on_failed = send_failed;
	o.on_status = send_status;
	o.on_log = send_log;
	o.arg = r;
	if ((rc = wa_send_new(&r->send, &o)) < 0) {
		refuse(r, rc == WA_ENOMEM ? WA_EXIT_SOFTWARE : WA_EXIT_DATAERR,
		    "'%s/%s': me.id is not a JID wa can send as", r->dir, WA_CREDS);
		return;
	}
	r->queued_stale = 1;
	if ((fd = wa_outbox_watch_fd(r->ob)) >= 0 && (rc = wa_loop_fd(r->loop, fd, POLLIN, outbox_watch, r)) > 0)
		r->watch_id = rc;
	else if ((rc = wa_loop_timer(r->loop, OUTBOX_POLL_MS, outbox_poll, r)) > 0)
		r->poll_timer = rc;
	prune_outbox(r);
	logmsg(r, WA_LOG_INFO, "outbox '%s'", r->outbox);
}

/* The state machine with this process's options and hooks, the
 * watchdog and status timers, and the first connection. */
static void
start_run(struct run *r)
{
	struct wa_run_opts o = WA_RUN_OPTS_INIT;
	int rc;

	o.session.conn.log = run_log;
	tool_server_opts(&o.session.conn);
	o.session.conn.debug = r->cfg.verbose >= 2;
	o.session.conn.connect_timeout_ms = (int)r->cfg.login_timeout;
	o.session.conn.handshake_timeout_ms = (int)r->cfg.login_timeout;
	o.session.conn.close_timeout_ms = CLOSE_MS;
	o.session.login_timeout_ms = (int)r->cfg.login_timeout;
	o.session.keepalive_min_ms = (int)r->cfg.ka_min;
	o.session.keepalive_max_ms = (int)r->cfg.ka_max;
	o.session.keepalive_deadline_ms = (int)r->cfg.ka_deadline;
	o.session.passive = r->cfg.passive;
	o.backoff = r->cfg.bp;
	o.ban_min_s = r->cfg.ban_min;
	o.ban_max_s = r->cfg.ban_max;
	o.stop_ms = STOP_MS;
	o.hooks = (struct wa_run_hooks){
		.state = on_state, .connecting = on_connecting, .online = on_online,
		.disconnect = on_disconnect, .banned = on_banned, .reconnect = on_reconnect,
		.prekeys = on_prekeys, .inbound = on_inbound, .node = on_node, .turn = on_turn,
		.log = run_log, .end = on_end, .arg = r,
	};
	if (wa_run_new(&r->run, r->loop, r->ad, r->creds, &o) < 0)
		tool_die(WA_EXIT_SOFTWARE, "out of memory");
	if (wa_sdnotify_watchdog_ms(&r->sd) > 0 &&
	    (rc = wa_loop_timer(r->loop, wa_sdnotify_watchdog_ms(&r->sd), watchdog, r)) > 0)
		r->wd_timer = rc;
	if ((rc = wa_loop_timer(r->loop, tick_ms(r), tick, r)) > 0)
		r->tick_timer = rc;
	if (r->mx.dirfd >= 0 && (rc = wa_loop_timer(r->loop, METRICS_MS, metrics_tick, r)) > 0)
		r->mx.timer = rc;
	wa_run_start(r->run);
}

static void
run_loop(struct run *r)
{
	while (!r->done)
		if (wa_loop_once(r->loop, -1) < 0) {
			logmsg(r, WA_LOG_ERROR, "poll: %s", strerror(errno));
			fail(r, WA_ESYS, "poll failed");
		}
}

/* Let the notifications and standard output finish, briefly. */
static void
drain(struct run *r)
{
	int64_t deadline;

	deadline = wa_clock_mono_ms() + (r->stopping || r->state == WA_ST_STOPPED ? STOP_GRACE_MS : GRACE_MS);
	while ((r->notify && wa_notify_pending(r->notify)) || (r->msgnotify && wa_notify_pending(r->msgnotify)) ||
	    wa_outq_pending(r->out) ||
	    (r->logq && wa_outq_pending(r->logq))) {
		int64_t left = deadline - wa_clock_mono_ms();
		if (left <= 0)
			break;
		if (wa_loop_once(r->loop, (int)left) < 0)
			break;
	}
	if (r->notify && wa_notify_pending(r->notify))
		logmsg(r, WA_LOG_WARN, "%zu notifications not delivered before exit", wa_notify_pending(r->notify));
}

static void
cleanup(struct run *r)
{
	/* The exit code is settled: a late SIGTERM/SIGINT/SIGHUP must not
	 * kill us with 128+N once wa_loop_free has put the default
	 * dispositions back (seen as exit 143 on a second SIGTERM).
	 * Blocked signals still pending are discarded at exit. */
	sigprocmask(SIG_BLOCK, &r->stopsigs, NULL);
	wa_notify_free(r->notify);
	wa_notify_free(r->msgnotify);
	tool_free_words(r->cmd);
	tool_free_words(r->msgcmd);
	wa_recv_free(r->recv);
	wa_send_free(r->send);
	chatq_clear(r);
	free(r->chatq);
	json_decref(r->chatidx);
	json_decref(r->known);
	json_decref(r->names);
	json_decref(r->statuses);
	json_decref(r->settled);
	json_decref(r->fresh);
	wa_outbox_free(r->ob);
	free(r->outbox);
	wa_retries_free(r->retries);
	wa_sigstore_free(r->store);
	wa_spool_free(r->spool);
	free(r->inbox);
	wa_outq_free(r->out);
	wa_outq_free(r->logq);
	r->logq = NULL;
	wa_eventlog_close(r->elog);
	wa_sdnotify_close(&r->sd);
	json_decref(r->creds);
	wa_authdir_close(r->ad);
	wa_loop_free(r->loop);
	if (r->logfd > 2)
		close(r->logfd);
	if (r->mx.dirfd >= 0)
		close(r->mx.dirfd);
	free(r->mx.name);
	free(r->absdir);
}

int
main(int argc, char **argv)
{
	static struct run r;

	/* SIGTERM, SIGINT and SIGHUP wait (blocked) until their handlers are
	 * in place: a stop in the first milliseconds is an orderly stop too,
	 * exit 0 with the status written, never a death by the signal */
	sigemptyset(&r.stopsigs);
	sigaddset(&r.stopsigs, SIGTERM);
	sigaddset(&r.stopsigs, SIGINT);
	sigaddset(&r.stopsigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &r.stopsigs, NULL);
	tool_init("wa-run");
	r.logfd = 2;
	parse_args(&r, argc, argv);
	setup_loop(&r);
	open_folder(&r);
	announce_start(&r);
	if (!r.done)
		fix_modes(&r);
	if (!r.done)
		load_creds(&r);
	if (!r.done)
		phone_init(&r);
	if (!r.done)
		open_inbox(&r);
	if (!r.done)
		open_outbox(&r);
	if (!r.done)
		start_run(&r);
	run_loop(&r);
	wa_run_free(r.run);
	r.run = NULL;
	drain(&r);
	cleanup(&r);
	return r.exit_code;
}
