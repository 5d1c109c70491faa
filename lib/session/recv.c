/*
 * recv.c - the receiving side of a session (recv.h, wa-message(5)).
 *
 * How it works.  A <message> stanza is decrypted as soon as it is taken:
 * its direct <enc> children (pkmsg, msg) first, with any sender-key
 * distribution inside processed at once, then the group's skmsg, each
 * <enc> one op on the key store's overlay (a failed one leaves the
 * overlay as it was).  The Message that carries content becomes the
 * record; the record is written into the spool's tmp/ at once (a file per
 * message), and the reply (receipt or ack) waits in a list.  flush then
 * makes the batch durable in the order that keeps every message: the
 * spool (files, then the record of delivered keys), then the key store
 * (the advanced ratchets; the consumed pre-keys go last, inside its own
 * commit).  A crash before the spool commit loses nothing: no receipt has
 * left, the server redelivers, the old key state decrypts again.  A crash
 * between the two commits leaves the messages stored and recorded with
 * the key state behind: the redelivered stanza decrypts again (the state
 * catches up) and is recognised by its key.  A crash after both, before
 * the receipts, leaves the state ahead: the redelivered stanza no longer
 * decrypts (its counter was used), and is recognised by its key.  Only
 * then, in the order the nodes came, the replies leave.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "msg/msg.h"
#include "session/recv.h"
#include "session/retry.h"
#include "signal/keyjson.h"
#include "signal/addr.h"
#include "signal/cipher.h"
#include "store/durable.h"
#include "store/fname.h"
#include "wire/jid.h"

/* nack codes (wa-protocol(7) §11.5) */
enum {
	NACK_PARSE = 487,
	NACK_UNRECOGNIZED = 488,
	NACK_MISSING_SECRET = 495,
};

struct staged {
	json_t *rec;
	char name[WA_SPOOL_NAME_MAX];
};

struct wa_recv {
	struct wa_recv_opts o;
	struct wa_recv_stats stats;
	struct wa_node **out;		/* replies of the batch, in order */
	size_t nout, capout;
	struct staged *msgs;		/* records of the batch */
	size_t nmsgs, capmsgs;
	char **keys;			/* keys added in this batch */
	size_t nkeys, capkeys;
	size_t taken;
	/* offline backlog */
	int offline_open;
	unsigned long offline_count;
	int64_t offline_start;
	struct wa_jid me, me_lid;
	int have_me_lid;
	int offline_pending;		/* <ib><offline/> seen: report after this flush */
	unsigned long offline_report_count;
	int64_t offline_report_ms;
	json_t *heard;			/* "author class" -> when last reported */
	int err;			/* a storage failure while taking: the batch fails */
	char errwhy[WA_WHY_MAX];
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
wa_recv_new(struct wa_recv **out, const struct wa_recv_opts *o)
{
	struct wa_recv *r;

	*out = NULL;
	if (!o->spool || !o->store || !o->me)
		return WA_EINVAL;
	if (!(r = calloc(1, sizeof *r)))
		return WA_ENOMEM;
	r->o = *o;
	if (!r->o.batch)
		r->o.batch = 100;
	if (!r->o.max_retries)
		r->o.max_retries = 5;
	if (!r->o.retry_wait_ms)
		r->o.retry_wait_ms = 60000;
	if (wa_jid_parse(&r->me, o->me) < 0) {
		free(r);
		return WA_EINVAL;
	}
	if (o->me_lid && *o->me_lid && wa_jid_parse(&r->me_lid, o->me_lid) == 0)
		r->have_me_lid = 1;
	*out = r;
	return 0;
}

static void
drop_batch(struct wa_recv *r)
{
	size_t i;

	for (i = 0; i < r->nout; i++)
		wa_node_free(r->out[i]);
	r->nout = 0;
	for (i = 0; i < r->nmsgs; i++)
		json_decref(r->msgs[i].rec);
	r->nmsgs = 0;
	for (i = 0; i < r->nkeys; i++)
		free(r->keys[i]);
	r->nkeys = 0;
	r->taken = 0;
}

void
wa_recv_free(struct wa_recv *r)
{
	if (!r)
		return;
	drop_batch(r);
	free(r->out);
	free(r->msgs);
	free(r->keys);
	json_decref(r->heard);
	free(r);
}

size_t
wa_recv_pending(const struct wa_recv *r)
{
	return r->taken;
}

const struct wa_recv_stats *
wa_recv_stats(const struct wa_recv *r)
{
	return &r->stats;
}

static int
grow(void **p, size_t *cap, size_t n, size_t size)
{
	void *m;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	if (WA_TEST_ALLOC_FAILS() || !(m = realloc(*p, c * size)))
		return WA_ENOMEM;
	*p = m;
	*cap = c;
	return 0;
}

/* Queue a reply; takes n (freed on error). */
static int
queue(struct wa_recv *r, struct wa_node *n)
{
	if (grow((void **)&r->out, &r->capout, r->nout, sizeof *r->out) < 0) {
		wa_node_free(n);
		return WA_ENOMEM;
	}
	r->out[r->nout++] = n;
	return 0;
}

/* <ack id class to [participant] [recipient] [type] [error]/> */
static int
queue_ack(struct wa_recv *r, const struct wa_node *n, const char *klass, int copy_type, int error)
{
	struct wa_node *a;
	char e[16];
	int rc;

	snprintf(e, sizeof e, "%d", error);
	rc = wa_node_make(&a, "ack", "id", wa_node_attr(n, "id"), "class", klass,
	    "to", wa_node_attr(n, "from"), "participant", wa_node_attr(n, "participant"),
	    "recipient", wa_node_attr(n, "recipient"),
	    "type", copy_type ? wa_node_attr(n, "type") : NULL,
	    "error", error ? e : NULL, (char *)NULL);
	if (rc < 0)
		return rc;
	return queue(r, a);
}

static int
batch_has_key(const struct wa_recv *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->nkeys; i++)
		if (strcmp(r->keys[i], key) == 0)
			return 1;
	return 0;
}

/* ---- who is who (wa-protocol(7) §11.1) ---------------------------------- */

struct who {
	char chat[WA_JID_STR_MAX];
	char author[WA_JID_STR_MAX];	/* the sending device */
	char author_user[WA_JID_STR_MAX];
	char pn[WA_JID_STR_MAX], lid[WA_JID_STR_MAX];	/* author user, both forms where known */
	int group, from_me;
};

static int
is_me(const struct wa_recv *r, const struct wa_jid *j)
{
	return (strcmp(j->user, r->me.user) == 0 && j->type == r->me.type) ||
	    (r->have_me_lid && strcmp(j->user, r->me_lid.user) == 0 && j->type == r->me_lid.type);
}

static void
user_of(char *out, size_t n, const struct wa_jid *j)
{
	struct wa_jid u;

	wa_jid_normalize(&u, j);
	if (wa_jid_format(out, n, &u) < 0)
		out[0] = 0;
}

static int
parse_who(struct wa_recv *r, const struct wa_node *n, struct who *w)
{
	const char *from = wa_node_attr(n, "from"), *part = wa_node_attr(n, "participant");
	const char *alt = NULL;
	struct wa_jid f, a, x;

	memset(w, 0, sizeof *w);
	if (!from || wa_jid_parse(&f, from) < 0)
		return WA_EPROTO;
	if (f.type == WA_JID_GROUP || f.type == WA_JID_BROADCAST) {
		if (!part || wa_jid_parse(&a, part) < 0 || !wa_jid_is_user(&a))
			return WA_EPROTO;
		w->group = 1;
		snprintf(w->chat, sizeof w->chat, "%s", from);
		alt = a.type == WA_JID_LID ? wa_node_attr(n, "participant_pn") : wa_node_attr(n, "participant_lid");
	} else if (wa_jid_is_user(&f)) {
		a = f;
		if (is_me(r, &f)) {
			const char *rcp = wa_node_attr(n, "recipient");
			w->from_me = 1;
			if (rcp && wa_jid_parse(&x, rcp) == 0)
				user_of(w->chat, sizeof w->chat, &x);
			else
				user_of(w->chat, sizeof w->chat, &f);
		} else {
			user_of(w->chat, sizeof w->chat, &f);
			alt = f.type == WA_JID_LID ? wa_node_attr(n, "sender_pn") : wa_node_attr(n, "sender_lid");
		}
	} else {
		return WA_EPROTO;	/* newsletters, bots: not handled yet */
	}
	if (wa_jid_format(w->author, sizeof w->author, &a) < 0)
		return WA_EPROTO;
	if (w->group && is_me(r, &a))
		w->from_me = 1;
	user_of(w->author_user, sizeof w->author_user, &a);
	if (a.type == WA_JID_LID)
		snprintf(w->lid, sizeof w->lid, "%s", w->author_user);
	else
		snprintf(w->pn, sizeof w->pn, "%s", w->author_user);
	if (alt && wa_jid_parse(&x, alt) == 0 && wa_jid_is_user(&x)) {
		if (x.type == WA_JID_LID && !w->lid[0])
			user_of(w->lid, sizeof w->lid, &x);
		else if (x.type != WA_JID_LID && !w->pn[0])
			user_of(w->pn, sizeof w->pn, &x);
	}
	return 0;
}

/* The mapping is new: a session kept under the phone-number address of
 * the sending device moves to its LID address, where every lookup now
 * goes (Baileys' migrateSession, for the device that sent this). */
static void
migrate_session(struct wa_recv *r, const struct who *w)
{
	struct wa_jid dev, l;
	struct wa_sigaddr pa, la;
	char pname[256], lname[256];
	const json_t *doc, *ldoc;
	json_t *copy;

	if (wa_jid_parse(&dev, w->author) < 0 || dev.type != WA_JID_PN || wa_jid_parse(&l, w->lid) < 0)
		return;
	if (wa_sigaddr_from_jid(&pa, w->author) < 0)
		return;
	l.device = dev.device;
	{
		char lj[WA_JID_STR_MAX];
		if (wa_jid_format(lj, sizeof lj, &l) < 0 || wa_sigaddr_from_jid(&la, lj) < 0)
			return;
	}
	if (wa_sigaddr_file(pname, sizeof pname, WA_FT_SESSION, &pa) < 0 ||
	    wa_sigaddr_file(lname, sizeof lname, WA_FT_SESSION, &la) < 0)
		return;
	if (wa_sigstore_get(r->o.store, &doc, pname, NULL) < 0 ||
	    wa_sigstore_get(r->o.store, &ldoc, lname, NULL) != WA_ENOTFOUND)
		return;
	if (!(copy = json_deep_copy(doc)))
		return;
	if (wa_sigstore_put(r->o.store, lname, copy) == 0)
		(void)wa_sigstore_put(r->o.store, pname, NULL);
}

/* Baileys' lid-mapping-<pn>.json ("<lid>") and lid-mapping-<lid>_reverse.json
 * ("<pn>"), stored when a stanza names both forms and none is known yet,
 * so the folder maps addresses as Baileys' would (wa-signal(7)). */
static void
learn_mapping(struct wa_recv *r, const struct who *w)
{
	struct wa_jid p, l;
	char name[256], rev[WA_JID_USER_MAX + 16];
	const json_t *doc;
	json_t *a, *b;

	if (!w->pn[0] || !w->lid[0] || wa_jid_parse(&p, w->pn) < 0 || wa_jid_parse(&l, w->lid) < 0 ||
	    p.type != WA_JID_PN || l.type != WA_JID_LID)
		return;
	if (wa_fname_make(name, sizeof name, WA_FT_LID_MAPPING, p.user) < 0)
		return;
	if (wa_sigstore_get(r->o.store, &doc, name, NULL) != WA_ENOTFOUND)
		return;	/* known (or unreadable: leave it to wa-check) */
	snprintf(rev, sizeof rev, "%s_reverse", l.user);
	a = json_string(l.user);
	b = json_string(p.user);
	if (a && b) {
		char rname[256];
		if (wa_fname_make(rname, sizeof rname, WA_FT_LID_MAPPING, rev) == 0 &&
		    wa_sigstore_put(r->o.store, name, a) == 0) {
			a = NULL;
			if (wa_sigstore_put(r->o.store, rname, b) == 0)
				b = NULL;
		}
	}
	json_decref(a);
	json_decref(b);
	migrate_session(r, w);
}

/* ---- decryption ---------------------------------------------------------- */

struct outcome {
	struct wa_msg *content;		/* the Message for the record */
	uint8_t *content_pt;		/* its bytes (content points into them) */
	enum wa_sigclass fail;		/* the first failure, WA_SIGF_NONE */
	char reason[32];
	char detail[WA_WHY_MAX];
	int any_enc, msmsg, hist_sync;
	int fail_sk;			/* the first failure was the group's skmsg */
	int storage;			/* a store file could not be read: no verdict */
	int direct;			/* a pkmsg or msg child was there */
	unsigned long appstate_keys;
};

static void
outcome_fail(struct outcome *oc, const char *reason, const char *detail)
{
	if (oc->reason[0])
		return;
	snprintf(oc->reason, sizeof oc->reason, "%s", reason);
	snprintf(oc->detail, sizeof oc->detail, "%s", detail);
}

/* A decrypted plaintext: unpad, decode, consume what is ours (SKDM,
 * app-state keys), keep the content.  Takes pt. */
static void
take_plaintext(struct wa_recv *r, const struct who *w, struct outcome *oc, uint8_t *pt, size_t len)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_msg *m = NULL;
	const char *group;
	const uint8_t *skdm;
	size_t skdmlen, i, k;
	long n = wa_msg_unpad(pt, len);

	if (n < 0 || wa_msg_decode(&m, pt, (size_t)n, &why) < 0) {
		outcome_fail(oc, "invalid_protobuf", n < 0 ? "bad padding" : wa_why_text(&why, WA_EPROTO));
		free(pt);
		return;
	}
	if (wa_msg_skdm(m, &group, &skdm, &skdmlen) == 0 && w->group) {
		struct wa_sigfail f;
		wa_sigstore_op_begin(r->o.store);
		if (wa_sigcipher_process_skdm(r->o.store, w->chat, w->author, skdm, skdmlen, &f) < 0) {
			wa_sigstore_op_end(r->o.store, 0);
			outcome_fail(oc, wa_sigclass_name(f.cls), f.detail);
		} else {
			wa_sigstore_op_end(r->o.store, 1);
		}
	}
	/* app-state key shares come from our own devices only */
	if (w->from_me && (k = wa_msg_appstate_count(m)) > 0) {
		for (i = 0; i < k; i++) {
			char name[256];
			json_t *doc;
			if (wa_msg_appstate_key(m, i, name, sizeof name, &doc) == 0) {
				if (wa_sigstore_put(r->o.store, name, doc) == 0)
					oc->appstate_keys++;
			}
		}
	}
	if (wa_msg_is_history_sync(m) && w->from_me)
		oc->hist_sync = 1;
	if (wa_msg_is_content(m) && !oc->content) {
		oc->content = m;
		oc->content_pt = pt;
		return;
	}
	wa_msg_free(m);
	free(pt);
}

static void
decrypt_enc(struct wa_recv *r, const struct who *w, const struct wa_node *e, struct outcome *oc)
{
	const char *type = wa_node_attr(e, "type");
	struct wa_sigfail f;
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	int rc;

	if (e->content != WA_CONTENT_BYTES && e->content != WA_CONTENT_STRING) {
		outcome_fail(oc, "invalid_message", "<enc> without ciphertext");
		return;
	}
	memset(&f, 0, sizeof f);
	if (strcmp(type, "skmsg") == 0) {
		if (!w->group) {
			outcome_fail(oc, "invalid_message", "skmsg outside a group");
			return;
		}
		rc = wa_sigcipher_group_decrypt(&pt, &ptlen, r->o.store, w->chat, w->author, e->data, e->len, &f);
	} else {
		rc = wa_sigcipher_decrypt(&pt, &ptlen, r->o.store, w->author,
		    strcmp(type, "pkmsg") == 0 ? WA_SIG_PKMSG : WA_SIG_MSG, e->data, e->len, &f);
	}
	if (rc < 0 && f.cls == WA_SIGF_STORAGE) {
		/* the disk failed us, not the message: the batch fails, nothing
		 * is acknowledged, the server redelivers */
		oc->storage = 1;
		if (!r->err) {
			r->err = WA_ESYS;
			snprintf(r->errwhy, sizeof r->errwhy, "reading the key store: %.400s", f.detail);
		}
		return;
	}
	if (rc < 0) {
		if (oc->fail == WA_SIGF_NONE) {
			oc->fail = f.cls;
			oc->fail_sk = strcmp(type, "skmsg") == 0;
		}
		outcome_fail(oc, wa_sigclass_name(f.cls), f.detail);
		return;
	}
	{
		/* a pkmsg with a new identity: trusted (as Baileys and
		 * whatsmeow's default), the old session went to quarantine */
		const char *chg = wa_sigstore_identity_changed(r->o.store);
		json_t *ev;
		if (chg && r->o.on_event && (ev = json_pack("{s:s, s:s, s:b}", "jid", w->author, "address", chg,
		    "message", 1))) {
			r->o.on_event(r->o.arg, "identity", ev);
			json_decref(ev);
		}
	}
	take_plaintext(r, w, oc, pt, ptlen);
}

/* ---- the record ------------------------------------------------------------ */

static json_t *
make_record(struct wa_recv *r, const struct wa_node *n, const struct who *w, const struct outcome *oc)
{
	json_t *rec = json_object();
	const char *t = wa_node_attr(n, "t"), *notify = wa_node_attr(n, "notify");
	const char *off = wa_node_attr(n, "offline");
	int rc = 0;

	if (!rec)
		return NULL;
	rc |= json_object_set_new(rec, "v", json_integer(1));
	rc |= json_object_set_new(rec, "id", json_string(wa_node_attr(n, "id")));
	rc |= json_object_set_new(rec, "chat", json_string(w->chat));
	rc |= json_object_set_new(rec, "sender", json_string(w->author_user));
	rc |= json_object_set_new(rec, "sender_device", json_string(w->author));
	if (w->pn[0])
		rc |= json_object_set_new(rec, "sender_pn", json_string(w->pn));
	if (w->lid[0])
		rc |= json_object_set_new(rec, "sender_lid", json_string(w->lid));
	rc |= json_object_set_new(rec, "from_me", json_boolean(w->from_me));
	rc |= json_object_set_new(rec, "timestamp", json_integer(t ? strtoll(t, NULL, 10) : 0));
	if (notify && !w->from_me)
		rc |= json_object_set_new(rec, "push_name", json_string(notify));
	rc |= json_object_set_new(rec, "offline", json_boolean(off && *off && strcmp(off, "0") != 0));
	rc |= json_object_set_new(rec, "received", json_integer(now_ms()));
	if (oc->content) {
		rc |= json_object_set_new(rec, "status", json_string("ok"));
		if (wa_msg_to_json(oc->content, rec) < 0)
			rc = -1;
	} else {
		rc |= json_object_set_new(rec, "status", json_string("undecryptable"));
		rc |= json_object_set_new(rec, "reason", json_string(oc->reason[0] ? oc->reason : "internal"));
		rc |= json_object_set_new(rec, "detail", json_string(oc->detail));
		rc |= json_object_set_new(rec, "type", json_string("unknown"));
	}
	if (rc) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

/* ---- nodes ------------------------------------------------------------------ */

static int
queue_receipt(struct wa_recv *r, const struct wa_node *n, const struct who *w, const char *type)
{
	struct wa_node *rc;
	int e;

	if (w->from_me && !w->group)
		e = wa_node_make(&rc, "receipt", "id", wa_node_attr(n, "id"), "to", wa_node_attr(n, "from"),
		    "recipient", wa_node_attr(n, "recipient"), "type", type ? type : "sender", (char *)NULL);
	else
		e = wa_node_make(&rc, "receipt", "id", wa_node_attr(n, "id"), "to", wa_node_attr(n, "from"),
		    "participant", wa_node_attr(n, "participant"), "type", type, (char *)NULL);
	if (e < 0)
		return e;
	return queue(r, rc);
}

static int
queue_hist_receipt(struct wa_recv *r, const struct wa_node *n)
{
	struct wa_node *rc;
	struct wa_jid u;
	char own[WA_JID_STR_MAX];
	int e;

	wa_jid_normalize(&u, &r->me);
	if (wa_jid_format(own, sizeof own, &u) < 0)
		return 0;
	if ((e = wa_node_make(&rc, "receipt", "id", wa_node_attr(n, "id"), "to", own, "type", "hist_sync",
	    (char *)NULL)) < 0)
		return e;
	return queue(r, rc);
}

static int first_of_storm(struct wa_recv *r, const char *author, const char *klass);

static void
event_undecryptable(struct wa_recv *r, const struct wa_node *n, const struct who *w, const struct outcome *oc)
{
	json_t *ev;

	if (!r->o.on_event || !first_of_storm(r, w->author, "final"))
		return;
	ev = json_pack("{s:s, s:s, s:s, s:s, s:s}", "class", oc->reason[0] ? oc->reason : "internal",
	    "chat", w->chat, "sender", w->author, "id", wa_node_attr(n, "id"), "detail", oc->detail);
	if (ev)
		r->o.on_event(r->o.arg, "undecryptable", ev);
	json_decref(ev);
}

/* ---- self-healing: retry receipts (wa-protocol(7) §12) ------------------- */

static int
add_bytes(struct wa_node *parent, const char *tag, const void *p, size_t len)
{
	struct wa_node *c;
	int rc;

	if ((rc = wa_node_new(&c, tag)) < 0)
		return rc;
	if ((rc = wa_node_set_bytes(c, p, len)) < 0) {
		wa_node_free(c);
		return rc;
	}
	return wa_node_child_add(parent, c);
}

static void
be(uint8_t *out, uint32_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)(v & 0xff);
}

/* <keys>: a bundle the sender can start a fresh session from. */
static int
add_keys(struct wa_recv *r, struct wa_node *rc_node)
{
	const struct wa_keyjson_creds *c = wa_sigstore_creds(r->o.store);
	struct wa_node *keys, *key, *skey;
	uint8_t id3[3], pub[32], *dev = NULL;
	uint32_t pkid;
	size_t devlen = 0;
	int rc;

	if (!r->o.fresh_prekey || r->o.fresh_prekey(r->o.arg, &pkid, pub) < 0)
		return WA_ENOTFOUND;
	if (r->o.device_identity && r->o.device_identity(r->o.arg, &dev, &devlen) < 0)
		dev = NULL;
	if ((rc = wa_node_new(&keys, "keys")) < 0) {
		free(dev);
		return rc;
	}
	rc = add_bytes(keys, "type", "\x05", 1);
	if (rc == 0)
		rc = add_bytes(keys, "identity", c->identity.pub, 32);
	if (rc == 0 && (rc = wa_node_new(&key, "key")) == 0) {
		be(id3, pkid, 3);
		if ((rc = add_bytes(key, "id", id3, 3)) == 0 && (rc = add_bytes(key, "value", pub, 32)) == 0)
			rc = wa_node_child_add(keys, key);
		else
			wa_node_free(key);
	}
	if (rc == 0 && (rc = wa_node_new(&skey, "skey")) == 0) {
		be(id3, c->spk_id, 3);
		if ((rc = add_bytes(skey, "id", id3, 3)) == 0 && (rc = add_bytes(skey, "value", c->spk.pub, 32)) == 0 &&
		    (rc = add_bytes(skey, "signature", c->spk_sig, 64)) == 0)
			rc = wa_node_child_add(keys, skey);
		else
			wa_node_free(skey);
	}
	if (rc == 0 && dev)
		rc = add_bytes(keys, "device-identity", dev, devlen);
	free(dev);
	if (rc < 0) {
		wa_node_free(keys);
		return rc;
	}
	return wa_node_child_add(rc_node, keys);
}

/* <receipt type=retry><retry count id t v=1/><registration/>[<keys/>]</receipt> */
static int
queue_retry(struct wa_recv *r, const struct wa_node *n, const struct who *w, int count, int keys)
{
	const struct wa_keyjson_creds *c = wa_sigstore_creds(r->o.store);
	struct wa_node *rc_node, *retry;
	char cnt[16];
	uint8_t reg[4];
	int rc;

	snprintf(cnt, sizeof cnt, "%d", count);
	if (w->from_me && !w->group)
		rc = wa_node_make(&rc_node, "receipt", "id", wa_node_attr(n, "id"), "to", wa_node_attr(n, "from"),
		    "recipient", wa_node_attr(n, "recipient"), "type", "retry", (char *)NULL);
	else
		rc = wa_node_make(&rc_node, "receipt", "id", wa_node_attr(n, "id"), "to", wa_node_attr(n, "from"),
		    "participant", wa_node_attr(n, "participant"), "type", "retry", (char *)NULL);
	if (rc < 0)
		return rc;
	if ((rc = wa_node_make(&retry, "retry", "count", cnt, "id", wa_node_attr(n, "id"),
	    "t", wa_node_attr(n, "t") ? wa_node_attr(n, "t") : "0", "v", "1", (char *)NULL)) < 0 ||
	    (rc = wa_node_child_add(rc_node, retry)) < 0) {
		wa_node_free(rc_node);
		return rc;
	}
	be(reg, c->regid, 4);
	if ((rc = add_bytes(rc_node, "registration", reg, 4)) < 0) {
		wa_node_free(rc_node);
		return rc;
	}
	if (keys && (rc = add_keys(r, rc_node)) < 0 && rc != WA_ENOTFOUND) {
		wa_node_free(rc_node);
		return rc;
	}
	return queue(r, rc_node);
}

/* The state of this peer that keeps its messages from decrypting goes to
 * quarantine, so the sender's fresh pkmsg / distribution builds anew: the
 * session (1:1) or the sender key (group); never another peer's. */
static int
quarantine_peer(struct wa_recv *r, const struct who *w, int sk)
{
	struct wa_sigaddr a;
	char name[256];
	struct wa_why why = WA_WHY_INIT;

	if (wa_sigstore_resolve(r->o.store, &a, w->author, &why) < 0)
		return 0;
	if (sk ? wa_sigaddr_sender_key_file(name, sizeof name, w->chat, &a) < 0 :
	    wa_sigaddr_file(name, sizeof name, WA_FT_SESSION, &a) < 0)
		return 0;
	return wa_sigstore_quarantine(r->o.store, name) == 0;
}

/* An operator hears of a failure class once per peer and hour, not per
 * message (a Bad MAC storm is one event); the counts are in the stats. */
static int
first_of_storm(struct wa_recv *r, const char *author, const char *klass)
{
	char k[WA_SPOOL_KEY_MAX];
	json_t *v;
	int64_t now = now_ms();

	snprintf(k, sizeof k, "%s %s", author, klass);
	if (!r->heard && !(r->heard = json_object()))
		return 1;
	v = json_object_get(r->heard, k);
	if (v && now - json_integer_value(v) < 3600 * 1000)
		return 0;
	if (json_object_size(r->heard) > 10000)
		json_object_clear(r->heard);
	json_object_set_new(r->heard, k, json_integer(now));
	return 1;
}

static int
count_attr(const struct wa_node *n)
{
	size_t i;
	int best = 0;

	for (i = 0; i < n->nchildren; i++) {
		const char *c = wa_node_attr(n->children[i], "count");
		if (strcmp(n->children[i]->tag, "enc") == 0 && c) {
			long v = strtol(c, NULL, 10);
			if (v > best && v < 100)
				best = (int)v;
		}
	}
	return best;
}

/* 1: a retry receipt is queued (nothing stored); 0: past the limit, store
 * the message as undecryptable now; negative: out of memory. */
static int
retry_or_give_up(struct wa_recv *r, const struct wa_node *n, const struct who *w, const struct outcome *oc,
    const char *key)
{
	json_t *e = wa_retries_get(r->o.retries, key), *ne;
	int count = e ? (int)json_integer_value(json_object_get(e, "count")) : 0;
	int64_t now = now_ms(), first = e ? json_integer_value(json_object_get(e, "first")) : now;
	int enc = count_attr(n), keys, rc;
	const char *const attrs[] = { "from", "participant", "recipient", "t", "notify", "offline", "id" };
	size_t i;

	r->stats.failures[oc->fail < WA_RECV_CLASSES ? oc->fail : 0]++;
	if (enc > count)
		count = enc;	/* the sender says this is already a resend */
	count++;
	if (count > r->o.max_retries) {
		wa_retries_put(r->o.retries, key, NULL);
		return 0;
	}
	if (!(ne = json_pack("{s:i, s:I, s:I, s:s, s:s, s:i}", "count", count, "first", (json_int_t)first,
	    "last", (json_int_t)now, "class", oc->reason, "detail", oc->detail, "sk", oc->fail_sk)))
		return WA_ENOMEM;
	for (i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
		if (wa_node_attr(n, attrs[i]))
			json_object_set_new(ne, attrs[i], json_string(wa_node_attr(n, attrs[i])));
	if ((rc = wa_retries_put(r->o.retries, key, ne)) < 0)
		return rc;
	/* the state to quarantine: a file that cannot be read at once; a
	 * session or sender key that failed again after a first retry */
	if (oc->fail == WA_SIGF_CORRUPT ||
	    (count >= 2 && (oc->fail == WA_SIGF_BAD_MAC || oc->fail == WA_SIGF_INVALID_MESSAGE ||
	    oc->fail == WA_SIGF_INVALID_PREKEY || oc->fail == WA_SIGF_NO_SESSION)))
		r->stats.quarantined += (unsigned long)quarantine_peer(r, w, oc->fail_sk);
	/* a bundle from the second retry on, or at once when a group
	 * message came without a direct message to set up its key */
	keys = count >= 2 || (oc->fail == WA_SIGF_NO_SENDER_KEY && !oc->direct);
	if ((rc = queue_retry(r, n, w, count, keys)) < 0)
		return rc;
	r->stats.retries++;
	if (r->o.on_event && first_of_storm(r, w->author, oc->reason)) {
		json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}", "class", oc->reason, "chat", w->chat,
		    "sender", w->author, "id", wa_node_attr(n, "id"), "retry", count, "detail", oc->detail);
		if (ev)
			r->o.on_event(r->o.arg, "decrypt_failed", ev);
		json_decref(ev);
	}
	return 1;
}

/* A message we had asked for again decrypted. */
static void
repaired(struct wa_recv *r, const struct who *w, const char *key)
{
	json_t *e = wa_retries_get(r->o.retries, key), *ev;
	int64_t first = json_integer_value(json_object_get(e, "first"));

	r->stats.repaired++;
	if (r->o.on_event && first_of_storm(r, w->author, "repaired") && (ev = json_pack("{s:s, s:s, s:s, s:I, s:I}", "chat", w->chat, "sender", w->author,
	    "class", json_string_value(json_object_get(e, "class")) ?: "",
	    "retries", json_integer_value(json_object_get(e, "count")), "ms", (json_int_t)(now_ms() - first)))) {
		r->o.on_event(r->o.arg, "repaired", ev);
		json_decref(ev);
	}
	wa_retries_put(r->o.retries, key, NULL);
}

/* Stage rec (taken) as the inbox file of key, for the next commit.  0;
 * WA_ENOMEM; WA_ESYS when the spool could not take it: the batch is then
 * marked failed (flush reports it and sends nothing). */
static int
stage_record(struct wa_recv *r, const char *key, json_t *rec)
{
	char *text;
	int rc;

	if (!(text = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(15))) ||
	    grow((void **)&r->msgs, &r->capmsgs, r->nmsgs, sizeof *r->msgs) < 0 ||
	    grow((void **)&r->keys, &r->capkeys, r->nkeys, sizeof *r->keys) < 0) {
		free(text);
		json_decref(rec);
		return WA_ENOMEM;
	}
	rc = wa_spool_add(r->o.spool, key, text, strlen(text), r->msgs[r->nmsgs].name);
	free(text);
	if (rc < 0 || !(r->keys[r->nkeys] = strdup(key))) {
		json_decref(rec);
		if (!r->err) {
			r->err = rc < 0 ? rc : WA_ENOMEM;
			snprintf(r->errwhy, sizeof r->errwhy, "inbox '%s': %s", wa_spool_dir(r->o.spool),
			    wa_strerror(r->err));
		}
		return WA_ESYS;
	}
	r->nkeys++;
	r->msgs[r->nmsgs++].rec = rec;
	return 0;
}

/* A message id wa stores: 1..128 printable ASCII bytes, no space (the
 * spool's key rule; WhatsApp's ids are hex or base32-like). */
static int
id_ok(const char *id)
{
	size_t i;

	if (!id || !*id)
		return 0;
	for (i = 0; id[i]; i++)
		if (i >= 128 || (unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f)
			return 0;
	return 1;
}

static int
take_message(struct wa_recv *r, const struct wa_node *n)
{
	struct who w;
	struct outcome oc;
	char key[WA_SPOOL_KEY_MAX];
	const char *id = wa_node_attr(n, "id");
	size_t i, nenc = 0;
	int rc, seen, pass;
	json_t *rec;

	if (wa_node_attr(n, "offline") && r->offline_open)
		r->offline_count++;
	if (!id_ok(id) || parse_who(r, n, &w) < 0)
		return queue_ack(r, n, "message", 0, NACK_PARSE);
	if (snprintf(key, sizeof key, "%s/%s/%s", w.chat, w.author, id) >= (int)sizeof key)
		return queue_ack(r, n, "message", 0, NACK_PARSE);
	for (i = 0; i < n->nchildren; i++)
		if (strcmp(n->children[i]->tag, "enc") == 0)
			nenc++;
	memset(&oc, 0, sizeof oc);
	learn_mapping(r, &w);
	/* direct messages first (they carry the SKDM), then the group's */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n->nchildren; i++) {
			const struct wa_node *e = n->children[i];
			const char *type = wa_node_attr(e, "type");
			int sk;
			if (strcmp(e->tag, "enc") != 0 || !type)
				continue;
			if (strcmp(type, "msmsg") == 0) {
				oc.msmsg = 1;
				continue;
			}
			if (strcmp(type, "pkmsg") != 0 && strcmp(type, "msg") != 0 && strcmp(type, "skmsg") != 0)
				continue;
			sk = strcmp(type, "skmsg") == 0;
			if (sk != pass)
				continue;
			oc.any_enc = 1;
			oc.direct |= !sk;
			if (!oc.content && !oc.storage)
				decrypt_enc(r, &w, e, &oc);
		}
	if (oc.storage) {
		rc = 0;		/* the batch fails at flush: no reply, no record */
		goto out;
	}
	seen = wa_spool_seen(r->o.spool, key) || batch_has_key(r, key);
	if (!oc.any_enc) {
		wa_msg_free(oc.content);
		free(oc.content_pt);
		if (seen)
			return queue_receipt(r, n, &w, NULL);
		return queue_ack(r, n, "message", 0, oc.msmsg ? NACK_MISSING_SECRET : NACK_UNRECOGNIZED);
	}
	if (seen) {
		/* stored before: the state caught up above; answer again */
		r->stats.duplicates++;
		wa_msg_free(oc.content);
		free(oc.content_pt);
		return queue_receipt(r, n, &w, w.from_me ? "sender" : NULL);
	}
	if (!oc.content && oc.reason[0] && r->o.retries) {
		/* ask the sender again (or, past the limit, store it as it is);
		 * also for a counter already used: the message is not in the
		 * spool (a redelivery is, above), so the sender's own state went
		 * back (its unsynced session writes lost in a power cut) and
		 * only a fresh session brings it forward (3206) */
		if ((rc = retry_or_give_up(r, n, &w, &oc, key)) != 0) {
			rc = rc < 0 ? rc : 0;
			goto out;
		}
	} else if (oc.content && r->o.retries && wa_retries_get(r->o.retries, key)) {
		repaired(r, &w, key);
	}
	if (!oc.content && !oc.reason[0]) {
		/* only a sender-key distribution (or keys): nothing to store */
		rc = queue_receipt(r, n, &w, w.from_me ? "sender" : NULL);
		goto out;
	}
	if (oc.appstate_keys && r->o.on_event) {
		json_t *ev = json_pack("{s:I}", "count", (json_int_t)oc.appstate_keys);
		if (ev)
			r->o.on_event(r->o.arg, "appstate_keys", ev);
		json_decref(ev);
	}
	if (!(rec = make_record(r, n, &w, &oc))) {
		rc = WA_ENOMEM;
		goto out;
	}
	if (!oc.content)
		event_undecryptable(r, n, &w, &oc);
	if ((rc = stage_record(r, key, rec)) < 0) {
		/* a storage failure fails the whole batch at flush: no reply */
		if (rc == WA_ESYS)
			rc = 0;
		goto out;
	}
	if (oc.content)
		rc = queue_receipt(r, n, &w, w.from_me ? "sender" : NULL);
	else
		rc = queue_ack(r, n, "message", 0, 0);
	if (rc == 0 && oc.hist_sync)
		rc = queue_hist_receipt(r, n);
out:
	wa_msg_free(oc.content);
	free(oc.content_pt);
	return rc;
}

static int
take_receipt(struct wa_recv *r, const struct wa_node *n)
{
	r->stats.receipts_in++;
	if (r->o.on_receipt)
		r->o.on_receipt(r->o.arg, n);
	return queue_ack(r, n, "receipt", 1, 0);
}

/* <notification type=encrypt><identity/></notification> from a user: its
 * identity changed (it re-registered); the sessions with it are of no use
 * any more and go to quarantine with the commit, so its next pkmsg starts
 * afresh (whatsmeow drops identities and sessions, §12.5). */
static void
identity_changed(struct wa_recv *r, const struct wa_node *n)
{
	const char *from = wa_node_attr(n, "from");
	struct wa_sigaddr a;
	struct wa_why why = WA_WHY_INIT;
	uint32_t dev;
	unsigned long dropped = 0;
	json_t *ev;

	if (!from || wa_sigstore_resolve(r->o.store, &a, from, &why) < 0)
		return;
	/* devices 0..99 of the user (Baileys names sessions by device) */
	for (dev = 0; dev < 100; dev++) {
		char name[256], id[WA_SIGNAL_ADDR_MAX + 8];
		const json_t *doc;
		a.device = dev;
		if (wa_sigaddr_file(name, sizeof name, WA_FT_SESSION, &a) < 0)
			continue;
		if (wa_sigstore_get(r->o.store, &doc, name, NULL) == 0 && wa_sigstore_put(r->o.store, name, NULL) == 0)
			dropped++;
		if (wa_sigaddr_id(id, sizeof id, &a) == 0 &&
		    wa_sigaddr_file(name, sizeof name, WA_FT_IDENTITY_KEY, &a) == 0 &&
		    wa_sigstore_get(r->o.store, &doc, name, NULL) == 0)
			(void)wa_sigstore_put(r->o.store, name, NULL);
	}
	if (r->o.on_event && (ev = json_pack("{s:s, s:I}", "jid", from, "sessions", (json_int_t)dropped))) {
		r->o.on_event(r->o.arg, "identity", ev);
		json_decref(ev);
	}
}

static int
take_notification(struct wa_recv *r, const struct wa_node *n)
{
	const char *type = wa_node_attr(n, "type");

	r->stats.notifications++;
	if (type && strcmp(type, "encrypt") == 0 && wa_node_child(n, "identity"))
		identity_changed(r, n);
	return queue_ack(r, n, "notification", 1, 0);
}

static int
take_call(struct wa_recv *r, const struct wa_node *n)
{
	r->stats.calls++;
	return queue_ack(r, n, "call", 0, 0);
}

static void
take_ib(struct wa_recv *r, const struct wa_node *n)
{
	const struct wa_node *c;

	if (wa_node_child(n, "offline_preview") && !r->offline_open) {
		r->offline_open = 1;
		r->offline_count = 0;
		r->offline_start = now_ms();
	}
	if ((c = wa_node_child(n, "offline"))) {
		int64_t ms = r->offline_open ? now_ms() - r->offline_start : 0;
		unsigned long count = r->offline_count;
		const char *v = wa_node_attr(c, "count");
		if (!r->offline_open && v)
			count = strtoul(v, NULL, 10);
		r->offline_open = 0;
		r->offline_pending = 1;
		r->offline_report_count = count;
		r->offline_report_ms = ms;
	}
}

int
wa_recv_node(struct wa_recv *r, const struct wa_node *n)
{
	int rc;

	if (strcmp(n->tag, "message") == 0)
		rc = take_message(r, n);
	else if (strcmp(n->tag, "receipt") == 0)
		rc = take_receipt(r, n);
	else if (strcmp(n->tag, "notification") == 0) {
		/* the session answers the pre-key count itself */
		const char *type = wa_node_attr(n, "type");
		if (type && strcmp(type, "encrypt") == 0 && wa_node_child(n, "count"))
			return 0;
		rc = take_notification(r, n);
	} else if (strcmp(n->tag, "call") == 0)
		rc = take_call(r, n);
	else if (strcmp(n->tag, "ib") == 0) {
		take_ib(r, n);
		return 0;	/* others may want it too */
	} else
		return 0;
	if (rc < 0)
		return rc;
	r->taken++;
	return 1;
}

int
wa_recv_tick(struct wa_recv *r, int64_t now)
{
	const json_t *all;
	const char *key;
	json_t *e, *due = NULL;
	size_t i;
	int rc = 0;

	if (!r->o.retries || !(all = wa_retries_all(r->o.retries)) || json_object_size(all) == 0)
		return 0;
	json_object_foreach((json_t *)all, key, e)
		if (now - json_integer_value(json_object_get(e, "last")) >= r->o.retry_wait_ms) {
			if (!due && !(due = json_array()))
				return WA_ENOMEM;
			json_array_append_new(due, json_string(key));
		}
	for (i = 0; due && i < json_array_size(due); i++) {
		const char *k = json_string_value(json_array_get(due, i));
		const char *const attrs[] = { "from", "participant", "recipient", "t", "notify", "offline", "id" };
		struct wa_node *n;
		struct who w;
		struct outcome oc;
		json_t *rec;
		size_t j;

		e = wa_retries_get(r->o.retries, k);
		if (wa_node_new(&n, "message") < 0) {
			rc = WA_ENOMEM;
			break;
		}
		for (j = 0; j < sizeof attrs / sizeof attrs[0]; j++) {
			const char *v = json_string_value(json_object_get(e, attrs[j]));
			if (v)
				wa_node_attr_set(n, attrs[j], v);
		}
		memset(&oc, 0, sizeof oc);
		snprintf(oc.reason, sizeof oc.reason, "%s", json_string_value(json_object_get(e, "class")) ?: "internal");
		snprintf(oc.detail, sizeof oc.detail, "no answer to retry %lld within %ld ms: %s",
		    (long long)json_integer_value(json_object_get(e, "count")), r->o.retry_wait_ms,
		    json_string_value(json_object_get(e, "detail")) ?: "");
		wa_retries_put(r->o.retries, k, NULL);
		if (parse_who(r, n, &w) < 0 || wa_spool_seen(r->o.spool, k) || batch_has_key(r, k)) {
			wa_node_free(n);
			continue;
		}
		if (!(rec = make_record(r, n, &w, &oc)) || (rc = stage_record(r, k, rec)) < 0) {
			wa_node_free(n);
			if (!rec)
				rc = WA_ENOMEM;
			break;
		}
		r->taken++;
		event_undecryptable(r, n, &w, &oc);
		wa_node_free(n);
	}
	json_decref(due);
	return rc;
}

int
wa_recv_flush(struct wa_recv *r, struct wa_why *why)
{
	size_t i;
	int rc = 0;

	if (r->err) {
		rc = r->err;
		wa_why_set(why, rc, "%s", r->errwhy);
		goto fail;
	}
	if (r->taken == 0 && !r->offline_pending)
		return 0;
	if (wa_spool_pending(r->o.spool) > 0 && (rc = wa_spool_commit(r->o.spool, why)) < 0)
		goto fail;
	if ((rc = wa_sigstore_commit(r->o.store, why)) < 0) {
		/* the messages are stored and recorded; the state is behind,
		 * which a redelivery repairs: nothing is sent now */
		drop_batch(r);
		return rc;
	}
	if (r->o.retries && (rc = wa_retries_save(r->o.retries, why)) < 0) {
		/* the retry receipts depend on the counts: send nothing */
		drop_batch(r);
		return rc;
	}
	wa_sigstore_trim(r->o.store, 4096);
	r->stats.batches++;
	for (i = 0; i < r->nmsgs; i++) {
		char path[4096];
		struct wa_recv_msg m;
		const char *st = json_string_value(json_object_get(r->msgs[i].rec, "status"));
		snprintf(path, sizeof path, "%s/new/%s", wa_spool_dir(r->o.spool), r->msgs[i].name);
		m.rec = r->msgs[i].rec;
		m.path = path;
		r->stats.messages++;
		if (st && strcmp(st, "ok") != 0)
			r->stats.undecryptable++;
		r->stats.last_message_ms = now_ms();
		if (r->o.on_message)
			r->o.on_message(r->o.arg, &m);
	}
	for (i = 0; i < r->nout; i++) {
		wa_durable_mark("%s %s", r->out[i]->tag, wa_node_attr(r->out[i], "id"));
		if (r->o.send && r->o.send(r->o.arg, r->out[i]) < 0)
			break;
	}
	drop_batch(r);
	if (r->offline_pending) {
		r->offline_pending = 0;
		if (r->o.on_offline)
			r->o.on_offline(r->o.arg, r->offline_report_count, r->offline_report_ms);
	}
	return 0;
fail:
	wa_spool_abort(r->o.spool);
	wa_sigstore_rollback(r->o.store);
	drop_batch(r);
	r->err = 0;
	return rc;
}
