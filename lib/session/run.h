/*
 * run.h - keep one paired auth folder online: connect, log in, and when
 * the connection ends, do what its class says (reconnect at once, back
 * off, wait out a ban, or end), one session at a time, on the caller's
 * loop.  The reconnect state machine of wa-run, without its output.
 *
 *	struct wa_run_opts o = WA_RUN_OPTS_INIT;
 *	o.session = ...;  o.backoff = ...;  o.hooks = (struct wa_run_hooks){ ... };
 *	wa_run_new(&run, loop, ad, creds, &o);
 *	wa_run_start(run);                   // the first connection
 *	while (!wa_run_done(run)) wa_loop_once(loop, -1);
 *	wa_run_free(run);
 *
 *	starting -> connecting -> online -> (disconnect) -> connecting | backoff | banned | final
 *
 * The run never prints, writes a status file or an event, or picks an
 * exit code: it tells its caller through the hooks, in this order.
 *
 *  connecting: state(connecting), then connecting(attempt).
 *  <success>:  state(online, "logged in"), then online(attempt,
 *              downtime, outage).
 *  the end of a connection: disconnect(dc, action, online time); then
 *              - action exit (or the backoff budget spent): end;
 *              - a stop was asked for: end (stopped);
 *              - wait (a temporary ban): state(banned) with next_at, then
 *                banned(ban code, until), reconnect(delay, attempt, at);
 *              - backoff (or a reconnect whose delay is not 0):
 *                state(backoff) with next_at, then reconnect(...);
 *              - reconnect at once (515): reconnect(0, ...), then
 *                state(connecting) again without a timer.
 *  pre-keys:   prekeys(report), as session.h says.
 *  inbound:    inbound(time) each time the session's last inbound data
 *              time changes (after wa_session_process).
 *  nodes:      node(n) for every node the session does not handle, from
 *              inside wa_session_process; then turn() once after it (also
 *              when the connection just closed, so a batch taken before
 *              the close is still committed, though its replies cannot
 *              leave).
 *  the end:    end(final state, ...) once; no other hook after it.  The
 *              final state is reported by end only, not by state.
 *
 * state is also called when the same state is entered again (a 515 from
 * connecting: connecting -> connecting); prev then equals state.
 *
 * Hooks may call wa_run_fail and wa_run_stop (the run checks after each
 * hook whether it ended), never wa_run_free.  A session's log lines go
 * to the log hook, already redacted (session.h).
 *
 * Outage: a backoff or a ban since the session was last online is an
 * outage.  The first state change into it carries WA_RUN_OUTAGE_DOWN;
 * online's outage flag says one is over; end carries WA_RUN_OUTAGE_END
 * when the run ends inside one.
 *
 * Nothing here writes creds.json: the session does, field by field, and
 * no class deletes or rewrites credentials.
 */
#ifndef WA_RUN_H
#define WA_RUN_H

#include <stdint.h>
#include <time.h>
#include <jansson.h>

#include "base/backoff.h"
#include "session/disconnect.h"
#include "session/session.h"
#include "session/state.h"

struct wa_run;
struct wa_loop;
struct wa_authdir;

/* the values of ops/event.h's WA_OUTAGE_* */
enum { WA_RUN_OUTAGE_NONE = 0, WA_RUN_OUTAGE_DOWN, WA_RUN_OUTAGE_END };

/* A state entered (not a final one: see struct wa_run_end). */
struct wa_run_change {
	enum wa_state state, prev;	/* prev == state: entered again */
	const char *reason;		/* the cause, or NULL */
	const char *klass;		/* its class name (disconnect.h), or NULL */
	int code;			/* its numeric code, 0 none */
	int outage;			/* WA_RUN_OUTAGE_* */
	int64_t next_at;		/* backoff, banned: wall ms of the next attempt; else 0 */
	unsigned long connects;		/* connections opened so far, this one included */
};

/* How the run ended. */
struct wa_run_end {
	enum wa_state state, prev;	/* the final state (wa_state_final), the one before */
	const char *reason;		/* one line, or NULL */
	const char *klass;		/* class name, "stopped" or "local" */
	int code;			/* the disconnect's numeric code, 0 none */
	int outage;			/* WA_RUN_OUTAGE_END or _NONE */
	const struct wa_dc *dc;		/* the disconnect that ended the run, or NULL */
	int retries_spent;		/* the backoff budget is spent (dc: the last failure) */
	int err;			/* a local failure (WA_E*: wa_run_fail, the session
					   could not be opened, out of memory), else 0 */
};

struct wa_run_hooks {
	void (*state)(void *arg, struct wa_run *run, const struct wa_run_change *c);
	void (*connecting)(void *arg, struct wa_run *run, unsigned attempt);
	/* attempt: failed attempts before this one; downtime_ms since last
	 * online, -1 never online; outage: the run had backed off or waited */
	void (*online)(void *arg, struct wa_run *run, unsigned attempt, int64_t downtime_ms, int outage);
	/* action: wa_dc_action_name, or "exit" when the budget is spent;
	 * online_ms: how long the connection was online, -1 never */
	void (*disconnect)(void *arg, struct wa_run *run, const struct wa_dc *dc, const char *action,
	    int64_t online_ms);
	void (*banned)(void *arg, struct wa_run *run, int ban_code, int64_t until_ms);
	void (*reconnect)(void *arg, struct wa_run *run, long delay_ms, unsigned attempt, int64_t at_ms);
	void (*prekeys)(void *arg, struct wa_run *run, const struct wa_session_prekeys *p);
	void (*inbound)(void *arg, struct wa_run *run, time_t when);
	/* A node the session does not handle itself (messages, receipts,
	 * notifications, calls, ib): 0, or negative to close the connection
	 * (END_NETWORK with that code). */
	int (*node)(void *arg, struct wa_run *run, const struct wa_node *n);
	/* After each read turn of an open session (every node of the turn
	 * went to node): the place to commit a batch and answer it.
	 * Negative: writing failed; the connection ends with END_STORAGE
	 * (why: the reason). */
	int (*turn)(void *arg, struct wa_run *run, char why[WA_WHY_MAX]);
	void (*log)(void *arg, enum wa_log_level level, const char *line);
	void (*end)(void *arg, struct wa_run *run, const struct wa_run_end *e);
	void *arg;
};

struct wa_run_opts {
	/* for every connection; its on_success, on_prekeys, on_node,
	 * conn.log and arg are the run's own (set them through hooks) */
	struct wa_session_opts session;
	struct wa_backoff_policy backoff;
	long ban_min_s, ban_max_s;	/* a ban waits at least / at most; 0: none / never wait */
	long stop_ms;			/* wa_run_stop: the close may take this long; 0: 1000 */
	uint64_t seed;			/* backoff jitter; 0: random */
	struct wa_run_hooks hooks;
};
#define WA_RUN_OPTS_INIT { .backoff = WA_BACKOFF_POLICY_INIT }

/* A run of the folder ad (opened WA_AUTHDIR_WRITE) with creds (loaded by
 * wa_creds_read; both stay the caller's and must outlive the
 * run) on loop.  It joins the loop as a source; nothing connects before
 * wa_run_start.  0, or WA_ENOMEM. */
int wa_run_new(struct wa_run **out, struct wa_loop *loop, struct wa_authdir *ad, json_t *creds,
    const struct wa_run_opts *o);
/* Open the first connection.  Failures arrive through the end hook. */
void wa_run_start(struct wa_run *run);
/* An orderly stop (a signal): the connection is closed, and the run ends
 * stopped when it has closed or after stop_ms; with no connection, or on
 * a second call, it ends stopped at once.  reason names the cause
 * ("SIGTERM").  1 when a close began, 0 when the run ended (or had). */
int wa_run_stop(struct wa_run *run, const char *reason);
/* End the run now in the failed state with the WA_E* code err (e.g. the
 * caller's status file could not be made durable).  No-op once ended. */
void wa_run_fail(struct wa_run *run, int err, const char *reason);
/* Leaves the loop; NULL-safe.  Not from a hook. */
void wa_run_free(struct wa_run *run);

enum wa_state wa_run_state(const struct wa_run *run);
int wa_run_done(const struct wa_run *run);
/* Failed attempts since the session was last online. */
unsigned wa_run_attempt(const struct wa_run *run);
/* The session of the moment, or NULL (between connections). */
struct wa_session *wa_run_session(const struct wa_run *run);

#endif
