/*
 * notify.h - tell someone: run a command (--on-event) and POST to a URL
 * (--webhook) for the events an operator must hear about, without ever
 * blocking the session.
 *
 *	struct wa_notify_opts o = WA_NOTIFY_OPTS_INIT;
 *	o.argv = cmd_argv; o.url = "https://hooks.example/wa"; o.auth_dir = dir;
 *	wa_notify_new(&n, &o, &why);
 *	wa_notify_attach(n, loop);           // or wa_notify_pollfds/_process in your own poll
 *	wa_notify_event(n, &ev);             // for every event; delivers the notable ones
 *	at exit: run the loop while wa_notify_pending(n), up to a grace period
 *	wa_notify_free(n);
 *
 * Which events: wa_event_notable (event.h) unless opts.all_events.  Both
 * channels get the event line of wa_event_format, exactly as printed.
 *
 * --on-event: argv[0] is looked up in $PATH and run with posix_spawnp,
 * never through a shell: an argument holding ";" or "$(...)" is passed
 * as it is.  The command gets stdin from /dev/null and its stdout goes to
 * wa-run's stderr (stdout carries the event stream), runs in its own
 * process group, and has in its environment, besides wa-run's own:
 *
 *	WA_EVENT       the event name ("state", "online" ...)
 *	WA_EVENT_JSON  the whole event line, without the newline
 *	WA_STATE       the state after the event
 *	WA_PREV_STATE  state events: the state before, else empty
 *	WA_CLASS       the disconnect class, or empty
 *	WA_CODE        the code, or empty
 *	WA_REASON      the one-line reason, or empty
 *	WA_TS          the event time (RFC 3339)
 *	WA_SEQ         the event's seq
 *	WA_AUTH_DIR    the auth folder (opts.auth_dir), or empty
 *	WA_RUN_PID     wa-run's pid
 *
 * and for a message event (WA_EVENT_JSON is empty then: the record may be
 * larger than an environment string; the file holds it):
 *
 *	WA_MSG_PATH    the message's file in the inbox's new/
 *	WA_MSG_ID, WA_MSG_CHAT, WA_MSG_SENDER, WA_MSG_TYPE, WA_MSG_STATUS
 *	               its id, chat, sender, type and status (wa-message(5))
 *	WA_MSG_FROM_ME 1 when one of our own devices sent it, else 0
 *
 * At most max_procs commands run at once (default 4); further events wait
 * in a queue of queue_max (default 64), and when it is full the oldest
 * waiting one is dropped and counted (stats.dropped_cmd).  Finished
 * children are reaped with waitpid(pid, WNOHANG) from the poll loop (the
 * loop wakes every 100 ms while a command runs; no SIGCHLD handler, no
 * wait for another code's children); a command still running after
 * cmd_timeout_ms (default 60 s) gets SIGKILL on its process group.
 *
 * --webhook: an HTTP POST of the line (Content-Type: application/json,
 * User-Agent: wa-run/<version>) with libcurl's multi interface, driven by
 * the caller's poll loop through the socket and timer callbacks, so the
 * session never waits on the network: connect timeout connect_timeout_ms
 * (5 s), whole request http_timeout_ms (10 s).  Only http and https; no
 * redirects followed; certificates verified (ca_file for a test CA).  A 2xx
 * answer is success; anything else (no answer, a timeout, 4xx, 5xx) is
 * retried up to http_tries times in all (default 5) with capped exponential
 * backoff and full jitter (retry_base_ms 1 s, retry_cap_ms 60 s), then
 * dropped and counted (stats.post_failed).  Events are POSTed one at a time
 * in order; the queue holds queue_max events, dropping the oldest waiting
 * one (not the one being sent) when full (stats.dropped_http).
 *
 * log, when set, gets one line per failure (spawn failed, command exit
 * status, POST failure, drop), with its kind: WA_NOTIFY_LOST when an
 * event will not be delivered on that channel (the command could not be
 * started, the POST could not be started or was given up, the queue was
 * full and dropped one), WA_NOTIFY_INFO otherwise (a command's exit
 * status, a POST attempt that will be retried, out of memory).
 */
#ifndef WA_NOTIFY_H
#define WA_NOTIFY_H

#include <poll.h>
#include <stddef.h>

#include "base/err.h"
#include "ops/event.h"

struct wa_loop;

enum wa_notify_log {
	WA_NOTIFY_INFO = 0,         /* a failure that loses nothing by itself */
	WA_NOTIFY_LOST,             /* an event was not, and will not be, delivered */
};

struct wa_notify_opts {
	char *const *argv;          /* --on-event command, NULL-terminated; NULL: none */
	const char *url;            /* --webhook; NULL: none */
	const char *auth_dir;       /* WA_AUTH_DIR for the command; may be NULL */
	const char *ca_file;        /* CA bundle for https; NULL: the system's */
	int all_events;             /* deliver every event, not only notable ones */
	enum wa_event_type only;    /* deliver only events of this type (wa-run
				       --on-message: WA_EV_MESSAGE); 0: as above */
	unsigned max_procs;         /* 0: 4 */
	unsigned queue_max;         /* 0: 64 per channel */
	long cmd_timeout_ms;        /* 0: 60000 */
	long connect_timeout_ms;    /* 0: 5000 */
	long http_timeout_ms;       /* 0: 10000 */
	unsigned http_tries;        /* 0: 5 */
	long retry_base_ms;         /* 0: 1000 */
	long retry_cap_ms;          /* 0: 60000 */
	void (*log)(void *arg, enum wa_notify_log kind, const char *line);
	void *log_arg;
};
#define WA_NOTIFY_OPTS_INIT { 0 }

struct wa_notify_stats {
	unsigned long queued;       /* events accepted (per channel counted once each) */
	unsigned long spawned;      /* commands started */
	unsigned long spawn_failed; /* posix_spawnp failed (not found, not executable ...) */
	unsigned long exited_ok;    /* commands that exited 0 */
	unsigned long exited_fail;  /* non-zero exit or killed by a signal */
	unsigned long killed;       /* killed after cmd_timeout_ms */
	unsigned long peak_running; /* most commands running at once */
	unsigned long dropped_cmd;  /* dropped from a full command queue */
	unsigned long posted;       /* POSTs answered 2xx */
	unsigned long post_errors;  /* failed POST attempts (each retry counts) */
	unsigned long post_failed;  /* events given up after http_tries */
	unsigned long dropped_http; /* dropped from a full webhook queue */
};

struct wa_notify;

/* WA_EINVAL (a URL that is not http:// or https://, an empty argv),
 * WA_ENOMEM, WA_ESYS (libcurl could not start). */
int wa_notify_new(struct wa_notify **out, const struct wa_notify_opts *o, struct wa_why *why);

/* Queue e for delivery when it is notable (or all_events).  Never blocks.
 * Returns 1 when queued on some channel, 0 when not (not notable, or no
 * channel configured), WA_ENOMEM. */
int wa_notify_event(struct wa_notify *n, const struct wa_event *e);

/* Poll integration: fill at most max descriptors (returns how many) and
 * the longest wait in ms (-1: none), then after poll() call process with
 * the same descriptors and their revents.  Signatures fit wa_loop_source
 * through wa_notify_attach. */
int wa_notify_pollfds(struct wa_notify *n, struct pollfd *fds, int max, int *timeout_ms);
void wa_notify_process(struct wa_notify *n, const struct pollfd *fds, int nfds);

/* Register n as a source of loop l (once); detached again by free. */
int wa_notify_attach(struct wa_notify *n, struct wa_loop *l);

/* Deliveries not finished: queued, running or in flight. */
size_t wa_notify_pending(const struct wa_notify *n);

const struct wa_notify_stats *wa_notify_stats(const struct wa_notify *n);

/* Stop: in-flight POSTs are abandoned, queued events dropped; running
 * commands are left to finish on their own (not killed, not waited for).
 * NULL-safe. */
void wa_notify_free(struct wa_notify *n);

#endif
