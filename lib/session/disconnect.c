/*
 * disconnect.c - classify how a connection ended (see disconnect.h for the
 * table).  The order of the tests is the contract: a device_removed
 * conflict wins over any code, a replaced conflict over 515, and nothing
 * that did not come through the verified channel ends the session.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "session/disconnect.h"
#include "base/err.h"


static const char *const class_names[] = {
	[WA_DC_RESTART] = "restart",
	[WA_DC_TRANSIENT] = "transient",
	[WA_DC_REPLACED] = "replaced",
	[WA_DC_LOGGED_OUT] = "logged_out",
	[WA_DC_BANNED] = "banned",
	[WA_DC_OUTDATED] = "outdated",
	[WA_DC_REFUSED] = "refused",
	[WA_DC_STOPPED] = "stopped",
	[WA_DC_LOCALFAIL] = "local",
};

const char *
wa_dc_class_name(enum wa_dc_class k)
{
	if ((int)k < 1 || (size_t)k >= sizeof class_names / sizeof class_names[0])
		return "?";
	return class_names[k];
}

const char *
wa_dc_action_name(enum wa_dc_action a)
{
	switch (a) {
	case WA_DC_RECONNECT_NOW: return "reconnect";
	case WA_DC_BACKOFF: return "backoff";
	case WA_DC_WAIT_UNTIL: return "wait";
	case WA_DC_EXIT: return "exit";
	}
	return "?";
}

static void
set(struct wa_dc *o, enum wa_dc_class k, int code)
{
	o->klass = k;
	o->code = code;
	switch (k) {
	case WA_DC_RESTART:
		o->action = WA_DC_RECONNECT_NOW;
		break;
	case WA_DC_TRANSIENT:
		o->action = WA_DC_BACKOFF;
		break;
	case WA_DC_REPLACED:
		o->action = WA_DC_EXIT;
		break;
	case WA_DC_LOGGED_OUT:
		o->action = WA_DC_EXIT;
		break;
	case WA_DC_BANNED:
		o->action = WA_DC_EXIT;       /* until wa_dc_classify says how long */
		break;
	case WA_DC_OUTDATED:
		o->action = WA_DC_EXIT;
		break;
	case WA_DC_REFUSED:
		o->action = WA_DC_EXIT;
		break;
	case WA_DC_STOPPED:
		o->action = WA_DC_EXIT;
		break;
	case WA_DC_LOCALFAIL:
		o->action = WA_DC_EXIT;
		break;
	}
}

/* .reason, kept to one line */
static void __attribute__((format(printf, 2, 3)))
reason(struct wa_dc *o, const char *fmt, ...)
{
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(o->reason, sizeof o->reason, fmt, ap);
	va_end(ap);
	for (i = 0; o->reason[i]; i++)
		if ((unsigned char)o->reason[i] < 0x20)
			o->reason[i] = ' ';
}

static const char *
stream_text(int code)
{
	switch (code) {
	case 401: return "unauthorized";
	case 440: return "conflict";
	case 500: return "internal server error";
	case 503: return "service unavailable";
	case 515: return "restart required";
	}
	return "unknown";
}

static void
stream_error(struct wa_dc *o, const struct wa_dc_input *in)
{
	int conflict = in->child && strcmp(in->child, "conflict") == 0;
	const char *type = in->child_type;
	char what[96];

	if (in->code)
		snprintf(what, sizeof what, "stream:error %d", in->code);
	else
		snprintf(what, sizeof what, "stream:error");
	if (!in->verified) {
		set(o, WA_DC_TRANSIENT, in->code ? in->code : 500);
		reason(o, "%s not from the verified channel", what);
		return;
	}
	if (conflict && type && strcmp(type, "device_removed") == 0) {
		set(o, WA_DC_LOGGED_OUT, in->code ? in->code : 401);
		reason(o, "%s <conflict type=\"device_removed\"/> (this device was removed from the account)",
		    what);
		return;
	}
	if ((conflict && (!type || strcmp(type, "replaced") == 0)) || in->code == 440) {
		set(o, WA_DC_REPLACED, 440);
		reason(o, "%s <conflict type=\"replaced\"/> (another client logged in with these credentials)",
		    what);
		return;
	}
	if (in->code == 515) {
		set(o, WA_DC_RESTART, 515);
		reason(o, "%s (restart required)", what);
		return;
	}
	set(o, WA_DC_TRANSIENT, in->code ? in->code : 500);
	if (in->child) {
		char child[64];
		snprintf(child, sizeof child, "<%.30s%s%.20s%s/>", in->child, type ? " type=\"" : "",
		    type ? type : "", type ? "\"" : "");
		reason(o, "%s %s", what, child);
	} else {
		reason(o, "%s (%s)", what, stream_text(in->code));
	}
}

static const char *
failure_text(int r)
{
	switch (r) {
	case 400: return "generic";
	case 401: return "logged out from another device";
	case 402: return "temporarily banned";
	case 403: return "primary device logged out or account locked";
	case 405: return "client outdated";
	case 406: return "logged out or banned";
	case 409: return "bad user agent";
	case 413: case 414: return "access token expired or invalid";
	case 415: return "not found";
	case 418: return "client unknown";
	case 429: return "too many requests";
	case 500: return "internal server error";
	case 501: return "experimental";
	case 503: return "service unavailable";
	}
	return "unknown reason";
}

static void
banned(struct wa_dc *o, const struct wa_dc_input *in)
{
	int64_t max = in->max_ban_wait ? in->max_ban_wait : WA_DC_BAN_MAX_WAIT;
	int64_t min = in->min_ban_wait ? in->min_ban_wait : WA_DC_BAN_MIN_WAIT;
	int64_t until, wait;

	set(o, WA_DC_BANNED, 402);
	o->ban_code = in->ban_code;
	if (in->expire < 0) {
		reason(o, "login failure 402 (temporarily banned): ban code %d, no expiry given",
		    in->ban_code);
		return;
	}
	/* whatsmeow reads expire as seconds from now; a value that can only
	 * be a Unix time is taken as the end itself */
	if (in->expire > 1000000000 && in->now > 0)
		until = in->expire;
	else
		until = in->now + in->expire;
	wait = until - in->now;
	/* a ban that says it is over already still waits a little */
	if (min > 0 && wait < min) {
		wait = min;
		until = in->now + wait;
	} else if (wait < 0) {
		wait = 0;
		until = in->now;
	}
	if (max < 0 || wait > max) {
		reason(o, "login failure 402 (temporarily banned): ban code %d, %lld s, longer "
		    "than the %lld s it waits", in->ban_code, (long long)wait,
		    (long long)(max < 0 ? 0 : max));
		return;
	}
	o->action = WA_DC_WAIT_UNTIL;
	o->until = until;
	reason(o, "login failure 402 (temporarily banned): ban code %d, waiting %lld s",
	    in->ban_code, (long long)wait);
}

static void
failure(struct wa_dc *o, const struct wa_dc_input *in)
{
	int r = in->code ? in->code : 500;
	char what[64];

	snprintf(what, sizeof what, "login failure %d (%s)", r, failure_text(r));
	if (!in->verified) {
		set(o, WA_DC_TRANSIENT, r);
		reason(o, "%s not from the verified channel", what);
		return;
	}
	switch (r) {
	case 401: case 403: case 406:
		set(o, WA_DC_LOGGED_OUT, r);
		break;
	case 402:
		banned(o, in);
		return;
	case 405:
		set(o, WA_DC_OUTDATED, r);
		break;
	case 440:
		set(o, WA_DC_REPLACED, r);
		break;
	case 408: case 413: case 414: case 428: case 429:
		set(o, WA_DC_TRANSIENT, r);
		break;
	default:
		set(o, r >= 400 && r < 500 ? WA_DC_REFUSED : WA_DC_TRANSIENT, r);
		break;
	}
	if (in->text && *in->text)
		reason(o, "%s: %.80s", what, in->text);
	else
		reason(o, "%s", what);
}

static void
closed(struct wa_dc *o, const struct wa_dc_input *in)
{
	const char *what;
	int code;

	/* by cause: the network (refused, unresolvable, reset, unreachable)
	 * and a closed connection are 428, a deadline 408; a frame that does
	 * not decode is a protocol error, and only a certificate or signature
	 * that does not verify says verification (both 500) */
	switch (in->rc) {
	case WA_ENET: what = "network error"; code = 428; break;
	case WA_ECLOSED: what = "connection closed by the server"; code = 428; break;
	case WA_ETIMEDOUT: what = "connection timed out"; code = 408; break;
	case WA_EVERIFY: what = "server verification failed"; code = 500; break;
	case WA_EPROTO: what = "protocol error"; code = 500; break;
	case WA_ESYS:
		what = in->err ? strerror(in->err) : "network error";
		switch (in->err) {
		case ECONNREFUSED: case ECONNRESET: case ECONNABORTED: case EPIPE:
		case ENETUNREACH: case EHOSTUNREACH: case ENETDOWN: case EHOSTDOWN:
			code = 428;
			break;
		case ETIMEDOUT:
			code = 408;
			break;
		default:
			code = 500;
		}
		break;
	default: what = "connection lost"; code = 428; break;
	}
	/* an HTTP status on the websocket upgrade is the transport's, never
	 * the account's: a proxy's 401 is not a logout */
	if (in->code >= 100 && in->code < 600)
		code = in->code;
	set(o, WA_DC_TRANSIENT, code);
	if (in->rc == WA_ENET && in->text && *in->text)
		reason(o, "%.150s", in->text);   /* says what: "connection refused (...)" */
	else if (in->text && *in->text)
		reason(o, "%s: %.120s", what, in->text);
	else
		reason(o, "%s", what);
}

static void
local(struct wa_dc *o, const struct wa_dc_input *in)
{
	set(o, WA_DC_LOCALFAIL, 0);
	o->rc = in->rc;
	o->err = in->err;
	if (in->text && *in->text)
		reason(o, "local error: %.140s", in->text);
	else if (in->rc == WA_ESYS)
		reason(o, "local error: %s", strerror(in->err));
	else
		reason(o, "local error: %s", wa_strerror(in->rc));
}

void
wa_dc_classify(struct wa_dc *o, const struct wa_dc_input *in)
{
	memset(o, 0, sizeof *o);
	switch (in->source) {
	case WA_DC_STREAM_ERROR:
		stream_error(o, in);
		break;
	case WA_DC_FAILURE:
		failure(o, in);
		break;
	case WA_DC_STREAM_END:
		set(o, WA_DC_TRANSIENT, 428);
		reason(o, "stream ended by the server (<xmlstreamend/>)");
		break;
	case WA_DC_CLOSED:
		closed(o, in);
		break;
	case WA_DC_TIMEOUT:
		set(o, WA_DC_TRANSIENT, 408);
		if (in->text && *in->text)
			reason(o, "timed out: %.140s", in->text);
		else
			reason(o, "timed out");
		break;
	case WA_DC_DOWNGRADE:
		set(o, in->verified ? WA_DC_REFUSED : WA_DC_TRANSIENT, 411);
		reason(o, "<downgrade_webclient/> (multi-device mismatch)");
		break;
	case WA_DC_SHUTDOWN:
		set(o, WA_DC_STOPPED, 0);
		if (in->text && *in->text)
			reason(o, "stopped: %.140s", in->text);
		else
			reason(o, "stopped");
		break;
	case WA_DC_LOCAL:
		local(o, in);
		break;
	default:
		set(o, WA_DC_TRANSIENT, 500);
		reason(o, "unknown disconnect");
		break;
	}
}
