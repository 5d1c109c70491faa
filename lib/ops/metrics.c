/*
 * metrics.c - the Prometheus text of wa-run's state (metrics.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "ops/metrics.h"
#include "session/disconnect.h"

struct buf {
	char *p;
	size_t len, cap;
	int nomem;
	char labels[1200];              /* account="...",dir="..." */
};

static void __attribute__((format(printf, 2, 3)))
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->nomem)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->nomem = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = (b->cap + (size_t)n + 1) * 2;
			char *p = realloc(b->p, cap);
			if (!p) {
				b->nomem = 1;
				return;
			}
			b->p = p;
			b->cap = cap;
		}
	}
}

/* A label value: \ " and newline escaped, as the format wants. */
static void
escape(char *dst, size_t n, const char *s)
{
	size_t k = 0;

	for (; s && *s && k + 3 < n; s++) {
		if (*s == '\\' || *s == '"') {
			dst[k++] = '\\';
			dst[k++] = *s;
		} else if (*s == '\n') {
			dst[k++] = '\\';
			dst[k++] = 'n';
		} else {
			dst[k++] = *s;
		}
	}
	dst[k] = 0;
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{labels[,extra]} value */
static void
series(struct buf *b, const char *name, const char *extra, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
series(struct buf *b, const char *name, const char *extra, const char *fmt, ...)
{
	char v[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof v, fmt, ap);
	va_end(ap);
	put(b, "%s{%s%s%s} %s\n", name, b->labels, extra ? "," : "", extra ? extra : "", v);
}

static void
gauge(struct buf *b, const char *name, const char *help, long long v)
{
	family(b, name, "gauge", help);
	series(b, name, NULL, "%lld", v);
}

static void
counter(struct buf *b, const char *name, const char *help, unsigned long v)
{
	family(b, name, "counter", help);
	series(b, name, NULL, "%lu", v);
}

/* seconds with milliseconds */
static void
seconds(struct buf *b, const char *name, const char *help, int64_t ms)
{
	family(b, name, "gauge", help);
	series(b, name, NULL, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
}

int
wa_metrics_format(char **out, size_t *len, const struct wa_metrics *m)
{
	struct buf b = { 0 };
	char acct[400], dir[760], lab[64];
	size_t i;
	int s;

	*out = NULL;
	escape(acct, sizeof acct, m->account);
	escape(dir, sizeof dir, m->dir);
	snprintf(b.labels, sizeof b.labels, "account=\"%s\",dir=\"%s\"", acct, dir);

	gauge(&b, "wa_up", "1 when the session is online (logged in), else 0.", m->state == WA_ST_ONLINE);
	family(&b, "wa_state", "gauge", "The session state (wa-run(1) STATES): 1 for the current one, 0 for the others.");
	for (s = 0; s < WA_ST_COUNT; s++) {
		snprintf(lab, sizeof lab, "state=\"%s\"", wa_state_name((enum wa_state)s));
		series(&b, "wa_state", lab, "%d", (enum wa_state)s == m->state);
	}
	seconds(&b, "wa_state_since_timestamp_seconds", "When the current state began, Unix time.", m->since_ms);
	seconds(&b, "wa_start_time_seconds", "When this wa-run started, Unix time.", m->started_ms);
	seconds(&b, "wa_uptime_seconds", "How long this wa-run has been running.",
	    m->now_ms > m->started_ms ? m->now_ms - m->started_ms : 0);
	if (m->last_inbound_ms)
		seconds(&b, "wa_last_inbound_timestamp_seconds", "When data last arrived from the server, Unix time.",
		    m->last_inbound_ms);
	family(&b, "wa_reconnects_total", "counter", "Connections that ended and were opened again, by the class "
	    "of the disconnect (wa-run(1) CLASSES).");
	for (i = 1; i < WA_METRICS_DC; i++) {
		const char *k = wa_dc_class_name((enum wa_dc_class)i);
		if (!k || !*k || strcmp(k, "?") == 0)
			continue;
		snprintf(lab, sizeof lab, "class=\"%s\"", k);
		series(&b, "wa_reconnects_total", lab, "%lu", m->reconnects[i]);
	}
	counter(&b, "wa_messages_received_total", "Messages stored in the inbox since start, undecryptable ones "
	    "included.", m->messages_in);
	counter(&b, "wa_messages_sent_total", "Messages sent since start.", m->messages_out);
	counter(&b, "wa_messages_undecryptable_total", "Messages stored as undecryptable since start.",
	    m->undecryptable);
	family(&b, "wa_decrypt_failures_total", "counter", "Failed decryptions since start, by class.");
	for (i = 0; i < WA_STATUS_CLASSES; i++) {
		if (!wa_status_class_name(i))
			continue;
		snprintf(lab, sizeof lab, "class=\"%s\"", wa_status_class_name(i));
		series(&b, "wa_decrypt_failures_total", lab, "%lu", m->decrypt_failures[i]);
	}
	counter(&b, "wa_decrypt_retries_total", "Retry receipts sent since start (self-healing).", m->retries);
	counter(&b, "wa_decrypt_repaired_total", "Messages that decrypted after a retry receipt, since start.",
	    m->repaired);
	if (m->inbox_backlog >= 0) {
		gauge(&b, "wa_inbox_backlog_messages", "Messages waiting in the inbox's new/ for their consumer.",
		    m->inbox_backlog);
		gauge(&b, "wa_inbox_oldest_age_seconds", "How long the oldest waiting message has waited (0: none).",
		    m->inbox_oldest_age_s > 0 ? m->inbox_oldest_age_s : 0);
	}
	if (m->outbox_backlog >= 0)
		gauge(&b, "wa_outbox_backlog_messages", "Messages waiting in the outbox to be sent.", m->outbox_backlog);
	if (m->prekeys_server >= 0)
		gauge(&b, "wa_prekeys_server", "One-time pre-keys on the server, as counted at the last login.",
		    m->prekeys_server);
	if (m->phone_seen_ms)
		seconds(&b, "wa_phone_last_seen_timestamp_seconds", "When our primary phone last sent anything, "
		    "Unix time (WhatsApp logs a companion out after about 14 days without it).", m->phone_seen_ms);
	if (b.nomem) {
		free(b.p);
		return WA_ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
