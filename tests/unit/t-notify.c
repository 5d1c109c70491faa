/*
 * t-notify - --on-event and --webhook (lib/notify.h), driven by a
 * wa_loop as wa-run drives them.
 *
 * on-event: the command runs once per notable event (not for the others),
 * without a shell (arguments holding ";" and "$(...)" arrive as they are
 * and nothing is executed), with the WA_* variables; concurrency is
 * bounded, a hung command is killed after its timeout, a full queue drops
 * the oldest, a missing command is counted.
 *
 * webhook: a small HTTP server in this process (on the same loop, on
 * 127.0.0.1) receives each event line once, in order; a 500 is retried
 * until it succeeds; a listener that never answers, one that never
 * accepts and a closed port each end in a counted failure while a 20 ms
 * timer on the same loop keeps firing on time (the session is never
 * blocked); the queue is bounded.
 *
 * The loop is run until the condition holds (with a deadline as a safety
 * net): nothing here sleeps to wait for something.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/authdir.h"
#include "ops/event.h"
#include "base/loop.h"
#include "ops/notify.h"
#include "tap.h"

static char top[256];
static struct wa_loop *L;

/* ---- a tiny HTTP server ---------------------------------------------------- */

enum mode { ANSWER, FAIL_FIRST, SILENT, NO_ACCEPT };

struct hconn {
	int fd, id;
	char buf[8192];
	size_t len;
};

static struct {
	int lfd, lid;
	enum mode mode;
	int fail_left;
	int requests;
	char bodies[16][1024];
	int nbodies;
	struct hconn c[8];
} S;

static void hconn_read(void *arg, int fd, short revents);

static void
hclose(struct hconn *c)
{
	wa_loop_fd_remove(L, c->id);
	close(c->fd);
	c->fd = -1;
}

static void
on_accept(void *arg, int fd, short revents)
{
	int cfd, i;

	(void)arg;
	(void)revents;
	while ((cfd = accept(fd, NULL, NULL)) >= 0) {
		fcntl(cfd, F_SETFL, O_NONBLOCK);
		for (i = 0; i < 8 && S.c[i].fd >= 0; i++)
			;
		if (i == 8) {
			close(cfd);
			continue;
		}
		S.c[i].fd = cfd;
		S.c[i].len = 0;
		S.c[i].id = wa_loop_fd(L, cfd, POLLIN, hconn_read, &S.c[i]);
	}
}

static void
hconn_read(void *arg, int fd, short revents)
{
	struct hconn *c = arg;
	ssize_t n;

	(void)revents;
	n = read(fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			hclose(c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = 0;
	for (;;) {
		char *end = strstr(c->buf, "\r\n\r\n"), *cl;
		size_t hlen, blen, total;
		const char *reply;

		if (!end)
			return;
		hlen = (size_t)(end - c->buf) + 4;
		cl = strcasestr(c->buf, "Content-Length:");
		blen = cl && cl < end ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
		total = hlen + blen;
		if (c->len < total)
			return;
		S.requests++;
		if (S.mode == SILENT) {
			c->len = 0;   /* read it all, never answer */
			return;
		}
		if (S.mode == FAIL_FIRST && S.fail_left > 0) {
			S.fail_left--;
			reply = "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n";
		} else {
			if (S.nbodies < 16 && blen < 1024) {
				memcpy(S.bodies[S.nbodies], c->buf + hlen, blen);
				S.bodies[S.nbodies][blen] = 0;
				S.nbodies++;
			}
			reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
		}
		if (write(fd, reply, strlen(reply)) < 0) {
			hclose(c);
			return;
		}
		memmove(c->buf, c->buf + total, c->len - total);
		c->len -= total;
		c->buf[c->len] = 0;
	}
}

/* Start listening on 127.0.0.1; returns the port. */
static int
server_start(enum mode m)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	int i, one = 1;

	memset(&S, 0, sizeof S);
	for (i = 0; i < 8; i++)
		S.c[i].fd = -1;
	S.mode = m;
	S.lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(S.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(S.lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(S.lfd, 16) < 0 ||
	    getsockname(S.lfd, (struct sockaddr *)&a, &alen) < 0) {
		perror("server");
		exit(1);
	}
	fcntl(S.lfd, F_SETFL, O_NONBLOCK);
	if (m != NO_ACCEPT)
		S.lid = wa_loop_fd(L, S.lfd, POLLIN, on_accept, NULL);
	return ntohs(a.sin_port);
}

static void
server_stop(void)
{
	int i;

	for (i = 0; i < 8; i++)
		if (S.c[i].fd >= 0)
			hclose(&S.c[i]);
	if (S.lid)
		wa_loop_fd_remove(L, S.lid);
	close(S.lfd);
	S.lid = 0;
}

/* A port nobody listens on. */
static int
closed_port(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof a);
	getsockname(fd, (struct sockaddr *)&a, &alen);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* ---- a ticking timer that measures its own lateness ------------------------ */

static struct {
	int64_t due;
	int64_t worst;
	int ticks;
	int id;
	int on;
} TK;

static void
tick(void *arg)
{
	int64_t now = wa_clock_mono_ms(), late = now - TK.due;

	(void)arg;
	if (late > TK.worst)
		TK.worst = late;
	TK.ticks++;
	TK.due = now + 20;
	if (TK.on)
		TK.id = wa_loop_timer(L, 20, tick, NULL);
}

static void
ticker_start(void)
{
	memset(&TK, 0, sizeof TK);
	TK.on = 1;
	TK.due = wa_clock_mono_ms() + 20;
	TK.id = wa_loop_timer(L, 20, tick, NULL);
}

static void
ticker_stop(void)
{
	TK.on = 0;
	wa_loop_timer_cancel(L, TK.id);
}

/* ---- helpers ------------------------------------------------------------------- */

/* Run the loop until done(n) or the deadline; returns 1 when done. */
static int
run_until(struct wa_notify *n, int (*done)(struct wa_notify *), long max_ms)
{
	int64_t end = wa_clock_mono_ms() + max_ms;

	while (!done(n)) {
		if (wa_clock_mono_ms() > end)
			return 0;
		wa_loop_once(L, 50);
	}
	return 1;
}

static int
idle(struct wa_notify *n)
{
	return wa_notify_pending(n) == 0;
}

static void
ev(struct wa_event *e, enum wa_event_type t, enum wa_state st, unsigned long seq)
{
	wa_event_init(e, t, st);
	e->seq = seq;
	e->ts = 1795256100000LL + (int64_t)seq;
}

static char *
slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static const char *
envline(const char *rec, const char *var)
{
	static char line[2048];
	const char *p = rec;
	size_t n = strlen(var);

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > n && strncmp(p, var, n) == 0 && p[n] == '=') {
			snprintf(line, sizeof line, "%.*s", (int)(len - n - 1), p + n + 1);
			return line;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* ---- on-event ---------------------------------------------------------------- */

static void
test_command(void)
{
	char script[400], hang[400], out[400], path[600], inj1[500], inj2[500];
	char arg1[600], arg2[600];
	struct wa_notify_opts o = WA_NOTIFY_OPTS_INIT;
	struct wa_notify *n;
	struct wa_why why;
	struct wa_event e;
	struct wa_authdir *ad = NULL;
	const char *rec;
	char *line;
	size_t len;
	FILE *f;
	int i;

	snprintf(out, sizeof out, "%s/out", top);
	mkdir(out, 0700);
	snprintf(script, sizeof script, "%s/rec", top);
	f = fopen(script, "w");
	fprintf(f, "#!/bin/sh\n{ printf 'ARG=%%s\\n' \"$@\"; env | grep '^WA_' | sort; } > \"$T_OUT/$WA_SEQ.tmp\"\n"
	    "for fd in /proc/$$/fd/*; do readlink \"$fd\"; done > \"$T_OUT/$WA_SEQ.fds\" 2>/dev/null\n"
	    "mv \"$T_OUT/$WA_SEQ.tmp\" \"$T_OUT/$WA_SEQ\"\n");
	fclose(f);
	chmod(script, 0700);
	setenv("T_OUT", out, 1);
	setenv("WA_CLASS", "stale-from-the-parent", 1);   /* must be overridden */

	snprintf(inj1, sizeof inj1, "%s/injected1", top);
	snprintf(inj2, sizeof inj2, "%s/injected2", top);
	snprintf(arg1, sizeof arg1, "a; touch %s", inj1);
	snprintf(arg2, sizeof arg2, "$(touch %s)", inj2);
	/* a folder held open for writing, as wa-run holds its own */
	snprintf(path, sizeof path, "%s/auth", top);
	if (wa_authdir_open(&ad, path, WA_AUTHDIR_WRITE | WA_AUTHDIR_CREATE, "t-notify", NULL, &why) < 0)
		ok(0, "authdir: %s", why.text);
	{
		char *argv[] = { script, arg1, arg2, NULL };
		o.argv = argv;
		o.auth_dir = "/srv/bot/auth";
		is_int(wa_notify_new(&n, &o, &why), 0, "on-event: created");
	}
	wa_notify_attach(n, L);

	ev(&e, WA_EV_CONNECTING, WA_ST_CONNECTING, 1);
	is_int(wa_notify_event(n, &e), 0, "connecting: not notable, not queued");
	ev(&e, WA_EV_STATE, WA_ST_ONLINE, 2);
	e.prev = WA_ST_CONNECTING;
	is_int(wa_notify_event(n, &e), 0, "state online: not notable");
	ev(&e, WA_EV_ONLINE, WA_ST_ONLINE, 3);
	e.outage = 0;
	is_int(wa_notify_event(n, &e), 0, "online without an outage: not notable");
	ev(&e, WA_EV_ONLINE, WA_ST_ONLINE, 4);
	e.outage = 1;
	e.downtime_ms = 95000;
	is_int(wa_notify_event(n, &e), 1, "online after an outage: queued");
	ev(&e, WA_EV_STATE, WA_ST_REPLACED, 5);
	e.prev = WA_ST_ONLINE;
	e.klass = "replaced";
	e.code = 440;
	e.reason = "stream:error <conflict type=\"replaced\"/>";
	is_int(wa_notify_event(n, &e), 1, "state replaced: queued");
	wa_event_format(&line, &len, &e);
	ev(&e, WA_EV_STATE, WA_ST_LOGGED_OUT, 6);
	e.prev = WA_ST_ONLINE;
	e.klass = "logged_out";
	e.code = 401;
	is_int(wa_notify_event(n, &e), 1, "state logged_out: queued");
	ok(run_until(n, idle, 5000), "all commands finished (reaped from the loop)");
	{
		const struct wa_notify_stats *st = wa_notify_stats(n);
		ok(st->spawned == 3 && st->exited_ok == 3 && st->spawn_failed == 0,
		    "three commands ran and exited 0 (spawned %lu, ok %lu)", st->spawned, st->exited_ok);
	}
	for (i = 1; i <= 6; i++) {
		snprintf(path, sizeof path, "%s/%d", out, i);
		if (exists(path) != (i >= 4))
			ok(0, "event %d ran %s", i, exists(path) ? "but should not have" : "not");
	}
	ok(!exists(inj1) && !exists(inj2), "no shell: ';' and '$(...)' in the arguments executed nothing");
	snprintf(path, sizeof path, "%s/5", out);
	rec = slurp(path);
	ok(rec != NULL, "the replaced event's record");
	if (!rec)
		rec = "";
	ok(strstr(rec, "ARG=a; touch ") && strstr(rec, "ARG=$(touch "), "  arguments arrive verbatim");
	is_str(envline(rec, "WA_EVENT"), "state", "  WA_EVENT=state");
	is_str(envline(rec, "WA_STATE"), "replaced", "  WA_STATE=replaced");
	is_str(envline(rec, "WA_PREV_STATE"), "online", "  WA_PREV_STATE=online");
	is_str(envline(rec, "WA_CLASS"), "replaced", "  WA_CLASS=replaced (the parent's value is replaced)");
	is_str(envline(rec, "WA_CODE"), "440", "  WA_CODE=440");
	is_str(envline(rec, "WA_SEQ"), "5", "  WA_SEQ=5");
	is_str(envline(rec, "WA_AUTH_DIR"), "/srv/bot/auth", "  WA_AUTH_DIR");
	is_str(envline(rec, "WA_TS"), "2026-11-21T10:15:00.005Z", "  WA_TS");
	is_str(envline(rec, "WA_REASON"), "stream:error <conflict type=\"replaced\"/>", "  WA_REASON");
	{
		char pid[32];
		snprintf(pid, sizeof pid, "%ld", (long)getpid());
		is_str(envline(rec, "WA_RUN_PID"), pid, "  WA_RUN_PID");
	}
	line[len - 1] = 0;
	is_str(envline(rec, "WA_EVENT_JSON"), line, "  WA_EVENT_JSON is the event line");
	free(line);
	snprintf(path, sizeof path, "%s/5.fds", out);
	rec = slurp(path);
	if (rec && *rec)
		ok(!strstr(rec, "/.wa/lock") && !strstr(rec, "/.wa/tmp") && !strstr(rec, "/auth\n") &&
		    strstr(rec, "/dev/null"),
		    "the command inherits neither the folder lock nor the folder descriptors");
	wa_authdir_close(ad);
	snprintf(path, sizeof path, "%s/4", out);
	rec = slurp(path);
	ok(rec && strcmp(envline(rec, "WA_EVENT") ? envline(rec, "WA_EVENT") : "", "online") == 0,
	    "the outage's record: WA_EVENT=online");
	ok(rec && envline(rec, "WA_CLASS") && !*envline(rec, "WA_CLASS") && envline(rec, "WA_PREV_STATE") &&
	    !*envline(rec, "WA_PREV_STATE"), "  WA_CLASS and WA_PREV_STATE empty");
	wa_notify_free(n);
	unsetenv("WA_CLASS");

	/* bounded concurrency and the timeout: a command that never ends */
	snprintf(hang, sizeof hang, "%s/hang", top);
	f = fopen(hang, "w");
	fprintf(f, "#!/bin/sh\nexec tail -f /dev/null\n");
	fclose(f);
	chmod(hang, 0700);
	{
		char *argv[] = { hang, NULL };
		memset(&o, 0, sizeof o);
		o.argv = argv;
		o.all_events = 1;
		o.max_procs = 2;
		o.cmd_timeout_ms = 250;
		wa_notify_new(&n, &o, &why);
	}
	wa_notify_attach(n, L);
	for (i = 1; i <= 5; i++) {
		ev(&e, WA_EV_CONNECTING, WA_ST_CONNECTING, (unsigned long)i);
		wa_notify_event(n, &e);
	}
	is_int(wa_notify_pending(n), 5, "five hanging commands pending (2 running, 3 queued)");
	ok(run_until(n, idle, 8000), "every hung command was killed and reaped");
	{
		const struct wa_notify_stats *st = wa_notify_stats(n);
		ok(st->spawned == 5 && st->killed == 5 && st->exited_fail == 5 && st->peak_running == 2,
		    "spawned 5, killed 5 after their timeout, never more than 2 at once (peak %lu)",
		    st->peak_running);
	}
	wa_notify_free(n);

	/* a full queue drops the oldest */
	{
		char *argv[] = { hang, NULL };
		memset(&o, 0, sizeof o);
		o.argv = argv;
		o.all_events = 1;
		o.max_procs = 1;
		o.queue_max = 3;
		o.cmd_timeout_ms = 100;
		wa_notify_new(&n, &o, &why);
	}
	wa_notify_attach(n, L);
	for (i = 1; i <= 6; i++) {
		ev(&e, WA_EV_CONNECTING, WA_ST_CONNECTING, (unsigned long)i);
		wa_notify_event(n, &e);
	}
	ok(wa_notify_stats(n)->dropped_cmd == 2, "queue of 3, one running, 6 events: 2 dropped (%lu)",
	    wa_notify_stats(n)->dropped_cmd);
	ok(run_until(n, idle, 8000) && wa_notify_stats(n)->spawned == 4, "the other 4 ran");
	wa_notify_free(n);

	/* a command that does not exist */
	{
		char *argv[] = { "/nonexistent/wa-hook", NULL };
		memset(&o, 0, sizeof o);
		o.argv = argv;
		wa_notify_new(&n, &o, &why);
	}
	ev(&e, WA_EV_STATE, WA_ST_LOGGED_OUT, 1);
	wa_notify_event(n, &e);
	ok(wa_notify_stats(n)->spawn_failed == 1 && wa_notify_pending(n) == 0,
	    "a missing command: counted as a spawn failure, nothing pending");
	wa_notify_free(n);
	{
		char *argv[] = { NULL };
		memset(&o, 0, sizeof o);
		o.argv = argv;
		is_int(wa_notify_new(&n, &o, &why), WA_EINVAL, "an empty command: WA_EINVAL");
	}
}

/* ---- webhook ------------------------------------------------------------------ */

static int
done_3(struct wa_notify *n)
{
	return S.nbodies >= 3 && wa_notify_pending(n) == 0;
}

static void
test_webhook(void)
{
	struct wa_notify_opts o = WA_NOTIFY_OPTS_INIT;
	struct wa_notify *n;
	struct wa_why why;
	struct wa_event e;
	char url[128], *lines[3];
	size_t len;
	int port, i;

	memset(&o, 0, sizeof o);
	o.url = "ftp://example.com/";
	is_int(wa_notify_new(&n, &o, &why), WA_EINVAL, "webhook: ftp:// refused");
	ok(strstr(why.text, "ftp://") != NULL, "  why names it: %s", why.text);

	/* three notable events, each POSTed once, in order */
	port = server_start(ANSWER);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", port);
	memset(&o, 0, sizeof o);
	o.url = url;
	is_int(wa_notify_new(&n, &o, &why), 0, "webhook to %s", url);
	wa_notify_attach(n, L);
	ev(&e, WA_EV_CONNECTING, WA_ST_CONNECTING, 1);
	wa_notify_event(n, &e);
	for (i = 0; i < 3; i++) {
		static const enum wa_state st[] = { WA_ST_RETRIES_EXHAUSTED, WA_ST_BANNED, WA_ST_OUTDATED };
		ev(&e, WA_EV_STATE, st[i], (unsigned long)(10 + i));
		e.prev = WA_ST_BACKOFF;
		wa_event_format(&lines[i], &len, &e);
		wa_notify_event(n, &e);
	}
	ok(run_until(n, done_3, 5000), "three POSTs answered");
	is_int(S.nbodies, 3, "the server got exactly three events (the connecting one was not sent)");
	for (i = 0; i < 3; i++)
		is_str(S.bodies[i], lines[i], "  body %d is the event line", i + 1);
	is_int(wa_notify_stats(n)->posted, 3, "stats: posted 3");
	for (i = 0; i < 3; i++)
		free(lines[i]);
	wa_notify_free(n);
	server_stop();

	/* a 500 twice, then 200: retried with backoff, delivered once */
	port = server_start(FAIL_FIRST);
	S.fail_left = 2;
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", port);
	memset(&o, 0, sizeof o);
	o.url = url;
	o.retry_base_ms = 20;
	o.retry_cap_ms = 50;
	wa_notify_new(&n, &o, &why);
	wa_notify_attach(n, L);
	ev(&e, WA_EV_STATE, WA_ST_LOGGED_OUT, 1);
	wa_notify_event(n, &e);
	ok(run_until(n, idle, 5000), "delivered despite two 500s");
	ok(S.requests == 3 && S.nbodies == 1 && wa_notify_stats(n)->post_errors == 2 &&
	    wa_notify_stats(n)->posted == 1, "3 requests, 2 errors, 1 delivery");
	wa_notify_free(n);
	server_stop();

	/* dead endpoints: the loop keeps its timers on time */
	{
		static const struct { enum mode m; const char *what; } dead[] = {
			{ SILENT, "a server that reads and never answers" },
			{ NO_ACCEPT, "a listener that never accepts" },
			{ ANSWER, "a closed port" },
		};
		for (i = 0; i < 3; i++) {
			int64_t t0;
			if (i < 2) {
				port = server_start(dead[i].m);
			} else {
				port = closed_port();
				S.lfd = -1;
			}
			snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", port);
			memset(&o, 0, sizeof o);
			o.url = url;
			o.http_timeout_ms = 300;
			o.connect_timeout_ms = 300;
			o.http_tries = 2;
			o.retry_base_ms = 20;
			o.retry_cap_ms = 20;
			wa_notify_new(&n, &o, &why);
			wa_notify_attach(n, L);
			ticker_start();
			t0 = wa_clock_mono_ms();
			ev(&e, WA_EV_STATE, WA_ST_REPLACED, 1);
			wa_notify_event(n, &e);
			ok(wa_clock_mono_ms() - t0 < 100, "%s: queueing returns at once", dead[i].what);
			ok(run_until(n, idle, 6000), "  given up after 2 tries");
			ticker_stop();
			ok(wa_notify_stats(n)->post_failed == 1 && wa_notify_stats(n)->posted == 0,
			    "  counted as failed");
			ok(TK.ticks >= (i < 2 ? 20 : 0) && TK.worst < 200,
			    "  a 20 ms timer kept firing meanwhile: %d ticks, worst lateness %lld ms", TK.ticks,
			    (long long)TK.worst);
			wa_notify_free(n);
			if (i < 2)
				server_stop();
		}
	}

	/* bounded queue behind a dead endpoint */
	port = server_start(SILENT);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", port);
	memset(&o, 0, sizeof o);
	o.url = url;
	o.queue_max = 3;
	wa_notify_new(&n, &o, &why);
	wa_notify_attach(n, L);
	for (i = 1; i <= 6; i++) {
		ev(&e, WA_EV_STATE, WA_ST_FAILED, (unsigned long)i);
		wa_notify_event(n, &e);
	}
	ok(wa_notify_stats(n)->dropped_http == 3 && wa_notify_pending(n) == 3,
	    "queue of 3 (one in flight), 6 events: 3 oldest waiting dropped, 3 pending (%lu, %zu)",
	    wa_notify_stats(n)->dropped_http, wa_notify_pending(n));
	wa_notify_free(n);
	server_stop();
}

int
main(void)
{
	char cmd[300];

	snprintf(top, sizeof top, "%s/t-notify.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(top) || wa_loop_new(&L) < 0)
		return 1;
	test_command();
	test_webhook();
	wa_loop_free(L);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
	if (system(cmd) != 0)
		perror("rm");
	done_testing();
	return exit_status();
}
