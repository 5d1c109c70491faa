/*
 * metrics.h - wa-run's state as Prometheus metrics, in the text
 * exposition format (version 0.0.4) that node_exporter's textfile
 * collector reads from *.prom files.
 *
 * The caller (wa-run --metrics FILE) fills struct wa_metrics and writes
 * the text with the durable write, so the collector reads the old file or
 * the new one, never a mix.  Every series carries the labels account (our
 * me.id) and dir (the auth folder), so that the files of many wa-runs in
 * one collector folder never clash.  The names follow Prometheus' rules:
 * [a-zA-Z_:][a-zA-Z0-9_:]*, the unit in the name (_seconds, _messages),
 * counters end in _total, times are _timestamp_seconds; each family has
 * its HELP and TYPE lines.  A value that is unknown (no pre-key count yet,
 * the phone never seen) leaves its family out rather than writing a fake
 * value.
 */
#ifndef WA_METRICS_H
#define WA_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "ops/status.h"
#include "session/state.h"

/* Disconnect classes counted: enum wa_dc_class (session/disconnect.h) as index. */
#define WA_METRICS_DC 16

struct wa_metrics {
	const char *account;            /* me.id, or NULL ("") */
	const char *dir;                /* the auth folder */
	enum wa_state state;
	int64_t now_ms;                 /* wall clock */
	int64_t started_ms;             /* when this wa-run started */
	int64_t since_ms;               /* when the current state began */
	int64_t last_inbound_ms;        /* 0 never */
	unsigned long reconnects[WA_METRICS_DC];   /* connections that ended and were opened again, by class */
	unsigned long messages_in;      /* stored in the inbox since start (undecryptable ones included) */
	unsigned long messages_out;     /* sent since start */
	unsigned long undecryptable;
	unsigned long decrypt_failures[WA_STATUS_CLASSES];  /* by class (status.h wa_status_class_name) */
	unsigned long retries, repaired;
	long inbox_backlog;             /* messages in INBOX/new, -1 unknown */
	long inbox_oldest_age_s;        /* the oldest of them, -1 none */
	long outbox_backlog;            /* jobs waiting in the outbox, -1 unknown */
	long prekeys_server;            /* pre-keys on the server at the last login, -1 unknown */
	int64_t phone_seen_ms;          /* our primary phone's last stanza, 0 never */
};

/* The text of m (families in a fixed order, one line per series, ending
 * in a newline).  *out is the caller's (free()).  WA_ENOMEM. */
int wa_metrics_format(char **out, size_t *len, const struct wa_metrics *m);

#endif
