/*
 * wa-session-login - test helper: log in with a paired auth folder through
 * lib/session.h (the login wa-pair and wa-run use), then close.
 *
 *	wa-session-login [-v] [--active] [--stay ms] [--timeout ms]
 *	                 [--keepalive min,max,deadline] DIR
 *
 * Prints one line per step on stdout:
 *	success lid=LID
 *	prekeys server=N uploaded=M [first=F last=L] | prekeys error WHY
 *	online ME
 *	end KIND code=C child=CH type=T: TEXT
 * and exits 0 when it went online (and, with --stay, stayed online that
 * long), 1 otherwise, 2 on usage errors.  --active sends <active/> (the
 * default stays passive, as wa-pair); --keepalive sets the ping
 * interval and deadline in ms (to see a dead connection found).  The
 * server is WA_SERVER_URL / WA_SERVER_ROOT_KEY.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/authdir.h"
#include "session/session.h"
#include "tool.h"

struct st {
	int verbose;
	int stay;
	int online;
	int ok;
};

static void
logcb(void *arg, enum wa_log_level lv, const char *line)
{
	struct st *st = arg;

	if (lv <= WA_LOG_WARN || st->verbose)
		fprintf(stderr, "wa-session-login: %s\n", line);
}

static void
on_success(void *arg, struct wa_session *s, const struct wa_node *n)
{
	(void)arg;
	(void)s;
	printf("success lid=%s\n", wa_node_attr(n, "lid") ? wa_node_attr(n, "lid") : "");
	fflush(stdout);
}

static void
on_prekeys(void *arg, struct wa_session *s, const struct wa_session_prekeys *p)
{
	(void)arg;
	(void)s;
	if (p->rc < 0)
		printf("prekeys error %s\n", p->why);
	else if (p->uploaded)
		printf("prekeys server=%ld uploaded=%u first=%u last=%u\n", p->server_count, p->uploaded,
		    p->first, p->last);
	else
		printf("prekeys server=%ld uploaded=0\n", p->server_count);
	fflush(stdout);
}

static void
stay_over(void *arg, struct wa_conn *c)
{
	struct wa_session *s = arg;

	(void)c;
	wa_session_close(s);
}

static void
on_online(void *arg, struct wa_session *s)
{
	struct st *st = arg;

	st->online = 1;
	printf("online\n");
	fflush(stdout);
	if (st->stay > 0)
		wa_conn_timer(wa_session_conn(s), st->stay, stay_over, s);
	else
		wa_session_close(s);
}

static void
on_close(void *arg, struct wa_session *s, const struct wa_session_end *e)
{
	struct st *st = arg;

	(void)s;
	printf("end %s code=%d child=%s type=%s: %s\n", wa_session_end_name(e), e->code, e->child, e->type,
	    e->text);
	fflush(stdout);
	st->ok = st->online && e->kind == WA_SESSION_END_LOCAL;
}

static int
usage(void)
{
	fputs("usage: wa-session-login [-v] [--active] [--stay ms] [--timeout ms] "
	    "[--keepalive min,max,deadline] DIR\n", stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	struct wa_session_opts o;
	struct wa_authdir *ad = NULL;
	struct wa_session *s = NULL;
	struct wa_creds_info info;
	struct wa_why why = { "" };
	struct st st;
	json_t *creds = NULL;
	int i, timeout = 20000;

	memset(&o, 0, sizeof o);
	memset(&st, 0, sizeof st);
	o.passive = 1;
	for (i = 1; i < argc - 1; i++) {
		if (strcmp(argv[i], "-v") == 0)
			st.verbose = 1;
		else if (strcmp(argv[i], "--active") == 0)
			o.passive = 0;
		else if (strcmp(argv[i], "--stay") == 0 && i + 2 < argc)
			st.stay = atoi(argv[++i]);
		else if (strcmp(argv[i], "--timeout") == 0 && i + 2 < argc)
			timeout = atoi(argv[++i]);
		else if (strcmp(argv[i], "--keepalive") == 0 && i + 2 < argc &&
		    sscanf(argv[++i], "%d,%d,%d", &o.keepalive_min_ms, &o.keepalive_max_ms,
		    &o.keepalive_deadline_ms) == 3)
			;
		else
			return usage();
	}
	if (i != argc - 1)
		return usage();
	if (wa_authdir_open(&ad, argv[i], WA_AUTHDIR_WRITE, "wa-session-login", NULL, &why) < 0 ||
	    wa_creds_read(&creds, &info, ad, &why) < 0) {
		fprintf(stderr, "wa-session-login: %s\n", why.text);
		wa_authdir_close(ad);
		return 1;
	}
	o.conn.log = logcb;
	tool_server_opts(&o.conn);
	o.conn.debug = st.verbose;
	o.login_timeout_ms = timeout;
	o.prekey_timeout_ms = timeout;
	o.on_success = on_success;
	o.on_prekeys = on_prekeys;
	o.on_online = on_online;
	o.on_close = on_close;
	o.arg = &st;
	if (wa_session_open(&s, ad, creds, &o, &why) < 0) {
		fprintf(stderr, "wa-session-login: %s\n", why.text);
		json_decref(creds);
		wa_authdir_close(ad);
		return 1;
	}
	while (wa_session_state(s) != WA_SESSION_CLOSED) {
		struct pollfd fds[WA_CONN_MAXFDS];
		int t, n = wa_session_pollfds(s, fds, WA_CONN_MAXFDS, &t);
		poll(fds, (nfds_t)n, t);
		wa_session_process(s);
	}
	wa_session_free(s);
	json_decref(creds);
	wa_authdir_close(ad);
	return st.ok ? 0 : 1;
}
