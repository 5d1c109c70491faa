/*
 * session.h - one logged-in connection of a paired auth folder
 * (wa-protocol(7) §3.3, §8, §9, §10): what wa-pair does after the 515 and
 * what wa-run does on every connect.
 *
 *	struct wa_session_opts o = { .on_online = ..., .on_close = ..., .arg = me };
 *	wa_creds_read(&creds, &info, ad, &why);     (ad: WA_AUTHDIR_WRITE)
 *	wa_session_open(&s, ad, creds, &o, &why);
 *	while (wa_session_state(s) != WA_SESSION_CLOSED) {
 *		n = wa_session_pollfds(s, fds, WA_CONN_MAXFDS, &timeout);
 *		poll(fds, n, timeout);		// with the caller's own descriptors
 *		wa_session_process(s);
 *	}
 *	end = wa_session_end(s);		// why it ended, classified
 *	wa_session_free(s);
 *
 * One session is one connection: it never reconnects (the caller decides,
 * from the end it reports).  In order:
 *
 *  1. connect with the login ClientPayload of creds.me.id and the Noise
 *     key creds.noiseKey; keepalive starts once the handshake is done;
 *  2. <success> or <failure> must come within login_timeout_ms;
 *  3. on <success>: the server clock offset from its t; creds.me.lid set
 *     from its lid (creds.json written) when it differs, as Baileys does;
 *     <ib><unified_session id=…/></ib> (§8.5); on_success;
 *  4. pre-keys: <iq xmlns=encrypt type=get><count/></iq>; when the server
 *     holds none, prekey_initial are uploaded (812, as both clients do);
 *     when it holds fewer than prekey_min (5), prekey_batch (50, as
 *     whatsmeow); on_prekeys says what happened.  A failed count or
 *     upload is reported, not fatal (both clients only log it);
 *  5. unless opts.passive, <iq xmlns=passive type=set><active/></iq>
 *     and its result (the server then starts delivering);
 *  6. on_online.  From then on other nodes go to on_node.
 *
 * Mid-session, <notification type=encrypt><count value=N/> (the server
 * runs low on pre-keys) is acknowledged and, when N < prekey_min, answered
 * with an upload of prekey_batch as in 4 (on_prekeys reports it); it does
 * not reach on_node.
 *
 * Pre-keys and the disk ("state on disk before the network is told",
 * RELIABILITY.md).  An upload of count keys sends the ids [first,
 * first + count), first = creds.firstUnuploadedPreKeyId, as Baileys does:
 *
 *  a. every pre-key-N.json of that range that does not exist yet (ids
 *     from creds.nextPreKeyId up) or cannot be read is made
 *     (wa_prekeys_generate) and written durably, one file at a time;
 *  b. creds.nextPreKeyId moves past the range, creds.json written durably;
 *  c. only then the upload iq goes out;
 *  d. when the server answers type=result, creds.firstUnuploadedPreKeyId
 *     moves past the range, creds.json written durably.
 *
 * A crash before (b) leaves pre-key files that creds.json does not count:
 * the next upload writes those ids afresh.  A crash between (c) and (d)
 * leaves keys sent but not marked uploaded: the next upload sends the
 * same ids with the same keys again.  No key the server may hold is ever
 * replaced, and no id is ever handed out twice.  A write that fails
 * (WA_ESYS, or WA_ESYNC: renamed but not known durable) stops the
 * session before anything depending on it is sent: END_STORAGE.
 *
 * creds.json is only ever changed field by field in the caller's parsed
 * object: every other field, known or not, and the key order stay as
 * they were, and the file is written as compact JSON, as Baileys writes
 * it (wa_creds_write, store/creds.h).
 *
 * Keepalive (§9, whatsmeow's rule): a ping <iq xmlns=w:p type=get><ping/>
 * after a random interval in [keepalive_min_ms, keepalive_max_ms) (20 to
 * 30 s), answered within keepalive_deadline_ms (10 s), else the
 * connection is dead: END_KEEPALIVE.  A dead connection is therefore
 * noticed at most keepalive_max_ms + keepalive_deadline_ms (40 s) after
 * it died.
 *
 * Logging: opts.conn.log gets conn.h's lines (with opts.conn.debug every
 * node), with the content of every byte node replaced by its length
 * (wa_session_redact): keys, signatures and QR refs never reach a log.
 *
 * Callbacks run inside wa_session_process and may call wa_session_close,
 * wa_session_upload_prekeys and send on wa_session_conn, not
 * wa_session_free.
 */
#ifndef WA_SESSION_H
#define WA_SESSION_H

#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>

#include "store/authdir.h"
#include "wire/clientpayload.h"
#include "wire/conn.h"
#include "store/creds.h"
#include "base/err.h"
#include "wire/node.h"

#define WA_PREKEY_INITIAL 812    /* both clients' first upload */
#define WA_PREKEY_MIN 5          /* upload when the server holds fewer */
#define WA_PREKEY_BATCH 50       /* ... this many (whatsmeow's WantedPreKeyCount) */

enum wa_session_state {
	WA_SESSION_CONNECTING = 0, /* websocket and handshake */
	WA_SESSION_LOGIN,	   /* ClientFinish sent, waiting for <success> */
	WA_SESSION_SETUP,	   /* <success>: pre-keys, <active/> */
	WA_SESSION_ONLINE,
	WA_SESSION_CLOSED,
};

/* Why a session ended.  wa-run maps these to its actions (wa-protocol(7) §10). */
enum wa_session_end_kind {
	WA_SESSION_END_NONE = 0,	/* not ended yet */
	WA_SESSION_END_LOCAL,		/* wa_session_close */
	WA_SESSION_END_RESTART,		/* <stream:error code="515"/>: reconnect at once */
	WA_SESSION_END_FAILURE,		/* <failure reason=…/> instead of <success>; code = reason */
	WA_SESSION_END_STREAM_ERROR,	/* any other <stream:error>: code, child, type */
	WA_SESSION_END_NETWORK,		/* closed or failed without a stanza saying why (rc, text) */
	WA_SESSION_END_LOGIN_TIMEOUT,	/* neither <success> nor <failure> in time */
	WA_SESSION_END_KEEPALIVE,	/* a ping was not answered in time: dead connection */
	WA_SESSION_END_STORAGE,		/* writing the folder failed: stop, tell nothing */
};

struct wa_session_end {
	enum wa_session_end_kind kind;
	int rc;			/* the WA_E* code behind it (0 for LOCAL) */
	int code;		/* <failure reason>, <stream:error code>; 0 when absent */
	char child[32];		/* stream:error: tag of its first child ("conflict"), "" */
	char type[32];		/* ... and that child's type ("replaced", "device_removed"), "" */
	long ban_code;		/* <failure code>, -1 when absent (402: ban reason) */
	long expire;		/* <failure expire> in seconds, -1 when absent */
	int authenticated;	/* <success> came on this connection */
	char text[WA_WHY_MAX];	/* one line for people */
};

/* What a pre-key step did (on_prekeys). */
struct wa_session_prekeys {
	int rc;			/* 0, or why the count or the upload failed */
	long server_count;	/* what <count/> answered, -1 when unknown */
	unsigned uploaded;	/* keys the server took in this step (0: none needed) */
	uint32_t first, last;	/* their ids when uploaded > 0 */
	char why[WA_WHY_MAX];	/* when rc < 0 */
};

struct wa_session;

struct wa_session_opts {
	/* url, root_key, ca_file, timeouts, limits, debug and log as
	 * conn.h (log gets arg below); conn's callbacks and arg are the
	 * session's own. */
	struct wa_conn_opts conn;
	struct wa_client_config client;	/* version[0] == 0: wa_client_config_default */
	int login_timeout_ms;		/* 0: 20000 */
	int keepalive_min_ms;		/* 0: 20000 */
	int keepalive_max_ms;		/* 0: 30000 */
	int keepalive_deadline_ms;	/* 0: 10000 */
	int prekey_timeout_ms;		/* count and upload iqs; 0: 30000 */
	unsigned prekey_initial;	/* 0: WA_PREKEY_INITIAL */
	unsigned prekey_min;		/* 0: WA_PREKEY_MIN */
	unsigned prekey_batch;		/* 0: WA_PREKEY_BATCH */
	int passive;			/* stay passive: no <active/> */

	void (*on_success)(void *arg, struct wa_session *s, const struct wa_node *success);
	void (*on_prekeys)(void *arg, struct wa_session *s, const struct wa_session_prekeys *p);
	void (*on_online)(void *arg, struct wa_session *s);
	/* Nodes the session does not handle itself; a negative return
	 * closes the connection (END_NETWORK with that code). */
	int (*on_node)(void *arg, struct wa_session *s, const struct wa_node *n);
	/* Called once, when the connection is closed. */
	void (*on_close)(void *arg, struct wa_session *s, const struct wa_session_end *end);
	void *arg;
};

/* Start a session for the paired creds of ad (open with
 * WA_AUTHDIR_WRITE; it must stay open until wa_session_free).  The
 * session takes a reference to creds and changes it in place whenever it
 * writes creds.json, so the caller sees the folder's current creds; the
 * caller must not write creds.json meanwhile.  WA_EINVAL (creds not
 * paired: why says what is missing), WA_ENOMEM, or wa_conn_open's
 * errors. */
int wa_session_open(struct wa_session **out, struct wa_authdir *ad, json_t *creds,
    const struct wa_session_opts *opts, struct wa_why *why);

enum wa_session_state wa_session_state(const struct wa_session *s);

/* As wa_conn_pollfds / wa_conn_process. */
int wa_session_pollfds(struct wa_session *s, struct pollfd *fds, int max, int *timeout_ms);
void wa_session_process(struct wa_session *s);

/* Orderly close; on_close follows with END_LOCAL (unless something else
 * ended it first).  Keep calling wa_session_process until CLOSED. */
void wa_session_close(struct wa_session *s);

/* Upload count more pre-keys now (steps a-d above), e.g. when the server
 * says it runs low; on_prekeys reports the result.  WA_EEXIST when an
 * upload is in flight, WA_EPROTO when not logged in, WA_EINVAL when the
 * ids would pass WA_PREKEY_ID_MAX, WA_ECLOSED.  Storage errors end the
 * session. */
int wa_session_upload_prekeys(struct wa_session *s, unsigned count, struct wa_why *why);

/* A fresh one-time pre-key for a retry receipt (wa-protocol(7) §12.1):
 * the next unuploaded id, its file made durably when missing, and
 * creds.nextPreKeyId and firstUnuploadedPreKeyId moved past it (it is
 * handed out, never uploaded), all on disk before this returns.  *id and
 * pub (32 bytes).  WA_EEXIST while an upload is in flight, WA_ECLOSED,
 * WA_EINVAL; a storage failure ends the session (END_STORAGE). */
int wa_session_retry_prekey(struct wa_session *s, uint32_t *id, unsigned char pub[32], struct wa_why *why);

/* Writing the folder (or what depends on it, the inbox) failed: end the
 * connection now with END_STORAGE, telling the server nothing more. */
void wa_session_fail_storage(struct wa_session *s, int rc, const char *why);

/* The connection, to send nodes on (wa_conn_send, wa_conn_iq). */
struct wa_conn *wa_session_conn(struct wa_session *s);

/* How it ended (kind WA_SESSION_END_NONE while it has not). */
const struct wa_session_end *wa_session_end(const struct wa_session *s);

/* The server's clock minus ours, in ms, from <success t> (0 before). */
long long wa_session_clock_offset(const struct wa_session *s);

/* When the last node came from the server (wall clock, Unix seconds; 0
 * before the first). */
time_t wa_session_last_inbound(const struct wa_session *s);

/* Free everything.  NULL-safe. */
void wa_session_free(struct wa_session *s);

/* <ib><unified_session id=ID/></ib> id for now (wa-protocol(7) §8.5):
 * ((now_ms + offset_ms) + 3 days) mod 7 days, in decimal. */
void wa_session_unified_id(char out[24], long long offset_ms);

/* Replace in place every "{N bytes: hex...}" of a wa_node_format line
 * with "{N bytes}". */
void wa_session_redact(char *line);

/* "replaced", "logged out (401)" ...: a short name for an end, for
 * messages. */
const char *wa_session_end_name(const struct wa_session_end *end);

/* The description of an end that disconnect.h's wa_dc_classify takes:
 *
 *	LOCAL          -> SHUTDOWN
 *	RESTART        -> STREAM_ERROR with code 515
 *	FAILURE        -> FAILURE: code, ban_code (-1 absent becomes 0), expire
 *	STREAM_ERROR   -> STREAM_ERROR: code, child, type
 *	NETWORK        -> CLOSED: rc, text
 *	LOGIN_TIMEOUT, KEEPALIVE -> TIMEOUT
 *	STORAGE        -> LOCAL: rc, text
 *
 * verified is 1 (every node a session reads came through the Noise
 * channel whose certificate chain was checked), authenticated is the
 * end's; text is the end's for NETWORK, timeouts and STORAGE (a stanza
 * is described by its class's own reason).  now, max_ban_wait and
 * min_ban_wait are 0: the caller's to set.
 * The strings point into end, which must outlive in. */
struct wa_dc_input;
void wa_session_end_dc(struct wa_dc_input *in, const struct wa_session_end *end);

#endif
