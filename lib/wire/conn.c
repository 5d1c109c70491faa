/*
 * conn.c - a WhatsApp Web connection: websocket (ws.c) -> frames (frame.c)
 * -> Noise (noise.c, certchain.c) -> nodes (binary.c), with iq matching
 * and timers, all inside one struct and driven by wa_conn_process.
 *
 * States: CONNECTING (websocket) -> HANDSHAKE (ClientHello sent with the
 * intro; waiting for the ServerHello, bounded by handshake_timeout) ->
 * OPEN (ClientFinish sent) -> CLOSING (wa_conn_close: draining) -> CLOSED.
 *
 * Errors found while handling received bytes (inside wa_ws_process's
 * on_data) are recorded in c->err and returned up the stack; the
 * connection is torn down only at the top of wa_conn_process
 * (finish()), never inside a callback chain, so nothing is freed while
 * still in use.  finish() fails pending iqs, drops timers, closes the
 * websocket, wipes the keys and calls on_close once.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "wire/binary.h"
#include "wire/certchain.h"
#include "wire/conn.h"
#include "wire/frame.h"
#include "wire/ws.h"

struct iq_wait {
	struct iq_wait *next;
	char id[WA_CONN_ID_MAX];
	long long deadline;
	wa_conn_iq_fn fn;
	void *arg;
};

struct timer {
	struct timer *next;
	int id;
	long long deadline;
	wa_conn_timer_fn fn;
	void *arg;
};

struct wa_conn {
	struct wa_conn_opts o;
	char *url;
	unsigned char root[32];
	int overrides;
	enum wa_conn_state state;

	struct wa_ws *ws;
	struct wa_frame_reader fr;
	struct wa_keypair noise_key;
	struct wa_noise_client nc;
	struct wa_noise_transport t;
	unsigned char *payload;
	size_t payloadlen;

	long long hs_deadline;	  /* HANDSHAKE: ServerHello due */
	long long close_deadline; /* CLOSING */

	struct iq_wait *iqs;
	struct timer *timers;
	int next_timer;
	char id_prefix[16];
	unsigned long id_next;

	int err;		/* first error while handling input */
	struct wa_why err_why;
	int close_rc;
	struct wa_why close_why;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void __attribute__((format(printf, 3, 4)))
logf_(struct wa_conn *c, enum wa_log_level lv, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!c->o.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->o.log(c->o.arg, lv, line);
}

static void
log_node(struct wa_conn *c, const char *dir, const struct wa_node *n)
{
	char *s = NULL, *line;
	size_t len;

	if (!c->o.log || !c->o.debug)
		return;
	if (wa_node_format(&s, n, 0) < 0)
		return;
	len = strlen(s) + strlen(dir) + 2;
	line = malloc(len);
	if (line) {
		snprintf(line, len, "%s %s", dir, s);
		c->o.log(c->o.arg, WA_LOG_DEBUG, line);
		free(line);
	}
	free(s);
}

/* Record the first error met while handling input; returns rc. */
static int __attribute__((format(printf, 3, 4)))
seterr(struct wa_conn *c, int rc, const char *fmt, ...)
{
	va_list ap;

	if (c->err == 0) {
		c->err = rc;
		va_start(ap, fmt);
		vsnprintf(c->err_why.text, sizeof(c->err_why.text), fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* --- receiving -------------------------------------------------------- */

static void
dispatch(struct wa_conn *c, const struct wa_node *n)
{
	struct iq_wait **pp, *w;
	const char *type, *id;

	log_node(c, "<-", n);
	if (c->state != WA_CONN_OPEN)
		return;
	if (strcmp(n->tag, "iq") == 0 && (type = wa_node_attr(n, "type")) &&
	    (strcmp(type, "result") == 0 || strcmp(type, "error") == 0) &&
	    (id = wa_node_attr(n, "id"))) {
		for (pp = &c->iqs; (w = *pp); pp = &w->next) {
			if (strcmp(w->id, id) == 0) {
				*pp = w->next;
				w->fn(w->arg, c, 0, n);
				free(w);
				return;
			}
		}
	}
	if (c->o.on_node) {
		int rc = c->o.on_node(c->o.arg, c, n);
		if (rc < 0)
			seterr(c, rc, "closed by the node handler: %s", wa_strerror(rc));
	}
}

static int
transport_frame(struct wa_conn *c, const unsigned char *f, size_t len)
{
	struct wa_node *n = NULL;
	struct wa_why why = WA_WHY_INIT;
	unsigned char *pt;
	int rc;

	if (len < WA_NOISE_TAG_LEN)
		return seterr(c, WA_EPROTO, "frame of %zu bytes is shorter than its tag", len);
	pt = malloc(len - WA_NOISE_TAG_LEN + 1);
	if (!pt)
		return seterr(c, WA_ENOMEM, "out of memory");
	rc = wa_noise_open(&c->t.recv, pt, f, len);
	if (rc < 0) {
		free(pt);
		/* The server was verified in the handshake; a frame that does
		 * not decrypt now is a broken frame (garbage on the wire), not
		 * a verification failure. */
		if (rc == WA_EVERIFY)
			return seterr(c, WA_EPROTO, "frame does not decrypt (bad tag)");
		return seterr(c, rc, "frame cannot be decrypted: %s", wa_strerror(rc));
	}
	rc = wa_binary_decode_frame(&n, pt, len - WA_NOISE_TAG_LEN, c->o.max_node, &why);
	OPENSSL_cleanse(pt, len - WA_NOISE_TAG_LEN);
	free(pt);
	if (rc < 0)   /* a frame that does not decode: the peer broke the protocol */
		return seterr(c, rc == WA_ENOMEM ? rc : WA_EPROTO, "bad node from the server: %s",
		    wa_why_text(&why, rc));
	dispatch(c, n);
	wa_node_free(n);
	return c->err;
}

static int
server_hello(struct wa_conn *c, const unsigned char *f, size_t len)
{
	unsigned char *cert = NULL, *fin = NULL, *msg = NULL;
	size_t certlen, finlen, msglen;
	struct wa_why why = WA_WHY_INIT;
	int rc;

	rc = wa_noise_client_server_hello(&c->nc, f, len, &cert, &certlen, &why);
	if (rc < 0)
		return seterr(c, rc, "noise: server hello: %s", wa_why_text(&why, rc));
	rc = wa_certchain_verify(cert, certlen, c->root, c->nc.rs, (int64_t)time(NULL), &why);
	free(cert);
	if (rc < 0)
		return seterr(c, rc, "%s", wa_why_text(&why, rc));
	rc = wa_noise_client_finish(&c->nc, c->payload, c->payloadlen, &fin, &finlen, &c->t, &why);
	OPENSSL_cleanse(c->payload, c->payloadlen);
	free(c->payload);
	c->payload = NULL;
	if (rc < 0)
		return seterr(c, rc, "noise: client finish: %s", wa_why_text(&why, rc));
	rc = wa_frame_encode(&msg, &msglen, NULL, 0, fin, finlen);
	free(fin);
	if (rc < 0)
		return seterr(c, rc, "client finish: %s", wa_strerror(rc));
	rc = wa_ws_send(c->ws, msg, msglen);
	free(msg);
	if (rc < 0)
		return seterr(c, rc, "client finish: %s", wa_strerror(rc));
	c->state = WA_CONN_OPEN;
	logf_(c, WA_LOG_INFO, "noise handshake done, server certificate verified");
	if (c->o.on_open)
		c->o.on_open(c->o.arg, c);
	return c->err;
}

static int
on_frame(void *arg, const unsigned char *f, size_t len)
{
	struct wa_conn *c = arg;

	if (c->err)
		return c->err;
	switch (c->state) {
	case WA_CONN_HANDSHAKE:
		return server_hello(c, f, len);
	case WA_CONN_OPEN:
	case WA_CONN_CLOSING:
		return transport_frame(c, f, len);
	default:
		return seterr(c, WA_EPROTO, "frame before the handshake");
	}
}

static int
on_data(void *arg, const unsigned char *p, size_t n)
{
	struct wa_conn *c = arg;
	int rc = wa_frame_reader_feed(&c->fr, p, n, on_frame, c);

	if (rc == WA_ETOOBIG)   /* the peer broke the protocol */
		return seterr(c, WA_EPROTO, "frame length over the limit of %zu bytes", c->fr.max);
	if (rc < 0)
		return seterr(c, rc, "%s", wa_strerror(rc));
	return 0;
}

/* --- life cycle ------------------------------------------------------- */

int
wa_conn_open(struct wa_conn **out, const struct wa_conn_opts *o,
    const struct wa_keypair *noise_key, const void *payload, size_t len, struct wa_why *why)
{
	struct wa_conn *c;
	struct wa_ws_opts wo;
	const char *url = o->url;
	unsigned char rnd[4];
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return wa_why_set(why, WA_ENOMEM, "connection: out of memory");
	c->o = *o;
	if (!url || !*url)
		url = WA_CONN_URL;
	if (strcmp(url, WA_CONN_URL) != 0)
		c->overrides |= WA_CONN_OVERRIDE_URL;
	memcpy(c->root, wa_certchain_whatsapp_root, 32);
	if (o->root_key)
		memcpy(c->root, o->root_key, 32);
	if (memcmp(c->root, wa_certchain_whatsapp_root, 32) != 0)
		c->overrides |= WA_CONN_OVERRIDE_ROOT;
	c->url = strdup(url);
	c->payload = malloc(len ? len : 1);
	if (!c->url || !c->payload) {
		wa_conn_free(c);
		return wa_why_set(why, WA_ENOMEM, "connection: out of memory");
	}
	memcpy(c->payload, payload, len);
	c->payloadlen = len;
	c->noise_key = *noise_key;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	snprintf(c->id_prefix, sizeof(c->id_prefix), "%u.%u-", (unsigned)(rnd[0] << 8 | rnd[1]),
	    (unsigned)(rnd[2] << 8 | rnd[3]));
	c->id_next = 1;
	c->next_timer = 1;
	wa_frame_reader_init(&c->fr, o->max_frame ? o->max_frame : WA_CONN_MAX_FRAME);

	if (c->overrides & WA_CONN_OVERRIDE_URL)
		logf_(c, WA_LOG_WARN, "warning: server url %s is not WhatsApp's (%s%s)", c->url,
		    o->url_from ? "from " : "set by the caller", o->url_from ? o->url_from : "");
	if (c->overrides & WA_CONN_OVERRIDE_ROOT) {
		char hex[65];
		int i;
		for (i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", c->root[i]);
		logf_(c, WA_LOG_WARN, "warning: trusting root key %s instead of WhatsApp's (%s%s)", hex,
		    o->root_from ? "from " : "set by the caller", o->root_from ? o->root_from : "");
	}

	memset(&wo, 0, sizeof(wo));
	wo.url = c->url;
	wo.ca_file = o->ca_file;
	wo.connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 20000;
	wo.on_data = on_data;
	wo.arg = c;
	rc = wa_ws_open(&c->ws, &wo, why);
	if (rc < 0) {
		wa_conn_free(c);
		return wa_why_default(why, rc);
	}
	c->state = WA_CONN_CONNECTING;
	logf_(c, WA_LOG_INFO, "connecting to %s", c->url);
	*out = c;
	return 0;
}

enum wa_conn_state
wa_conn_state(const struct wa_conn *c)
{
	return c->state;
}

int
wa_conn_overrides(const struct wa_conn *c)
{
	return c->overrides;
}

const char *
wa_conn_url(const struct wa_conn *c)
{
	return c->url;
}

void
wa_conn_new_id(struct wa_conn *c, char out[WA_CONN_ID_MAX])
{
	snprintf(out, WA_CONN_ID_MAX, "%s%lu", c->id_prefix, c->id_next++);
}

static void
wipe_keys(struct wa_conn *c)
{
	wa_noise_client_wipe(&c->nc);
	wa_noise_transport_wipe(&c->t);
	wa_curve_keypair_wipe(&c->noise_key);
	if (c->payload) {
		OPENSSL_cleanse(c->payload, c->payloadlen);
		free(c->payload);
		c->payload = NULL;
	}
}

static void
drop_timers(struct wa_conn *c)
{
	struct timer *t;

	while ((t = c->timers)) {
		c->timers = t->next;
		free(t);
	}
}

/* Tear down (top level only) and tell the caller, once. */
static int
finish(struct wa_conn *c, int rc, const char *text)
{
	struct iq_wait *w;

	if (c->state == WA_CONN_CLOSED)
		return c->close_rc;
	c->state = WA_CONN_CLOSED;
	c->close_rc = rc;
	snprintf(c->close_why.text, sizeof(c->close_why.text), "%s", text);
	drop_timers(c);
	wa_ws_close(c->ws);
	c->ws = NULL;
	wa_frame_reader_free(&c->fr);
	wipe_keys(c);
	if (rc < 0)
		logf_(c, WA_LOG_ERROR, "connection closed: %s", text);
	else
		logf_(c, WA_LOG_INFO, "connection closed");
	while ((w = c->iqs)) {
		c->iqs = w->next;
		w->fn(w->arg, c, WA_ECLOSED, NULL);
		free(w);
	}
	if (c->o.on_close)
		c->o.on_close(c->o.arg, c, rc, text);
	return rc;
}

static int
start_handshake(struct wa_conn *c)
{
	unsigned char *hello = NULL, *msg = NULL;
	size_t hlen, mlen;
	int rc;

	rc = wa_noise_client_start(&c->nc, &c->noise_key, NULL, &hello, &hlen);
	if (rc < 0)
		return seterr(c, rc, "noise: cannot start: %s", wa_strerror(rc));
	rc = wa_frame_encode(&msg, &mlen, wa_frame_intro, WA_FRAME_INTRO_LEN, hello, hlen);
	free(hello);
	if (rc < 0)
		return seterr(c, rc, "client hello: %s", wa_strerror(rc));
	rc = wa_ws_send(c->ws, msg, mlen);
	free(msg);
	if (rc < 0)
		return seterr(c, rc, "client hello: %s", wa_strerror(rc));
	c->state = WA_CONN_HANDSHAKE;
	c->hs_deadline = now_ms() + (c->o.handshake_timeout_ms > 0 ? c->o.handshake_timeout_ms : 20000);
	logf_(c, WA_LOG_INFO, "websocket open, noise handshake started");
	return 0;
}

static void
run_timers(struct wa_conn *c, long long now)
{
	int limit = c->next_timer; /* timers set by callbacks wait for the next round */

	for (;;) {
		struct timer **pp, *t, **best = NULL;
		for (pp = &c->timers; (t = *pp); pp = &t->next)
			if (t->deadline <= now && t->id < limit && (!best || t->deadline < (*best)->deadline))
				best = pp;
		if (!best || c->state == WA_CONN_CLOSED)
			return;
		t = *best;
		*best = t->next;
		t->fn(t->arg, c);
		free(t);
	}
}

static void
expire_iqs(struct wa_conn *c, long long now)
{
	struct iq_wait **pp = &c->iqs, *w;

	while ((w = *pp)) {
		if (w->deadline <= now) {
			*pp = w->next;
			w->fn(w->arg, c, WA_ETIMEDOUT, NULL);
			free(w);
			pp = &c->iqs; /* the callback may have changed the list */
		} else {
			pp = &w->next;
		}
	}
}

int
wa_conn_process(struct wa_conn *c, struct wa_why *why)
{
	struct wa_why wwhy = WA_WHY_INIT;
	long long now;
	int rc;

	if (c->state == WA_CONN_CLOSED)
		goto out;
	rc = wa_ws_process(c->ws, &wwhy);
	if (c->err) {
		finish(c, c->err, c->err_why.text);
		goto out;
	}
	if (rc < 0) {
		if (rc == WA_ECLOSED && wa_frame_reader_pending(&c->fr))
			snprintf(wwhy.text + strlen(wwhy.text), sizeof(wwhy.text) - strlen(wwhy.text),
			    " in the middle of a frame");
		if (c->state == WA_CONN_CLOSING && rc == WA_ECLOSED)
			finish(c, 0, "closed");
		else
			finish(c, rc, wwhy.text[0] ? wwhy.text : wa_strerror(rc));
		goto out;
	}
	if (c->state == WA_CONN_CONNECTING && wa_ws_state(c->ws) == WA_WS_OPEN) {
		if (start_handshake(c) < 0) {
			finish(c, c->err, c->err_why.text);
			goto out;
		}
	}
	now = now_ms();
	if (c->state == WA_CONN_HANDSHAKE && now >= c->hs_deadline) {
		finish(c, WA_ETIMEDOUT, "noise: no server hello in time");
		goto out;
	}
	if (c->state == WA_CONN_OPEN || c->state == WA_CONN_CLOSING)
		expire_iqs(c, now);
	run_timers(c, now);
	if (c->err) {
		finish(c, c->err, c->err_why.text);
		goto out;
	}
	if (c->state == WA_CONN_CLOSING) {
		if (c->ws && wa_ws_state(c->ws) == WA_WS_OPEN && wa_ws_pending(c->ws) > 0 &&
		    now < c->close_deadline)
			return 0;
		finish(c, 0, "closed");
	}
out:
	if (c->state == WA_CONN_CLOSED) {
		if (c->close_rc < 0 && why)
			*why = c->close_why;
		return c->close_rc;
	}
	return 0;
}

int
wa_conn_pollfds(struct wa_conn *c, struct pollfd *fds, int max, int *timeout_ms)
{
	long long now = now_ms(), next = -1;
	struct timer *t;
	struct iq_wait *w;
	int n = 0, wt = -1;

	*timeout_ms = -1;
	if (c->state == WA_CONN_CLOSED)
		return 0;
	if (c->ws)
		n = wa_ws_pollfds(c->ws, fds, max, &wt);
	if (wt >= 0)
		next = now + wt;
#define EARLIER(d) do { if (next < 0 || (d) < next) next = (d); } while (0)
	if (c->state == WA_CONN_HANDSHAKE)
		EARLIER(c->hs_deadline);
	if (c->state == WA_CONN_CLOSING)
		EARLIER(c->close_deadline);
	for (t = c->timers; t; t = t->next)
		EARLIER(t->deadline);
	for (w = c->iqs; w; w = w->next)
		EARLIER(w->deadline);
#undef EARLIER
	if (next >= 0)
		*timeout_ms = next <= now ? 0 : (next - now > 86400000 ? 86400000 : (int)(next - now));
	return n;
}

/* --- sending ---------------------------------------------------------- */

int
wa_conn_send(struct wa_conn *c, const struct wa_node *n, struct wa_why *why)
{
	unsigned char *pt = NULL, *ct = NULL, *msg = NULL;
	size_t ptlen, msglen;
	int rc;

	if (c->state == WA_CONN_CLOSED || c->state == WA_CONN_CLOSING)
		return wa_why_set(why, WA_ECLOSED, "connection closed");
	if (c->state != WA_CONN_OPEN)
		return wa_why_set(why, WA_EPROTO, "connection not open yet");
	if ((rc = wa_binary_encode_frame(&pt, &ptlen, n, why)) < 0)
		return wa_why_default(why, rc);
	if (ptlen > WA_FRAME_MAX - WA_NOISE_TAG_LEN) {
		free(pt);
		return wa_why_set(why, WA_ETOOBIG, "node of %zu bytes does not fit a frame", ptlen);
	}
	ct = malloc(ptlen + WA_NOISE_TAG_LEN);
	if (!ct) {
		free(pt);
		return wa_why_set(why, WA_ENOMEM, "cannot send: out of memory");
	}
	rc = wa_noise_seal(&c->t.send, ct, pt, ptlen);
	free(pt);
	if (rc == 0)
		rc = wa_frame_encode(&msg, &msglen, NULL, 0, ct, ptlen + WA_NOISE_TAG_LEN);
	free(ct);
	if (rc == 0)
		rc = wa_ws_send(c->ws, msg, msglen);
	free(msg);
	if (rc < 0) {
		/* The send counter moved on: this connection cannot go on. */
		seterr(c, rc, "cannot send: %s", wa_strerror(rc));
		return wa_why_set(why, rc, "cannot send: %s", wa_strerror(rc));
	}
	log_node(c, "->", n);
	return 0;
}

int
wa_conn_iq(struct wa_conn *c, struct wa_node *iq, int timeout_ms, wa_conn_iq_fn fn,
    void *arg, struct wa_why *why)
{
	struct iq_wait *w;
	const char *id = wa_node_attr(iq, "id");
	char nid[WA_CONN_ID_MAX];
	int rc;

	if (id && strlen(id) >= WA_CONN_ID_MAX)
		return wa_why_set(why, WA_EINVAL, "iq id too long");
	if (!id) {
		wa_conn_new_id(c, nid);
		if ((rc = wa_node_attr_set(iq, "id", nid)) < 0)
			return wa_why_set(why, rc, "iq: cannot set its id: %s", wa_strerror(rc));
		id = wa_node_attr(iq, "id");
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return wa_why_set(why, WA_ENOMEM, "iq: out of memory");
	snprintf(w->id, sizeof(w->id), "%s", id);
	w->fn = fn;
	w->arg = arg;
	w->deadline = now_ms() + (timeout_ms > 0 ? timeout_ms :
	    c->o.iq_timeout_ms > 0 ? c->o.iq_timeout_ms : 60000);
	if ((rc = wa_conn_send(c, iq, why)) < 0) {
		free(w);
		return rc;
	}
	w->next = c->iqs;
	c->iqs = w;
	return 0;
}

int
wa_conn_timer(struct wa_conn *c, int ms, wa_conn_timer_fn fn, void *arg)
{
	struct timer *t;

	if (c->state == WA_CONN_CLOSED)
		return WA_ECLOSED;
	t = calloc(1, sizeof(*t));
	if (!t)
		return WA_ENOMEM;
	t->id = c->next_timer++;
	t->deadline = now_ms() + (ms > 0 ? ms : 0);
	t->fn = fn;
	t->arg = arg;
	t->next = c->timers;
	c->timers = t;
	return t->id;
}

void
wa_conn_timer_cancel(struct wa_conn *c, int id)
{
	struct timer **pp, *t;

	for (pp = &c->timers; (t = *pp); pp = &t->next) {
		if (t->id == id) {
			*pp = t->next;
			free(t);
			return;
		}
	}
}

void
wa_conn_close(struct wa_conn *c)
{
	if (c->state == WA_CONN_CLOSED || c->state == WA_CONN_CLOSING)
		return;
	c->state = WA_CONN_CLOSING;
	c->close_deadline = now_ms() + (c->o.close_timeout_ms > 0 ? c->o.close_timeout_ms : 2000);
}

void
wa_conn_free(struct wa_conn *c)
{
	struct iq_wait *w;

	if (!c)
		return;
	drop_timers(c);
	while ((w = c->iqs)) {
		c->iqs = w->next;
		free(w);
	}
	wa_ws_close(c->ws);
	wa_frame_reader_free(&c->fr);
	wipe_keys(c);
	free(c->url);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}
