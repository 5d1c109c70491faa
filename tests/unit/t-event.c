/*
 * t-event - the event line schema of lib/event.h: for every event the
 * exact line (common fields first, in order, then the event's own, nulls
 * where documented), one line always (control characters and bytes that
 * are not UTF-8 made safe), and which events are notable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/event.h"
#include "tap.h"

#define TS 1795256100123LL

static void
line_is(const struct wa_event *e, const char *want, const char *what)
{
	char *line = NULL;
	size_t len = 0;
	int rc = wa_event_format(&line, &len, e);

	if (rc == 0 && len > 0 && line[len - 1] == '\n' && !memchr(line, '\n', len - 1))
		line[len - 1] = 0;
	else
		ok(0, "%s: one line ending in a newline", what);
	is_str(line, want, "%s", what);
	free(line);
}

static struct wa_event
mk(enum wa_event_type t, enum wa_state s, unsigned long seq)
{
	struct wa_event e;

	wa_event_init(&e, t, s);
	e.ts = TS;
	e.seq = seq;
	return e;
}

int
main(void)
{
	struct wa_event e;
	int i, notable;

	e = mk(WA_EV_START, WA_ST_STARTING, 1);
	e.pid = 4242;
	e.version = "0.1.0";
	e.dir = "/srv/bot/auth";
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":1,\"event\":\"start\",\"state\":\"starting\","
	    "\"dir\":\"/srv/bot/auth\",\"pid\":4242,\"version\":\"0.1.0\"}", "start");

	e = mk(WA_EV_STATE, WA_ST_BACKOFF, 2);
	e.prev = WA_ST_ONLINE;
	e.reason = "connection closed by the server";
	e.klass = "transient";
	e.code = 428;
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":2,\"event\":\"state\",\"state\":\"backoff\","
	    "\"prev\":\"online\",\"reason\":\"connection closed by the server\",\"class\":\"transient\",\"code\":428,"
	    "\"outage\":null}", "state with its cause");
	e.outage = WA_OUTAGE_DOWN;
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":2,\"event\":\"state\",\"state\":\"backoff\","
	    "\"prev\":\"online\",\"reason\":\"connection closed by the server\",\"class\":\"transient\",\"code\":428,"
	    "\"outage\":\"down\"}", "state that begins an outage");
	e.state = WA_ST_STOPPED;
	e.prev = WA_ST_BACKOFF;
	e.outage = WA_OUTAGE_END;
	e.reason = "stopped: SIGTERM";
	e.klass = "stopped";
	e.code = 0;
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":2,\"event\":\"state\",\"state\":\"stopped\","
	    "\"prev\":\"backoff\",\"reason\":\"stopped: SIGTERM\",\"class\":\"stopped\",\"code\":null,"
	    "\"outage\":\"end\"}", "a final state during an outage ends it");
	e = mk(WA_EV_STATE, WA_ST_CONNECTING, 3);
	e.prev = WA_ST_STARTING;
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":3,\"event\":\"state\",\"state\":\"connecting\","
	    "\"prev\":\"starting\",\"reason\":null,\"class\":null,\"code\":null,\"outage\":null}",
	    "state without a cause: nulls");

	e = mk(WA_EV_CONNECTING, WA_ST_CONNECTING, 4);
	e.attempt = 2;
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":4,\"event\":\"connecting\",\"state\":\"connecting\","
	    "\"attempt\":2}", "connecting");

	e = mk(WA_EV_ONLINE, WA_ST_ONLINE, 5);
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":5,\"event\":\"online\",\"state\":\"online\","
	    "\"attempt\":0,\"downtime_ms\":null,\"outage\":false}", "online, the first time");
	e.attempt = 3;
	e.downtime_ms = 95000;
	e.outage = 1;
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":5,\"event\":\"online\",\"state\":\"online\","
	    "\"attempt\":3,\"downtime_ms\":95000,\"outage\":true}", "online after an outage");

	e = mk(WA_EV_DISCONNECT, WA_ST_ONLINE, 6);
	e.klass = "restart";
	e.code = 515;
	e.reason = "stream:error 515 (restart required)";
	e.action = "reconnect";
	e.online_ms = 1200;
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":6,\"event\":\"disconnect\",\"state\":\"online\","
	    "\"class\":\"restart\",\"code\":515,\"reason\":\"stream:error 515 (restart required)\","
	    "\"action\":\"reconnect\",\"online_ms\":1200}", "disconnect");
	e.online_ms = -1;
	e.code = 0;
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":6,\"event\":\"disconnect\",\"state\":\"online\","
	    "\"class\":\"restart\",\"code\":null,\"reason\":\"stream:error 515 (restart required)\","
	    "\"action\":\"reconnect\",\"online_ms\":null}", "disconnect before online: nulls");

	e = mk(WA_EV_RECONNECT, WA_ST_BACKOFF, 7);
	e.delay_ms = 3700;
	e.attempt = 4;
	e.at = TS + 3700;
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":7,\"event\":\"reconnect\",\"state\":\"backoff\","
	    "\"delay_ms\":3700,\"attempt\":4,\"at\":\"2026-11-21T10:15:03.823Z\"}", "reconnect");

	e = mk(WA_EV_BANNED, WA_ST_BANNED, 8);
	e.ban_code = 101;
	e.until = TS + 3600000;
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":8,\"event\":\"banned\",\"state\":\"banned\","
	    "\"ban_code\":101,\"until\":\"2026-11-21T11:15:00.123Z\"}", "banned");

	e = mk(WA_EV_PREKEYS, WA_ST_ONLINE, 9);
	e.server_count = 3;
	e.uploaded = 5;
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":9,\"event\":\"prekeys\",\"state\":\"online\","
	    "\"server_count\":3,\"uploaded\":5}", "prekeys");

	e = mk(WA_EV_WARNING, WA_ST_ONLINE, 10);
	e.reason = "status: No space left on device\nsecond";
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":10,\"event\":\"warning\",\"state\":\"online\","
	    "\"reason\":\"status: No space left on device second\"}", "warning: control characters become spaces");
	e.reason = "bad \xff\xfe bytes";
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":10,\"event\":\"warning\",\"state\":\"online\","
	    "\"reason\":\"bad ?? bytes\"}", "warning: bytes that are not UTF-8 become '?'");
	e.reason = "caf\xc3\xa9 \"quoted\"";
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":10,\"event\":\"warning\",\"state\":\"online\","
	    "\"reason\":\"caf\\u00E9 \\\"quoted\\\"\"}", "warning: UTF-8 and quotes escaped (ASCII output)");

	e = mk(WA_EV_EXIT, WA_ST_LOGGED_OUT, 11);
	e.exit_code = 10;
	line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":11,\"event\":\"exit\",\"state\":\"logged_out\","
	    "\"exit_code\":10}", "exit");

	/* ts 0 is now */
	{
		char *line;
		size_t len;
		e = mk(WA_EV_EXIT, WA_ST_STOPPED, 12);
		e.ts = 0;
		wa_event_format(&line, &len, &e);
		ok(strncmp(line, "{\"ts\":\"20", 9) == 0 && strstr(line, "Z\",\"seq\":12"), "ts 0: the current time");
		free(line);
	}

	/* names */
	is_str(wa_event_name(WA_EV_PREKEYS), "prekeys", "event name");
	is_str(wa_event_name((enum wa_event_type)0), "?", "event name out of range");

	/* notable */
	notable = 0;
	for (i = 0; i < WA_ST_COUNT; i++) {
		e = mk(WA_EV_STATE, (enum wa_state)i, 1);
		if (wa_event_notable(&e))
			notable |= 1 << i;
	}
	is_int(notable, (1 << WA_ST_LOGGED_OUT) | (1 << WA_ST_REPLACED) | (1 << WA_ST_RETRIES_EXHAUSTED) |
	    (1 << WA_ST_BANNED) | (1 << WA_ST_OUTDATED) | (1 << WA_ST_REFUSED) | (1 << WA_ST_FAILED),
	    "notable states: logged_out replaced retries_exhausted banned outdated refused failed");
	e = mk(WA_EV_ONLINE, WA_ST_ONLINE, 1);
	ok(!wa_event_notable(&e), "online without an outage: not notable");
	e.outage = 1;
	ok(wa_event_notable(&e), "online after an outage: notable");
	e = mk(WA_EV_STATE, WA_ST_BACKOFF, 1);
	ok(!wa_event_notable(&e), "backoff: not notable by itself");
	e.outage = WA_OUTAGE_DOWN;
	ok(wa_event_notable(&e), "backoff that begins an outage: notable (down)");
	e = mk(WA_EV_STATE, WA_ST_STOPPED, 1);
	ok(!wa_event_notable(&e), "stopped: not notable by itself");
	e.outage = WA_OUTAGE_END;
	ok(wa_event_notable(&e), "stopped during a notified outage: notable (end)");
	e = mk(WA_EV_DISCONNECT, WA_ST_BACKOFF, 1);
	e.klass = "logged_out";
	ok(!wa_event_notable(&e), "disconnect events are not (the state event that follows is)");
	e = mk(WA_EV_EXIT, WA_ST_LOGGED_OUT, 1);
	ok(!wa_event_notable(&e), "exit is not notable");

	/* wa-pair's events: the common fields, then the fields object; failed
	 * has its reason first (WA_REASON comes from e.reason) */
	{
		json_t *f = json_pack("{s:s, s:s, s:i, s:i, s:i, s:s}", "qr", "https://x#2@R,a,b,c,1", "ref", "2@R",
		    "n", 2, "total", 6, "valid_ms", 20000, "expires", "2026-11-21T10:15:20.123Z");
		e = mk(WA_EV_QR, WA_ST_CONNECTING, 2);
		e.dir = "/srv/bot/auth";
		e.fields = f;
		line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":2,\"event\":\"qr\",\"state\":\"connecting\","
		    "\"dir\":\"/srv/bot/auth\",\"qr\":\"https://x#2@R,a,b,c,1\",\"ref\":\"2@R\",\"n\":2,\"total\":6,"
		    "\"valid_ms\":20000,\"expires\":\"2026-11-21T10:15:20.123Z\"}", "qr (wa-pair)");
		json_decref(f);
		f = json_pack("{s:s, s:n, s:s, s:b, s:i}", "jid", "15550001111:3@s.whatsapp.net", "lid", "platform",
		    "android", "login", 1, "prekeys", 812);
		e = mk(WA_EV_PAIRED, WA_ST_ONLINE, 3);
		e.fields = f;
		line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":3,\"event\":\"paired\",\"state\":\"online\","
		    "\"jid\":\"15550001111:3@s.whatsapp.net\",\"lid\":null,\"platform\":\"android\",\"login\":true,"
		    "\"prekeys\":812}", "paired (wa-pair)");
		json_decref(f);
		f = json_pack("{s:s, s:i}", "status", "expired", "exit_code", 21);
		e = mk(WA_EV_FAILED, WA_ST_FAILED, 7);
		e.reason = "all 6 QR codes expired\nwithout a scan";
		e.fields = f;
		line_is(&e, "{\"ts\":\"2026-11-21T10:15:00.123Z\",\"seq\":7,\"event\":\"failed\",\"state\":\"failed\","
		    "\"reason\":\"all 6 QR codes expired without a scan\",\"status\":\"expired\",\"exit_code\":21}",
		    "failed (wa-pair): the reason on one line");
		json_decref(f);
		e = mk(WA_EV_QR, WA_ST_CONNECTING, 1);
		ok(!wa_event_notable(&e), "qr is not notable: wa-pair delivers all its events itself");
	}

	done_testing();
	return exit_status();
}
