/*
 * ws.h - a websocket client on libcurl (wa-protocol(7) §1.1), non-blocking and
 * driven by the caller's poll() loop.
 *
 *	struct wa_ws *ws;
 *	wa_ws_open(&ws, &opts, &why);		// starts connecting, never blocks
 *	loop:
 *		n = wa_ws_pollfds(ws, fds, max, &timeout);
 *		(add the caller's own descriptors, take the smaller timeout)
 *		poll(fds, n + ..., timeout);
 *		rc = wa_ws_process(ws, &why);	// connects, reads, writes
 *		if (rc < 0) the connection is over (WA_ECLOSED: peer closed)
 *	wa_ws_send(ws, msg, len);		// queued, sent as one binary message
 *	wa_ws_close(ws);
 *
 * Connecting (TCP, TLS, HTTP upgrade) runs in libcurl's multi interface with
 * CURLOPT_CONNECT_ONLY = 2; after the upgrade, curl_ws_recv / curl_ws_send
 * on the connection's socket (CURLINFO_ACTIVESOCKET).  wss:// verifies the
 * peer certificate and the host name (no way to turn that off here; a test
 * server's CA can be given as ca_file).  Only ws:// and wss:// are allowed;
 * redirects are not followed.  libcurl's usual proxy environment variables
 * apply.  The Origin header is https://web.whatsapp.com unless opts.origin
 * says otherwise.
 *
 * Incoming binary messages are handed to on_data as bytes as they arrive
 * (a message may come in pieces); text messages are ignored, as whatsmeow
 * does; pings are answered by libcurl.  Every function returns 0 or a
 * negative WA_E* code, and fills why (may be NULL) with one line.
 */
#ifndef WA_WS_H
#define WA_WS_H

#include <poll.h>
#include <stddef.h>

#include "base/err.h"

#define WA_WS_ORIGIN "https://web.whatsapp.com"
#define WA_WS_MAXFDS 8 /* the most descriptors wa_ws_pollfds fills */

enum wa_ws_state {
	WA_WS_CONNECTING = 0,
	WA_WS_OPEN,
	WA_WS_CLOSED,
};

struct wa_ws_opts {
	const char *url;	/* ws:// or wss:// */
	const char *origin;	/* NULL: WA_WS_ORIGIN */
	const char *ca_file;	/* NULL: the system's CA store */
	long connect_timeout_ms;/* TCP + TLS + upgrade; 0: 20000 */
	/* Bytes of a binary message; return a negative WA_E* code to stop
	 * (wa_ws_process returns it). */
	int (*on_data)(void *arg, const unsigned char *p, size_t n);
	void *arg;
};

struct wa_ws;

/* Start connecting to opts->url.  *out is the caller's, freed with
 * wa_ws_close.  WA_EINVAL (not a ws:// or wss:// URL), WA_ENOMEM. */
int wa_ws_open(struct wa_ws **out, const struct wa_ws_opts *opts, struct wa_why *why);

enum wa_ws_state wa_ws_state(const struct wa_ws *ws);

/* The descriptors to poll (at most WA_WS_MAXFDS; returns how many) and the
 * longest the caller may wait before calling wa_ws_process (ms, -1: no
 * limit from here). */
int wa_ws_pollfds(struct wa_ws *ws, struct pollfd *fds, int max, int *timeout_ms);

/* Make progress: finish connecting, hand received bytes to on_data, send
 * what is queued.  Harmless to call when nothing is ready.  Returns 0;
 * WA_ETIMEDOUT (connect timeout), WA_ECLOSED (closed by the peer: a close
 * frame or end of stream), WA_ESYS / WA_EPROTO (network or TLS error, HTTP
 * status other than 101: why says which), or on_data's error.  After an
 * error the state is WA_WS_CLOSED.  A close frame (an orderly end the
 * peer chose) has why exactly WA_WS_CLOSE_FRAME; an end of stream
 * without one says so. */
int wa_ws_process(struct wa_ws *ws, struct wa_why *why);
#define WA_WS_CLOSE_FRAME "websocket closed by the peer"

/* Queue len bytes as one binary message (copied) and try to send at once.
 * Messages go out in order.  WA_ECLOSED, WA_ENOMEM. */
int wa_ws_send(struct wa_ws *ws, const void *msg, size_t len);

/* Bytes queued and not yet handed to the socket. */
size_t wa_ws_pending(const struct wa_ws *ws);

/* HTTP status of the upgrade response (101 when open; 0 if none yet). */
long wa_ws_http_status(const struct wa_ws *ws);

/* Send a close frame if open (best effort, does not wait) and free
 * everything.  NULL-safe. */
void wa_ws_close(struct wa_ws *ws);

#endif
