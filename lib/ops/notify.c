/*
 * notify.c - --on-event and --webhook (notify.h).
 *
 * Nothing here waits: commands are started with posix_spawnp and reaped
 * with waitpid(pid, WNOHANG) when the loop comes round (every 100 ms while
 * one runs); POSTs run in a libcurl multi handle whose sockets and timer
 * are handed to the caller's poll through CURLMOPT_SOCKETFUNCTION and
 * CURLMOPT_TIMERFUNCTION, so each round only does the socket work that is
 * ready.  Both channels have bounded queues that drop the oldest waiting
 * entry, so a dead endpoint or a hung command costs memory bounded by
 * queue_max and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <curl/curl.h>

#include "base/backoff.h"
#include "base/loop.h"
#include "ops/notify.h"
#include "base/version.h"

extern char **environ;

#define REAP_PERIOD_MS 100
#define MAX_SOCKS 8

struct item {
	char *line;             /* the event line, with its newline */
	size_t len;
	char **env;             /* "K=V" strings for the command; NULL for the webhook */
	unsigned long seq;      /* the event's, for messages */
	unsigned tries;
	int64_t next_try;       /* monotonic ms */
};

struct queue {
	struct item *v;
	size_t head, n, cap;
};

struct child {
	pid_t pid;
	int64_t deadline;
	int killed;
};

struct sock {
	curl_socket_t fd;
	int what;               /* CURL_POLL_IN / OUT / INOUT */
};

struct wa_notify {
	struct wa_notify_opts o;
	char **argv;            /* own copy */
	char *url, *auth_dir, *ca_file;
	struct queue cq, hq;
	struct child *kids;
	unsigned nkids;
	CURLM *multi;
	CURL *easy;             /* the POST in flight, or NULL */
	struct curl_slist *headers;
	int in_flight;          /* hq's head is being sent */
	struct sock socks[MAX_SOCKS];
	int nsocks;
	int64_t curl_deadline;  /* monotonic ms, -1 none */
	int curl_inited;
	struct wa_backoff rnd;
	struct wa_notify_stats st;
	struct wa_loop *loop;
	int source_id;
	char errbuf[CURL_ERROR_SIZE];
};

static void __attribute__((format(printf, 3, 4)))
logf_(struct wa_notify *n, enum wa_notify_log kind, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!n->o.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	n->o.log(n->o.log_arg, kind, line);
}

/* ---- queues ------------------------------------------------------------- */

static void
item_free(struct item *it)
{
	size_t i;

	free(it->line);
	if (it->env) {
		for (i = 0; it->env[i]; i++)
			free(it->env[i]);
		free(it->env);
	}
	memset(it, 0, sizeof *it);
}

static struct item *
q_at(struct queue *q, size_t i)
{
	return &q->v[(q->head + i) % q->cap];
}

/* Remove entry i (0 = head), keeping order. */
static void
q_remove(struct queue *q, size_t i)
{
	item_free(q_at(q, i));
	for (; i + 1 < q->n; i++)
		*q_at(q, i) = *q_at(q, i + 1);
	memset(q_at(q, q->n - 1), 0, sizeof(struct item));
	q->n--;
	if (q->n == 0)
		q->head = 0;
}

/* Append it (taken over).  When full, the oldest entry at or after
 * keep_from is dropped first; returns 1 when one was dropped. */
static int
q_push(struct queue *q, struct item *it, size_t max, size_t keep_from)
{
	int dropped = 0;

	if (q->n >= max && q->n > keep_from) {
		q_remove(q, keep_from);
		dropped = 1;
	}
	if (q->n >= max) {
		/* everything is protected (max 1 and one in flight): drop the new one */
		item_free(it);
		return 1;
	}
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 8, i;
		struct item *v = calloc(cap, sizeof *v);
		if (!v) {
			item_free(it);
			return -1;
		}
		for (i = 0; i < q->n; i++)
			v[i] = *q_at(q, i);
		free(q->v);
		q->v = v;
		q->cap = cap;
		q->head = 0;
	}
	*q_at(q, q->n) = *it;
	q->n++;
	return dropped;
}

static void
q_clear(struct queue *q)
{
	while (q->n)
		q_remove(q, 0);
	free(q->v);
	memset(q, 0, sizeof *q);
}

/* ---- the command ---------------------------------------------------------- */

static char *
kvn(const char *k, const char *v, size_t b)
{
	size_t a = strlen(k);
	char *s = malloc(a + b + 2);

	if (!s)
		return NULL;
	memcpy(s, k, a);
	s[a] = '=';
	memcpy(s + a + 1, v ? v : "", b);
	s[a + b + 1] = 0;
	return s;
}

static char *
kv(const char *k, const char *v)
{
	return kvn(k, v, v ? strlen(v) : 0);
}

static const char *const our_vars[] = {
	"WA_EVENT", "WA_EVENT_JSON", "WA_STATE", "WA_PREV_STATE", "WA_CLASS", "WA_CODE",
	"WA_REASON", "WA_TS", "WA_SEQ", "WA_AUTH_DIR", "WA_RUN_PID", "WA_MSG_PATH", "WA_MSG_ID",
	"WA_MSG_CHAT", "WA_MSG_SENDER", "WA_MSG_TYPE", "WA_MSG_FROM_ME", "WA_MSG_STATUS", NULL
};

static int
ours(const char *entry)
{
	size_t i, n;

	for (i = 0; our_vars[i]; i++) {
		n = strlen(our_vars[i]);
		if (strncmp(entry, our_vars[i], n) == 0 && entry[n] == '=')
			return 1;
	}
	return 0;
}

/* The event's variables (without the rest of the environment, which is
 * added at spawn time so that it is current). */
static char **
event_env(struct wa_notify *n, const struct wa_event *e, const char *line, size_t len)
{
	char **env = calloc(20, sizeof *env);
	char code[16], seq[24], pid[24], ts[40], reason[512];
	size_t i, k = 0;

	if (!env)
		return NULL;
	snprintf(code, sizeof code, "%d", e->code);
	snprintf(seq, sizeof seq, "%lu", e->seq);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	wa_time_iso(ts, sizeof ts, e->ts);
	snprintf(reason, sizeof reason, "%s", e->reason ? e->reason : "");
	for (i = 0; reason[i]; i++)
		if ((unsigned char)reason[i] < 0x20)
			reason[i] = ' ';
	env[k++] = kv("WA_EVENT", wa_event_name(e->type));
	/* a message's line can be larger than one environment string may
	 * be (128 KiB): the command reads the file */
	if (e->type == WA_EV_MESSAGE)
		env[k++] = kv("WA_EVENT_JSON", "");
	else
		env[k++] = kvn("WA_EVENT_JSON", line, len && line[len - 1] == '\n' ? len - 1 : len);
	env[k++] = kv("WA_STATE", wa_state_name(e->state));
	env[k++] = kv("WA_PREV_STATE", e->type == WA_EV_STATE ? wa_state_name(e->prev) : "");
	env[k++] = kv("WA_CLASS", e->klass ? e->klass : "");
	env[k++] = kv("WA_CODE", e->code ? code : "");
	env[k++] = kv("WA_REASON", reason);
	env[k++] = kv("WA_TS", ts);
	env[k++] = kv("WA_SEQ", seq);
	env[k++] = kv("WA_AUTH_DIR", n->auth_dir ? n->auth_dir : "");
	env[k++] = kv("WA_RUN_PID", pid);
	if (e->type == WA_EV_MESSAGE && e->fields) {
		static const char *const msgvars[][2] = {
			{ "WA_MSG_PATH", "path" }, { "WA_MSG_ID", "id" }, { "WA_MSG_CHAT", "chat" },
			{ "WA_MSG_SENDER", "sender" }, { "WA_MSG_TYPE", "type" }, { "WA_MSG_STATUS", "status" },
		};
		json_t *fm = json_object_get(e->fields, "from_me");
		for (i = 0; i < sizeof msgvars / sizeof msgvars[0]; i++) {
			const char *v = json_string_value(json_object_get(e->fields, msgvars[i][1]));
			env[k++] = kv(msgvars[i][0], v ? v : "");
		}
		env[k++] = kv("WA_MSG_FROM_ME", json_is_true(fm) ? "1" : "0");
	}
	for (i = 0; i < k; i++)
		if (!env[i]) {
			for (i = 0; i < k; i++)
				free(env[i]);
			free(env);
			return NULL;
		}
	return env;
}

static void
spawn(struct wa_notify *n, struct item *it, int64_t now)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	char **envp;
	size_t ne = 0, i, k = 0;
	pid_t pid;
	int rc;

	while (environ && environ[ne])
		ne++;
	if (!(envp = calloc(ne + 20, sizeof *envp))) {	/* event_env makes at most 19 */
		n->st.spawn_failed++;
		logf_(n, WA_NOTIFY_INFO, "on-event: out of memory");
		return;
	}
	for (i = 0; i < ne; i++)
		if (!ours(environ[i]))
			envp[k++] = environ[i];
	for (i = 0; it->env[i]; i++)
		envp[k++] = it->env[i];
	envp[k] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	sigaddset(&def, SIGCHLD);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	rc = posix_spawnp(&pid, n->argv[0], &fa, &at, n->argv, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	if (rc != 0) {
		n->st.spawn_failed++;
		logf_(n, WA_NOTIFY_LOST, "on-event: cannot run '%s': %s", n->argv[0], strerror(rc));
		return;
	}
	n->kids[n->nkids].pid = pid;
	n->kids[n->nkids].deadline = now + n->o.cmd_timeout_ms;
	n->kids[n->nkids].killed = 0;
	n->nkids++;
	n->st.spawned++;
	if (n->nkids > n->st.peak_running)
		n->st.peak_running = n->nkids;
}

static void
reap(struct wa_notify *n, int64_t now)
{
	unsigned i = 0;

	while (i < n->nkids) {
		struct child *c = &n->kids[i];
		int status;
		pid_t r = waitpid(c->pid, &status, WNOHANG);

		if (r == c->pid || (r < 0 && errno == ECHILD)) {
			if (r == c->pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				n->st.exited_ok++;
			} else {
				n->st.exited_fail++;
				if (r == c->pid && WIFEXITED(status))
					logf_(n, WA_NOTIFY_INFO, "on-event: '%s' exited with status %d", n->argv[0], WEXITSTATUS(status));
				else if (r == c->pid && WIFSIGNALED(status))
					logf_(n, WA_NOTIFY_INFO, "on-event: '%s' killed by signal %d%s", n->argv[0], WTERMSIG(status),
					    c->killed ? " (timeout)" : "");
			}
			n->kids[i] = n->kids[--n->nkids];
			continue;
		}
		if (!c->killed && now >= c->deadline) {
			kill(-c->pid, SIGKILL);
			kill(c->pid, SIGKILL);
			c->killed = 1;
			n->st.killed++;
		}
		i++;
	}
}

static void
run_commands(struct wa_notify *n, int64_t now)
{
	if (!n->argv)
		return;
	reap(n, now);
	while (n->cq.n && n->nkids < n->o.max_procs) {
		struct item it = *q_at(&n->cq, 0);
		memset(q_at(&n->cq, 0), 0, sizeof it);
		q_remove(&n->cq, 0);
		spawn(n, &it, now);
		item_free(&it);
	}
}

/* ---- the webhook ---------------------------------------------------------- */

static int
on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct wa_notify *n = userp;
	int i;

	(void)easy;
	(void)socketp;
	for (i = 0; i < n->nsocks; i++)
		if (n->socks[i].fd == s)
			break;
	if (what == CURL_POLL_REMOVE) {
		if (i < n->nsocks)
			n->socks[i] = n->socks[--n->nsocks];
		return 0;
	}
	if (i == n->nsocks) {
		if (n->nsocks == MAX_SOCKS)
			return -1;
		n->nsocks++;
	}
	n->socks[i].fd = s;
	n->socks[i].what = what;
	return 0;
}

static int
on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct wa_notify *n = userp;

	(void)multi;
	n->curl_deadline = timeout_ms < 0 ? -1 : wa_clock_mono_ms() + timeout_ms;
	return 0;
}

static size_t
discard(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

static long
retry_delay(struct wa_notify *n, unsigned tries)
{
	long c = n->o.retry_base_ms;
	unsigned i;

	for (i = 1; i < tries && c < n->o.retry_cap_ms; i++)
		c = c > n->o.retry_cap_ms / 2 ? n->o.retry_cap_ms : c * 2;
	if (c > n->o.retry_cap_ms)
		c = n->o.retry_cap_ms;
	return (long)wa_backoff_random(&n->rnd, (uint64_t)c);
}

static void
start_post(struct wa_notify *n)
{
	struct item *it = q_at(&n->hq, 0);
	CURL *e = curl_easy_init();

	if (!e)
		goto fail;
	n->errbuf[0] = 0;
	if (curl_easy_setopt(e, CURLOPT_URL, n->url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)it->len) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, it->line) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, n->headers) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "wa-run/" WA_VERSION) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, n->o.connect_timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, n->o.http_timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, n->errbuf) != CURLE_OK ||
	    (n->ca_file && curl_easy_setopt(e, CURLOPT_CAINFO, n->ca_file) != CURLE_OK))
		goto fail;
	if (curl_multi_add_handle(n->multi, e) != CURLM_OK)
		goto fail;
	n->easy = e;
	n->in_flight = 1;
	return;
fail:
	if (e)
		curl_easy_cleanup(e);
	n->st.post_errors++;
	it->tries++;
	it->next_try = wa_clock_mono_ms() + retry_delay(n, it->tries);
	logf_(n, WA_NOTIFY_LOST, "webhook: cannot start a request");
}

static void
finish_post(struct wa_notify *n, CURLcode res, int64_t now)
{
	struct item *it = q_at(&n->hq, 0);
	long status = 0;

	curl_easy_getinfo(n->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(n->multi, n->easy);
	curl_easy_cleanup(n->easy);
	n->easy = NULL;
	n->in_flight = 0;
	if (res == CURLE_OK && status >= 200 && status < 300) {
		n->st.posted++;
		q_remove(&n->hq, 0);
		return;
	}
	n->st.post_errors++;
	it->tries++;
	if (res != CURLE_OK)
		logf_(n, WA_NOTIFY_INFO, "webhook: %s: %s (attempt %u of %u)", n->url,
		    n->errbuf[0] ? n->errbuf : curl_easy_strerror(res), it->tries, n->o.http_tries);
	else
		logf_(n, WA_NOTIFY_INFO, "webhook: %s: HTTP status %ld (attempt %u of %u)", n->url, status, it->tries,
		    n->o.http_tries);
	if (it->tries >= n->o.http_tries) {
		n->st.post_failed++;
		logf_(n, WA_NOTIFY_LOST, "webhook: gave up on event seq %lu after %u attempts", it->seq, it->tries);
		q_remove(&n->hq, 0);
		return;
	}
	it->next_try = now + retry_delay(n, it->tries);
}

static void
check_done(struct wa_notify *n, int64_t now)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(n->multi, &left)))
		if (m->msg == CURLMSG_DONE && n->easy && m->easy_handle == n->easy)
			finish_post(n, m->data.result, now);
}

static void
run_webhook(struct wa_notify *n, int64_t now)
{
	if (!n->url)
		return;
	check_done(n, now);
	if (!n->in_flight && n->hq.n && now >= q_at(&n->hq, 0)->next_try) {
		int running;
		start_post(n);
		if (n->in_flight) {
			/* let curl start (and set its timer) at once */
			curl_multi_socket_action(n->multi, CURL_SOCKET_TIMEOUT, 0, &running);
			check_done(n, now);
		}
	}
}

/* ---- public --------------------------------------------------------------- */

int
wa_notify_new(struct wa_notify **out, const struct wa_notify_opts *o, struct wa_why *why)
{
	struct wa_notify *n;
	size_t i, argc = 0;

	*out = NULL;
	if (o->argv && !o->argv[0])
		return wa_why_set(why, WA_EINVAL, "on-event: empty command");
	if (o->url && strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0)
		return wa_why_set(why, WA_EINVAL, "webhook: '%s': not an http:// or https:// URL", o->url);
	if (!(n = calloc(1, sizeof *n)))
		return WA_ENOMEM;
	n->o = *o;
	n->curl_deadline = -1;
	if (!n->o.max_procs)
		n->o.max_procs = 4;
	if (!n->o.queue_max)
		n->o.queue_max = 64;
	if (n->o.cmd_timeout_ms <= 0)
		n->o.cmd_timeout_ms = 60000;
	if (n->o.connect_timeout_ms <= 0)
		n->o.connect_timeout_ms = 5000;
	if (n->o.http_timeout_ms <= 0)
		n->o.http_timeout_ms = 10000;
	if (!n->o.http_tries)
		n->o.http_tries = 5;
	if (n->o.retry_base_ms <= 0)
		n->o.retry_base_ms = 1000;
	if (n->o.retry_cap_ms < n->o.retry_base_ms)
		n->o.retry_cap_ms = n->o.retry_base_ms > 60000 ? n->o.retry_base_ms : 60000;
	wa_backoff_init(&n->rnd, NULL, 0);
	if (o->argv) {
		while (o->argv[argc])
			argc++;
		if (!(n->argv = calloc(argc + 1, sizeof *n->argv)))
			goto nomem;
		for (i = 0; i < argc; i++)
			if (!(n->argv[i] = strdup(o->argv[i])))
				goto nomem;
		if (!(n->kids = calloc(n->o.max_procs, sizeof *n->kids)))
			goto nomem;
	}
	if ((o->auth_dir && !(n->auth_dir = strdup(o->auth_dir))) ||
	    (o->ca_file && !(n->ca_file = strdup(o->ca_file))))
		goto nomem;
	if (o->url) {
		if (!(n->url = strdup(o->url)))
			goto nomem;
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			wa_notify_free(n);
			return wa_why_set(why, WA_ESYS, "webhook: libcurl could not start");
		}
		n->curl_inited = 1;
		if (!(n->multi = curl_multi_init()) ||
		    !(n->headers = curl_slist_append(NULL, "Content-Type: application/json")))
			goto nomem;
		{
			/* no "Expect: 100-continue" round trip */
			struct curl_slist *h = curl_slist_append(n->headers, "Expect:");
			if (!h)
				goto nomem;
			n->headers = h;
		}
		curl_multi_setopt(n->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
		curl_multi_setopt(n->multi, CURLMOPT_SOCKETDATA, n);
		curl_multi_setopt(n->multi, CURLMOPT_TIMERFUNCTION, on_timer);
		curl_multi_setopt(n->multi, CURLMOPT_TIMERDATA, n);
	}
	n->o.argv = NULL;
	n->o.url = n->o.auth_dir = n->o.ca_file = NULL;
	*out = n;
	return 0;
nomem:
	wa_notify_free(n);
	return WA_ENOMEM;
}

int
wa_notify_event(struct wa_notify *n, const struct wa_event *e)
{
	struct item it;
	char *line;
	size_t len;
	int rc, queued = 0;
	int64_t now = wa_clock_mono_ms();

	if (n->o.only ? e->type != n->o.only : (!n->o.all_events && !wa_event_notable(e)))
		return 0;
	if (!n->argv && !n->url)
		return 0;
	if ((rc = wa_event_format(&line, &len, e)) < 0)
		return rc;
	if (n->argv) {
		memset(&it, 0, sizeof it);
		if (!(it.line = strdup(line)) || !(it.env = event_env(n, e, line, len))) {
			item_free(&it);
			free(line);
			return WA_ENOMEM;
		}
		it.len = len;
		it.seq = e->seq;
		rc = q_push(&n->cq, &it, n->o.queue_max, 0);
		if (rc < 0) {
			free(line);
			return WA_ENOMEM;
		}
		if (rc > 0) {
			n->st.dropped_cmd++;
			logf_(n, WA_NOTIFY_LOST, "on-event: queue full, dropped the oldest event");
		}
		n->st.queued++;
		queued = 1;
	}
	if (n->url) {
		memset(&it, 0, sizeof it);
		it.line = line;
		line = NULL;
		it.len = len;
		it.seq = e->seq;
		it.next_try = now;
		rc = q_push(&n->hq, &it, n->o.queue_max, n->in_flight ? 1 : 0);
		if (rc < 0)
			return WA_ENOMEM;
		if (rc > 0) {
			n->st.dropped_http++;
			logf_(n, WA_NOTIFY_LOST, "webhook: queue full, dropped the oldest event");
		}
		n->st.queued++;
		queued = 1;
	}
	free(line);
	/* start at once when idle, so nothing waits for the next round */
	run_commands(n, now);
	run_webhook(n, now);
	return queued;
}

int
wa_notify_pollfds(struct wa_notify *n, struct pollfd *fds, int max, int *timeout_ms)
{
	int64_t now = wa_clock_mono_ms(), due = -1;
	int i, k = 0;

	if (n->nkids)
		due = now + REAP_PERIOD_MS;
	if (n->url) {
		for (i = 0; i < n->nsocks && k < max; i++, k++) {
			fds[k].fd = n->socks[i].fd;
			fds[k].events = (short)(((n->socks[i].what & CURL_POLL_IN) ? POLLIN : 0) |
			    ((n->socks[i].what & CURL_POLL_OUT) ? POLLOUT : 0));
			fds[k].revents = 0;
		}
		if (n->curl_deadline >= 0 && (due < 0 || n->curl_deadline < due))
			due = n->curl_deadline;
		if (!n->in_flight && n->hq.n) {
			int64_t t = q_at(&n->hq, 0)->next_try;
			if (due < 0 || t < due)
				due = t;
		}
	}
	if (due < 0)
		*timeout_ms = -1;
	else
		*timeout_ms = due <= now ? 0 : (int)(due - now > 0x7fffffff ? 0x7fffffff : due - now);
	return k;
}

void
wa_notify_process(struct wa_notify *n, const struct pollfd *fds, int nfds)
{
	int64_t now = wa_clock_mono_ms();
	int i, j, running;

	if (n->url) {
		for (i = 0; i < nfds; i++) {
			int mask = 0;
			if (!fds[i].revents)
				continue;
			for (j = 0; j < n->nsocks; j++)
				if (n->socks[j].fd == fds[i].fd)
					break;
			if (j == n->nsocks)
				continue;   /* removed meanwhile */
			if (fds[i].revents & POLLIN)
				mask |= CURL_CSELECT_IN;
			if (fds[i].revents & POLLOUT)
				mask |= CURL_CSELECT_OUT;
			if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL))
				mask |= CURL_CSELECT_ERR;
			curl_multi_socket_action(n->multi, fds[i].fd, mask, &running);
		}
		now = wa_clock_mono_ms();
		if (n->curl_deadline >= 0 && now >= n->curl_deadline) {
			n->curl_deadline = -1;
			curl_multi_socket_action(n->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		}
	}
	run_commands(n, now);
	run_webhook(n, now);
}

static int
src_pollfds(void *arg, struct pollfd *fds, int max, int *timeout_ms)
{
	return wa_notify_pollfds(arg, fds, max, timeout_ms);
}

static void
src_process(void *arg, const struct pollfd *fds, int n)
{
	wa_notify_process(arg, fds, n);
}

int
wa_notify_attach(struct wa_notify *n, struct wa_loop *l)
{
	int id;

	if (n->loop)
		return WA_EINVAL;
	if ((id = wa_loop_source(l, src_pollfds, src_process, n)) < 0)
		return id;
	n->loop = l;
	n->source_id = id;
	return 0;
}

size_t
wa_notify_pending(const struct wa_notify *n)
{
	return n->cq.n + n->nkids + n->hq.n;
}

const struct wa_notify_stats *
wa_notify_stats(const struct wa_notify *n)
{
	return &n->st;
}

void
wa_notify_free(struct wa_notify *n)
{
	size_t i;

	if (!n)
		return;
	if (n->loop)
		wa_loop_source_remove(n->loop, n->source_id);
	if (n->easy) {
		curl_multi_remove_handle(n->multi, n->easy);
		curl_easy_cleanup(n->easy);
	}
	if (n->multi)
		curl_multi_cleanup(n->multi);
	curl_slist_free_all(n->headers);
	if (n->curl_inited)
		curl_global_cleanup();
	q_clear(&n->cq);
	q_clear(&n->hq);
	if (n->argv) {
		for (i = 0; n->argv[i]; i++)
			free(n->argv[i]);
		free(n->argv);
	}
	free(n->kids);
	free(n->url);
	free(n->auth_dir);
	free(n->ca_file);
	free(n);
}
