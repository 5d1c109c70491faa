/*
 * sessjson.c - libsignal-node SessionRecord JSON <-> libsignal-protocol-c
 * RecordStructure bytes (wa-signal(7), "Sessions").
 *
 * JSON -> C.  The open entry (the first with indexInfo.closed == -1, as
 * libsignal-node's getOpenSession picks it) becomes the current state, the
 * others the previous states, most recently used first (the order
 * libsignal-node tries them in).  Per entry:
 *   currentRatchet.rootKey, .previousCounter (at least 0), registrationId,
 *   indexInfo.remoteIdentityKey and .baseKey (C's aliceBaseKey) map field
 *   for field; our identity and registration id come from creds;
 *   the sending chain is _chains[ephemeralKeyPair.pubKey] (C index =
 *   counter + 1), with a zero placeholder when there is none;
 *   receiving chains (chainType 2): the last five in JSON order, each with
 *   its last 2000 message keys, every seed expanded with HKDF-SHA256(seed,
 *   32 zero bytes, "WhisperMessageKeys") into cipher key, MAC key and IV;
 *   a closed chain (no key) gets a zero placeholder chain key;
 *   pendingPreKey maps to C's unacknowledged pre-key message.
 *
 * C -> JSON starts from a copy of the old entry (so unknown fields, key
 * order and timestamps survive) and writes back what C may have changed.
 * A message key C holds that old has not got is rebuilt: in a chain old
 * knows, by iterating HMAC(ck, 2) from old's chain key and taking
 * HMAC(ck_i, 1) at each index C still holds; in the chain a DH ratchet
 * step made, from (rootKey', ck_0) = HKDF(DH(old ratchet private, new
 * ratchet key), salt old root key, "WhisperRatchet").  Either walk must
 * end at C's chain key, or the record is refused (WA_EMISMATCH).
 */
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "base/bufjson.h"
#include "crypto/curve.h"
#include "signal/sessjson.h"
#include "sigstore.pb-c.h"

typedef Wasig__SessionStructure SS;
typedef Wasig__SessionStructure__Chain Chain;
typedef Wasig__SessionStructure__Chain__ChainKey ChainKey;
typedef Wasig__SessionStructure__Chain__MessageKey MsgKey;
typedef Wasig__SessionStructure__PendingPreKey Pending;

static const uint8_t zero32[32];

/* ---- crypto ---------------------------------------------------------- */

static int
hmac(uint8_t out[32], const uint8_t *key, size_t klen, const void *d, size_t n)
{
	unsigned int olen = 32;

	return HMAC(EVP_sha256(), key, (int)klen, d, n, out, &olen) ? 0 : WA_ENOMEM;
}

/* HKDF-SHA256 (RFC 5869), len <= 96. */
static int
hkdf(uint8_t *out, size_t len, const uint8_t *ikm, size_t ikmlen, const uint8_t salt[32],
    const char *info)
{
	uint8_t prk[32], t[32 + 64 + 1], blk[32];
	size_t ilen = strlen(info), tlen = 0, done = 0;
	uint8_t i;

	if (hmac(prk, salt, 32, ikm, ikmlen) < 0)
		return WA_ENOMEM;
	for (i = 1; done < len; i++) {
		memcpy(t + tlen, info, ilen);
		t[tlen + ilen] = i;
		if (hmac(blk, prk, 32, t, tlen + ilen + 1) < 0)
			return WA_ENOMEM;
		memcpy(out + done, blk, len - done < 32 ? len - done : 32);
		done += 32;
		memcpy(t, blk, 32);
		tlen = 32;
	}
	OPENSSL_cleanse(prk, sizeof prk);
	OPENSSL_cleanse(blk, sizeof blk);
	OPENSSL_cleanse(t, sizeof t);
	return 0;
}

static int
seed_of(uint8_t seed[32], const uint8_t ck[32])
{
	static const uint8_t one = 1;
	return hmac(seed, ck, 32, &one, 1);
}

static int
next_ck(uint8_t ck[32])
{
	static const uint8_t two = 2;
	uint8_t n[32];

	if (hmac(n, ck, 32, &two, 1) < 0)
		return WA_ENOMEM;
	memcpy(ck, n, 32);
	OPENSSL_cleanse(n, 32);
	return 0;
}

/* ---- JSON helpers ----------------------------------------------------- */

/* Exactly n bytes of base64 from obj[key] (a string). */
static int
get_b64(uint8_t *out, size_t n, const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	uint8_t *b;
	size_t len;

	if (!json_is_string(v))
		return WA_ECORRUPT;
	if (wa_base64_decode(&b, &len, json_string_value(v), json_string_length(v)) < 0)
		return WA_ECORRUPT;
	if (len != n || (n == 33 && b[0] != WA_CURVE_DJB_TYPE)) {
		free(b);
		return WA_ECORRUPT;
	}
	memcpy(out, b, n);
	OPENSSL_cleanse(b, len);
	free(b);
	return 0;
}

static int
b64_of(uint8_t *out, size_t n, const char *s)
{
	uint8_t *b;
	size_t len;

	if (wa_base64_decode(&b, &len, s, strlen(s)) < 0)
		return WA_ECORRUPT;
	if (len != n || (n == 33 && b[0] != WA_CURVE_DJB_TYPE)) {
		free(b);
		return WA_ECORRUPT;
	}
	memcpy(out, b, n);
	free(b);
	return 0;
}

static int
set_b64(json_t *obj, const char *key, const uint8_t *b, size_t n)
{
	char *s = wa_base64_encode(b, n);
	int rc;

	if (!s)
		return WA_ENOMEM;
	rc = json_object_set_new(obj, key, json_string(s)) < 0 ? WA_ENOMEM : 0;
	free(s);
	return rc;
}

static int
get_int(long long *out, const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		return WA_ECORRUPT;
	*out = json_integer_value(v);
	return 0;
}

static int
set_int(json_t *obj, const char *key, long long v)
{
	return json_object_set_new(obj, key, json_integer(v)) < 0 ? WA_ENOMEM : 0;
}

/* A message-key index: a canonical decimal string (JS integer key). */
static int
key_index(const char *s, unsigned long *out)
{
	unsigned long v = 0;
	const char *p;

	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 9)
		return WA_ECORRUPT;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return WA_ECORRUPT;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	*out = v;
	return 0;
}

static int
cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
	return x < y ? -1 : x > y;
}

/* The lowest message-key index unpack loads from mk (it loads the highest
 * WA_SESSJSON_KEYS_MAX), 0 when it loads them all.  -1 on a bad key. */
static long
key_cutoff(const json_t *mk)
{
	size_t n = json_object_size(mk), i = 0;
	unsigned long *v, cut;
	const char *k;
	json_t *x;

	if (n <= WA_SESSJSON_KEYS_MAX) {
		json_object_foreach((json_t *)mk, k, x) {
			unsigned long u;
			if (key_index(k, &u) < 0)
				return -1;
		}
		return 0;
	}
	if (!(v = malloc(n * sizeof *v)))
		return -1;
	json_object_foreach((json_t *)mk, k, x) {
		if (key_index(k, &v[i++]) < 0) {
			free(v);
			return -1;
		}
	}
	qsort(v, n, sizeof *v, cmp_ul);
	cut = v[n - WA_SESSJSON_KEYS_MAX];
	free(v);
	return (long)cut;
}

/* Whether the receiving chain id in chains is one unpack loads (the last
 * WA_SESSJSON_RECV_MAX with chainType 2, in JSON order). */
static int
chain_loaded(const json_t *chains, const char *id)
{
	size_t total = 0, pos = 0;
	const char *k;
	json_t *c;

	json_object_foreach((json_t *)chains, k, c) {
		json_t *t = json_object_get(c, "chainType");
		if (json_is_integer(t) && json_integer_value(t) == 2) {
			total++;
			if (strcmp(k, id) == 0)
				pos = total;
		}
	}
	return pos && total - pos < WA_SESSJSON_RECV_MAX;
}

/* Every message key of mk: a canonical index and a 32-byte seed. */
static int
mkeys_ok(const json_t *mk)
{
	uint8_t seed[32];
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)mk, k, v) {
		unsigned long u;
		if (key_index(k, &u) < 0 || !json_is_string(v) || b64_of(seed, 32, json_string_value(v)) < 0)
			return 0;
	}
	OPENSSL_cleanse(seed, sizeof seed);
	return 1;
}

/* ---- JSON -> C -------------------------------------------------------- */

/* Every allocation of one unpack, freed together. */
struct arena {
	void **p;
	size_t n, cap;
};

static void *
amalloc(struct arena *a, size_t size)
{
	void *m;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		void **np = realloc(a->p, cap * sizeof *np);
		if (!np)
			return NULL;
		a->p = np;
		a->cap = cap;
	}
	if (!(m = calloc(1, size ? size : 1)))
		return NULL;
	a->p[a->n++] = m;
	return m;
}

static void
afree(struct arena *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->p[i]);
	free(a->p);
}

static uint8_t *
adup(struct arena *a, const uint8_t *b, size_t n)
{
	uint8_t *m = amalloc(a, n);

	if (m)
		memcpy(m, b, n);
	return m;
}

#define CORRUPT(what) do { wa_why_set(why, WA_ECORRUPT, "%s: %s", ekey, what); return WA_ECORRUPT; } while (0)
#define NOMEM(x) do { if (!(x)) return WA_ENOMEM; } while (0)

static int
chain_key_of(struct arena *a, Chain *ch, const json_t *c, int need_key, const char *ekey,
    struct wa_why *why)
{
	const json_t *ckj = json_object_get(c, "chainKey"), *kv;
	long long counter;
	uint8_t key[32];
	ChainKey *ck;

	if (!json_is_object(ckj) || get_int(&counter, ckj, "counter") < 0 || counter < -1 ||
	    counter > 0x7ffffffe)
		CORRUPT("bad chainKey.counter");
	kv = json_object_get(ckj, "key");
	if (kv) {
		if (get_b64(key, 32, ckj, "key") < 0)
			CORRUPT("bad chainKey.key");
	} else {
		if (need_key)
			CORRUPT("sending chain without a key");
		memset(key, 0, 32);
	}
	NOMEM(ck = amalloc(a, sizeof *ck));
	wasig__session_structure__chain__chain_key__init(ck);
	ck->has_index = ck->has_key = 1;
	ck->index = (uint32_t)(counter + 1);
	NOMEM(ck->key.data = adup(a, key, 32));
	ck->key.len = 32;
	ch->chainkey = ck;
	OPENSSL_cleanse(key, 32);
	return 0;
}

static int
msg_keys_of(struct arena *a, Chain *ch, const json_t *mk, const char *ekey, struct wa_why *why)
{
	long cut = key_cutoff(mk);
	size_t n = 0, i;
	unsigned long *idx;
	const char *k;
	json_t *v;

	if (cut < 0)
		CORRUPT("bad messageKeys index");
	NOMEM(idx = amalloc(a, (json_object_size(mk) + 1) * sizeof *idx));
	json_object_foreach((json_t *)mk, k, v) {
		unsigned long u;
		key_index(k, &u);
		if ((long)u >= cut)
			idx[n++] = u;
	}
	qsort(idx, n, sizeof *idx, cmp_ul);
	NOMEM(ch->messagekeys = amalloc(a, (n + 1) * sizeof *ch->messagekeys));
	for (i = 0; i < n; i++) {
		char ks[24];
		uint8_t seed[32], d[80];
		MsgKey *m;

		snprintf(ks, sizeof ks, "%lu", idx[i]);
		if (get_b64(seed, 32, mk, ks) < 0)
			CORRUPT("bad message key seed");
		if (hkdf(d, 80, seed, 32, zero32, "WhisperMessageKeys") < 0)
			return WA_ENOMEM;
		NOMEM(m = amalloc(a, sizeof *m));
		wasig__session_structure__chain__message_key__init(m);
		m->has_index = m->has_cipherkey = m->has_mackey = m->has_iv = 1;
		m->index = (uint32_t)idx[i];
		NOMEM(m->cipherkey.data = adup(a, d, 32));
		m->cipherkey.len = 32;
		NOMEM(m->mackey.data = adup(a, d + 32, 32));
		m->mackey.len = 32;
		NOMEM(m->iv.data = adup(a, d + 64, 16));
		m->iv.len = 16;
		ch->messagekeys[ch->n_messagekeys++] = m;
		OPENSSL_cleanse(d, sizeof d);
		OPENSSL_cleanse(seed, sizeof seed);
	}
	return 0;
}

static int
entry_to_state(struct arena *a, SS **out, const char *ekey, const json_t *e,
    const struct wa_sessjson_local *local, struct wa_why *why)
{
	const json_t *cr, *ii, *ekp, *chains, *pp, *c;
	uint8_t pub[33], priv[32], root[32], b33[33];
	long long pc, regid, v;
	size_t nrecv = 0, skip, i;
	const char *ck;
	char *b64;
	SS *s;
	Chain *snd;
	int rc;

	if (!json_is_object(e))
		CORRUPT("not an object");
	cr = json_object_get(e, "currentRatchet");
	ii = json_object_get(e, "indexInfo");
	chains = json_object_get(e, "_chains");
	if (!json_is_object(cr) || !json_is_object(ii) || !json_is_object(chains))
		CORRUPT("missing currentRatchet, indexInfo or _chains");
	ekp = json_object_get(cr, "ephemeralKeyPair");
	if (!json_is_object(ekp) || get_b64(pub, 33, ekp, "pubKey") < 0 ||
	    get_b64(priv, 32, ekp, "privKey") < 0)
		CORRUPT("bad currentRatchet.ephemeralKeyPair");
	if (get_b64(b33, 33, cr, "lastRemoteEphemeralKey") < 0)
		CORRUPT("bad currentRatchet.lastRemoteEphemeralKey");
	if (get_int(&pc, cr, "previousCounter") < 0 || pc < -1 || pc > 0xffffffffLL)
		CORRUPT("bad currentRatchet.previousCounter");
	if (get_b64(root, 32, cr, "rootKey") < 0)
		CORRUPT("bad currentRatchet.rootKey");
	if (get_int(&regid, e, "registrationId") < 0 || regid < 0 || regid > 0xffffffffLL)
		CORRUPT("bad registrationId");
	if (get_int(&v, ii, "closed") < 0 || get_int(&v, ii, "baseKeyType") < 0)
		CORRUPT("bad indexInfo.closed or baseKeyType");
	if (get_b64(b33, 33, ii, "baseKey") < 0)
		CORRUPT("bad indexInfo.baseKey");
	if (strcmp(json_string_value(json_object_get(ii, "baseKey")), ekey) != 0)
		CORRUPT("indexInfo.baseKey is not the entry's key");

	NOMEM(s = amalloc(a, sizeof *s));
	wasig__session_structure__init(s);
	s->has_sessionversion = 1;
	s->sessionversion = 3;
	s->has_localidentitypublic = 1;
	NOMEM(s->localidentitypublic.data = adup(a, local->identity, 33));
	s->localidentitypublic.len = 33;
	s->has_localregistrationid = 1;
	s->localregistrationid = local->regid;
	s->has_remoteregistrationid = 1;
	s->remoteregistrationid = (uint32_t)regid;
	s->has_alicebasekey = 1;
	NOMEM(s->alicebasekey.data = adup(a, b33, 33));
	s->alicebasekey.len = 33;
	if (get_b64(b33, 33, ii, "remoteIdentityKey") < 0)
		CORRUPT("bad indexInfo.remoteIdentityKey");
	s->has_remoteidentitypublic = 1;
	NOMEM(s->remoteidentitypublic.data = adup(a, b33, 33));
	s->remoteidentitypublic.len = 33;
	s->has_rootkey = 1;
	NOMEM(s->rootkey.data = adup(a, root, 32));
	s->rootkey.len = 32;
	s->has_previouscounter = 1;
	s->previouscounter = pc < 0 ? 0 : (uint32_t)pc;

	/* sending chain */
	NOMEM(snd = amalloc(a, sizeof *snd));
	wasig__session_structure__chain__init(snd);
	snd->has_senderratchetkey = snd->has_senderratchetkeyprivate = 1;
	NOMEM(snd->senderratchetkey.data = adup(a, pub, 33));
	snd->senderratchetkey.len = 33;
	NOMEM(snd->senderratchetkeyprivate.data = adup(a, priv, 32));
	snd->senderratchetkeyprivate.len = 32;
	b64 = wa_base64_encode(pub, 33);
	NOMEM(b64);
	c = json_object_get(chains, b64);
	free(b64);
	if (c) {
		long long t;
		if (!json_is_object(c) || get_int(&t, c, "chainType") < 0 || t != 1)
			CORRUPT("the ratchet key's chain is not a sending chain");
		if ((rc = chain_key_of(a, snd, c, 1, ekey, why)) < 0)
			return rc;
	} else {
		ChainKey *zk;
		NOMEM(zk = amalloc(a, sizeof *zk));
		wasig__session_structure__chain__chain_key__init(zk);
		zk->has_index = zk->has_key = 1;
		NOMEM(zk->key.data = adup(a, zero32, 32));
		zk->key.len = 32;
		snd->chainkey = zk;
	}
	s->senderchain = snd;

	/* receiving chains: check all, load the last WA_SESSJSON_RECV_MAX */
	json_object_foreach((json_t *)chains, ck, c) {
		long long t;
		if (!json_is_object(c) || get_int(&t, c, "chainType") < 0 || (t != 1 && t != 2) ||
		    !json_is_object(json_object_get(c, "messageKeys")) ||
		    !json_is_object(json_object_get(c, "chainKey")) || b64_of(b33, 33, ck) < 0)
			CORRUPT("bad chain");
		if (t == 2)
			nrecv++;
		if (!mkeys_ok(json_object_get(c, "messageKeys")))
			CORRUPT("bad message key");
	}
	skip = nrecv > WA_SESSJSON_RECV_MAX ? nrecv - WA_SESSJSON_RECV_MAX : 0;
	NOMEM(s->receiverchains = amalloc(a, (nrecv + 1) * sizeof *s->receiverchains));
	i = 0;
	json_object_foreach((json_t *)chains, ck, c) {
		Chain *r;
		if (json_integer_value(json_object_get(c, "chainType")) != 2)
			continue;
		if (i++ < skip) {
			/* not loaded, but still checked */
			if (key_cutoff(json_object_get(c, "messageKeys")) < 0)
				CORRUPT("bad messageKeys index");
			continue;
		}
		NOMEM(r = amalloc(a, sizeof *r));
		wasig__session_structure__chain__init(r);
		b64_of(b33, 33, ck);
		r->has_senderratchetkey = 1;
		NOMEM(r->senderratchetkey.data = adup(a, b33, 33));
		r->senderratchetkey.len = 33;
		if ((rc = chain_key_of(a, r, c, 0, ekey, why)) < 0 ||
		    (rc = msg_keys_of(a, r, json_object_get(c, "messageKeys"), ekey, why)) < 0)
			return rc;
		s->receiverchains[s->n_receiverchains++] = r;
	}

	pp = json_object_get(e, "pendingPreKey");
	if (pp && !json_is_null(pp)) {
		Pending *p;
		long long sk, pk;
		const json_t *pkv;
		if (!json_is_object(pp) || get_int(&sk, pp, "signedKeyId") < 0 ||
		    sk < 0 || sk > 0x7fffffff || get_b64(b33, 33, pp, "baseKey") < 0)
			CORRUPT("bad pendingPreKey");
		NOMEM(p = amalloc(a, sizeof *p));
		wasig__session_structure__pending_pre_key__init(p);
		p->has_signedprekeyid = 1;
		p->signedprekeyid = (int32_t)sk;
		p->has_basekey = 1;
		NOMEM(p->basekey.data = adup(a, b33, 33));
		p->basekey.len = 33;
		pkv = json_object_get(pp, "preKeyId");
		if (pkv && !json_is_null(pkv)) {
			if (get_int(&pk, pp, "preKeyId") < 0 || pk < 0 || pk > 0xffffffffLL)
				CORRUPT("bad pendingPreKey.preKeyId");
			/* node writes a pkmsg without a pre-key id for 0 */
			if (pk) {
				p->has_prekeyid = 1;
				p->prekeyid = (uint32_t)pk;
			}
		}
		s->pendingprekey = p;
	}
	OPENSSL_cleanse(priv, 32);
	OPENSSL_cleanse(root, 32);
	*out = s;
	return 0;
}

struct prev {
	SS *s;
	long long used;
	size_t pos;
};

static int
cmp_prev(const void *a, const void *b)
{
	const struct prev *x = a, *y = b;

	if (x->used != y->used)
		return x->used < y->used ? 1 : -1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* The key of the entry unpack makes current, or NULL. */
static const char *
open_key(const json_t *sessions)
{
	const char *k;
	json_t *e;

	json_object_foreach((json_t *)sessions, k, e) {
		const json_t *c = json_object_get(json_object_get(e, "indexInfo"), "closed");
		if (json_is_integer(c) && json_integer_value(c) == -1)
			return k;
	}
	return NULL;
}

int
wa_sessjson_unpack(uint8_t **out, size_t *outlen, const json_t *doc,
    const struct wa_sessjson_local *local, struct wa_why *why)
{
	Wasig__RecordStructure rs = WASIG__RECORD_STRUCTURE__INIT;
	struct arena a = { 0 };
	const json_t *sessions, *ver;
	const char *k, *cur;
	struct prev *pv = NULL;
	size_t n = 0, i;
	json_t *e;
	uint8_t *buf;
	int rc = 0;

	*out = NULL;
	*outlen = 0;
	if (!json_is_object(doc))
		return wa_why_set(why, WA_ECORRUPT, "not a session record (not an object)");
	ver = json_object_get(doc, "version");
	if (!json_is_string(ver) || strcmp(json_string_value(ver), "v1") != 0)
		return wa_why_set(why, WA_ECORRUPT, "session record version is not \"v1\"");
	sessions = json_object_get(doc, "_sessions");
	if (sessions && !json_is_object(sessions))
		return wa_why_set(why, WA_ECORRUPT, "_sessions is not an object");
	cur = sessions ? open_key(sessions) : NULL;
	if (sessions && !(pv = calloc(json_object_size(sessions) + 1, sizeof *pv)))
		return WA_ENOMEM;
	if (sessions) {
		json_object_foreach((json_t *)sessions, k, e) {
			SS *s;
			if ((rc = entry_to_state(&a, &s, k, e, local, why)) < 0)
				goto done;
			if (cur && strcmp(k, cur) == 0) {
				rs.currentsession = s;
				continue;
			}
			if (get_int(&pv[n].used, json_object_get(e, "indexInfo"), "used") < 0)
				pv[n].used = 0;
			pv[n].s = s;
			pv[n].pos = n;
			n++;
		}
	}
	if (n)
		qsort(pv, n, sizeof *pv, cmp_prev);
	if (n) {
		rs.previoussessions = amalloc(&a, n * sizeof *rs.previoussessions);
		if (!rs.previoussessions) {
			rc = WA_ENOMEM;
			goto done;
		}
		for (i = 0; i < n; i++)
			rs.previoussessions[i] = pv[i].s;
		rs.n_previoussessions = n;
	}
	if (!rs.currentsession && n) {
		/* no open session: C still wants a current state; an empty one
		 * (no sender chain) says "no session" to every encrypt */
	}
	*outlen = wasig__record_structure__get_packed_size(&rs);
	if (!(buf = malloc(*outlen ? *outlen : 1))) {
		rc = WA_ENOMEM;
		goto done;
	}
	wasig__record_structure__pack(&rs, buf);
	*out = buf;
done:
	free(pv);
	afree(&a);
	if (rc < 0)
		*outlen = 0;
	return rc;
}

#undef CORRUPT

/* ---- C -> JSON -------------------------------------------------------- */

#define MISMATCH(what) do { wa_why_set(why, WA_EMISMATCH, "%s", what); rc = WA_EMISMATCH; goto out; } while (0)
#define TRY(x) do { if ((rc = (x)) < 0) goto out; } while (0)

static int
bytes_eq(const ProtobufCBinaryData *b, const uint8_t *p, size_t n)
{
	return b->len == n && memcmp(b->data, p, n) == 0;
}

static const MsgKey *
find_mk(const Chain *c, uint32_t idx)
{
	size_t i;

	for (i = 0; i < c->n_messagekeys; i++)
		if (c->messagekeys[i]->index == idx)
			return c->messagekeys[i];
	return NULL;
}

static int
c_chain_ok(const Chain *c)
{
	return c && c->senderratchetkey.len == 33 && c->chainkey && c->chainkey->key.len == 32;
}

/*
 * Walk a chain from ck at index from up to index to (exclusive), putting
 * into mk the seed of every index C still holds a message key for, then
 * check that the walk ends at C's chain key.
 */
static int
walk(json_t *mk, uint8_t ck[32], uint32_t from, const Chain *c, struct wa_why *why)
{
	uint32_t i, to = c->chainkey->index;
	int rc = 0;

	if (to < from || to - from > 100000)
		return wa_why_set(why, WA_EMISMATCH, "chain index went backwards or too far");
	for (i = from; i < to; i++) {
		if (find_mk(c, i)) {
			uint8_t seed[32], d[80];
			const MsgKey *m = find_mk(c, i);
			char ks[24];
			if ((rc = seed_of(seed, ck)) < 0 ||
			    (rc = hkdf(d, 80, seed, 32, zero32, "WhisperMessageKeys")) < 0)
				return rc;
			if (!bytes_eq(&m->cipherkey, d, 32) || !bytes_eq(&m->mackey, d + 32, 32))
				return wa_why_set(why, WA_EMISMATCH, "message key %u does not derive from the chain", i);
			snprintf(ks, sizeof ks, "%u", i);
			if ((rc = set_b64(mk, ks, seed, 32)) < 0)
				return rc;
			OPENSSL_cleanse(seed, 32);
			OPENSSL_cleanse(d, 80);
		}
		if ((rc = next_ck(ck)) < 0)
			return rc;
	}
	if (!bytes_eq(&c->chainkey->key, ck, 32))
		return wa_why_set(why, WA_EMISMATCH, "chain key does not follow from the old one");
	return 0;
}

static json_t *
new_chain(long long counter, const uint8_t *key, int type)
{
	json_t *c = json_object(), *ck = json_object();
	char *s = key ? wa_base64_encode(key, 32) : NULL;

	if (!c || !ck || (key && !s))
		goto fail;
	json_object_set_new(ck, "counter", json_integer(counter));
	if (key)
		json_object_set_new(ck, "key", json_string(s));
	json_object_set_new(c, "chainKey", ck);
	ck = NULL;
	json_object_set_new(c, "chainType", json_integer(type));
	json_object_set_new(c, "messageKeys", json_object());
	free(s);
	return c;
fail:
	json_decref(c);
	json_decref(ck);
	free(s);
	return NULL;
}

static int
entry_from_state(json_t **out, const SS *s, const json_t *old, int is_current,
    int was_loaded_open, long long now, const struct wa_sessjson_hint *hint, struct wa_why *why)
{
	json_t *e = NULL, *cr, *ii, *chains, *ekp, *oldchains = NULL;
	const Chain *snd = s->senderchain;
	uint8_t oldpub[33], oldpriv[32], oldroot[32];
	char *sndid = NULL, *id = NULL;
	int stepped = 0, recv_changed = 0, have_old_ratchet = 0, rc = 0;
	size_t i;

	if (!c_chain_ok(snd) || snd->senderratchetkeyprivate.len != 32 ||
	    s->rootkey.len != 32 || s->remoteidentitypublic.len != 33 || s->alicebasekey.len != 33)
		return wa_why_set(why, WA_ECORRUPT, "session state without keys");
	if (!(sndid = wa_base64_encode(snd->senderratchetkey.data, 33)))
		return WA_ENOMEM;
	if (old) {
		if (!(e = json_deep_copy(old))) {
			rc = WA_ENOMEM;
			goto out;
		}
		cr = json_object_get(e, "currentRatchet");
		ekp = json_object_get(cr, "ephemeralKeyPair");
		ii = json_object_get(e, "indexInfo");
		chains = json_object_get(e, "_chains");
		oldchains = json_object_get(old, "_chains");
		if (get_b64(oldpub, 33, ekp, "pubKey") == 0 && get_b64(oldpriv, 32, ekp, "privKey") == 0 &&
		    get_b64(oldroot, 32, cr, "rootKey") == 0)
			have_old_ratchet = 1;
		/* libsignal-node's responder keeps the raw 32-byte signed pre-key here */
		else if (json_is_string(json_object_get(ekp, "pubKey")) &&
		    get_b64(oldpriv, 32, ekp, "privKey") == 0 && get_b64(oldroot, 32, cr, "rootKey") == 0) {
			have_old_ratchet = 1;
			memset(oldpub, 0, sizeof oldpub);
		}
		if (!have_old_ratchet)
			MISMATCH("old entry has no ratchet keys");
		stepped = memcmp(oldpub, snd->senderratchetkey.data, 33) != 0;
	} else {
		if (!(e = json_object()) || !(cr = json_object()) || !(ii = json_object()) ||
		    !(chains = json_object()) || !(ekp = json_object())) {
			json_decref(e);
			rc = WA_ENOMEM;
			goto out;
		}
		json_object_set_new(e, "registrationId", json_integer(0));
		json_object_set_new(cr, "ephemeralKeyPair", ekp);
		json_object_set_new(cr, "lastRemoteEphemeralKey", json_string(""));
		json_object_set_new(cr, "previousCounter", json_integer((long long)s->previouscounter));
		json_object_set_new(cr, "rootKey", json_string(""));
		json_object_set_new(e, "currentRatchet", cr);
		json_object_set_new(ii, "baseKey", json_string(""));
		json_object_set_new(ii, "baseKeyType", json_integer(s->pendingprekey ? 1 : 2));
		json_object_set_new(ii, "closed", json_integer(is_current ? -1 : now));
		json_object_set_new(ii, "used", json_integer(now));
		json_object_set_new(ii, "created", json_integer(now));
		json_object_set_new(ii, "remoteIdentityKey", json_string(""));
		json_object_set_new(e, "indexInfo", ii);
		json_object_set_new(e, "_chains", chains);
		TRY(set_b64(ii, "baseKey", s->alicebasekey.data, 33));
		recv_changed = 1;
	}

	TRY(set_int(e, "registrationId", s->remoteregistrationid));
	TRY(set_b64(ekp, "pubKey", snd->senderratchetkey.data, 33));
	TRY(set_b64(ekp, "privKey", snd->senderratchetkeyprivate.data, 32));
	TRY(set_b64(cr, "rootKey", s->rootkey.data, 32));
	TRY(set_b64(ii, "remoteIdentityKey", s->remoteidentitypublic.data, 33));

	/* previousCounter: node copies the old sending chain's counter (-1 if
	 * nothing was sent), C stores max(that, 0) */
	if (old) {
		long long opc = json_integer_value(json_object_get(cr, "previousCounter"));
		if (stepped) {
			char *oid = wa_base64_encode(oldpub, 33);
			json_t *oc = oid ? json_object_get(oldchains, oid) : NULL;
			if (!oid)
				MISMATCH("out of memory");
			if (oc)
				TRY(set_int(cr, "previousCounter",
				    json_integer_value(json_object_get(json_object_get(oc, "chainKey"), "counter"))));
			if (oc)
				json_object_del(chains, oid);
			free(oid);
		} else if ((opc < 0 ? 0 : opc) != (long long)s->previouscounter) {
			TRY(set_int(cr, "previousCounter", s->previouscounter));
		}
	}

	/* node closes the previous receiving chain on a ratchet step, after
	 * filling it up to the message's previous counter */
	if (old && stepped && hint && hint->have) {
		json_t *lr = json_object_get(cr, "lastRemoteEphemeralKey");
		json_t *pc = json_is_string(lr) ? json_object_get(chains, json_string_value(lr)) : NULL;
		json_t *pck = pc ? json_object_get(pc, "chainKey") : NULL;
		uint8_t k[32];
		if (pck && get_b64(k, 32, pck, "key") == 0) {
			long long cnt = json_integer_value(json_object_get(pck, "counter"));
			if ((long long)hint->previous_counter - cnt <= 2000) {
				json_t *mk = json_object_get(pc, "messageKeys");
				while (cnt < (long long)hint->previous_counter) {
					uint8_t seed[32];
					char ks[24];
					TRY(seed_of(seed, k));
					snprintf(ks, sizeof ks, "%lld", cnt + 1);
					TRY(set_b64(mk, ks, seed, 32));
					TRY(next_ck(k));
					cnt++;
				}
				TRY(set_int(pck, "counter", cnt));
				json_object_del(pck, "key");
				recv_changed = 1;
			}
		}
		OPENSSL_cleanse(k, 32);
	}

	/* receiving chains */
	for (i = 0; i < s->n_receiverchains; i++) {
		const Chain *c = s->receiverchains[i];
		json_t *jc, *ock, *mk;
		uint8_t ck[32];

		if (!c_chain_ok(c))
			MISMATCH("receiver chain without keys");
		free(id);
		if (!(id = wa_base64_encode(c->senderratchetkey.data, 33)))
			MISMATCH("out of memory");
		jc = oldchains ? json_object_get(oldchains, id) : NULL;
		if (jc && chain_loaded(oldchains, id)) {
			/* a chain old knows and C had */
			json_t *njc = json_object_get(chains, id);
			const char *k;
			json_t *v, *tmp;
			long cut;
			long long cnt;
			ock = json_object_get(jc, "chainKey");
			cnt = json_integer_value(json_object_get(ock, "counter"));
			mk = json_object_get(njc, "messageKeys");
			cut = key_cutoff(json_object_get(jc, "messageKeys"));
			/* consumed: loaded and gone */
			json_object_foreach_safe(json_object_get(jc, "messageKeys"), tmp, k, v) {
				unsigned long u;
				key_index(k, &u);
				if ((long)u >= cut && !find_mk(c, (uint32_t)u)) {
					json_object_del(mk, k);
					recv_changed = 1;
				}
			}
			if (get_b64(ck, 32, ock, "key") == 0) {
				if ((long long)c->chainkey->index != cnt + 1) {
					TRY(walk(mk, ck, (uint32_t)(cnt + 1), c, why));
					TRY(set_int(json_object_get(njc, "chainKey"), "counter", (long long)c->chainkey->index - 1));
					TRY(set_b64(json_object_get(njc, "chainKey"), "key", c->chainkey->key.data, 32));
					recv_changed = 1;
				}
			} else if ((long long)c->chainkey->index != cnt + 1) {
				MISMATCH("a closed chain moved");
			}
			continue;
		}
		if (jc)
			continue;   /* in old, not loaded: cannot be in C */
		/* a chain old has not got: the ratchet step's, or a new state's */
		if (!old && s->pendingprekey && c->n_messagekeys == 0) {
			/* an initiator's chain on the peer's signed pre-key, which
			 * libsignal-node does not make: only its key is kept, as the
			 * last remote ratchet key */
			TRY(set_b64(cr, "lastRemoteEphemeralKey", c->senderratchetkey.data, 33));
			continue;
		}
		if (c->n_messagekeys == 0 && (!old || !stepped)) {
			json_t *nc = new_chain((long long)c->chainkey->index - 1, c->chainkey->key.data, 2);
			if (!nc || json_object_set_new(chains, id, nc) < 0)
				MISMATCH("out of memory");
			TRY(set_b64(cr, "lastRemoteEphemeralKey", c->senderratchetkey.data, 33));
			recv_changed = 1;
			continue;
		}
		if (!old || !stepped)
			MISMATCH("message keys in a chain without history");
		{
			uint8_t shared[32], d[64];
			json_t *nc;
			if (wa_curve_dh(shared, oldpriv, c->senderratchetkey.data + 1) < 0)
				MISMATCH("ratchet key agreement failed");
			TRY(hkdf(d, 64, shared, 32, oldroot, "WhisperRatchet"));
			memcpy(ck, d + 32, 32);
			OPENSSL_cleanse(shared, 32);
			OPENSSL_cleanse(d, 64);
			if (!(nc = new_chain((long long)c->chainkey->index - 1, c->chainkey->key.data, 2)) ||
			    json_object_set_new(chains, id, nc) < 0)
				MISMATCH("out of memory");
			TRY(walk(json_object_get(nc, "messageKeys"), ck, 0, c, why));
			TRY(set_b64(cr, "lastRemoteEphemeralKey", c->senderratchetkey.data, 33));
			recv_changed = 1;
		}
		OPENSSL_cleanse(ck, 32);
	}

	/* sending chain */
	{
		json_t *sc = json_object_get(chains, sndid);
		if (sc) {
			json_t *sck = json_object_get(sc, "chainKey");
			TRY(set_int(sck, "counter", (long long)snd->chainkey->index - 1));
			TRY(set_b64(sck, "key", snd->chainkey->key.data, 32));
		} else if (!(snd->chainkey->index == 0 && bytes_eq(&snd->chainkey->key, zero32, 32))) {
			json_t *nc = new_chain((long long)snd->chainkey->index - 1, snd->chainkey->key.data, 1);
			if (!nc || json_object_set_new(chains, sndid, nc) < 0)
				MISMATCH("out of memory");
		}
	}

	/* pending pre-key */
	if (s->pendingprekey && s->pendingprekey->basekey.len == 33) {
		json_t *pp = json_object_get(e, "pendingPreKey");
		if (!json_is_object(pp)) {
			pp = json_object();
			if (!pp || json_object_set_new(e, "pendingPreKey", pp) < 0)
				MISMATCH("out of memory");
		}
		TRY(set_int(pp, "signedKeyId", s->pendingprekey->signedprekeyid));
		TRY(set_b64(pp, "baseKey", s->pendingprekey->basekey.data, 33));
		if (s->pendingprekey->has_prekeyid)
			TRY(set_int(pp, "preKeyId", s->pendingprekey->prekeyid));
		else if (json_integer_value(json_object_get(pp, "preKeyId")) != 0)
			json_object_del(pp, "preKeyId");
	} else {
		json_object_del(e, "pendingPreKey");
	}

	/* timestamps */
	if (is_current) {
		TRY(set_int(ii, "closed", -1));
		if (old && recv_changed)
			TRY(set_int(ii, "used", now));
	} else if (old && was_loaded_open) {
		TRY(set_int(ii, "closed", now));
	}
	*out = e;
	e = NULL;
out:
	OPENSSL_cleanse(oldpriv, sizeof oldpriv);
	OPENSSL_cleanse(oldroot, sizeof oldroot);
	json_decref(e);
	free(sndid);
	free(id);
	return rc;
}

int
wa_sessjson_pack(json_t **out, const uint8_t *rec, size_t len, const json_t *old,
    long long now_ms, const struct wa_sessjson_hint *hint, struct wa_why *why)
{
	Wasig__RecordStructure *rs;
	json_t *doc = NULL, *sessions = NULL, *oldsess = NULL, *e;
	const char *openk = NULL, *k;
	SS **all = NULL;
	size_t n = 0, i;
	int rc = 0;

	*out = NULL;
	if (!(rs = wasig__record_structure__unpack(NULL, len, rec)))
		return wa_why_set(why, WA_ECORRUPT, "not a session record");
	if (old) {
		oldsess = json_object_get(old, "_sessions");
		openk = oldsess ? open_key(oldsess) : NULL;
	}
	if (!(all = calloc(rs->n_previoussessions + 2, sizeof *all))) {
		rc = WA_ENOMEM;
		goto out;
	}
	if (rs->currentsession && rs->currentsession->alicebasekey.len == 33)
		all[n++] = rs->currentsession;
	for (i = 0; i < rs->n_previoussessions; i++)
		if (rs->previoussessions[i]->alicebasekey.len == 33)
			all[n++] = rs->previoussessions[i];

	doc = old ? json_deep_copy(old) : json_object();
	sessions = json_object();
	if (!doc || !sessions) {
		rc = WA_ENOMEM;
		goto out;
	}
	/* entries old has, in old's order, then the new ones */
	if (oldsess) {
		json_object_foreach(oldsess, k, e) {
			for (i = 0; i < n; i++) {
				char *bk;
				if (!all[i])
					continue;   /* matched an earlier entry */
				bk = wa_base64_encode(all[i]->alicebasekey.data, 33);
				int same = bk && strcmp(bk, k) == 0;
				free(bk);
				if (same) {
					json_t *ne;
					if ((rc = entry_from_state(&ne, all[i], e, all[i] == rs->currentsession,
					    openk && strcmp(openk, k) == 0, now_ms, hint, why)) < 0)
						goto out;
					json_object_set_new(sessions, k, ne);
					all[i] = NULL;
					break;
				}
			}
		}
	}
	for (i = n; i-- > 0;) {
		char *bk;
		json_t *ne;
		if (!all[i])
			continue;
		if ((rc = entry_from_state(&ne, all[i], NULL, all[i] == rs->currentsession, 0,
		    now_ms, hint, why)) < 0)
			goto out;
		if (!(bk = wa_base64_encode(all[i]->alicebasekey.data, 33))) {
			json_decref(ne);
			rc = WA_ENOMEM;
			goto out;
		}
		json_object_set_new(sessions, bk, ne);
		free(bk);
	}
	/* libsignal-node's removeOldSessions */
	while (json_object_size(sessions) > WA_SESSJSON_SESSIONS_MAX) {
		const char *oldest = NULL;
		long long oc = 0;
		json_object_foreach(sessions, k, e) {
			long long c = json_integer_value(json_object_get(json_object_get(e, "indexInfo"), "closed"));
			if (c != -1 && (!oldest || c < oc)) {
				oldest = k;
				oc = c;
			}
		}
		if (!oldest)
			break;
		json_object_del(sessions, oldest);
	}
	json_object_set_new(doc, "_sessions", sessions);
	sessions = NULL;
	if (!json_object_get(doc, "version"))
		json_object_set_new(doc, "version", json_string("v1"));
	*out = doc;
	doc = NULL;
out:
	json_decref(doc);
	json_decref(sessions);
	free(all);
	wasig__record_structure__free_unpacked(rs, NULL);
	return rc;
}

/* ---- libsignal-node's initIncoming ------------------------------------ */

int
wa_sessjson_bob_init(json_t *doc, const struct wa_sessjson_bob *b, long long now_ms)
{
	uint8_t secret[32 * 5], master[64], *p = secret;
	json_t *sessions, *e, *cr, *ekp, *ii;
	const char *open;
	char *bk = NULL;
	int rc = WA_ENOMEM;

	memset(secret, 0xff, 32);
	/* responder: FF*32 || DH(I_A, SPK_B) || DH(E_A, I_B) || DH(E_A, SPK_B) [|| DH(E_A, OPK_B)] */
	if (wa_curve_dh(p + 32, b->signed_priv, b->their_identity + 1) < 0 ||
	    wa_curve_dh(p + 64, b->identity_priv, b->their_base + 1) < 0 ||
	    wa_curve_dh(p + 96, b->signed_priv, b->their_base + 1) < 0 ||
	    (b->has_onetime && wa_curve_dh(p + 128, b->onetime_priv, b->their_base + 1) < 0)) {
		rc = WA_EVERIFY;
		goto out;
	}
	if ((rc = hkdf(master, 64, secret, b->has_onetime ? 160 : 128, zero32, "WhisperText")) < 0)
		goto out;
	rc = WA_ENOMEM;
	if (!json_is_object(json_object_get(doc, "_sessions")) &&
	    json_object_set_new(doc, "_sessions", json_object()) < 0)
		goto out;
	if (!json_object_get(doc, "version"))
		json_object_set_new(doc, "version", json_string("v1"));
	sessions = json_object_get(doc, "_sessions");
	if ((open = open_key(sessions)))
		set_int(json_object_get(json_object_get(sessions, open), "indexInfo"), "closed", now_ms);
	e = json_object();
	cr = json_object();
	ekp = json_object();
	ii = json_object();
	if (!e || !cr || !ekp || !ii || !(bk = wa_base64_encode(b->their_base, 33))) {
		json_decref(e);
		json_decref(cr);
		json_decref(ekp);
		json_decref(ii);
		goto out;
	}
	json_object_set_new(e, "registrationId", json_integer(b->their_regid));
	set_b64(ekp, "pubKey", b->signed_pub, 32);
	set_b64(ekp, "privKey", b->signed_priv, 32);
	json_object_set_new(cr, "ephemeralKeyPair", ekp);
	set_b64(cr, "lastRemoteEphemeralKey", b->their_base, 33);
	json_object_set_new(cr, "previousCounter", json_integer(0));
	set_b64(cr, "rootKey", master, 32);
	json_object_set_new(e, "currentRatchet", cr);
	json_object_set_new(ii, "baseKey", json_string(bk));
	json_object_set_new(ii, "baseKeyType", json_integer(2));
	json_object_set_new(ii, "closed", json_integer(-1));
	json_object_set_new(ii, "used", json_integer(now_ms));
	json_object_set_new(ii, "created", json_integer(now_ms));
	set_b64(ii, "remoteIdentityKey", b->their_identity, 33);
	json_object_set_new(e, "indexInfo", ii);
	json_object_set_new(e, "_chains", json_object());
	json_object_set_new(sessions, bk, e);
	rc = 0;
out:
	free(bk);
	OPENSSL_cleanse(secret, sizeof secret);
	OPENSSL_cleanse(master, sizeof master);
	return rc;
}
