/*
 * event.c - the event line format (event.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "base/err.h"
#include "ops/event.h"
#include "base/loop.h"

static const char *const names[] = {
	[WA_EV_START] = "start",
	[WA_EV_STATE] = "state",
	[WA_EV_CONNECTING] = "connecting",
	[WA_EV_ONLINE] = "online",
	[WA_EV_DISCONNECT] = "disconnect",
	[WA_EV_RECONNECT] = "reconnect",
	[WA_EV_BANNED] = "banned",
	[WA_EV_PREKEYS] = "prekeys",
	[WA_EV_WARNING] = "warning",
	[WA_EV_EXIT] = "exit",
	[WA_EV_MESSAGE] = "message",
	[WA_EV_OFFLINE] = "offline",
	[WA_EV_IDENTITY] = "identity",
	[WA_EV_UNDECRYPTABLE] = "undecryptable",
	[WA_EV_RECEIPT] = "receipt",
	[WA_EV_DECRYPT_FAILED] = "decrypt_failed",
	[WA_EV_REPAIRED] = "repaired",
	[WA_EV_SENT] = "sent",
	[WA_EV_DELIVERED] = "delivered",
	[WA_EV_READ] = "read",
	[WA_EV_SEND_FAILED] = "send_failed",
};

const char *
wa_event_name(enum wa_event_type t)
{
	if ((int)t < 1 || (size_t)t >= sizeof names / sizeof names[0])
		return "?";
	return names[t];
}

void
wa_event_init(struct wa_event *e, enum wa_event_type t, enum wa_state state)
{
	memset(e, 0, sizeof *e);
	e->type = t;
	e->state = state;
	e->downtime_ms = -1;
	e->online_ms = -1;
}

#define str_or_null wa_json_text

static json_t *
time_json(int64_t ms)
{
	char buf[40];

	if (ms <= 0)
		return json_null();
	wa_time_iso(buf, sizeof buf, ms);
	return json_string(buf);
}

/* strings in events are one line: control characters become spaces */
static char *
oneline(const char *s, char *buf, size_t n)
{
	size_t i;

	if (!s)
		return NULL;
	snprintf(buf, n, "%s", s);
	for (i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20)
			buf[i] = ' ';
	return buf;
}

int
wa_event_format(char **out, size_t *len, const struct wa_event *e)
{
	json_t *o = json_object();
	char rbuf[512], *s, *r;
	const char *reason = oneline(e->reason, rbuf, sizeof rbuf);
	int bad = 0;
	size_t n;

	*out = NULL;
	if (!o)
		return WA_ENOMEM;
	bad |= json_object_set_new(o, "ts", time_json(e->ts ? e->ts : wa_clock_wall_ms()));
	bad |= json_object_set_new(o, "seq", json_integer((json_int_t)e->seq));
	bad |= json_object_set_new(o, "event", json_string(wa_event_name(e->type)));
	bad |= json_object_set_new(o, "state", json_string(wa_state_name(e->state)));
	if (e->dir)
		bad |= json_object_set_new(o, "dir", wa_json_text(e->dir));
	switch (e->type) {
	case WA_EV_START:
		bad |= json_object_set_new(o, "pid", json_integer(e->pid));
		bad |= json_object_set_new(o, "version", str_or_null(e->version));
		break;
	case WA_EV_STATE:
		bad |= json_object_set_new(o, "prev", json_string(wa_state_name(e->prev)));
		bad |= json_object_set_new(o, "reason", str_or_null(reason));
		bad |= json_object_set_new(o, "class", str_or_null(e->klass));
		bad |= json_object_set_new(o, "code", e->code ? json_integer(e->code) : json_null());
		bad |= json_object_set_new(o, "outage", e->outage == WA_OUTAGE_DOWN ? json_string("down") :
		    e->outage == WA_OUTAGE_END ? json_string("end") : json_null());
		break;
	case WA_EV_CONNECTING:
		bad |= json_object_set_new(o, "attempt", json_integer(e->attempt));
		break;
	case WA_EV_ONLINE:
		bad |= json_object_set_new(o, "attempt", json_integer(e->attempt));
		bad |= json_object_set_new(o, "downtime_ms",
		    e->downtime_ms >= 0 ? json_integer(e->downtime_ms) : json_null());
		bad |= json_object_set_new(o, "outage", json_boolean(e->outage));
		break;
	case WA_EV_DISCONNECT:
		bad |= json_object_set_new(o, "class", str_or_null(e->klass));
		bad |= json_object_set_new(o, "code", e->code ? json_integer(e->code) : json_null());
		bad |= json_object_set_new(o, "reason", str_or_null(reason));
		bad |= json_object_set_new(o, "action", str_or_null(e->action));
		bad |= json_object_set_new(o, "online_ms",
		    e->online_ms >= 0 ? json_integer(e->online_ms) : json_null());
		break;
	case WA_EV_RECONNECT:
		bad |= json_object_set_new(o, "delay_ms", json_integer(e->delay_ms));
		bad |= json_object_set_new(o, "attempt", json_integer(e->attempt));
		bad |= json_object_set_new(o, "at", time_json(e->at));
		break;
	case WA_EV_BANNED:
		bad |= json_object_set_new(o, "ban_code", e->ban_code ? json_integer(e->ban_code) : json_null());
		bad |= json_object_set_new(o, "until", time_json(e->until));
		break;
	case WA_EV_PREKEYS:
		bad |= json_object_set_new(o, "server_count", json_integer(e->server_count));
		bad |= json_object_set_new(o, "uploaded", json_integer(e->uploaded));
		break;
	case WA_EV_WARNING:
		bad |= json_object_set_new(o, "reason", str_or_null(reason));
		break;
	case WA_EV_EXIT:
		bad |= json_object_set_new(o, "exit_code", json_integer(e->exit_code));
		break;
	case WA_EV_MESSAGE: case WA_EV_OFFLINE: case WA_EV_IDENTITY: case WA_EV_UNDECRYPTABLE:
	case WA_EV_RECEIPT: case WA_EV_DECRYPT_FAILED: case WA_EV_REPAIRED:
	case WA_EV_SENT: case WA_EV_DELIVERED: case WA_EV_READ: case WA_EV_SEND_FAILED:
		break;
	}
	if (e->fields) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)e->fields, k, v)
			if (!json_object_get(o, k))
				bad |= json_object_set(o, k, v);
	}
	if (bad) {
		json_decref(o);
		return WA_ENOMEM;
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(o);
	if (!s)
		return WA_ENOMEM;
	n = strlen(s);
	if (!(r = realloc(s, n + 2))) {
		free(s);
		return WA_ENOMEM;
	}
	r[n] = '\n';
	r[n + 1] = 0;
	*out = r;
	*len = n + 1;
	return 0;
}

int
wa_event_notable(const struct wa_event *e)
{
	if (e->type == WA_EV_ONLINE)
		return e->outage != 0;
	if (e->type == WA_EV_IDENTITY || e->type == WA_EV_DECRYPT_FAILED || e->type == WA_EV_REPAIRED ||
	    e->type == WA_EV_UNDECRYPTABLE || e->type == WA_EV_SEND_FAILED)
		return 1;
	if (e->type != WA_EV_STATE)
		return 0;
	if (e->outage)
		return 1;
	switch (e->state) {
	case WA_ST_LOGGED_OUT: case WA_ST_REPLACED: case WA_ST_RETRIES_EXHAUSTED:
	case WA_ST_BANNED: case WA_ST_OUTDATED: case WA_ST_REFUSED: case WA_ST_FAILED:
		return 1;
	default:
		return 0;
	}
}
