/*
 * state.h - the states of a wa-run session (session/run.h moves between
 * them; ops/status.h writes them to the status file and the events).
 *
 * starting (folder opened, not connected yet), connecting (a connection
 * is being opened or logged in), online (<success> received), backoff
 * (waiting before the next attempt), banned (waiting out a temporary ban),
 * and the final ones, after which the run is over: logged_out, replaced,
 * outdated, refused, retries_exhausted, failed (a local error), stopped.
 * The values and names are fixed: files written by one version are read
 * by the next.
 */
#ifndef WA_STATE_H
#define WA_STATE_H

enum wa_state {
	WA_ST_STARTING = 0,
	WA_ST_CONNECTING,
	WA_ST_ONLINE,
	WA_ST_BACKOFF,
	WA_ST_BANNED,
	WA_ST_LOGGED_OUT,
	WA_ST_REPLACED,
	WA_ST_OUTDATED,
	WA_ST_REFUSED,
	WA_ST_RETRIES_EXHAUSTED,
	WA_ST_FAILED,
	WA_ST_STOPPED,
	WA_ST_COUNT
};

/* "starting", "connecting", "online", "backoff", "banned", "logged_out",
 * "replaced", "outdated", "refused", "retries_exhausted", "failed",
 * "stopped"; "?" out of range. */
const char *wa_state_name(enum wa_state s);
/* The state for a name, or -1. */
int wa_state_parse(const char *name);
/* 1 for the states after which the process exits. */
int wa_state_final(enum wa_state s);

#endif
