/*
 * t-stage - the staging-folder sweep (lib/stage.h) and wa-run's view of a
 * session end (wa_session_end_dc in lib/session.h, then wa_dc_classify).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session/disconnect.h"
#include "store/durable.h"
#include "base/err.h"
#include "exitcode.h"
#include "session/session.h"
#include "store/stage.h"
#include "tap.h"
#include "tool.h"

static void
touch(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd >= 0)
		close(fd);
}

static void
test_sweep(void)
{
	char dir[] = "/tmp/t-stage.XXXXXX";
	size_t n = 99;
	int fd;

	ok(mkdtemp(dir) != NULL, "a staging folder");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	is_int(wa_stage_sweep(fd, &n), 0, "an empty folder sweeps");
	is_int(n, 0, "nothing removed");
	touch(fd, WA_DURABLE_TMP_PREFIX "creds.json.123.1");
	touch(fd, WA_DURABLE_TMP_PREFIX "status.json.124.7");
	touch(fd, "notes.txt");
	mkdirat(fd, WA_DURABLE_TMP_PREFIX "dir", 0700);
	symlinkat("/etc/passwd", fd, WA_DURABLE_TMP_PREFIX "link");
	is_int(wa_stage_sweep(fd, &n), 0, "sweep");
	is_int(n, 2, "the two temporary files removed");
	ok(faccessat(fd, WA_DURABLE_TMP_PREFIX "creds.json.123.1", F_OK, AT_SYMLINK_NOFOLLOW) < 0, "gone");
	ok(faccessat(fd, "notes.txt", F_OK, 0) == 0, "another name is left alone");
	ok(faccessat(fd, WA_DURABLE_TMP_PREFIX "dir", F_OK, 0) == 0, "a folder is left alone");
	ok(faccessat(fd, WA_DURABLE_TMP_PREFIX "link", F_OK, AT_SYMLINK_NOFOLLOW) == 0, "a link is left alone");
	unlinkat(fd, "notes.txt", 0);
	unlinkat(fd, WA_DURABLE_TMP_PREFIX "dir", AT_REMOVEDIR);
	unlinkat(fd, WA_DURABLE_TMP_PREFIX "link", 0);
	close(fd);
	rmdir(dir);
}

/* classify an end as wa-run does */
static void
classify(struct wa_dc *dc, const struct wa_session_end *e)
{
	struct wa_dc_input in;

	wa_session_end_dc(&in, e);
	in.now = 1700000000;
	in.min_ban_wait = -1;
	wa_dc_classify(dc, &in);
}

static struct wa_session_end
end(enum wa_session_end_kind kind, int code, const char *child, const char *type)
{
	struct wa_session_end e;

	memset(&e, 0, sizeof e);
	e.kind = kind;
	e.code = code;
	e.ban_code = e.expire = -1;
	e.rc = kind == WA_SESSION_END_LOCAL ? 0 : WA_ECLOSED;
	snprintf(e.child, sizeof e.child, "%s", child ? child : "");
	snprintf(e.type, sizeof e.type, "%s", type ? type : "");
	snprintf(e.text, sizeof e.text, "detail");
	return e;
}

static void
test_end_dc(void)
{
	static const struct {
		enum wa_session_end_kind kind;
		int code;
		const char *child, *type;
		enum wa_dc_class klass;
		enum wa_dc_action action;
		int dccode, exit_code;
	} t[] = {
		{ WA_SESSION_END_LOCAL, 0, NULL, NULL, WA_DC_STOPPED, WA_DC_EXIT, 0, WA_EXIT_OK },
		{ WA_SESSION_END_RESTART, 515, NULL, NULL, WA_DC_RESTART, WA_DC_RECONNECT_NOW, 515, WA_EXIT_RETRIES },
		{ WA_SESSION_END_FAILURE, 401, NULL, NULL, WA_DC_LOGGED_OUT, WA_DC_EXIT, 401, WA_EXIT_LOGGED_OUT },
		{ WA_SESSION_END_FAILURE, 403, NULL, NULL, WA_DC_LOGGED_OUT, WA_DC_EXIT, 403, WA_EXIT_LOGGED_OUT },
		{ WA_SESSION_END_FAILURE, 405, NULL, NULL, WA_DC_OUTDATED, WA_DC_EXIT, 405, WA_EXIT_OUTDATED },
		{ WA_SESSION_END_FAILURE, 409, NULL, NULL, WA_DC_REFUSED, WA_DC_EXIT, 409, WA_EXIT_REFUSED },
		{ WA_SESSION_END_FAILURE, 503, NULL, NULL, WA_DC_TRANSIENT, WA_DC_BACKOFF, 503, WA_EXIT_RETRIES },
		{ WA_SESSION_END_FAILURE, 0, NULL, NULL, WA_DC_TRANSIENT, WA_DC_BACKOFF, 500, WA_EXIT_RETRIES },
		{ WA_SESSION_END_STREAM_ERROR, 0, "conflict", "replaced", WA_DC_REPLACED, WA_DC_EXIT, 440, WA_EXIT_REPLACED },
		{ WA_SESSION_END_STREAM_ERROR, 401, "conflict", "device_removed", WA_DC_LOGGED_OUT, WA_DC_EXIT, 401,
		    WA_EXIT_LOGGED_OUT },
		{ WA_SESSION_END_STREAM_ERROR, 401, NULL, NULL, WA_DC_TRANSIENT, WA_DC_BACKOFF, 401, WA_EXIT_RETRIES },
		{ WA_SESSION_END_STREAM_ERROR, 0, "xml-not-well-formed", NULL, WA_DC_TRANSIENT, WA_DC_BACKOFF, 500,
		    WA_EXIT_RETRIES },
		{ WA_SESSION_END_NETWORK, 0, NULL, NULL, WA_DC_TRANSIENT, WA_DC_BACKOFF, 428, WA_EXIT_RETRIES },
		{ WA_SESSION_END_LOGIN_TIMEOUT, 0, NULL, NULL, WA_DC_TRANSIENT, WA_DC_BACKOFF, 408, WA_EXIT_RETRIES },
		{ WA_SESSION_END_KEEPALIVE, 0, NULL, NULL, WA_DC_TRANSIENT, WA_DC_BACKOFF, 408, WA_EXIT_RETRIES },
	};
	struct wa_session_end e;
	struct wa_dc_input in;
	struct wa_dc dc;
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		e = end(t[i].kind, t[i].code, t[i].child, t[i].type);
		classify(&dc, &e);
		ok(dc.klass == t[i].klass && dc.action == t[i].action && dc.code == t[i].dccode &&
		    tool_exit_for_dc(&dc) == t[i].exit_code, "%s code %d %s %s -> %s %s %d (exit %d): got %s %s %d (%d)",
		    wa_session_end_name(&e), t[i].code, t[i].child ? t[i].child : "", t[i].type ? t[i].type : "",
		    wa_dc_class_name(t[i].klass), wa_dc_action_name(t[i].action), t[i].dccode, t[i].exit_code,
		    wa_dc_class_name(dc.klass), wa_dc_action_name(dc.action), dc.code, tool_exit_for_dc(&dc));
	}

	/* storage: exit 74, the end's text in the reason */
	e = end(WA_SESSION_END_STORAGE, 0, NULL, NULL);
	e.rc = WA_ESYS;
	snprintf(e.text, sizeof e.text, "'auth/creds.json': Operation not permitted");
	classify(&dc, &e);
	ok(dc.klass == WA_DC_LOCALFAIL && tool_exit_for_dc(&dc) == WA_EXIT_IOERR, "storage -> local, exit 74");
	ok(strstr(dc.reason, "creds.json") != NULL, "storage: the reason names the file (%s)", dc.reason);

	/* a ban: code and expiry carried, -1 ban code read as none */
	e = end(WA_SESSION_END_FAILURE, 402, NULL, NULL);
	e.ban_code = 101;
	e.expire = 120;
	classify(&dc, &e);
	ok(dc.klass == WA_DC_BANNED && dc.action == WA_DC_WAIT_UNTIL && dc.ban_code == 101 &&
	    dc.until == 1700000000 + 120, "402 code 101 expire 120 -> wait 120 s");
	e.ban_code = -1;
	e.expire = -1;
	wa_session_end_dc(&in, &e);
	ok(in.ban_code == 0 && in.expire == -1, "absent ban code and expiry: 0 and -1");
	classify(&dc, &e);
	ok(dc.action == WA_DC_EXIT && tool_exit_for_dc(&dc) == WA_EXIT_BANNED, "402 without expiry -> exit 14");

	/* authenticated and verified are passed on */
	e = end(WA_SESSION_END_NETWORK, 0, NULL, NULL);
	e.authenticated = 1;
	wa_session_end_dc(&in, &e);
	ok(in.verified == 1 && in.authenticated == 1 && in.source == WA_DC_CLOSED && in.rc == WA_ECLOSED &&
	    in.text && strcmp(in.text, "detail") == 0, "network: verified, authenticated, rc and text");
}

static void
test_min_ban_wait(void)
{
	struct wa_dc_input in;
	struct wa_dc dc;

	memset(&in, 0, sizeof in);
	in.source = WA_DC_FAILURE;
	in.verified = 1;
	in.code = 402;
	in.expire = 2;
	in.now = 1000;
	wa_dc_classify(&dc, &in);
	is_int(dc.until, 1000 + WA_DC_BAN_MIN_WAIT, "min_ban_wait 0: the 60 s default minimum");
	in.min_ban_wait = 5;
	wa_dc_classify(&dc, &in);
	is_int(dc.until, 1005, "min_ban_wait 5");
	in.min_ban_wait = -1;
	wa_dc_classify(&dc, &in);
	is_int(dc.until, 1002, "min_ban_wait -1: the expiry itself");
	in.expire = 0;
	wa_dc_classify(&dc, &in);
	ok(dc.action == WA_DC_WAIT_UNTIL && dc.until == 1000, "an expiry of 0 with no minimum: at once");
}

int
main(void)
{
	test_sweep();
	test_end_dc();
	test_min_ban_wait();
	done_testing();
	return exit_status();
}
