/*
 * cipher.c - libsignal-protocol-c's session and group ciphers on a
 * wa_sigstore, errors sorted into classes (cipher.h).
 *
 * libsignal-protocol-c reports a MAC that does not verify and a message
 * it cannot parse with the same code (SG_ERR_INVALID_MESSAGE), so each
 * message is parsed first: what fails to parse is invalid_message, what
 * parses and then fails is bad_mac.  A store callback that fails names
 * its file in the store (wa_sigstore_corrupt): that wins over any code.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <signal/session_builder.h>
#include <signal/session_cipher.h>
#include <signal/session_pre_key.h>
#include <signal/group_cipher.h>
#include <signal/group_session_builder.h>
#include <signal/protocol.h>
#include <signal/sender_key.h>
#include <signal/sender_key_record.h>
#include <signal/sender_key_state.h>

#include "base/bufjson.h"

#include "signal/cipher.h"

static const char *const names[] = {
	[WA_SIGF_NONE] = "ok",
	[WA_SIGF_NO_SESSION] = "no_session",
	[WA_SIGF_BAD_MAC] = "bad_mac",
	[WA_SIGF_INVALID_PREKEY] = "invalid_prekey",
	[WA_SIGF_NO_SENDER_KEY] = "no_sender_key",
	[WA_SIGF_DUPLICATE] = "duplicate",
	[WA_SIGF_UNTRUSTED] = "untrusted_identity",
	[WA_SIGF_INVALID_MESSAGE] = "invalid_message",
	[WA_SIGF_CORRUPT] = "corrupt_store",
	[WA_SIGF_STORAGE] = "storage",
	[WA_SIGF_BAD_REQUEST] = "bad_request",
	[WA_SIGF_INTERNAL] = "internal",
};

const char *
wa_sigclass_name(enum wa_sigclass c)
{
	return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "internal";
}

static int __attribute__((format(printf, 3, 4)))
fail(struct wa_sigfail *f, enum wa_sigclass c, const char *fmt, ...)
{
	va_list ap;

	f->cls = c;
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof f->detail, fmt, ap);
	va_end(ap);
	return -1;
}

/* Classify a libsignal-protocol-c code; a named corrupt file wins. */
static int
sgfail(struct wa_sigfail *f, struct wa_sigstore *st, int sg, int group, const char *what)
{
	const char *why, *file;

	if (wa_sigstore_syserr(st, &why) < 0)
		return fail(f, WA_SIGF_STORAGE, "%s: %s", what, why);
	file = wa_sigstore_corrupt(st, &why);
	if (file[0])
		return fail(f, WA_SIGF_CORRUPT, "'%s': %s", file, why);
	switch (sg) {
	case SG_ERR_NO_SESSION:
		return fail(f, group ? WA_SIGF_NO_SENDER_KEY : WA_SIGF_NO_SESSION, "%s: no %s", what,
		    group ? "sender key" : "session");
	case SG_ERR_INVALID_MESSAGE:
	case SG_ERR_INVALID_MAC:
		return fail(f, WA_SIGF_BAD_MAC, "%s: does not verify", what);
	case SG_ERR_DUPLICATE_MESSAGE:
		return fail(f, WA_SIGF_DUPLICATE, "%s: counter already used", what);
	case SG_ERR_INVALID_KEY_ID:
		return fail(f, group ? WA_SIGF_NO_SENDER_KEY : WA_SIGF_INVALID_PREKEY, "%s: %s", what,
		    group ? "no sender key state for its key id" : "pre-key not found (consumed or unknown)");
	case SG_ERR_UNTRUSTED_IDENTITY:
		return fail(f, WA_SIGF_UNTRUSTED, "%s: identity not trusted", what);
	case SG_ERR_INVALID_PROTO_BUF:
	case SG_ERR_INVALID_VERSION:
	case SG_ERR_LEGACY_MESSAGE:
	case SG_ERR_INVALID_KEY:
		return fail(f, WA_SIGF_INVALID_MESSAGE, "%s: malformed (%d)", what, sg);
	default:
		return fail(f, WA_SIGF_INTERNAL, "%s: libsignal error %d", what, sg);
	}
}

static int
resolve(struct wa_sigaddr *a, signal_protocol_address *sa, struct wa_sigstore *st,
    const char *jid, struct wa_sigfail *f)
{
	struct wa_why why = { "" };
	const char *cwhy, *file;
	int rc;

	if ((rc = wa_sigstore_resolve(st, a, jid, &why)) < 0) {
		if (wa_sigstore_syserr(st, &cwhy) < 0)
			return fail(f, WA_SIGF_STORAGE, "%s", cwhy);
		file = wa_sigstore_corrupt(st, &cwhy);
		if (file[0])
			return fail(f, WA_SIGF_CORRUPT, "'%s': %s", file, cwhy);
		return fail(f, WA_SIGF_BAD_REQUEST, "%s", why.text);
	}
	sa->name = a->name;
	sa->name_len = strlen(a->name);
	sa->device_id = (int32_t)a->device;
	return 0;
}

static int
pub33(uint8_t out[33], ec_public_key *k)
{
	signal_buffer *b = NULL;
	int ok;

	if (ec_public_key_serialize(&b, k) < 0)
		return -1;
	ok = signal_buffer_len(b) == 33;
	if (ok)
		memcpy(out, signal_buffer_data(b), 33);
	signal_buffer_free(b);
	return ok ? 0 : -1;
}

/* The WhisperMessage fields libsignal-protocol-c does not expose. */
static void
message_hint(struct wa_sessjson_hint *h, const uint8_t *m, size_t len)
{
	size_t i = 1;

	memset(h, 0, sizeof *h);
	if (len < 9)
		return;
	len -= 8;
	while (i < len) {
		uint64_t key = 0, v = 0;
		int sh = 0;
		while (i < len && sh < 64) {
			key |= (uint64_t)(m[i] & 0x7f) << sh;
			sh += 7;
			if (!(m[i++] & 0x80))
				break;
		}
		if ((key & 7) == 0) {
			sh = 0;
			while (i < len && sh < 64) {
				v |= (uint64_t)(m[i] & 0x7f) << sh;
				sh += 7;
				if (!(m[i++] & 0x80))
					break;
			}
			if (key >> 3 == 2)
				h->counter = (uint32_t)v;
			else if (key >> 3 == 3)
				h->previous_counter = (uint32_t)v;
		} else if ((key & 7) == 2) {
			sh = 0;
			while (i < len && sh < 64) {
				v |= (uint64_t)(m[i] & 0x7f) << sh;
				sh += 7;
				if (!(m[i++] & 0x80))
					break;
			}
			if (v > len - i)
				return;
			if (key >> 3 == 1 && v == 33)
				memcpy(h->ratchet, m + i, 33);
			i += v;
		} else {
			return;
		}
	}
	h->have = 1;
}

static int
out_buf(uint8_t **out, size_t *len, signal_buffer *b)
{
	*len = signal_buffer_len(b);
	if (!(*out = malloc(*len ? *len : 1)))
		return -1;
	memcpy(*out, signal_buffer_data(b), *len);
	return 0;
}

/*
 * libsignal-node refuses a message more than 2000 keys ahead of its chain
 * (fillMessageKeys: counter - chain counter > 2000, the chain counter
 * being the last index derived, -1 for a new chain), and a ratchet step
 * whose previous chain would need more than 2000 keys filled;
 * libsignal-protocol-c allows one more (counter - next index > 2000).
 * Refuse what libsignal-node refuses, before C changes anything.
 */
static int
too_far(struct wa_sigstore *st, const struct wa_sigaddr *a, const struct wa_sessjson_hint *h, int pkmsg)
{
	char file[300], *rk;
	const json_t *doc, *sessions, *e, *open = NULL;
	const char *k;
	long long lim = 2000;

	if (!h->have)
		return 0;
	if (wa_sigaddr_file(file, sizeof file, WA_FT_SESSION, a) < 0 ||
	    wa_sigstore_get(st, &doc, file, NULL) < 0 || !(sessions = json_object_get(doc, "_sessions")))
		return pkmsg && (long long)h->counter + 1 > lim;   /* a msg: no session, C says so */
	if (!(rk = wa_base64_encode(h->ratchet, 33)))
		return 0;
	json_object_foreach((json_t *)sessions, k, e) {
		const json_t *c = json_object_get(json_object_get(e, "_chains"), rk);
		if (json_integer_value(json_object_get(json_object_get(e, "indexInfo"), "closed")) == -1 && !open)
			open = e;
		if (c && json_integer_value(json_object_get(c, "chainType")) == 2) {
			long long cnt = json_integer_value(json_object_get(json_object_get(c, "chainKey"), "counter"));
			free(rk);
			return (long long)h->counter - cnt > lim;
		}
	}
	free(rk);
	if ((long long)h->counter + 1 > lim)
		return 1;
	if (open) {
		const json_t *lr = json_object_get(json_object_get(open, "currentRatchet"), "lastRemoteEphemeralKey");
		const json_t *pc = json_is_string(lr) ? json_object_get(json_object_get(open, "_chains"), json_string_value(lr)) : NULL;
		const json_t *ck = json_object_get(pc, "chainKey");
		if (ck && json_object_get(ck, "key") &&
		    (long long)h->previous_counter - json_integer_value(json_object_get(ck, "counter")) > lim)
			return 1;
	}
	return 0;
}

int
wa_sigcipher_decrypt(uint8_t **pt, size_t *ptlen, struct wa_sigstore *st, const char *jid,
    int type, const uint8_t *ct, size_t ctlen, struct wa_sigfail *f)
{
	signal_context *sc = wa_sigstore_signal(st);
	signal_protocol_address sa;
	struct wa_sigaddr a;
	pre_key_signal_message *pk = NULL;
	signal_message *sm = NULL;
	session_cipher *c = NULL;
	signal_buffer *plain = NULL;
	struct wa_sessjson_hint h;
	struct wa_sessjson_bob bob;
	int rc = -1, sg;

	*pt = NULL;
	*ptlen = 0;
	memset(f, 0, sizeof *f);
	wa_sigstore_op_begin(st);
	if (resolve(&a, &sa, st, jid, f) < 0)
		goto out;
	if (type == WA_SIG_PKMSG) {
		const struct wa_keyjson_creds *cr = wa_sigstore_creds(st);
		struct wa_why why = { "" };
		uint8_t id[33];
		int changed;
		signal_buffer *inner;

		if (pre_key_signal_message_deserialize(&pk, ct, ctlen, sc) < 0 ||
		    pub33(id, pre_key_signal_message_get_identity_key(pk)) < 0) {
			fail(f, WA_SIGF_INVALID_MESSAGE, "not a pkmsg");
			goto out;
		}
		if (wa_sigstore_save_identity(st, &a, id, &changed, &why) < 0) {
			sgfail(f, st, SG_ERR_UNKNOWN, 0, "pkmsg");
			goto out;
		}
		memset(&bob, 0, sizeof bob);
		memcpy(bob.identity_priv, cr->identity.priv, 32);
		memcpy(bob.signed_pub, cr->spk.pub, 32);
		memcpy(bob.signed_priv, cr->spk.priv, 32);
		memcpy(bob.their_identity, id, 33);
		pub33(bob.their_base, pre_key_signal_message_get_base_key(pk));
		bob.their_regid = pre_key_signal_message_get_registration_id(pk);
		if (pre_key_signal_message_has_pre_key_id(pk)) {
			char name[64], idtxt[16];
			const json_t *doc;
			struct wa_keypair kp;
			snprintf(idtxt, sizeof idtxt, "%u", pre_key_signal_message_get_pre_key_id(pk));
			wa_fname_make(name, sizeof name, WA_FT_PRE_KEY, idtxt);
			if (wa_sigstore_get(st, &doc, name, NULL) == 0 && wa_keyjson_prekey(&kp, doc, NULL) == 0) {
				bob.has_onetime = 1;
				memcpy(bob.onetime_priv, kp.priv, 32);
				wa_curve_keypair_wipe(&kp);
			}
		}
		inner = ciphertext_message_get_serialized((ciphertext_message *)pre_key_signal_message_get_signal_message(pk));
		message_hint(&h, signal_buffer_data(inner), signal_buffer_len(inner));
		wa_sigstore_hint(st, &h, &bob);
		OPENSSL_cleanse(&bob, sizeof bob);
		if (too_far(st, &a, &h, 1)) {
			fail(f, WA_SIGF_INVALID_MESSAGE, "pkmsg: over 2000 messages into the future");
			goto out;
		}
		if ((sg = session_cipher_create(&c, wa_sigstore_ctx(st), &sa, sc)) < 0) {
			sgfail(f, st, sg, 0, "pkmsg");
			goto out;
		}
		sg = session_cipher_decrypt_pre_key_signal_message(c, pk, NULL, &plain);
		if (sg < 0) {
			sgfail(f, st, sg, 0, "pkmsg");
			goto out;
		}
	} else {
		if (signal_message_deserialize(&sm, ct, ctlen, sc) < 0) {
			fail(f, WA_SIGF_INVALID_MESSAGE, "not a msg");
			goto out;
		}
		message_hint(&h, ct, ctlen);
		wa_sigstore_hint(st, &h, NULL);
		if (too_far(st, &a, &h, 0)) {
			fail(f, WA_SIGF_INVALID_MESSAGE, "msg: over 2000 messages into the future");
			goto out;
		}
		if ((sg = session_cipher_create(&c, wa_sigstore_ctx(st), &sa, sc)) < 0) {
			sgfail(f, st, sg, 0, "msg");
			goto out;
		}
		sg = session_cipher_decrypt_signal_message(c, sm, NULL, &plain);
		if (sg < 0) {
			sgfail(f, st, sg, 0, "msg");
			goto out;
		}
	}
	if (out_buf(pt, ptlen, plain) < 0) {
		fail(f, WA_SIGF_INTERNAL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	wa_sigstore_op_end(st, rc == 0);
	if (plain)
		signal_buffer_bzero_free(plain);
	session_cipher_free(c);
	SIGNAL_UNREF(pk);
	SIGNAL_UNREF(sm);
	return rc;
}

int
wa_sigcipher_encrypt(uint8_t **ct, size_t *ctlen, int *type, struct wa_sigstore *st,
    const char *jid, const uint8_t *pt, size_t ptlen, struct wa_sigfail *f)
{
	signal_protocol_address sa;
	struct wa_sigaddr a;
	session_cipher *c = NULL;
	ciphertext_message *m = NULL;
	int rc = -1, sg;

	*ct = NULL;
	*ctlen = 0;
	memset(f, 0, sizeof *f);
	wa_sigstore_op_begin(st);
	if (resolve(&a, &sa, st, jid, f) < 0)
		goto out;
	if (!signal_protocol_session_contains_session(wa_sigstore_ctx(st), &sa)) {
		sgfail(f, st, SG_ERR_NO_SESSION, 0, "encrypt");
		goto out;
	}
	if ((sg = session_cipher_create(&c, wa_sigstore_ctx(st), &sa, wa_sigstore_signal(st))) < 0 ||
	    (sg = session_cipher_encrypt(c, pt, ptlen, &m)) < 0) {
		sgfail(f, st, sg, 0, "encrypt");
		goto out;
	}
	*type = ciphertext_message_get_type(m) == CIPHERTEXT_PREKEY_TYPE ? WA_SIG_PKMSG : WA_SIG_MSG;
	if (out_buf(ct, ctlen, ciphertext_message_get_serialized(m)) < 0) {
		fail(f, WA_SIGF_INTERNAL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	wa_sigstore_op_end(st, rc == 0);
	session_cipher_free(c);
	SIGNAL_UNREF(m);
	return rc;
}

int
wa_sigcipher_process_bundle(struct wa_sigstore *st, const char *jid,
    const struct wa_sigbundle *b, struct wa_sigfail *f)
{
	signal_context *sc = wa_sigstore_signal(st);
	signal_protocol_address sa;
	struct wa_sigaddr a;
	ec_public_key *ik = NULL, *spk = NULL, *pk = NULL;
	session_pre_key_bundle *bundle = NULL;
	session_builder *sb = NULL;
	int rc = -1, sg;

	memset(f, 0, sizeof *f);
	wa_sigstore_op_begin(st);
	if (resolve(&a, &sa, st, jid, f) < 0)
		goto out;
	if (curve_decode_point(&ik, b->identity, 33, sc) < 0 || curve_decode_point(&spk, b->spk, 33, sc) < 0 ||
	    (b->has_prekey && curve_decode_point(&pk, b->prekey, 33, sc) < 0)) {
		fail(f, WA_SIGF_BAD_REQUEST, "bundle: bad public key");
		goto out;
	}
	/* libsignal-node's initOutgoing stores no identity (Baileys stores it
	 * from the first pkmsg); libsignal-protocol-c would */
	wa_sigstore_identity_save_off(st);
	if (session_pre_key_bundle_create(&bundle, b->regid, (int)a.device, b->has_prekey ? b->prekey_id : 0,
	    pk, b->spk_id, spk, b->spk_sig, 64, ik) < 0 ||
	    (sg = session_builder_create(&sb, wa_sigstore_ctx(st), &sa, sc)) < 0) {
		fail(f, WA_SIGF_INTERNAL, "bundle: out of memory");
		goto out;
	}
	sg = session_builder_process_pre_key_bundle(sb, bundle);
	if (sg == SG_ERR_INVALID_KEY) {
		fail(f, WA_SIGF_BAD_REQUEST, "bundle: signed pre-key signature does not verify");
		goto out;
	}
	if (sg < 0) {
		sgfail(f, st, sg, 0, "bundle");
		goto out;
	}
	rc = 0;
out:
	wa_sigstore_op_end(st, rc == 0);
	session_builder_free(sb);
	SIGNAL_UNREF(bundle);
	SIGNAL_UNREF(ik);
	SIGNAL_UNREF(spk);
	SIGNAL_UNREF(pk);
	return rc;
}

/* ---- groups ----------------------------------------------------------- */

static int
sk_name(signal_protocol_sender_key_name *n, struct wa_sigaddr *a, struct wa_sigstore *st,
    const char *group, const char *jid, struct wa_sigfail *f)
{
	char file[512];

	/* Baileys names sender keys by the JID's own address, without the
	 * LID mapping (jidToSignalSenderKeyName) */
	if (wa_sigaddr_from_jid(a, jid) < 0)
		return fail(f, WA_SIGF_BAD_REQUEST, "not a user JID Baileys would take");
	if (wa_sigaddr_sender_key_file(file, sizeof file, group, a) < 0)
		return fail(f, WA_SIGF_BAD_REQUEST, "not a group JID");
	n->group_id = group;
	n->group_id_len = strlen(group);
	n->sender.name = a->name;
	n->sender.name_len = strlen(a->name);
	n->sender.device_id = (int32_t)a->device;
	return 0;
}

/*
 * Baileys' GroupCipher.encrypt (lib/Signal/Group/group_cipher.js) sends
 * at iteration 0, then at chain iteration + 1: every message after the
 * first skips one iteration and keeps its key among the sender message
 * keys.  Do the same, so that our sender-key file is what Baileys would
 * have written (receivers cope with the gap either way).
 */
static int
baileys_skip(struct wa_sigstore *st, const signal_protocol_sender_key_name *n)
{
	sender_key_record *r = NULL;
	sender_key_state *s = NULL;
	sender_chain_key *ck, *next = NULL;
	sender_message_key *mk = NULL;
	int rc;

	if ((rc = signal_protocol_sender_key_load_key(wa_sigstore_ctx(st), &r, n)) < 0)
		return rc;
	if ((rc = sender_key_record_get_sender_key_state(r, &s)) < 0 || !s)
		goto out;
	ck = sender_key_state_get_chain_key(s);
	if (sender_chain_key_get_iteration(ck) == 0)
		goto out;
	if ((rc = sender_chain_key_create_message_key(ck, &mk)) < 0 ||
	    (rc = sender_key_state_add_sender_message_key(s, mk)) < 0 ||
	    (rc = sender_chain_key_create_next(ck, &next)) < 0)
		goto out;
	sender_key_state_set_chain_key(s, next);
	rc = signal_protocol_sender_key_store_key(wa_sigstore_ctx(st), n, r);
out:
	SIGNAL_UNREF(mk);
	SIGNAL_UNREF(next);
	SIGNAL_UNREF(r);
	return rc < 0 ? rc : 0;
}

int
wa_sigcipher_group_encrypt(uint8_t **skdm, size_t *skdmlen, uint8_t **ct, size_t *ctlen,
    struct wa_sigstore *st, const char *group, const uint8_t *pt, size_t ptlen, struct wa_sigfail *f)
{
	signal_context *sc = wa_sigstore_signal(st);
	signal_protocol_sender_key_name n;
	struct wa_sigaddr a;
	group_session_builder *gb = NULL;
	group_cipher *gc = NULL;
	sender_key_distribution_message *dm = NULL;
	ciphertext_message *m = NULL;
	int rc = -1, sg;

	*skdm = *ct = NULL;
	*skdmlen = *ctlen = 0;
	memset(f, 0, sizeof *f);
	wa_sigstore_op_begin(st);
	if (sk_name(&n, &a, st, group, wa_sigstore_creds(st)->me, f) < 0)
		goto out;
	if ((sg = group_session_builder_create(&gb, wa_sigstore_ctx(st), sc)) < 0 ||
	    (sg = group_session_builder_create_session(gb, &dm, &n)) < 0 ||
	    (sg = baileys_skip(st, &n)) < 0 ||
	    (sg = group_cipher_create(&gc, wa_sigstore_ctx(st), &n, sc)) < 0 ||
	    (sg = group_cipher_encrypt(gc, pt, ptlen, &m)) < 0) {
		sgfail(f, st, sg, 1, "group_encrypt");
		goto out;
	}
	if (out_buf(skdm, skdmlen, ciphertext_message_get_serialized((ciphertext_message *)dm)) < 0 ||
	    out_buf(ct, ctlen, ciphertext_message_get_serialized(m)) < 0) {
		free(*skdm);
		*skdm = NULL;
		fail(f, WA_SIGF_INTERNAL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	wa_sigstore_op_end(st, rc == 0);
	group_cipher_free(gc);
	group_session_builder_free(gb);
	SIGNAL_UNREF(dm);
	SIGNAL_UNREF(m);
	return rc;
}

int
wa_sigcipher_process_skdm(struct wa_sigstore *st, const char *group, const char *jid,
    const uint8_t *skdm, size_t len, struct wa_sigfail *f)
{
	signal_context *sc = wa_sigstore_signal(st);
	signal_protocol_sender_key_name n;
	struct wa_sigaddr a;
	group_session_builder *gb = NULL;
	sender_key_distribution_message *dm = NULL;
	int rc = -1, sg;

	memset(f, 0, sizeof *f);
	wa_sigstore_op_begin(st);
	if (sk_name(&n, &a, st, group, jid, f) < 0)
		goto out;
	if (sender_key_distribution_message_deserialize(&dm, skdm, len, sc) < 0) {
		fail(f, WA_SIGF_INVALID_MESSAGE, "not a sender key distribution message");
		goto out;
	}
	if ((sg = group_session_builder_create(&gb, wa_sigstore_ctx(st), sc)) < 0 ||
	    (sg = group_session_builder_process_session(gb, &n, dm)) < 0) {
		sgfail(f, st, sg, 1, "process_skdm");
		goto out;
	}
	rc = 0;
out:
	wa_sigstore_op_end(st, rc == 0);
	group_session_builder_free(gb);
	SIGNAL_UNREF(dm);
	return rc;
}

/* libsignal-protocol-c says SG_ERR_INVALID_MESSAGE both for a signature
 * that does not verify and for an iteration more than 2000 ahead of the
 * sender key's chain (the limit Baileys' GroupCipher has too): which? */
static int
sk_too_far(struct wa_sigstore *st, const signal_protocol_sender_key_name *n, sender_key_message *m)
{
	sender_key_record *r = NULL;
	sender_key_state *s = NULL;
	int far = 0;

	if (signal_protocol_sender_key_load_key(wa_sigstore_ctx(st), &r, n) < 0 || !r)
		return 0;
	if (sender_key_record_get_sender_key_state_by_id(r, &s, sender_key_message_get_key_id(m)) == 0 && s) {
		uint32_t have = sender_chain_key_get_iteration(sender_key_state_get_chain_key(s));
		uint32_t want = sender_key_message_get_iteration(m);
		far = want > have && want - have > 2000;
	}
	SIGNAL_UNREF(r);
	return far;
}

int
wa_sigcipher_group_decrypt(uint8_t **pt, size_t *ptlen, struct wa_sigstore *st,
    const char *group, const char *jid, const uint8_t *ct, size_t ctlen, struct wa_sigfail *f)
{
	signal_context *sc = wa_sigstore_signal(st);
	signal_protocol_sender_key_name n;
	struct wa_sigaddr a;
	group_cipher *gc = NULL;
	sender_key_message *m = NULL;
	signal_buffer *plain = NULL;
	int rc = -1, sg;

	*pt = NULL;
	*ptlen = 0;
	memset(f, 0, sizeof *f);
	wa_sigstore_op_begin(st);
	if (sk_name(&n, &a, st, group, jid, f) < 0)
		goto out;
	if (sender_key_message_deserialize(&m, ct, ctlen, sc) < 0) {
		fail(f, WA_SIGF_INVALID_MESSAGE, "not a skmsg");
		goto out;
	}
	if ((sg = group_cipher_create(&gc, wa_sigstore_ctx(st), &n, sc)) < 0 ||
	    (sg = group_cipher_decrypt(gc, m, NULL, &plain)) < 0) {
		if (sg == SG_ERR_INVALID_MESSAGE && sk_too_far(st, &n, m)) {
			fail(f, WA_SIGF_INVALID_MESSAGE, "skmsg: over 2000 messages into the future");
			goto out;
		}
		sgfail(f, st, sg, 1, "skmsg");
		goto out;
	}
	if (out_buf(pt, ptlen, plain) < 0) {
		fail(f, WA_SIGF_INTERNAL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	wa_sigstore_op_end(st, rc == 0);
	if (plain)
		signal_buffer_bzero_free(plain);
	group_cipher_free(gc);
	SIGNAL_UNREF(m);
	return rc;
}
