/*
 * conn.h - one connection to WhatsApp Web: websocket, Noise handshake,
 * nodes both ways, iq requests matched to their results, timers.
 *
 *	struct wa_conn_opts o = { .on_open = ..., .on_node = ..., .arg = me };
 *	struct wa_conn *c;
 *	wa_conn_open(&c, &o, &noise_key, payload, payload_len, &why);
 *	while (wa_conn_state(c) != WA_CONN_CLOSED) {
 *		n = wa_conn_pollfds(c, fds, WA_CONN_MAXFDS, &timeout);
 *		poll(fds, n, timeout);	// with the caller's own descriptors
 *		wa_conn_process(c, &why);
 *	}
 *	wa_conn_free(c);
 *
 * The handshake (wa-protocol(7) §2) runs by itself once the websocket is up:
 * ClientHello, the ServerHello with the certificate chain checked against
 * the root key (certchain.h; any failure closes the connection), then the
 * ClientFinish carrying the caller's ClientPayload bytes
 * (clientpayload.h).  on_open is called when the ClientFinish is sent:
 * from then on nodes may be sent; the server's answer (<success>,
 * <failure>, a pairing iq ...) arrives through on_node like every other
 * node.  Incoming frames are decrypted, inflated when flagged (capped at
 * max_node bytes) and decoded (binary.h); a frame that fails any of that
 * closes the connection with an error, nothing is skipped.
 *
 * The connection never reconnects and never retries: the caller decides.
 * Everything (buffers, timers, pending iqs) belongs to one wa_conn; there
 * is no global state besides libcurl's one-time initialisation.
 *
 * Callbacks run inside wa_conn_process (and wa_conn_close).  They may send,
 * start iqs, set or cancel timers and call wa_conn_close, but not
 * wa_conn_free.
 *
 * Server override (for the simulated server in tests and the demo): the
 * URL is opts.url, else wss://web.whatsapp.com/ws/chat; the root key
 * opts.root_key, else WhatsApp's.  The library reads no environment: the
 * tools take both from WA_SERVER_URL / WA_SERVER_ROOT_KEY (cmd/tool.c)
 * and name that source in opts.url_from / root_from.  Whenever either differs
 * from WhatsApp's,
 * every wa_conn_open logs a WA_LOG_WARN line saying so and
 * wa_conn_overrides() tells which, so a tool without a log callback can
 * print the warning itself.
 *
 * Logging: log (may be NULL) gets one line per event, never key material:
 * errors and the override warning always, connection steps at INFO, and
 * with opts.debug every node sent ("-> <iq ...>") and received ("<- ...")
 * in wa_node_format's one-line form, at DEBUG.
 */
#ifndef WA_CONN_H
#define WA_CONN_H

#include <poll.h>
#include <stddef.h>

#include "base/err.h"
#include "wire/node.h"
#include "wire/noise.h"

#define WA_CONN_URL "wss://web.whatsapp.com/ws/chat"
#define WA_CONN_MAXFDS 8
/* Default cap on one frame.  The format allows 2^24-1 bytes; nothing the
 * server sends in a frame comes near 8 MiB (history and media travel
 * through media downloads), and a smaller cap means a peer announcing a
 * huge frame is refused at once instead of being waited for. */
#define WA_CONN_MAX_FRAME (8u << 20)

enum wa_log_level {
	WA_LOG_ERROR = 0,
	WA_LOG_WARN,
	WA_LOG_INFO,
	WA_LOG_DEBUG,
};

enum wa_conn_state {
	WA_CONN_CONNECTING = 0, /* websocket connecting */
	WA_CONN_HANDSHAKE,	/* Noise handshake under way */
	WA_CONN_OPEN,		/* ClientFinish sent: nodes flow */
	WA_CONN_CLOSING,	/* wa_conn_close: sending what is queued */
	WA_CONN_CLOSED,
};

/* wa_conn_overrides() bits */
#define WA_CONN_OVERRIDE_URL 1
#define WA_CONN_OVERRIDE_ROOT 2

struct wa_conn;

struct wa_conn_opts {
	const char *url;		  /* NULL: see above */
	const unsigned char *root_key;	  /* 32 bytes; NULL: see above */
	const char *url_from;		  /* where url came from, for the warning
					     ("WA_SERVER_URL"); NULL: the caller */
	const char *root_from;		  /* the same for root_key */
	const char *ca_file;		  /* for wss:// to a test server; NULL: system */
	int connect_timeout_ms;		  /* websocket up; 0: 20000 */
	int handshake_timeout_ms;	  /* websocket up to ServerHello; 0: 20000 */
	int iq_timeout_ms;		  /* default for wa_conn_iq; 0: 60000 */
	int close_timeout_ms;		  /* wa_conn_close draining; 0: 2000 */
	size_t max_frame;		  /* 0: WA_CONN_MAX_FRAME */
	size_t max_node;		  /* inflated node bytes; 0: binary.h's default */
	int debug;			  /* log every node at WA_LOG_DEBUG */

	void (*log)(void *arg, enum wa_log_level level, const char *line);
	/* Handshake done, ClientFinish sent. */
	void (*on_open)(void *arg, struct wa_conn *c);
	/* A node that is not the answer to a pending wa_conn_iq.  The node
	 * is valid during the call only.  A negative return closes the
	 * connection with that code. */
	int (*on_node)(void *arg, struct wa_conn *c, const struct wa_node *n);
	/* The connection is closed: rc 0 after wa_conn_close, else the
	 * reason (WA_ECLOSED: the server closed it; WA_EVERIFY: certificate
	 * or decryption; WA_ETIMEDOUT; WA_EPROTO ...), why one line.  Called
	 * once. */
	void (*on_close)(void *arg, struct wa_conn *c, int rc, const char *why);
	void *arg;
};

/* Answer to wa_conn_iq: rc 0 and the <iq type="result"|"error"> node, or
 * rc WA_ETIMEDOUT / WA_ECLOSED and reply NULL.  Called exactly once. */
typedef void (*wa_conn_iq_fn)(void *arg, struct wa_conn *c, int rc, const struct wa_node *reply);

typedef void (*wa_conn_timer_fn)(void *arg, struct wa_conn *c);

/* Start connecting.  noise_key: the long-term Noise key pair (creds
 * noiseKey), copied and wiped on free; payload: the ClientPayload bytes,
 * copied.  *out is the caller's, freed with wa_conn_free.  WA_EINVAL (bad
 * URL, bad WA_SERVER_ROOT_KEY), WA_ENOMEM. */
int wa_conn_open(struct wa_conn **out, const struct wa_conn_opts *opts,
    const struct wa_keypair *noise_key, const void *payload, size_t len, struct wa_why *why);

enum wa_conn_state wa_conn_state(const struct wa_conn *c);

/* WA_CONN_OVERRIDE_* bits: which of URL and root key are not WhatsApp's. */
int wa_conn_overrides(const struct wa_conn *c);

/* The URL this connection uses. */
const char *wa_conn_url(const struct wa_conn *c);

/* Descriptors to poll (returns how many, at most WA_CONN_MAXFDS) and the
 * longest wait in ms (-1: none) before wa_conn_process is due. */
int wa_conn_pollfds(struct wa_conn *c, struct pollfd *fds, int max, int *timeout_ms);

/* Do whatever is due: network I/O, handshake steps, callbacks, timers, iq
 * timeouts.  Returns 0 while the connection is not closed; once closed,
 * the reason (0 after wa_conn_close, else negative; why says it). */
int wa_conn_process(struct wa_conn *c, struct wa_why *why);

/* Encode, encrypt and queue one node.  WA_EPROTO (not open yet),
 * WA_ECLOSED, WA_ETOOBIG, WA_ENOMEM. */
int wa_conn_send(struct wa_conn *c, const struct wa_node *n, struct wa_why *why);

/* Send iq and call fn with its result.  iq gets an "id" attribute if it
 * has none (a new one from wa_conn_new_id); the reply is matched on id
 * for tag "iq" with type "result" or "error".  timeout_ms 0: the default.
 * On an error return fn is not called. */
int wa_conn_iq(struct wa_conn *c, struct wa_node *iq, int timeout_ms, wa_conn_iq_fn fn,
    void *arg, struct wa_why *why);

/* A fresh message id, "N.N-counter" as Baileys makes them: out has room
 * for WA_CONN_ID_MAX bytes. */
#define WA_CONN_ID_MAX 32
void wa_conn_new_id(struct wa_conn *c, char out[WA_CONN_ID_MAX]);

/* Call fn once after ms milliseconds.  Returns a timer id (> 0) or
 * WA_ENOMEM.  Timers still set when the connection closes never fire. */
int wa_conn_timer(struct wa_conn *c, int ms, wa_conn_timer_fn fn, void *arg);
void wa_conn_timer_cancel(struct wa_conn *c, int id);

/* Orderly close: stop taking nodes, send what is queued (up to
 * close_timeout_ms), close the websocket; then on_close(rc 0).  Pending
 * iqs get WA_ECLOSED.  Keep calling wa_conn_process until CLOSED. */
void wa_conn_close(struct wa_conn *c);

/* Free everything, wiping keys; closes abruptly if not closed.  No
 * callback is called.  NULL-safe. */
void wa_conn_free(struct wa_conn *c);

#endif
