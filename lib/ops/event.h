/*
 * event.h - wa-run's events: one JSON object per line, the same line on
 * stdout, in .wa/events.jsonl, in --on-event's WA_EVENT_JSON and in the
 * --webhook POST body.  The schema is stable: fields are only ever added.
 *
 * Every line has, in this order:
 *
 *	ts      RFC 3339 UTC time with milliseconds, "2026-11-21T10:15:00.123Z"
 *	seq     1, 2, 3 ... within one wa-run process (to spot a gap or a duplicate)
 *	event   the event name (below)
 *	state   the session state after the event (status.h names)
 *	dir     the auth folder, when the caller set one
 *
 * then the event's own fields (null where the table says so):
 *
 *	event       when                              fields
 *	start       the folder is open and locked     pid, version
 *	state       the state changed                 prev (the state before), reason (one line or
 *	                                              null), class and code (of the disconnect that
 *	                                              caused it, else null), outage ("down" when this
 *	                                              change begins an outage: the first backoff or
 *	                                              ban since online; "end" when the process ends
 *	                                              during one; else null)
 *	connecting  a connection attempt begins       attempt (0 the first, then 1, 2 ... since online)
 *	online      <success>: the session is up      attempt, downtime_ms (since the session was
 *	                                              last online; null the first time), outage (true
 *	                                              when this ends an outage: it took backoff)
 *	disconnect  the connection ended              class, code (null if none), reason, action
 *	                                              (reconnect, backoff, wait, exit), online_ms (how
 *	                                              long it had been online; null if it never was)
 *	reconnect   the next attempt is scheduled     delay_ms, attempt (the coming one), at (its time)
 *	banned      a temporary ban is waited out     ban_code (null if none), until
 *	prekeys     pre-keys checked at login         server_count, uploaded (0 when none were needed)
 *	warning     something failed that does not    reason
 *	            end the session (a status write,
 *	            a webhook dropped)
 *	exit        wa-run is about to exit           exit_code
 *	message     a message is in the inbox         the record (wa-message(5)) and
 *	                                              path (its file in new/)
 *	offline     the offline backlog is drained    count, ms
 *	identity    a peer's identity key changed     jid, sessions (moved to quarantine)
 *	undecryptable  a message was stored as such   class, chat, sender, id, detail
 *	receipt     a peer's receipt for our message  id, from, participant, type
 *	decrypt_failed  a message did not decrypt:    class, chat, sender, id, retry,
 *	            a retry receipt asked again       detail (once per sender and class
 *	                                              an hour)
 *	repaired    a message decrypted after retries chat, sender, class, retries, ms
 *
 * message and receipt lines go to standard output (and message to
 * --on-message) only: the event history and --on-event / --webhook
 * never see message content.
 *
 * Notable events (wa_event_notable), the ones --on-event and --webhook
 * deliver: a state event into logged_out, replaced, retries_exhausted,
 * banned, outdated, refused or failed; a state event with an outage
 * ("down", "end"); an online event with outage true; an identity,
 * decrypt_failed, repaired or undecryptable event.  So every outage
 * that is notified as down is notified again when it is over: online
 * (outage true) or the final state it ended in (outage "end").
 */
#ifndef WA_EVENT_H
#define WA_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "base/json.h"
#include "base/time.h"
#include "ops/status.h"

enum wa_event_type {
	WA_EV_START = 1,
	WA_EV_STATE,
	WA_EV_CONNECTING,
	WA_EV_ONLINE,
	WA_EV_DISCONNECT,
	WA_EV_RECONNECT,
	WA_EV_BANNED,
	WA_EV_PREKEYS,
	WA_EV_WARNING,
	WA_EV_EXIT,
	WA_EV_MESSAGE,		/* a message is in the inbox (not in the history) */
	WA_EV_OFFLINE,		/* the offline backlog is drained */
	WA_EV_IDENTITY,		/* a peer's identity changed */
	WA_EV_UNDECRYPTABLE,	/* a message was stored undecryptable */
	WA_EV_RECEIPT,		/* a peer's receipt for one of ours (not in the history) */
	WA_EV_DECRYPT_FAILED,	/* a message did not decrypt: a retry receipt went out */
	WA_EV_REPAIRED,		/* a peer's messages decrypt again after retries */
	WA_EV_SENT,		/* the server acked one of our outbox jobs (not in the history) */
	WA_EV_DELIVERED,	/* a peer's device received one of ours (not in the history) */
	WA_EV_READ,		/* a peer read one of ours (not in the history) */
	WA_EV_SEND_FAILED,	/* an outbox job cannot be sent */
};

/* struct wa_event.outage of a state event */
enum { WA_OUTAGE_NONE = 0, WA_OUTAGE_DOWN, WA_OUTAGE_END };

struct wa_event {
	enum wa_event_type type;
	int64_t ts;               /* wall ms; 0: now */
	unsigned long seq;        /* the caller counts, from 1 */
	enum wa_state state;      /* after the event */
	const char *dir;          /* may be NULL */

	enum wa_state prev;       /* state */
	const char *reason;       /* state, disconnect, warning; may be NULL */
	unsigned attempt;         /* connecting, online, reconnect */
	int64_t downtime_ms;      /* online; -1 null */
	int outage;               /* online; state: WA_OUTAGE_* */
	const char *klass;        /* disconnect, state; NULL null */
	int code;                 /* disconnect, state; 0 null */
	const char *action;       /* disconnect */
	int64_t online_ms;        /* disconnect; -1 null */
	long delay_ms;            /* reconnect */
	int64_t at;               /* reconnect: wall ms */
	int ban_code;             /* banned; 0 null */
	int64_t until;            /* banned: wall ms */
	long server_count;        /* prekeys */
	long uploaded;            /* prekeys */
	int exit_code;            /* exit */
	long pid;                 /* start */
	const char *version;      /* start */
	const json_t *fields;     /* message, offline, identity, undecryptable,
				     receipt, sent, delivered, read,
				     send_failed: an object whose members follow the
				     common ones, in order (borrowed) */
};

/* A zeroed event of type t with the "null" sentinels set. */
void wa_event_init(struct wa_event *e, enum wa_event_type t, enum wa_state state);

/* "start", "state", ... ; "?" out of range. */
const char *wa_event_name(enum wa_event_type t);

/* The event as one line of JSON ending in '\n' (*out is the caller's,
 * free()).  ts 0 is taken as now.  WA_ENOMEM. */
int wa_event_format(char **out, size_t *len, const struct wa_event *e);

/* 1 for the events an operator must hear about (see above). */
int wa_event_notable(const struct wa_event *e);

#endif
