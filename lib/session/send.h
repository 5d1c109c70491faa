/*
 * send.h - the sending side of a session: outbox jobs encrypted for every
 * device of the recipient and our own other devices, the chains durable
 * before the ciphertext leaves, the server's ack reported (wa-protocol(7)
 * §13, §12.2; the outbox's jobs: wa-message(5) OUTBOX).
 *
 *	struct wa_send_opts o = { .store = st, .me = creds me.id, .send = ...,
 *	    .iq = ..., .on_sent = ..., .on_failed = ..., .on_status = ..., .arg = ... };
 *	wa_send_new(&s, &o);
 *	... online: for each queued job, in name order:
 *	    if (!wa_send_busy(s, to) && !wa_send_has(s, id)) wa_send_job(s, job);
 *	    (a chat's jobs are encrypted and sent in the order they were
 *	    taken; up to WA_SEND_MAX_PER_CHAT of a chat in flight, the
 *	    first one making the sessions before the others start)
 *	... every node of a read turn:  wa_send_node(s, node);   // acks, device notifications
 *	... every receipt recv reports: wa_send_receipt(s, receipt);
 *	... whenever the receiving side has nothing staged (after wa_recv_flush),
 *	    and after wa_send_job:      wa_send_pump(s, &why);
 *	... the connection ended:       wa_send_connection_lost(s);
 *	wa_send_free(s);
 *
 * A job goes: device discovery (a usync iq for the recipient and our own
 * user, unless both are in the cache; a <notification type=devices> from
 * a user drops that user's entry) -> pre-key bundles for the devices
 * without a session (one encrypt iq) -> in wa_send_pump: the bundles
 * processed, the padded Message encrypted for every device of the
 * recipient and, as the device-sent copy, for our own other devices, all
 * on the key store's overlay; wa_sigstore_commit (R3: the advanced chains
 * are durable before the ciphertext leaves; this also commits whatever
 * else the overlay holds, which is why pump must not run while the
 * receiving side has a batch staged); then the stanza.  The server's
 * <ack class=message id> ends it: on_sent, or on_failed with the ack's
 * error.  A "read" job is a <receipt type=read> (no encryption), ended by
 * the server's <ack class=receipt>.
 *
 * Nothing is retried on a new connection by this module:
 * wa_send_connection_lost forgets every job in flight, and the caller
 * hands the jobs that are still queued to wa_send_job again once online;
 * they are encrypted afresh (never a reused message key) with the same
 * message id.
 *
 * Receipts for our messages (delivery, read, played) are reported with
 * on_status per id and device; a retry receipt for one of our ids is
 * answered from the job find_job returns (the caller keeps sent jobs):
 * the bundle in its <keys> is used, else a bundle is fetched when there
 * is no session or when count >= 2 and the last recreation of that
 * device's session is more than an hour ago (whatsmeow); then the
 * message is encrypted for exactly that device, <enc count=N>.  At most
 * WA_SEND_MAX_RETRIES answers per id and device.
 *
 * Groups: a job to ID@g.us asks for the members (w:g2, every job), their
 * devices and ours; the Message is encrypted once with our sender key
 * (skmsg), and the distribution goes 1:1 only to the devices that
 * sender-key-memory-<group>.json does not name; they are written there
 * (on the overlay, durable with the next commit) only after the server's
 * ack of that stanza.  A member's retry is answered 1:1 with the content
 * and a fresh distribution, and the member is dropped from the memory.
 *
 * Hooks run inside wa_send_node, wa_send_receipt and wa_send_pump (and
 * inside the iq callbacks, i.e. wa_session_process).  They must not call
 * wa_send_free.
 */
#ifndef WA_SEND_H
#define WA_SEND_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "base/err.h"
#include "signal/store.h"
#include "wire/conn.h"
#include "wire/node.h"

#define WA_SEND_MAX_RETRIES 10
#define WA_SEND_MAX_INFLIGHT 256	/* wa_send_job refuses more (WA_EEXIST) */
#define WA_SEND_MAX_PER_CHAT 32		/* ... and more than this many of one chat */

struct wa_send;

struct wa_send_stats {
	unsigned long sent, failed;		/* jobs acked / failed */
	unsigned long retries_answered;		/* retry receipts answered */
	unsigned long usyncs, bundles;		/* iqs sent */
};

struct wa_send_opts {
	struct wa_sigstore *store;
	const char *me;			/* creds.me.id (our device JID) */
	const char *me_lid;		/* creds.me.lid, or NULL */

	/* Send a node.  Negative: the connection is going away. */
	int (*send)(void *arg, const struct wa_node *n);
	/* Send an iq, fn(fnarg, ...) with its answer (conn.h).  Negative:
	 * not sent, fn is not called. */
	int (*iq)(void *arg, struct wa_node *iq, wa_conn_iq_fn fn, void *fnarg);
	/* Our ADVSignedDeviceIdentity with the account signature key
	 * (*out malloc'ed): 0, or negative: the stanza goes without. */
	int (*device_identity)(void *arg, uint8_t **out, size_t *len);
	/* A job of ours by message id (a new reference), for retry
	 * receipts: 0, or negative (WA_ENOTFOUND): not ours / not kept. */
	int (*find_job)(void *arg, const char *id, json_t **job);

	/* The server acked job (t_ms: its time, ms). */
	void (*on_sent)(void *arg, const json_t *job, int64_t t_ms);
	/* The job cannot be sent: why (one line). */
	void (*on_failed)(void *arg, const json_t *job, const char *why);
	/* A receipt for one of our message ids: type "delivered", "read"
	 * or "played", from device (a device JID). */
	void (*on_status)(void *arg, const char *id, const char *device, const char *type, int64_t t_ms);
	/* One line for the log (what was answered, what went wrong). */
	void (*on_log)(void *arg, int level, const char *line);
	void *arg;
};

int wa_send_new(struct wa_send **out, const struct wa_send_opts *o);
void wa_send_free(struct wa_send *s);

/* Take a job (a JSON object of wa-message(5) OUTBOX, validated by the
 * outbox; a reference is kept).  0; WA_EEXIST (its chat has
 * WA_SEND_MAX_PER_CHAT jobs in flight, or WA_SEND_MAX_INFLIGHT are); WA_EINVAL: the job cannot be
 * sent (on_failed has been called); WA_ENOMEM. */
int wa_send_job(struct wa_send *s, json_t *job);

/* 1 when chat to has WA_SEND_MAX_PER_CHAT jobs in flight (take no more
 * of it now) / when the job id is in flight. */
int wa_send_busy(const struct wa_send *s, const char *to);
int wa_send_has(const struct wa_send *s, const char *id);
/* Jobs in flight. */
size_t wa_send_inflight(const struct wa_send *s);

/* Look at a node of the read turn: 1 when it was ours and is used up
 * (the server's ack of one of our stanzas), 0 otherwise (a devices
 * notification is looked at and left to the receiving side). */
int wa_send_node(struct wa_send *s, const struct wa_node *n);

/* A <receipt> from a peer (recv's on_receipt). */
void wa_send_receipt(struct wa_send *s, const struct wa_node *receipt);

/* Encrypt, commit and send what is ready.  0, or the key store's commit
 * error (WA_ESYS, WA_ESYNC, WA_ENOMEM) with why: nothing was sent, the
 * caller ends the connection (the jobs stay queued). */
int wa_send_pump(struct wa_send *s, struct wa_why *why);

/* The connection is gone: every job and retry in flight is forgotten
 * (no hook is called for them). */
void wa_send_connection_lost(struct wa_send *s);

const struct wa_send_stats *wa_send_stats(const struct wa_send *s);

#endif
