/*
 * ws.c - websocket client: libcurl's multi interface for the connect and
 * upgrade (CURLOPT_CONNECT_ONLY = 2), then curl_ws_recv / curl_ws_send on
 * the upgraded connection, all non-blocking.
 *
 * The easy handle stays in its multi handle after the upgrade: libcurl
 * keeps the connection attached to it there, and curl_ws_* use it.  Each
 * wa_ws has its own multi handle, so nothing is shared between
 * connections.  curl_global_init is called once (pthread_once): the only
 * process-wide state, and libcurl's own.
 *
 * Sending: a FIFO of whole messages; the head is passed to curl_ws_send
 * until libcurl has taken all of it (it may take part, or say CURLE_AGAIN:
 * then the rest is retried when the socket is writable, as curl_ws_send(3)
 * asks).  Receiving: curl_ws_recv until CURLE_AGAIN, every binary piece to
 * on_data.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "wire/ws.h"

struct msg {
	struct msg *next;
	size_t len, off;
	unsigned char data[];
};

struct wa_ws {
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	enum wa_ws_state state;
	int (*on_data)(void *arg, const unsigned char *p, size_t n);
	void *arg;
	long long deadline_ms; /* connect deadline, monotonic */
	curl_socket_t sock;
	struct msg *head, *tail;
	size_t queued;
	int cur_text;	       /* the message being received is text */
	long http_status;
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void
curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
is_ws_url(const char *u)
{
	return u && (strncmp(u, "ws://", 5) == 0 || strncmp(u, "wss://", 6) == 0) &&
	    strlen(u) < 4096;
}

int
wa_ws_open(struct wa_ws **out, const struct wa_ws_opts *o, struct wa_why *why)
{
	struct wa_ws *ws;
	char origin[512];
	long tmo = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 20000;
	int ok = 1;

	*out = NULL;
	if (!is_ws_url(o->url))
		return wa_why_set(why, WA_EINVAL, "'%s' is not a ws:// or wss:// url",
		    o->url ? o->url : "");
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return wa_why_set(why, WA_ENOMEM, "libcurl: %s", curl_easy_strerror(curl_init_rc));
	ws = calloc(1, sizeof(*ws));
	if (!ws)
		return wa_why_set(why, WA_ENOMEM, "websocket: out of memory");
	ws->sock = CURL_SOCKET_BAD;
	ws->on_data = o->on_data;
	ws->arg = o->arg;
	ws->multi = curl_multi_init();
	ws->easy = curl_easy_init();
	snprintf(origin, sizeof(origin), "Origin: %s", o->origin ? o->origin : WA_WS_ORIGIN);
	ws->headers = curl_slist_append(NULL, origin);
	if (!ws->multi || !ws->easy || !ws->headers) {
		wa_ws_close(ws);
		return wa_why_set(why, WA_ENOMEM, "websocket: libcurl out of memory");
	}
#define SET(opt, val) ok &= curl_easy_setopt(ws->easy, opt, val) == CURLE_OK
	SET(CURLOPT_URL, o->url);
	SET(CURLOPT_CONNECT_ONLY, 2L);
	SET(CURLOPT_PROTOCOLS_STR, "ws,wss");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_HTTPHEADER, ws->headers);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, tmo);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, ws->errbuf);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	if (o->ca_file)
		SET(CURLOPT_CAINFO, o->ca_file);
#undef SET
	if (!ok) {
		wa_ws_close(ws);
		return wa_why_set(why, WA_EINVAL, "libcurl lacks websocket support");
	}
	if (curl_multi_add_handle(ws->multi, ws->easy) != CURLM_OK) {
		wa_ws_close(ws);
		return wa_why_set(why, WA_ENOMEM, "websocket: libcurl out of memory");
	}
	ws->state = WA_WS_CONNECTING;
	ws->deadline_ms = now_ms() + tmo;
	*out = ws;
	return 0;
}

enum wa_ws_state
wa_ws_state(const struct wa_ws *ws)
{
	return ws->state;
}

long
wa_ws_http_status(const struct wa_ws *ws)
{
	return ws->http_status;
}

size_t
wa_ws_pending(const struct wa_ws *ws)
{
	return ws->queued;
}

int
wa_ws_pollfds(struct wa_ws *ws, struct pollfd *fds, int max, int *timeout_ms)
{
	*timeout_ms = -1;
	if (ws->state == WA_WS_CONNECTING) {
		struct curl_waitfd w[WA_WS_MAXFDS];
		unsigned int n = 0, i;
		long t = -1;
		long long left = ws->deadline_ms - now_ms();

		if (curl_multi_waitfds(ws->multi, w, WA_WS_MAXFDS, &n) != CURLM_OK)
			n = 0;
		if (n > WA_WS_MAXFDS)
			n = WA_WS_MAXFDS;
		if ((int)n > max)
			n = (unsigned int)max;
		for (i = 0; i < n; i++) {
			fds[i].fd = w[i].fd;
			fds[i].events = (short)(((w[i].events & CURL_WAIT_POLLIN) ? POLLIN : 0) |
			    ((w[i].events & CURL_WAIT_POLLOUT) ? POLLOUT : 0) |
			    ((w[i].events & CURL_WAIT_POLLPRI) ? POLLPRI : 0));
			fds[i].revents = 0;
		}
		curl_multi_timeout(ws->multi, &t);
		/* No descriptor and no timer yet (resolver starting): look again soon. */
		if (n == 0 && t < 0)
			t = 10;
		if (left < 0)
			left = 0;
		if (t < 0 || t > left)
			t = (long)left;
		*timeout_ms = (int)t;
		return (int)n;
	}
	if (ws->state == WA_WS_OPEN && max > 0) {
		fds[0].fd = ws->sock;
		fds[0].events = POLLIN | (ws->head ? POLLOUT : 0);
		fds[0].revents = 0;
		return 1;
	}
	return 0;
}

static int
fail(struct wa_ws *ws, int rc)
{
	ws->state = WA_WS_CLOSED;
	return rc;
}

static int
flush(struct wa_ws *ws, struct wa_why *why)
{
	while (ws->head) {
		struct msg *m = ws->head;
		size_t sent = 0;
		CURLcode c = curl_ws_send(ws->easy, m->data + m->off, m->len - m->off, &sent, 0,
		    CURLWS_BINARY);

		if (c == CURLE_AGAIN)
			return 0;
		if (c != CURLE_OK)
			return fail(ws, wa_why_set(why, c == CURLE_SEND_ERROR ? WA_ECLOSED : WA_EPROTO,
			    "websocket send: %s", ws->errbuf[0] ? ws->errbuf : curl_easy_strerror(c)));
		m->off += sent;
		ws->queued -= sent;
		if (m->off < m->len)
			continue; /* libcurl took part: offer the rest */
		ws->head = m->next;
		if (!ws->head)
			ws->tail = NULL;
		free(m);
	}
	return 0;
}

static int
receive(struct wa_ws *ws, struct wa_why *why)
{
	unsigned char buf[65536];

	for (;;) {
		const struct curl_ws_frame *meta = NULL;
		size_t n = 0;
		CURLcode c = curl_ws_recv(ws->easy, buf, sizeof(buf), &n, &meta);

		if (c == CURLE_AGAIN)
			return 0;
		if (c == CURLE_GOT_NOTHING)
			return fail(ws, wa_why_set(why, WA_ECLOSED, "websocket closed by the peer without a close frame"));
		if (c == CURLE_RECV_ERROR)
			return fail(ws, wa_why_set(why, WA_ENET, "connection reset (websocket receive: %s)",
			    ws->errbuf[0] ? ws->errbuf : curl_easy_strerror(c)));
		if (c != CURLE_OK)
			return fail(ws, wa_why_set(why, WA_EPROTO,
			    "websocket receive: %s", ws->errbuf[0] ? ws->errbuf : curl_easy_strerror(c)));
		if (!meta)
			continue;
		if (meta->flags & CURLWS_CLOSE)
			return fail(ws, wa_why_set(why, WA_ECLOSED, "%s", WA_WS_CLOSE_FRAME));
		if (meta->flags & (CURLWS_PING | CURLWS_PONG))
			continue;
		if (meta->flags & CURLWS_TEXT)
			ws->cur_text = 1;
		else if (meta->flags & CURLWS_BINARY)
			ws->cur_text = 0;
		if (ws->cur_text || n == 0)
			continue;
		if (ws->on_data) {
			int rc = ws->on_data(ws->arg, buf, n);
			if (rc < 0)
				return fail(ws, rc);
			if (ws->state != WA_WS_OPEN)
				return 0;
		}
	}
}

/*
 * Why the connect failed, by cause: the network (WA_ENET: refused,
 * unresolvable, unreachable, reset), a deadline (WA_ETIMEDOUT), the
 * server's TLS certificate (WA_EVERIFY), or anything else on the way to
 * the websocket (WA_EPROTO).  The text says what happened.
 */
static int
connect_error(struct wa_ws *ws, CURLcode c, struct wa_why *why)
{
	const char *detail = ws->errbuf[0] ? ws->errbuf : curl_easy_strerror(c);
	long oserr = 0;

	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return wa_why_set(why, WA_ENET, "websocket connect: cannot resolve host (%s)", detail);
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(ws->easy, CURLINFO_OS_ERRNO, &oserr);
		return wa_why_set(why, WA_ENET, "websocket connect: %s (%s)",
		    oserr == ECONNREFUSED ? "connection refused" :
		    oserr == ENETUNREACH || oserr == EHOSTUNREACH ? "network unreachable" : "cannot connect",
		    detail);
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return wa_why_set(why, WA_ENET, "websocket connect: connection reset (%s)", detail);
	case CURLE_OPERATION_TIMEDOUT:
		return wa_why_set(why, WA_ETIMEDOUT, "websocket connect: timed out (%s)", detail);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		/* curl's text says it: "SSL certificate problem: ..." */
		return wa_why_set(why, WA_EVERIFY, "websocket connect: %s", detail);
	case CURLE_OUT_OF_MEMORY:
		return wa_why_set(why, WA_ENOMEM, "websocket connect: out of memory");
	default:
		return wa_why_set(why, WA_EPROTO, "websocket connect: %s", detail);
	}
}

static int
connecting(struct wa_ws *ws, struct wa_why *why)
{
	int running = 0, left;
	CURLMsg *m;

	if (curl_multi_perform(ws->multi, &running) != CURLM_OK)
		return fail(ws, wa_why_set(why, WA_ENOMEM, "websocket connect: libcurl multi failed"));
	while ((m = curl_multi_info_read(ws->multi, &left))) {
		if (m->msg != CURLMSG_DONE || m->easy_handle != ws->easy)
			continue;
		curl_easy_getinfo(ws->easy, CURLINFO_RESPONSE_CODE, &ws->http_status);
		if (m->data.result != CURLE_OK) {
			CURLcode c = m->data.result;
			if (ws->http_status && ws->http_status != 101)
				return fail(ws, wa_why_set(why, WA_EPROTO, "websocket upgrade refused: http status %ld",
				    ws->http_status));
			return fail(ws, connect_error(ws, c, why));
		}
		if (curl_easy_getinfo(ws->easy, CURLINFO_ACTIVESOCKET, &ws->sock) != CURLE_OK ||
		    ws->sock == CURL_SOCKET_BAD)
			return fail(ws, wa_why_set(why, WA_EPROTO, "websocket connect: no socket"));
		ws->state = WA_WS_OPEN;
		ws->errbuf[0] = 0;
		return 0;
	}
	if (now_ms() >= ws->deadline_ms)
		return fail(ws, wa_why_set(why, WA_ETIMEDOUT, "websocket connect: timed out"));
	return 0;
}

int
wa_ws_process(struct wa_ws *ws, struct wa_why *why)
{
	int rc;

	if (ws->state == WA_WS_CLOSED)
		return wa_why_set(why, WA_ECLOSED, "websocket is closed");
	if (ws->state == WA_WS_CONNECTING) {
		if ((rc = connecting(ws, why)) < 0 || ws->state != WA_WS_OPEN)
			return rc;
	}
	if ((rc = flush(ws, why)) < 0)
		return rc;
	if ((rc = receive(ws, why)) < 0)
		return rc;
	if (ws->state != WA_WS_OPEN)
		return 0;
	return flush(ws, why);
}

int
wa_ws_send(struct wa_ws *ws, const void *data, size_t len)
{
	struct msg *m;

	if (ws->state == WA_WS_CLOSED)
		return WA_ECLOSED;
	if (len > SIZE_MAX - sizeof(*m))
		return WA_ETOOBIG;
	m = malloc(sizeof(*m) + len);
	if (!m)
		return WA_ENOMEM;
	m->next = NULL;
	m->len = len;
	m->off = 0;
	memcpy(m->data, data, len);
	if (ws->tail)
		ws->tail->next = m;
	else
		ws->head = m;
	ws->tail = m;
	ws->queued += len;
	if (ws->state == WA_WS_OPEN)
		return flush(ws, NULL);
	return 0;
}

void
wa_ws_close(struct wa_ws *ws)
{
	struct msg *m;

	if (!ws)
		return;
	if (ws->state == WA_WS_OPEN && !ws->head) {
		/* status 1000, normal closure; best effort, never waits */
		static const unsigned char code[2] = { 0x03, 0xe8 };
		size_t sent;
		(void)curl_ws_send(ws->easy, code, sizeof(code), &sent, 0, CURLWS_CLOSE);
	}
	while ((m = ws->head)) {
		ws->head = m->next;
		free(m);
	}
	if (ws->multi && ws->easy)
		curl_multi_remove_handle(ws->multi, ws->easy);
	if (ws->easy)
		curl_easy_cleanup(ws->easy);
	if (ws->multi)
		curl_multi_cleanup(ws->multi);
	curl_slist_free_all(ws->headers);
	free(ws);
}
