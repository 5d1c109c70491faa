/*
 * disconnect.h - what a session does when its connection ends.
 *
 * wa_dc_classify turns a description of how a connection ended (a
 * <stream:error>, a <failure> instead of <success>, a transport error, a
 * local timeout ...) into a class, and each class into one action.  It is
 * a pure function: no I/O, no clock (the caller passes the time), so every
 * case is a unit test (tests/unit/t-disconnect.c).  Facts: wa-protocol(7)
 * §9 and §10; Baileys' DisconnectReason codes are reused as the "code" so
 * that logs read like a Baileys bot's.
 *
 *	class        action          exit status (cmd/)   when
 *	restart      reconnect now   -                    stream:error 515 (restart required, e.g. after pairing)
 *	transient    backoff         retries              network errors, websocket closed, <xmlstreamend/> (428),
 *	                             (budget spent)       timeouts and keepalive loss (408), 5xx, 413/414,
 *	                                                  stream:error 401 WITHOUT device_removed (the next
 *	                                                  login says whether it is real), any other or unknown
 *	                                                  stream:error, <failure> 5xx or without a reason
 *	replaced     exit            replaced             <conflict type="replaced"/>, stream:error 440
 *	logged_out   exit            logged_out           <conflict type="device_removed"/> in a stream:error;
 *	                                                  <failure reason="401|403|406">
 *	banned       wait until T    banned               <failure reason="402" code=C expire=S>: wait S seconds
 *	                             (no expiry, or       (or until S when it looks like a Unix time), up to
 *	                             longer than max)     max_ban_wait; the ban code C is reported
 *	outdated     exit            outdated             <failure reason="405">
 *	refused      exit            refused              <failure> 400, 409 (bad user agent), 415, 418, any
 *	                                                  other 4xx; <ib><downgrade_webclient/> (411)
 *	stopped      exit            ok                   SIGTERM/SIGINT: an orderly close asked for locally
 *	local        exit            ioerr /              a local failure the session cannot go on after
 *	                             software             (the status or an auth file could not be made
 *	                                                  durable: R6, "fsyncgate")
 *
 * Nothing here ever deletes or rewrites credentials: every class leaves
 * creds.json exactly as it was, logged_out included (re-pairing is the
 * operator's decision).
 *
 * Only what came through the Noise channel, whose server certificate
 * chain was verified (every node does, with lib/conn), can log the
 * session out or end it: a transport-level number, such as an HTTP status
 * on the websocket upgrade or a proxy's 401/403, is never more than
 * transient.  A <stream:error> or <failure> with verified = 0 is treated
 * the same way.
 *
 * "A failure that repeats without progress never loops forever": the
 * restart class asks for an immediate reconnect, but lib/backoff.h allows
 * only a few of those in a row before it delays them, and both classes
 * count against the reconnect budget.
 */
#ifndef WA_DISCONNECT_H
#define WA_DISCONNECT_H

#include <stdint.h>

enum wa_dc_source {
	WA_DC_STREAM_ERROR = 1, /* <stream:error [code]>[<child type=...>]: code, child, child_type */
	WA_DC_FAILURE,          /* <failure reason=... [code] [expire]> instead of <success> */
	WA_DC_STREAM_END,       /* <xmlstreamend/> */
	WA_DC_CLOSED,           /* the transport ended: rc (WA_ECLOSED, WA_ESYS, WA_EPROTO,
	                           WA_EVERIFY ...), code = HTTP status of a refused upgrade or 0 */
	WA_DC_TIMEOUT,          /* a local deadline: connect, handshake, login, keepalive */
	WA_DC_DOWNGRADE,        /* <ib><downgrade_webclient/></ib> */
	WA_DC_SHUTDOWN,         /* asked to stop (signal) */
	WA_DC_LOCAL,            /* a local error: rc (WA_ESYNC, WA_ESYS with errno, WA_ENOMEM ...) */
};

enum wa_dc_class {
	WA_DC_RESTART = 1,
	WA_DC_TRANSIENT,
	WA_DC_REPLACED,
	WA_DC_LOGGED_OUT,
	WA_DC_BANNED,
	WA_DC_OUTDATED,
	WA_DC_REFUSED,
	WA_DC_STOPPED,
	WA_DC_LOCALFAIL,
};

enum wa_dc_action {
	WA_DC_RECONNECT_NOW = 1, /* open a new connection at once (subject to lib/backoff's guard) */
	WA_DC_BACKOFF,           /* wa_backoff_failure() says how long to wait */
	WA_DC_WAIT_UNTIL,        /* wait until .until (wall clock), then reconnect */
	WA_DC_EXIT,              /* close, write the status, exit (the command maps the class to its status) */
};

#define WA_DC_BAN_MAX_WAIT (48L * 3600) /* default max_ban_wait, seconds */
#define WA_DC_BAN_MIN_WAIT 60L           /* default min_ban_wait, seconds */

struct wa_dc_input {
	enum wa_dc_source source;
	int verified;            /* the node came through the verified Noise channel */
	int authenticated;       /* <success> was received on this connection */
	int code;                /* stream:error code attr, failure reason, HTTP status; 0 absent */
	const char *child;       /* stream:error: tag of the first child ("conflict"), or NULL */
	const char *child_type;  /* its type attr ("replaced", "device_removed"), or NULL */
	const char *text;        /* failure message attr or other detail for .reason; may be NULL */
	int ban_code;            /* failure code attr (402: 101 too many people ...); 0 absent */
	int64_t expire;          /* failure expire attr (seconds); -1 absent */
	int rc;                  /* WA_DC_CLOSED / WA_DC_LOCAL: the WA_E* code */
	int err;                 /* with rc == WA_ESYS: errno */
	int64_t now;             /* wall clock, Unix seconds (for the ban end) */
	int64_t max_ban_wait;    /* seconds; 0: WA_DC_BAN_MAX_WAIT; <0: never wait */
	int64_t min_ban_wait;    /* seconds a ban waits at least, even one that says it is
	                            over; 0: WA_DC_BAN_MIN_WAIT; <0: no minimum (tests) */
};

struct wa_dc {
	enum wa_dc_class klass;
	enum wa_dc_action action;
	int rc;                 /* local: the WA_E* code of the failure (the command maps it
	                           to an exit status); 0 for every other class */
	int err;                /* local with rc == WA_ESYS: errno */
	int code;               /* the numeric code, Baileys-style: 515, 440, 401, 402, 408, 428,
	                           500 ...; 0 for stopped and local */
	int ban_code;           /* banned: the code attr, 0 if absent */
	int64_t until;          /* WAIT_UNTIL: wall clock, Unix seconds */
	char reason[160];       /* one line: "stream:error 515 (restart required)" */
};

/* Classify in (see the table above) into *out.  Never fails: anything not
 * recognised is transient. */
void wa_dc_classify(struct wa_dc *out, const struct wa_dc_input *in);

/* "restart", "transient", "replaced", "logged_out", "banned", "outdated",
 * "refused", "stopped", "local"; "?" for anything else. */
const char *wa_dc_class_name(enum wa_dc_class k);

/* "reconnect", "backoff", "wait", "exit". */
const char *wa_dc_action_name(enum wa_dc_action a);

#endif
