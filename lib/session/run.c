/*
 * run.c - the reconnect state machine (run.h): one session at a time on
 * the caller's loop.
 *
 *	starting -> connecting -> online -> (disconnect) -> connecting | backoff | banned | final
 *
 * Every end of a connection is classified (disconnect.h) and its action
 * decides: reconnect at once (515, at most backoff.h's max_immediate in a
 * row), back off (full jitter, capped, reset by a stable connection), wait
 * out a ban (until its end, between ban_min_s and ban_max_s), or end with
 * the final state of the class.  When the backoff budget is spent the run
 * ends retries_exhausted.  A stop closes the connection in order and ends
 * stopped.  Contract: the hooks are told every step in the order run.h
 * gives, end exactly once, and nothing after it; the session is freed
 * outside wa_session_process only.  The run holds no policy of its own
 * beyond that: what a state means to the operator (status file, events,
 * exit status) is the caller's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/loop.h"
#include "session/run.h"

#define STOP_MS 1000

struct wa_run {
	struct wa_loop *loop;
	struct wa_authdir *ad;
	json_t *creds;
	struct wa_run_opts o;
	struct wa_session *s;
	struct wa_backoff bo;
	enum wa_state state;
	unsigned attempt;		/* failed attempts since online */
	unsigned long connects;		/* connections opened */
	int64_t online_at;		/* monotonic ms the connection went online, -1 */
	int64_t offline_since;		/* monotonic ms the session was last online, -1 never */
	int waited;			/* backoff or a ban since online: an outage */
	int outage_edge;		/* WA_RUN_OUTAGE_*: for the next state change */
	time_t inbound_seen;
	int downgrade;			/* <ib><downgrade_webclient/> on this connection */
	int in_session;			/* inside wa_session_process */
	int retry_timer, stop_timer, src;
	int stopping;
	char stop_reason[64];
	int done;
};

static void attempt(struct wa_run *r, const char *reason, const char *klass, int code);

static void __attribute__((format(printf, 3, 4)))
say(struct wa_run *r, enum wa_log_level lv, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!r->o.hooks.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	r->o.hooks.log(r->o.hooks.arg, lv, line);
}

static void
set_state(struct wa_run *r, enum wa_state st, const char *reason, const char *klass, int code, int64_t next_at)
{
	struct wa_run_change c;

	memset(&c, 0, sizeof c);
	c.state = st;
	c.prev = r->state;
	c.reason = reason;
	c.klass = klass;
	c.code = code;
	c.outage = r->outage_edge;
	c.next_at = next_at;
	c.connects = r->connects;
	r->state = st;
	r->outage_edge = WA_RUN_OUTAGE_NONE;
	if (r->o.hooks.state)
		r->o.hooks.state(r->o.hooks.arg, r, &c);
}

static void
cancel(struct wa_run *r, int *timer)
{
	if (*timer)
		wa_loop_timer_cancel(r->loop, *timer);
	*timer = 0;
}

/* Enter a final state: once; the end hook is the last one. */
static void
finish(struct wa_run *r, enum wa_state st, const char *reason, const char *klass, int code,
    const struct wa_dc *dc, int spent, int err)
{
	struct wa_run_end e;

	if (r->done)
		return;
	r->done = 1;
	cancel(r, &r->retry_timer);
	cancel(r, &r->stop_timer);
	if (r->s && !r->in_session) {
		wa_session_free(r->s);
		r->s = NULL;
	}
	memset(&e, 0, sizeof e);
	e.state = st;
	e.prev = r->state;
	e.reason = reason;
	e.klass = klass;
	e.code = code;
	e.outage = r->waited ? WA_RUN_OUTAGE_END : WA_RUN_OUTAGE_NONE;
	e.dc = dc;
	e.retries_spent = spent;
	e.err = err;
	r->state = st;
	r->outage_edge = WA_RUN_OUTAGE_NONE;
	if (r->o.hooks.end)
		r->o.hooks.end(r->o.hooks.arg, r, &e);
}

/* ---- the session's callbacks -------------------------------------------- */

static void
on_success(void *arg, struct wa_session *s, const struct wa_node *n)
{
	struct wa_run *r = arg;
	int64_t mono = wa_clock_mono_ms();
	int64_t down = r->offline_since >= 0 ? mono - r->offline_since : -1;

	(void)s;
	(void)n;
	r->online_at = mono;
	wa_backoff_online(&r->bo, mono);
	set_state(r, WA_ST_ONLINE, "logged in", NULL, 0, 0);
	if (r->done)
		return;
	if (r->o.hooks.online)
		r->o.hooks.online(r->o.hooks.arg, r, r->attempt, down, r->waited);
	r->attempt = 0;
	r->waited = 0;
	r->offline_since = -1;
}

static void
on_prekeys(void *arg, struct wa_session *s, const struct wa_session_prekeys *p)
{
	struct wa_run *r = arg;

	(void)s;
	if (r->o.hooks.prekeys && !r->done)
		r->o.hooks.prekeys(r->o.hooks.arg, r, p);
}

static int
on_node(void *arg, struct wa_session *s, const struct wa_node *n)
{
	struct wa_run *r = arg;

	(void)s;
	/* wa-protocol(7) §10.4: the server will not take this client as a
	 * multi-device companion */
	if (strcmp(n->tag, "ib") == 0 && wa_node_child(n, "downgrade_webclient")) {
		r->downgrade = 1;
		return WA_EPROTO;
	}
	if (r->o.hooks.node)
		return r->o.hooks.node(r->o.hooks.arg, r, n);
	return 0;
}

static void
session_log(void *arg, enum wa_log_level lv, const char *line)
{
	struct wa_run *r = arg;

	if (r->o.hooks.log)
		r->o.hooks.log(r->o.hooks.arg, lv, line);
}

/* ---- connections ---------------------------------------------------------- */

static void
retry(void *arg)
{
	struct wa_run *r = arg;

	r->retry_timer = 0;
	attempt(r, NULL, NULL, 0);
}

static enum wa_state
final_state(enum wa_dc_class k)
{
	switch (k) {
	case WA_DC_REPLACED: return WA_ST_REPLACED;
	case WA_DC_LOGGED_OUT: return WA_ST_LOGGED_OUT;
	case WA_DC_OUTDATED: return WA_ST_OUTDATED;
	case WA_DC_REFUSED: return WA_ST_REFUSED;
	case WA_DC_BANNED: return WA_ST_BANNED;
	case WA_DC_STOPPED: return WA_ST_STOPPED;
	case WA_DC_LOCALFAIL: return WA_ST_FAILED;
	default: return WA_ST_RETRIES_EXHAUSTED;
	}
}

/* The connection ended: classify, tell, act. */
static void
session_ended(struct wa_run *r)
{
	struct wa_session_end end = *wa_session_end(r->s);
	int64_t mono = wa_clock_mono_ms(), wall = wa_clock_wall_ms(), now_s = wall / 1000;
	struct wa_dc_input in;
	struct wa_dc dc;
	const char *action, *klass;
	char reason[400];
	long delay = 0;
	int rc, spent = 0;

	wa_session_free(r->s);
	r->s = NULL;
	cancel(r, &r->stop_timer);

	wa_session_end_dc(&in, &end);
	in.now = now_s;
	in.max_ban_wait = r->o.ban_max_s > 0 ? r->o.ban_max_s : -1;
	in.min_ban_wait = r->o.ban_min_s > 0 ? r->o.ban_min_s : -1;
	if (r->downgrade && end.kind == WA_SESSION_END_NETWORK) {
		in.source = WA_DC_DOWNGRADE;
		in.code = 411;
	}
	if (r->stopping && end.kind == WA_SESSION_END_LOCAL)
		in.text = r->stop_reason;
	wa_dc_classify(&dc, &in);
	snprintf(reason, sizeof reason, "%s", dc.reason);
	klass = wa_dc_class_name(dc.klass);

	action = wa_dc_action_name(dc.action);
	if (dc.action != WA_DC_EXIT) {
		rc = wa_backoff_failure(&r->bo, mono, dc.action == WA_DC_RECONNECT_NOW, &delay);
		if (rc == WA_ETIMEDOUT) {
			action = "exit";
			spent = 1;
			snprintf(reason, sizeof reason, "reconnect budget spent (%u attempts without a stable "
			    "connection, the first failure %lld s ago); last: %s", r->bo.attempt,
			    (long long)((mono - r->bo.first_fail_ms) / 1000), dc.reason);
		} else if (dc.action == WA_DC_WAIT_UNTIL) {
			delay = (long)((dc.until - now_s) * 1000);
			if (delay < 0)
				delay = 0;
		}
	}
	if (r->o.hooks.disconnect)
		r->o.hooks.disconnect(r->o.hooks.arg, r, &dc, action,
		    r->online_at >= 0 ? mono - r->online_at : -1);
	if (r->online_at >= 0)
		r->offline_since = mono;
	r->online_at = -1;
	if (r->done)
		return;

	if (strcmp(action, "exit") == 0) {
		finish(r, final_state(dc.klass), reason, klass, dc.code, &dc, spent, 0);
		return;
	}
	if (r->stopping) {
		finish(r, WA_ST_STOPPED, "the signal came while the connection was ending", "stopped", 0,
		    NULL, 0, 0);
		return;
	}
	r->attempt++;
	if (dc.action == WA_DC_WAIT_UNTIL || dc.action == WA_DC_BACKOFF || delay > 0) {
		/* a ban, a backoff (even one whose random delay came out 0)
		 * and a 515 past its immediate reconnects: an outage */
		int ban = dc.action == WA_DC_WAIT_UNTIL;
		r->outage_edge = r->waited ? WA_RUN_OUTAGE_NONE : WA_RUN_OUTAGE_DOWN;
		r->waited = 1;
		set_state(r, ban ? WA_ST_BANNED : WA_ST_BACKOFF, dc.reason, klass, dc.code, wall + delay);
		if (r->done)
			return;
		if (ban && r->o.hooks.banned)
			r->o.hooks.banned(r->o.hooks.arg, r, dc.ban_code, wall + delay);
		if (r->done)
			return;
	}
	if (r->o.hooks.reconnect)
		r->o.hooks.reconnect(r->o.hooks.arg, r, delay, r->attempt, wall + delay);
	if (r->done)
		return;
	if (r->state == WA_ST_CONNECTING || r->state == WA_ST_ONLINE) {
		/* 515: at once, from here */
		attempt(r, dc.reason, klass, dc.code);
		return;
	}
	if ((rc = wa_loop_timer(r->loop, delay, retry, r)) < 0) {
		finish(r, WA_ST_FAILED, "out of memory", "local", 0, NULL, 0, WA_ENOMEM);
		return;
	}
	r->retry_timer = rc;
}

/* Open a connection (the session logs in by itself). */
static void
attempt(struct wa_run *r, const char *reason, const char *klass, int code)
{
	struct wa_why why = { "" };
	int rc;

	r->connects++;
	r->downgrade = 0;
	r->inbound_seen = 0;
	set_state(r, WA_ST_CONNECTING, reason, klass, code, 0);
	if (r->done)
		return;
	if (r->o.hooks.connecting)
		r->o.hooks.connecting(r->o.hooks.arg, r, r->attempt);
	if (r->done)
		return;
	rc = wa_session_open(&r->s, r->ad, r->creds, &r->o.session, &why);
	if (rc < 0) {
		r->s = NULL;
		finish(r, WA_ST_FAILED, why.text[0] ? why.text : wa_strerror(rc), "local", 0, NULL, 0, rc);
	}
}

/* The session as a loop source: the session of the moment, if any. */
static int
src_pollfds(void *arg, struct pollfd *fds, int max, int *timeout_ms)
{
	struct wa_run *r = arg;

	*timeout_ms = -1;
	if (!r->s)
		return 0;
	return wa_session_pollfds(r->s, fds, max, timeout_ms);
}

static void
src_process(void *arg, const struct pollfd *fds, int n)
{
	struct wa_run *r = arg;
	time_t t;

	(void)fds;
	(void)n;
	if (!r->s)
		return;
	r->in_session = 1;
	wa_session_process(r->s);
	if (r->o.hooks.turn && !r->done) {
		char why[WA_WHY_MAX] = "";
		int rc = r->o.hooks.turn(r->o.hooks.arg, r, why);
		if (rc < 0 && wa_session_state(r->s) != WA_SESSION_CLOSED) {
			wa_session_fail_storage(r->s, rc, why);
		}
	}
	r->in_session = 0;
	if (r->done) {
		wa_session_free(r->s);
		r->s = NULL;
		return;
	}
	if ((t = wa_session_last_inbound(r->s)) && t != r->inbound_seen) {
		r->inbound_seen = t;
		if (r->o.hooks.inbound)
			r->o.hooks.inbound(r->o.hooks.arg, r, t);
		if (r->done) {
			wa_session_free(r->s);
			r->s = NULL;
			return;
		}
	}
	if (wa_session_state(r->s) == WA_SESSION_CLOSED)
		session_ended(r);
}

static void
stop_overdue(void *arg)
{
	struct wa_run *r = arg;

	r->stop_timer = 0;
	finish(r, WA_ST_STOPPED, "stopped: the connection did not close in time", "stopped", 0, NULL, 0, 0);
}

/* ---- the interface ---------------------------------------------------------- */

int
wa_run_new(struct wa_run **out, struct wa_loop *loop, struct wa_authdir *ad, json_t *creds,
    const struct wa_run_opts *o)
{
	struct wa_run *r;
	int rc;

	*out = NULL;
	if (!(r = calloc(1, sizeof *r)))
		return WA_ENOMEM;
	r->loop = loop;
	r->ad = ad;
	r->creds = creds;
	r->o = *o;
	r->o.session.conn.log = session_log;
	r->o.session.on_success = on_success;
	r->o.session.on_prekeys = on_prekeys;
	r->o.session.on_node = on_node;
	r->o.session.arg = r;
	if (!r->o.stop_ms)
		r->o.stop_ms = STOP_MS;
	r->state = WA_ST_STARTING;
	r->online_at = r->offline_since = -1;
	wa_backoff_init(&r->bo, &r->o.backoff, r->o.seed);
	if ((rc = wa_loop_source(loop, src_pollfds, src_process, r)) < 0) {
		free(r);
		return WA_ENOMEM;
	}
	r->src = rc;
	*out = r;
	return 0;
}

void
wa_run_start(struct wa_run *r)
{
	if (!r->done && r->state == WA_ST_STARTING)
		attempt(r, NULL, NULL, 0);
}

int
wa_run_stop(struct wa_run *r, const char *reason)
{
	char text[96];
	int rc;

	if (r->done)
		return 0;
	snprintf(text, sizeof text, "stopped: %s%s", reason, r->stopping ? " (again)" : "");
	if (r->stopping || !r->s) {
		/* a second stop, or nothing to close */
		finish(r, WA_ST_STOPPED, text, "stopped", 0, NULL, 0, 0);
		return 0;
	}
	r->stopping = 1;
	snprintf(r->stop_reason, sizeof r->stop_reason, "%s", reason);
	say(r, WA_LOG_INFO, "%s: closing the connection", reason);
	cancel(r, &r->retry_timer);
	wa_session_close(r->s);
	if ((rc = wa_loop_timer(r->loop, r->o.stop_ms, stop_overdue, r)) > 0)
		r->stop_timer = rc;
	return 1;
}

void
wa_run_fail(struct wa_run *r, int err, const char *reason)
{
	finish(r, WA_ST_FAILED, reason, "local", 0, NULL, 0, err);
}

void
wa_run_free(struct wa_run *r)
{
	if (!r)
		return;
	cancel(r, &r->retry_timer);
	cancel(r, &r->stop_timer);
	if (r->src > 0)
		wa_loop_source_remove(r->loop, r->src);
	wa_session_free(r->s);
	free(r);
}

enum wa_state
wa_run_state(const struct wa_run *r)
{
	return r->state;
}

int
wa_run_done(const struct wa_run *r)
{
	return r->done;
}

unsigned
wa_run_attempt(const struct wa_run *r)
{
	return r->attempt;
}

struct wa_session *
wa_run_session(const struct wa_run *r)
{
	return r->s;
}
