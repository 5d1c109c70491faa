/*
 * t-disconnect - every row of the table in lib/disconnect.h: class,
 * action, exit code, Baileys-style code and the reason line, for each
 * stream error, login failure, transport end, timeout and local cause;
 * the unverified channel never ends a session; bans wait or exit.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "session/disconnect.h"
#include "base/err.h"
#include "exitcode.h"
#include "tap.h"
#include "tool.h"

#define NOW 1800000000LL

static struct wa_dc_input
in_(enum wa_dc_source src, int code)
{
	struct wa_dc_input in;

	memset(&in, 0, sizeof in);
	in.source = src;
	in.verified = 1;
	in.authenticated = 1;
	in.code = code;
	in.expire = -1;
	in.now = NOW;
	return in;
}

static struct wa_dc
run(const struct wa_dc_input *in)
{
	struct wa_dc d;

	wa_dc_classify(&d, in);
	return d;
}

static void
check(const char *what, const struct wa_dc_input *in, enum wa_dc_class k, enum wa_dc_action a,
    int exit_code, int code, const char *reason_part)
{
	struct wa_dc d = run(in);

	if (!ok(d.klass == k && d.action == a && tool_exit_for_dc(&d) == exit_code && d.code == code &&
	    (!reason_part || strstr(d.reason, reason_part)), "%s: %s, %s, exit %d, code %d", what,
	    wa_dc_class_name(k), wa_dc_action_name(a), exit_code, code))
		printf("#   got %s, %s, exit %d, code %d, reason '%s'\n", wa_dc_class_name(d.klass),
		    wa_dc_action_name(d.action), tool_exit_for_dc(&d), d.code, d.reason);
}

static void
stream(const char *what, int code, const char *child, const char *type, enum wa_dc_class k,
    enum wa_dc_action a, int exit_code, int want_code, const char *reason_part)
{
	struct wa_dc_input in = in_(WA_DC_STREAM_ERROR, code);

	in.child = child;
	in.child_type = type;
	check(what, &in, k, a, exit_code, want_code, reason_part);
}

static void
failure(int reason, enum wa_dc_class k, enum wa_dc_action a, int exit_code)
{
	struct wa_dc_input in = in_(WA_DC_FAILURE, reason);
	char what[64];

	snprintf(what, sizeof what, "<failure reason=%d>", reason);
	check(what, &in, k, a, exit_code, reason, "login failure");
}

int
main(void)
{
	struct wa_dc_input in;
	struct wa_dc d;

	/* names */
	is_str(wa_dc_class_name(WA_DC_RESTART), "restart", "class name restart");
	is_str(wa_dc_class_name(WA_DC_LOGGED_OUT), "logged_out", "class name logged_out");
	is_str(wa_dc_class_name(WA_DC_LOCALFAIL), "local", "class name local");
	is_str(wa_dc_class_name((enum wa_dc_class)0), "?", "class name out of range");
	is_str(wa_dc_class_name((enum wa_dc_class)99), "?", "class name out of range (high)");
	is_str(wa_dc_action_name(WA_DC_BACKOFF), "backoff", "action name backoff");
	is_str(wa_dc_action_name(WA_DC_WAIT_UNTIL), "wait", "action name wait");

	/* stream errors (wa-protocol(7) §10.2) */
	stream("515", 515, NULL, NULL, WA_DC_RESTART, WA_DC_RECONNECT_NOW, WA_EXIT_RETRIES, 515,
	    "stream:error 515 (restart required)");
	stream("401 + device_removed", 401, "conflict", "device_removed", WA_DC_LOGGED_OUT, WA_DC_EXIT,
	    WA_EXIT_LOGGED_OUT, 401, "device_removed");
	stream("device_removed without code", 0, "conflict", "device_removed", WA_DC_LOGGED_OUT,
	    WA_DC_EXIT, WA_EXIT_LOGGED_OUT, 401, "removed from the account");
	stream("device_removed wins over 515", 515, "conflict", "device_removed", WA_DC_LOGGED_OUT,
	    WA_DC_EXIT, WA_EXIT_LOGGED_OUT, 515, NULL);
	stream("conflict replaced", 0, "conflict", "replaced", WA_DC_REPLACED, WA_DC_EXIT,
	    WA_EXIT_REPLACED, 440, "another client");
	stream("conflict replaced with a code", 401, "conflict", "replaced", WA_DC_REPLACED, WA_DC_EXIT,
	    WA_EXIT_REPLACED, 440, NULL);
	stream("conflict without type (Baileys: 440)", 0, "conflict", NULL, WA_DC_REPLACED, WA_DC_EXIT,
	    WA_EXIT_REPLACED, 440, NULL);
	stream("code 440 alone", 440, NULL, NULL, WA_DC_REPLACED, WA_DC_EXIT, WA_EXIT_REPLACED, 440, NULL);
	stream("conflict of an unknown type", 0, "conflict", "something_new", WA_DC_TRANSIENT,
	    WA_DC_BACKOFF, WA_EXIT_RETRIES, 500, "something_new");
	stream("401 without device_removed is not a logout", 401, NULL, NULL, WA_DC_TRANSIENT,
	    WA_DC_BACKOFF, WA_EXIT_RETRIES, 401, "stream:error 401");
	stream("503", 503, NULL, NULL, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 503,
	    "service unavailable");
	stream("500", 500, NULL, NULL, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 500, NULL);
	stream("xml-not-well-formed", 0, "xml-not-well-formed", NULL, WA_DC_TRANSIENT, WA_DC_BACKOFF,
	    WA_EXIT_RETRIES, 500, "<xml-not-well-formed/>");
	stream("empty stream:error", 0, NULL, NULL, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES,
	    500, NULL);
	stream("an unknown code", 599, NULL, NULL, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES,
	    599, "unknown");
	stream("413 (CAT)", 413, NULL, NULL, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 413, NULL);

	/* not through the verified channel: never more than transient */
	in = in_(WA_DC_STREAM_ERROR, 401);
	in.verified = 0;
	in.child = "conflict";
	in.child_type = "device_removed";
	check("unverified device_removed", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 401,
	    "not from the verified channel");
	in.child_type = "replaced";
	check("unverified replaced", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 401, NULL);
	in = in_(WA_DC_FAILURE, 401);
	in.verified = 0;
	check("unverified failure 401", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 401,
	    "not from the verified channel");
	in = in_(WA_DC_DOWNGRADE, 0);
	in.verified = 0;
	check("unverified downgrade", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 411, NULL);

	/* login failures (§10.3) */
	failure(401, WA_DC_LOGGED_OUT, WA_DC_EXIT, WA_EXIT_LOGGED_OUT);
	failure(403, WA_DC_LOGGED_OUT, WA_DC_EXIT, WA_EXIT_LOGGED_OUT);
	failure(406, WA_DC_LOGGED_OUT, WA_DC_EXIT, WA_EXIT_LOGGED_OUT);
	failure(405, WA_DC_OUTDATED, WA_DC_EXIT, WA_EXIT_OUTDATED);
	failure(400, WA_DC_REFUSED, WA_DC_EXIT, WA_EXIT_REFUSED);
	failure(409, WA_DC_REFUSED, WA_DC_EXIT, WA_EXIT_REFUSED);
	failure(415, WA_DC_REFUSED, WA_DC_EXIT, WA_EXIT_REFUSED);
	failure(418, WA_DC_REFUSED, WA_DC_EXIT, WA_EXIT_REFUSED);
	failure(499, WA_DC_REFUSED, WA_DC_EXIT, WA_EXIT_REFUSED);
	failure(440, WA_DC_REPLACED, WA_DC_EXIT, WA_EXIT_REPLACED);
	failure(408, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES);
	failure(413, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES);
	failure(414, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES);
	failure(428, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES);
	failure(429, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES);
	failure(500, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES);
	failure(501, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES);
	failure(503, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES);
	in = in_(WA_DC_FAILURE, 0);
	check("<failure> without a reason is 500", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES,
	    500, "login failure 500");
	in = in_(WA_DC_FAILURE, 403);
	in.text = "account locked\nsecond line";
	d = run(&in);
	ok(strstr(d.reason, "account locked second line") != NULL, "failure message kept on one line: '%s'",
	    d.reason);

	/* temporary ban */
	in = in_(WA_DC_FAILURE, 402);
	in.ban_code = 101;
	in.expire = 3600;
	d = run(&in);
	ok(d.klass == WA_DC_BANNED && d.action == WA_DC_WAIT_UNTIL && d.until == NOW + 3600 &&
	    d.ban_code == 101 && d.code == 402 && tool_exit_for_dc(&d) == 0, "402 expire=3600: wait until now+3600");
	ok(strstr(d.reason, "ban code 101, waiting 3600 s") != NULL, "  reason '%s'", d.reason);
	in.expire = NOW + 7200;
	d = run(&in);
	ok(d.action == WA_DC_WAIT_UNTIL && d.until == NOW + 7200, "402 expire as a Unix time: until it");
	in.expire = 0;
	d = run(&in);
	ok(d.action == WA_DC_WAIT_UNTIL && d.until == NOW + 60, "402 expire=0: still waits 60 s (no tight loop)");
	in.expire = WA_DC_BAN_MAX_WAIT + 1;
	d = run(&in);
	ok(d.klass == WA_DC_BANNED && d.action == WA_DC_EXIT && tool_exit_for_dc(&d) == WA_EXIT_BANNED,
	    "402 longer than the default max wait: exit %d", WA_EXIT_BANNED);
	ok(strstr(d.reason, "longer than") != NULL, "  reason '%s'", d.reason);
	in.expire = 3600;
	in.max_ban_wait = 600;
	d = run(&in);
	ok(d.action == WA_DC_EXIT && tool_exit_for_dc(&d) == WA_EXIT_BANNED, "402 one hour, max_ban_wait 10 min: exit");
	in.max_ban_wait = -1;
	d = run(&in);
	ok(d.action == WA_DC_EXIT && tool_exit_for_dc(&d) == WA_EXIT_BANNED, "402, max_ban_wait < 0 (never wait): exit");
	in.max_ban_wait = 0;
	in.expire = -1;
	d = run(&in);
	ok(d.action == WA_DC_EXIT && tool_exit_for_dc(&d) == WA_EXIT_BANNED && strstr(d.reason, "no expiry"),
	    "402 without expire: exit %d", WA_EXIT_BANNED);

	/* other endings (§10.4) */
	in = in_(WA_DC_STREAM_END, 0);
	check("<xmlstreamend/>", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 428, "xmlstreamend");
	in = in_(WA_DC_CLOSED, 0);
	in.rc = WA_ECLOSED;
	check("closed by the server", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 428,
	    "closed by the server");
	in.rc = WA_ETIMEDOUT;
	check("transport timeout", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 408, NULL);
	in.rc = WA_ESYS;
	in.err = ECONNREFUSED;
	check("connection refused (errno)", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 428,
	    strerror(ECONNREFUSED));
	in.err = ECONNRESET;
	check("connection reset (errno)", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 428,
	    strerror(ECONNRESET));
	in.err = EIO;
	check("another system error", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 500,
	    strerror(EIO));
	in.err = 0;
	in.rc = WA_ENET;
	in.text = "connection refused (Failed to connect to 127.0.0.1 port 9)";
	check("connection refused (ws)", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 428,
	    "connection refused (Failed");
	in.text = "cannot resolve host (Could not resolve host: x.invalid)";
	check("cannot resolve host", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 428,
	    "cannot resolve host");
	in.text = NULL;
	check("network error without a text", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 428,
	    "network error");
	in.rc = WA_EPROTO;
	in.text = "frame does not decrypt (bad tag)";
	check("a frame that does not decode", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 500,
	    "protocol error: frame does not decrypt");
	in.rc = WA_EVERIFY;
	in.text = "certificate chain: leaf expired";
	check("certificate failure", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 500,
	    "leaf expired");
	in.rc = WA_EPROTO;
	in.code = 401;
	in.text = "HTTP status 401 on the upgrade";
	check("a proxy's HTTP 401 is transient, not a logout", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF,
	    WA_EXIT_RETRIES, 401, NULL);
	in.code = 403;
	check("HTTP 403 on the upgrade: transient", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES,
	    403, NULL);
	in.code = 502;
	check("HTTP 502 on the upgrade: transient", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES,
	    502, NULL);
	in = in_(WA_DC_TIMEOUT, 0);
	in.text = "keepalive: nothing received for 25 s";
	check("keepalive loss", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 408, "keepalive");
	in.text = NULL;
	check("login timeout", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 408, "timed out");
	in = in_(WA_DC_DOWNGRADE, 0);
	check("downgrade_webclient", &in, WA_DC_REFUSED, WA_DC_EXIT, WA_EXIT_REFUSED, 411, "downgrade");
	in = in_(WA_DC_SHUTDOWN, 0);
	in.text = "SIGTERM";
	check("SIGTERM", &in, WA_DC_STOPPED, WA_DC_EXIT, WA_EXIT_OK, 0, "stopped: SIGTERM");

	/* local failures */
	in = in_(WA_DC_LOCAL, 0);
	in.rc = WA_ESYNC;
	check("directory fsync failed", &in, WA_DC_LOCALFAIL, WA_DC_EXIT, WA_EXIT_IOERR, 0, "local error");
	in.rc = WA_ESYS;
	in.err = ENOSPC;
	check("disk full", &in, WA_DC_LOCALFAIL, WA_DC_EXIT, WA_EXIT_IOERR, 0, strerror(ENOSPC));
	in.rc = WA_ENOMEM;
	check("out of memory", &in, WA_DC_LOCALFAIL, WA_DC_EXIT, WA_EXIT_SOFTWARE, 0, NULL);
	in.rc = WA_EUNSAFE;
	check("unsafe file", &in, WA_DC_LOCALFAIL, WA_DC_EXIT, WA_EXIT_NOPERM, 0, NULL);
	in.rc = WA_ECORRUPT;
	check("corrupt file", &in, WA_DC_LOCALFAIL, WA_DC_EXIT, WA_EXIT_DATAERR, 0, NULL);

	/* anything else */
	in = in_((enum wa_dc_source)77, 0);
	check("unknown source", &in, WA_DC_TRANSIENT, WA_DC_BACKOFF, WA_EXIT_RETRIES, 500, "unknown");

	/* the exit codes are distinct and in wa-run's range */
	ok(WA_EXIT_LOGGED_OUT == 10 && WA_EXIT_REPLACED == 11 && WA_EXIT_RETRIES == 12 &&
	    WA_EXIT_OUTDATED == 13 && WA_EXIT_BANNED == 14 && WA_EXIT_REFUSED == 15,
	    "session exit codes 10..15");

	/* reason lines are one line */
	in = in_(WA_DC_CLOSED, 0);
	in.rc = WA_ECLOSED;
	in.text = "a\r\nb\tc";
	d = run(&in);
	ok(!strpbrk(d.reason, "\r\n\t"), "reason has no control characters: '%s'", d.reason);

	done_testing();
	return exit_status();
}
