/*
 * status.h - wa-run's state on disk: the status file .wa/status.json and
 * the event history .wa/events.jsonl.
 *
 * STATUS FILE.  One JSON object, replaced as a whole with the durable
 * write (wa_durable_put through .wa/tmp), so a reader (wa-check, any
 * script) sees the previous or the new version, never a mix, even after a
 * crash or power loss.  Readers need no lock.  Fields (times are RFC 3339
 * UTC with milliseconds, "2026-11-21T10:15:00.123Z", or null):
 *
 *	state          one of the states below
 *	since          when the current state began
 *	pid            the wa-run process
 *	pstart         its start time as lib/compat.h reports it (clock ticks
 *	               since boot on Linux; null where unknown): together with
 *	               pid it tells a live wa-run from a recycled pid
 *	started        when this wa-run started
 *	updated        when this file was written
 *	last_connected when the session last went online (<success>)
 *	last_inbound   when the last data arrived from the server (any stanza
 *	               or pong); see the write policy for how fresh it is
 *	last_error     one line on the last disconnect or error, or null
 *	class          its class (disconnect.h: restart, transient, replaced,
 *	               logged_out, banned, outdated, refused, stopped, local)
 *	code           its numeric code (515, 440, 401, 402, 408 ...), or null
 *	reconnects     connection attempts after the first, since start
 *	reconnects_since_online   attempts since the session was last online
 *	next_attempt   when the next connection attempt is due (backoff and
 *	               banned), else null
 *	exit_code      the exit status wa-run is leaving with (final states), else null
 *	version        wa's version
 *	inbox          the inbox spool wa-run stores received messages in
 *	               (spool.h, wa-message(5)), an absolute path, or null
 *	last_message   when a message was last stored in the inbox; as lazy
 *	               as last_inbound (see the write policy)
 *	messages_received  messages stored in the inbox since this wa-run
 *	               started (undecryptable ones included)
 *	undecryptable  of those, the ones stored as undecryptable
 *	decrypt_failures  failed decryptions since this wa-run started, by
 *	               class: {"bad_mac": 12, "no_session": 1} (the classes
 *	               of signal/cipher.h, wa_sigclass_name; only those that
 *	               occurred; "other" for one this version does not know)
 *	decrypt_failures_recent  the same, counted over about the last 10
 *	               minutes (WA_STATUS_WINDOW_MIN one-minute slots kept in
 *	               memory) before "updated"
 *	retries        retry receipts sent since start (self-healing)
 *	repaired       messages that decrypted after a retry receipt
 *	quarantined    peer state files (sessions, sender keys) moved to
 *	               quarantine by the self-healing
 *	phone_seen     when our primary phone (device 0 of our own account, PN
 *	               or LID form) last sent anything (a receipt, a message,
 *	               a notification), or null: never seen by this folder's
 *	               wa-runs (the value is carried over from the previous
 *	               file at start); as lazy as last_inbound
 *	phone_pinged   when wa-run last asked the phone to answer (--phone-ping),
 *	               or null
 *	superseded     absent while wa-run owns the file; {"by": "wa-pair" or
 *	               "wa-restore", "at": time} once such a tool replaced the
 *	               folder's credentials (wa_status_supersede): the state
 *	               is history, not a problem of the folder
 *
 * States: starting (folder opened, not connected yet), connecting (a
 * connection is being opened or logged in), online (<success> received),
 * backoff (waiting before the next attempt), banned (waiting out a
 * temporary ban), and the final ones, after which the process exits:
 * logged_out, replaced, outdated, refused, retries_exhausted, failed (a
 * local error such as a failed fsync), stopped (SIGTERM/SIGINT).
 *
 * WRITE POLICY.  The file is written by wa_status_state on every state
 * change, and by a wa_status_state to the same state when another field
 * changed since the last write (wa_status_error, _online, _attempt, _next,
 * _exit only change memory; they go with a state change anyway).
 * last_inbound alone is written at most once per inbound_interval_ms
 * (default 60 s): wa_status_inbound records the time in memory and writes
 * only when the first one of the process or when the last write of one is
 * that old, and wa_status_tick (call it from a timer, e.g. every keepalive)
 * writes a pending one once it is due.  So last_inbound on disk lags the
 * truth by at most inbound_interval_ms plus the tick period: a wa-check
 * --max-silence should be well above that (2 minutes or more).  While
 * online with keepalive pings answered, that is one durable write per
 * interval.  last_message and the two message counters follow the same
 * rule: wa_status_message only counts in memory; the first message of
 * the process is written by the next wa_status_inbound or wa_status_tick,
 * later ones at most once per inbound_interval_ms (one interval clock for
 * both lazy fields), so receiving never costs a durable write per message.
 * The self-healing counters (wa_status_heal) are lazy in the same way:
 * the first change of the process is written by the next inbound or
 * tick, later ones at most once per interval; and a tick whose recent
 * window lost a minute (failures aging out) writes that change when due,
 * so the file's recent counts trail the truth by at most the interval
 * plus the tick period, and a file last written over WA_STATUS_WINDOW_MIN
 * minutes ago holds no failure that is still recent.
 *
 * The fields inbox, last_message, messages_received and undecryptable
 * came later: a file without them (an older wa-run) decodes, strictly
 * too, with inbox and last_message null and the counters 0; so do
 * decrypt_failures, decrypt_failures_recent, retries, repaired and
 * quarantined (all 0 when absent; heal 0 tells).
 *
 * EVENT HISTORY.  events.jsonl holds one JSON object per line (lib/event.h
 * schema), appended with a single write(2) on a descriptor opened
 * O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW|O_CLOEXEC, mode 0600, then flushed
 * with wa_durable_syncfd (unless sync is off).  Appends are not atomic
 * renames: a crash can lose or tear the last line, nothing before it.  On
 * open, a file that does not end in a newline (a torn last line) gets one,
 * so the next line starts clean; readers skip any line that is not one
 * complete JSON object (wa_eventlog_read counts them).  When a line would
 * take the file past max_bytes (default 1 MiB), the history rotates first:
 * events.jsonl.<keep> is removed, each events.jsonl.N moves to .N+1
 * (wa_durable_move, oldest first, so no move ever replaces a file), then
 * events.jsonl to events.jsonl.1, and a new events.jsonl is created; keep
 * (default 3) old files are kept.  A crash in the middle leaves a gap in
 * the numbering at worst, which the next rotation closes.
 *
 * All functions return 0 or a negative WA_E* code (WA_ESYS with errno;
 * WA_ESYNC when the directory fsync after a rename failed).  The caller
 * decides what a failed write means: durable.h says long-running callers
 * should exit on WA_ESYNC.
 */
#ifndef WA_STATUS_H
#define WA_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "session/state.h"

/* Failure classes counted: enum wa_sigclass (signal/cipher.h) as index;
 * index 0 is "other" (a class this version has no name for). */
#define WA_STATUS_CLASSES 16
/* The recent window: this many one-minute slots, the current one included. */
#define WA_STATUS_WINDOW_MIN 10

/* "other", "no_session", "bad_mac", ... for index i < WA_STATUS_CLASSES;
 * NULL for an index without a class of its own. */
const char *wa_status_class_name(size_t i);

/* The content of the status file.  Times are wall clock milliseconds since
 * the epoch, 0 for null. */
struct wa_status {
	enum wa_state state;        /* WA_ST_COUNT: a name wa-run does not write (lenient) */
	char state_name[32];        /* the state as written */
	int64_t since;
	long pid;
	unsigned long long pstart;  /* 0: unknown */
	int64_t started;
	int64_t last_connected;
	int64_t last_inbound;
	char last_error[256];       /* "" for null */
	char klass[32];             /* "" for null */
	int code;                   /* 0 for null */
	unsigned long reconnects;
	unsigned long reconnects_since_online;
	int64_t next_attempt;
	int exit_code;              /* -1 for null */
	char inbox[4096];           /* "" for null */
	int64_t last_message;
	unsigned long messages_received;
	unsigned long undecryptable;
	int64_t updated;            /* decode only: when the file was written (encode writes now) */
	int heal;                   /* decode: the file has the self-healing fields; encode writes them always */
	unsigned long decrypt_failures[WA_STATUS_CLASSES];  /* since start */
	unsigned long decrypt_recent[WA_STATUS_CLASSES];    /* the recent window */
	unsigned long retries, repaired, quarantined;
	int64_t phone_seen;         /* our phone's last stanza, 0 never */
	int64_t phone_pinged;       /* our last ping to it, 0 never */
	char outbox[4096];          /* "" for null (sending: wa-run --outbox) */
	unsigned long messages_sent, outbox_backlog;   /* 0 when absent */
	int64_t last_sent;          /* when the server last acked one of ours, 0 never */
};

/* The JSON text of st (one line, ending in a newline), with updated set to
 * now (wall ms).  *out is the caller's (free()).  WA_ENOMEM. */
int wa_status_encode(char **out, size_t *len, const struct wa_status *st, int64_t now);

/* Parse what wa_status_encode wrote: the one reader of status.json.
 * flags 0: strictly (every field present with its type; unknown fields
 * ignored), WA_ECORRUPT otherwise.  WA_STATUS_LENIENT (wa-check, which
 * reports what it can of a file it did not write): a field that is
 * missing or of the wrong type keeps its default, an unknown state is
 * WA_ST_COUNT with its name in state_name, and times may also be numbers
 * of seconds or milliseconds; WA_ECORRUPT only for a non-object. */
#define WA_STATUS_LENIENT 1
int wa_status_decode(struct wa_status *st, const json_t *obj, int flags);

/* The writer: the current status in memory and the write policy. */
struct wa_statusw_opts {
	long inbound_interval_ms;   /* 0: 60000 */
};

struct wa_statusw {
	struct wa_status st;        /* the caller may read it; change it through the calls */
	int wafd, stagefd;          /* .wa and .wa/tmp; not owned */
	long inbound_interval_ms;
	int64_t inbound_written;    /* last_inbound in the file */
	unsigned long messages_written; /* messages_received in the file */
	int64_t lazy_written_at;    /* when a write last carried a new lazy field */
	unsigned long heal_changes; /* changes of the self-healing fields in memory */
	unsigned long heal_written; /* heal_changes as of the last write */
	int64_t phone_written;      /* phone_seen in the file */
	int phone_first;            /* the first phone_seen of the process is written */
	int64_t slot_min[WA_STATUS_WINDOW_MIN];   /* the minute each slot counts */
	unsigned long slot[WA_STATUS_WINDOW_MIN][WA_STATUS_CLASSES];
	int64_t written_at;         /* wall ms of the last write, 0 never */
	int dirty;                  /* a field other than last_inbound changed since */
	unsigned long writes;       /* successful writes */
};

/* Start a status in state starting for this process (pid, pstart,
 * started = since = now).  Writes nothing yet: the first wa_status_state
 * or wa_status_flush does. */
void wa_status_init(struct wa_statusw *w, int wafd, int stagefd, const struct wa_statusw_opts *o,
    int64_t now);

/* Move to state s at now (since = now) and write.  A change to the same
 * state writes only if a field changed since the last write. */
int wa_status_state(struct wa_statusw *w, enum wa_state s, int64_t now);

/* Fields set together at a disconnect; then call wa_status_state. */
void wa_status_error(struct wa_statusw *w, const char *klass, int code, const char *text);
/* Online at now: last_connected, reconnects_since_online = 0, next_attempt null. */
void wa_status_online(struct wa_statusw *w, int64_t now);
/* A connection attempt after the first: the reconnect counters. */
void wa_status_attempt(struct wa_statusw *w);
/* next_attempt (0: null) and exit_code (-1: null). */
void wa_status_next(struct wa_statusw *w, int64_t when);
void wa_status_exit(struct wa_statusw *w, int exit_code);

/* The inbox folder (absolute; NULL or "" for none), written with the next
 * state change. */
void wa_status_inbox(struct wa_statusw *w, const char *path);
/* A message was stored in the inbox at now: last_message and the counters
 * (ok 0: it was stored as undecryptable).  Memory only: the next
 * wa_status_inbound or wa_status_tick writes it once due. */
void wa_status_message(struct wa_statusw *w, int64_t now, int ok);

/* The outbox folder (absolute; NULL or "" for none), written with the
 * next state change; and the sending counters (jobs the server acked
 * since start, jobs waiting in new/), lazy like the self-healing ones;
 * last_sent is set to now when sent grew (kept over a restart). */
void wa_status_outbox(struct wa_statusw *w, const char *path);
void wa_status_sending(struct wa_statusw *w, int64_t now, unsigned long sent, unsigned long backlog);

/* The self-healing counters as recv.h's struct wa_recv_stats has them
 * at now, cumulative since start: failures[] by enum wa_sigclass (n
 * entries; indexes from WA_STATUS_CLASSES on count as 0, "other"),
 * retries, repaired, quarantined.  What grew since the last call counts
 * in the recent window's current minute.  Memory only: the next
 * wa_status_inbound or wa_status_tick writes it once due (write policy). */
void wa_status_heal(struct wa_statusw *w, int64_t now, const unsigned long *failures, size_t n,
    unsigned long retries, unsigned long repaired, unsigned long quarantined);

/* Our primary phone sent a stanza at now: phone_seen, lazy like
 * last_inbound (the first one of the process is written by the next
 * inbound or tick).  wa_status_phone_pinged: a ping went out at now,
 * written with the next write of any kind.  wa_status_phone_restore:
 * the times the previous status file had (start), 0 for none. */
void wa_status_phone(struct wa_statusw *w, int64_t now);
void wa_status_phone_pinged(struct wa_statusw *w, int64_t now);
void wa_status_phone_restore(struct wa_statusw *w, int64_t seen, int64_t pinged);

/* Data arrived at now: see the write policy.  Returns 0 whether or not it
 * wrote, or the write's error. */
int wa_status_inbound(struct wa_statusw *w, int64_t now);
/* Write a pending last_inbound, last_message or self-healing change (the
 * recent window included) once it is due.  0 or the write's error. */
int wa_status_tick(struct wa_statusw *w, int64_t now);
/* Write now, whatever the policy says. */
int wa_status_flush(struct wa_statusw *w, int64_t now);

/* Read DIR/.wa/status.json (wafd: .wa) into st.  WA_ENOTFOUND,
 * WA_ECORRUPT, WA_EUNSAFE, WA_ESYS. */
int wa_status_read(struct wa_status *st, int wafd);

/*
 * Mark the status file in wafd as superseded: a tool that replaced what
 * the last wa-run saw (wa-pair after a new pairing, wa-restore after a
 * restore; by names it) calls this once it succeeded, holding the folder
 * lock, so that a stale state (failed, logged_out, online with a dead pid
 * ...) no longer describes the folder.  The file keeps every field and
 * gains "superseded": {"by": by, "at": now as RFC 3339}; it is written
 * with the durable write (stagefd: the staging folder, or wafd itself).
 * The next wa-run writes a whole new status without it.  Nothing to do
 * (0) when there is no status file or it is not a JSON object (wa-check
 * reports that on its own).  WA_ESYS, WA_ESYNC, WA_EUNSAFE, WA_ENOMEM.
 */
int wa_status_supersede(int wafd, int stagefd, const char *by, int64_t now);

/* ---- event history ---------------------------------------------------- */

struct wa_eventlog_opts {
	long max_bytes;      /* 0: 1 MiB */
	int keep;            /* 0: 3; at most 9 */
	int nosync;          /* 1: do not fsync after each line (tests of volume) */
};

struct wa_eventlog;

/* Open (create 0600) .wa/events.jsonl in wafd (not owned; must stay open)
 * for appending; seals a torn last line.  WA_EUNSAFE for a symbolic link
 * or not a regular file, WA_ESYS, WA_ENOMEM. */
int wa_eventlog_open(struct wa_eventlog **out, int wafd, const struct wa_eventlog_opts *o);
/* Append one line (len bytes, ending in '\n'; one is added if not),
 * rotating first when needed.  WA_ETOOBIG for a line over 64 KiB. */
int wa_eventlog_append(struct wa_eventlog *l, const char *line, size_t len);
/* Rotations done since open. */
unsigned long wa_eventlog_rotations(const struct wa_eventlog *l);
void wa_eventlog_close(struct wa_eventlog *l);

/* Call fn for each complete JSON object line of wafd/name, in order (fn's
 * obj is borrowed; a non-zero return from fn stops and is returned).
 * Lines that are not a JSON object, a torn last line among them, are
 * skipped and counted in *skipped (may be NULL).  WA_ENOTFOUND etc. */
int wa_eventlog_read(int wafd, const char *name, int (*fn)(void *arg, json_t *obj), void *arg,
    size_t *skipped);

#endif
