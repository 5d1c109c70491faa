/*
 * recv.h - the receiving side of a session: every <message> decrypted,
 * stored in the inbox spool, and only then acknowledged (wa-protocol(7)
 * §11, wa-message(5)).
 *
 *	struct wa_recv_opts o = { .spool = sp, .store = st, .me = creds me.id,
 *	    .me_lid = creds me.lid, .send = ..., .arg = ... };
 *	wa_recv_new(&r, &o);
 *	... for each node the session does not handle itself:
 *	    wa_recv_node(r, node);       // 1 taken, 0 not a receiving node
 *	... at the end of each read turn (and whenever pending reaches batch):
 *	    wa_recv_flush(r, &why);      // one group commit, then the replies
 *	wa_recv_free(r);
 *
 * node decrypts and decodes at once, on the key store's overlay (one op
 * per <enc>), and stages the inbox file; it sends nothing.  flush
 * commits, in this order: the spool (its files, then its record: spool.h),
 * then the key store (wa_sigstore_commit: sessions, sender keys, the
 * consumed pre-keys, app-state keys), and only when both are durable it
 * sends, in the order the nodes came, every receipt and ack of the batch.
 * A storage failure sends nothing and returns the error: the caller
 * closes the connection (the server keeps the stanzas and redelivers
 * them); what was staged is dropped.
 *
 * Exactly once: a message's key in the spool record is "<chat>/<sender>/
 * <id>" as the stanza names them (from, participant, id).  A stanza whose
 * key is already recorded (a redelivery after a crash between commit and
 * receipt, or the server's duplicate) is decrypted when it still can be
 * (so the key store catches up) but stored no second time; its receipt
 * is sent again.  The same key twice in one batch is stored once.
 *
 * What is answered how (the shapes of wa-protocol(7) §11.5-§11.7):
 *   <message>       receipt (delivery; "sender" for our own devices';
 *                   "hist_sync" as well for history-sync notifications);
 *                   undecryptable: stored with status "undecryptable" and
 *                   its class, then the delivery receipt (the retry
 *                   receipts of wa-run's self-healing come later); a
 *                   stanza that cannot be parsed: ack error 487, a stanza
 *                   with no <enc> we know: ack 488, plaintext that is not
 *                   a Message: stored as undecryptable "invalid_protobuf"
 *                   and receipted; msmsg: ack 495.
 *   <receipt>       ack class=receipt (type copied); reported (on_receipt)
 *   <notification>  ack class=notification (type copied); encrypt
 *                   <identity/>: the user's sessions dropped (quarantine)
 *                   and reported; encrypt <count/> is the session's.
 *   <call>          ack class=call
 *   <ib><offline_preview/> and <ib><offline/>: the offline backlog: how
 *                   many stanzas came with offline= and how long until
 *                   the server said it was done (on_offline).
 */
#ifndef WA_RECV_H
#define WA_RECV_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "base/err.h"
#include "signal/store.h"
#include "spool/spool.h"
#include "wire/node.h"

struct wa_recv;

/* A committed message: its record (wa-message(5)) and file. */
struct wa_recv_msg {
	const json_t *rec;
	const char *path;		/* DIR/new/NAME */
};

#define WA_RECV_CLASSES 16	/* failures[] is indexed by enum wa_sigclass */

struct wa_recv_stats {
	unsigned long messages;		/* stored (ok or undecryptable) */
	unsigned long undecryptable;
	unsigned long duplicates;	/* recognised and not stored again */
	unsigned long receipts_in;	/* receipts from peers */
	unsigned long notifications, calls;
	unsigned long batches;
	int64_t last_message_ms;	/* wall ms of the last stored, 0 none */
	unsigned long failures[WA_RECV_CLASSES];	/* failed decryptions by class */
	unsigned long retries;		/* retry receipts sent */
	unsigned long repaired;		/* messages that decrypted after a retry */
	unsigned long quarantined;	/* peer state files moved to quarantine */
};

struct wa_recv_opts {
	struct wa_spool *spool;
	struct wa_sigstore *store;
	const char *me;			/* creds.me.id */
	const char *me_lid;		/* creds.me.lid, or NULL */
	size_t batch;			/* wa_recv_pending >= batch: flush now; 0: 100 */

	/* Self-healing (wa-protocol(7) §12).  NULL retries: a message that
	 * does not decrypt is stored undecryptable at once.  Otherwise it is
	 * answered with a retry receipt (count 1, 2, ... up to max_retries,
	 * default 5; from count 2 with a bundle of fresh keys); the counts
	 * are in retries (retry.h), saved with each batch before its
	 * receipts leave; from the second failure of a session or sender key
	 * (at once for an unreadable file) that state of that peer only goes
	 * to quarantine.  A message still undecryptable after the last retry,
	 * or whose sender has not answered within retry_wait_ms (default 60
	 * s; wa_recv_tick), is stored with status undecryptable. */
	struct wa_retries *retries;
	int max_retries;
	long retry_wait_ms;
	/* A fresh one-time pre-key for a bundle (durable before it returns;
	 * session.h wa_session_retry_prekey): 0, or negative: no bundle. */
	int (*fresh_prekey)(void *arg, uint32_t *id, uint8_t pub[32]);
	/* Our ADVSignedDeviceIdentity with the account signature key, for the
	 * bundle (*out malloc'ed): 0, or negative: left out. */
	int (*device_identity)(void *arg, uint8_t **out, size_t *len);

	/* Send a node (a receipt or an ack).  Negative: stop sending this
	 * batch (the connection is going away). */
	int (*send)(void *arg, const struct wa_node *n);
	/* After the commit of a batch, once per stored message, before its
	 * receipt is sent. */
	void (*on_message)(void *arg, const struct wa_recv_msg *m);
	/* A receipt from a peer for a message we sent: the stanza. */
	void (*on_receipt)(void *arg, const struct wa_node *receipt);
	/* The offline backlog is drained: count stanzas in ms. */
	void (*on_offline)(void *arg, unsigned long count, int64_t ms);
	/* Something an operator hears of: "identity" (jid), "appstate_keys"
	 * (count), "undecryptable" (class, chat, sender, id: stored so),
	 * "decrypt_failed" (class, chat, sender, id, retry: once per sender
	 * and class an hour), "repaired" (chat, sender, class, retries, ms:
	 * once per sender an hour; stats.repaired counts every message).
	 * ev is borrowed. */
	void (*on_event)(void *arg, const char *kind, const json_t *ev);
	void *arg;
};

int wa_recv_new(struct wa_recv **out, const struct wa_recv_opts *o);
void wa_recv_free(struct wa_recv *r);

/* Take n: 1 when it was a receiving node (its reply now waits for the
 * next flush), 0 when it is not one of ours, negative WA_ENOMEM. */
int wa_recv_node(struct wa_recv *r, const struct wa_node *n);

/* Nodes taken since the last flush. */
size_t wa_recv_pending(const struct wa_recv *r);

/* Commit and reply (above).  0 (also with nothing pending), or the
 * storage error (WA_ESYS, WA_ESYNC, WA_ENOMEM) with why. */
int wa_recv_flush(struct wa_recv *r, struct wa_why *why);

const struct wa_recv_stats *wa_recv_stats(const struct wa_recv *r);

/* Messages whose sender did not answer the last retry within
 * retry_wait_ms are staged as undecryptable records; flush stores them.
 * Call every few seconds.  0 or WA_ENOMEM. */
int wa_recv_tick(struct wa_recv *r, int64_t now_ms);

#endif
