/*
 * skjson.c - sender-key records, Baileys JSON <-> libsignal-protocol-c
 * (see skjson.h).  Field for field; only the order of the states, the
 * empty private key and the Buffer forms differ.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "base/bufjson.h"
#include "signal/skjson.h"
#include "sigstore.pb-c.h"

typedef Wasig__SenderKeyStateStructure St;

#define SK_STATES_MAX 5
#define SK_KEYS_MAX 2000

/* The inner JSON array of a sender-key file, parsed.  Caller decrefs. */
static int
inner(json_t **out, const json_t *doc, struct wa_why *why)
{
	uint8_t *b;
	size_t len;
	json_error_t e;

	*out = NULL;
	if (wa_bufjson_decode(&b, &len, doc) < 0)
		return wa_why_set(why, WA_ECORRUPT, "sender key is not a Buffer");
	*out = json_loadb((const char *)b, len, 0, &e);
	OPENSSL_cleanse(b, len);
	free(b);
	if (!*out)
		return wa_why_set(why, WA_ECORRUPT, "sender key: byte %d: %s", e.position, e.text);
	if (!json_is_array(*out)) {
		json_decref(*out);
		*out = NULL;
		return wa_why_set(why, WA_ECORRUPT, "sender key is not an array of states");
	}
	return 0;
}

static int
getbuf(ProtobufCBinaryData *d, const json_t *v, size_t want)
{
	uint8_t *b;
	size_t len;

	if (!v || wa_bufjson_decode(&b, &len, v) < 0)
		return WA_ECORRUPT;
	if (want && len != want) {
		free(b);
		return WA_ECORRUPT;
	}
	d->data = b;
	d->len = len;
	return 0;
}

static int
getuint(uint32_t *out, const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0xffffffffLL)
		return WA_ECORRUPT;
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static void
free_state(St *s)
{
	size_t i;

	if (!s)
		return;
	if (s->senderchainkey) {
		if (s->senderchainkey->seed.data)
			OPENSSL_cleanse(s->senderchainkey->seed.data, s->senderchainkey->seed.len);
		free(s->senderchainkey->seed.data);
		free(s->senderchainkey);
	}
	if (s->sendersigningkey) {
		free(s->sendersigningkey->public_.data);
		if (s->sendersigningkey->private_.data)
			OPENSSL_cleanse(s->sendersigningkey->private_.data, s->sendersigningkey->private_.len);
		free(s->sendersigningkey->private_.data);
		free(s->sendersigningkey);
	}
	for (i = 0; i < s->n_sendermessagekeys; i++) {
		free(s->sendermessagekeys[i]->seed.data);
		free(s->sendermessagekeys[i]);
	}
	free(s->sendermessagekeys);
	free(s);
}

static int
state_of(St **out, const json_t *j)
{
	const json_t *ck = json_object_get(j, "senderChainKey"), *sk = json_object_get(j, "senderSigningKey"),
	    *mk = json_object_get(j, "senderMessageKeys"), *v;
	St *s;
	size_t i;

	*out = NULL;
	if (!json_is_object(j) || !json_is_object(ck) || !json_is_object(sk) || (mk && !json_is_array(mk)))
		return WA_ECORRUPT;
	if (!(s = calloc(1, sizeof *s)))
		return WA_ENOMEM;
	wasig__sender_key_state_structure__init(s);
	s->senderchainkey = calloc(1, sizeof *s->senderchainkey);
	s->sendersigningkey = calloc(1, sizeof *s->sendersigningkey);
	if (!s->senderchainkey || !s->sendersigningkey)
		goto nomem;
	wasig__sender_key_state_structure__sender_chain_key__init(s->senderchainkey);
	wasig__sender_key_state_structure__sender_signing_key__init(s->sendersigningkey);
	if (getuint(&s->senderkeyid, j, "senderKeyId") < 0 ||
	    getuint(&s->senderchainkey->iteration, ck, "iteration") < 0 ||
	    getbuf(&s->senderchainkey->seed, json_object_get(ck, "seed"), 32) < 0 ||
	    getbuf(&s->sendersigningkey->public_, json_object_get(sk, "public"), 0) < 0)
		goto corrupt;
	s->has_senderkeyid = s->senderchainkey->has_iteration = s->senderchainkey->has_seed = 1;
	s->sendersigningkey->has_public_ = 1;
	if (s->sendersigningkey->public_.len == 32) {
		uint8_t *p = malloc(33);
		if (!p)
			goto nomem;
		p[0] = 0x05;
		memcpy(p + 1, s->sendersigningkey->public_.data, 32);
		free(s->sendersigningkey->public_.data);
		s->sendersigningkey->public_.data = p;
		s->sendersigningkey->public_.len = 33;
	}
	if (s->sendersigningkey->public_.len != 33 || s->sendersigningkey->public_.data[0] != 0x05)
		goto corrupt;
	v = json_object_get(sk, "private");
	if (v && !json_is_null(v)) {
		if (getbuf(&s->sendersigningkey->private_, v, 0) < 0)
			goto corrupt;
		if (s->sendersigningkey->private_.len == 0) {
			free(s->sendersigningkey->private_.data);
			s->sendersigningkey->private_.data = NULL;
		} else if (s->sendersigningkey->private_.len != 32) {
			goto corrupt;
		} else {
			s->sendersigningkey->has_private_ = 1;
		}
	}
	if (mk) {
		size_t n = json_array_size(mk);
		if (n > SK_KEYS_MAX)
			goto corrupt;
		if (!(s->sendermessagekeys = calloc(n + 1, sizeof *s->sendermessagekeys)))
			goto nomem;
		for (i = 0; i < n; i++) {
			const json_t *m = json_array_get(mk, i);
			Wasig__SenderKeyStateStructure__SenderMessageKey *k = calloc(1, sizeof *k);
			if (!k)
				goto nomem;
			wasig__sender_key_state_structure__sender_message_key__init(k);
			s->sendermessagekeys[s->n_sendermessagekeys++] = k;
			if (!json_is_object(m) || getuint(&k->iteration, m, "iteration") < 0 ||
			    getbuf(&k->seed, json_object_get(m, "seed"), 32) < 0)
				goto corrupt;
			k->has_iteration = k->has_seed = 1;
		}
	}
	*out = s;
	return 0;
nomem:
	free_state(s);
	return WA_ENOMEM;
corrupt:
	free_state(s);
	return WA_ECORRUPT;
}

int
wa_skjson_unpack(uint8_t **out, size_t *outlen, const json_t *doc, struct wa_why *why)
{
	Wasig__SenderKeyRecordStructure r = WASIG__SENDER_KEY_RECORD_STRUCTURE__INIT;
	json_t *arr;
	size_t n, i;
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = inner(&arr, doc, why)) < 0)
		return rc;
	n = json_array_size(arr);
	if (n > SK_STATES_MAX) {
		json_decref(arr);
		return wa_why_set(why, WA_ECORRUPT, "sender key has %zu states (at most %d)", n, SK_STATES_MAX);
	}
	if (!(r.senderkeystates = calloc(n + 1, sizeof *r.senderkeystates))) {
		json_decref(arr);
		return WA_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		/* newest first for C */
		if ((rc = state_of(&r.senderkeystates[r.n_senderkeystates], json_array_get(arr, n - 1 - i))) < 0) {
			wa_why_set(why, rc, "sender key state %zu is malformed", n - 1 - i);
			goto out;
		}
		r.n_senderkeystates++;
	}
	*outlen = wasig__sender_key_record_structure__get_packed_size(&r);
	if (!(*out = malloc(*outlen ? *outlen : 1))) {
		rc = WA_ENOMEM;
		*outlen = 0;
		goto out;
	}
	wasig__sender_key_record_structure__pack(&r, *out);
	rc = 0;
out:
	for (i = 0; i < r.n_senderkeystates; i++)
		free_state(r.senderkeystates[i]);
	free(r.senderkeystates);
	json_decref(arr);
	return rc;
}

/* Node's own Buffer JSON: {"type":"Buffer","data":[ints]}. */
static json_t *
nodebuf(const uint8_t *b, size_t n)
{
	json_t *o = json_object(), *a = json_array();
	size_t i;

	if (!o || !a)
		goto fail;
	for (i = 0; i < n; i++)
		if (json_array_append_new(a, json_integer(b[i])) < 0)
			goto fail;
	json_object_set_new(o, "type", json_string("Buffer"));
	json_object_set_new(o, "data", a);
	return o;
fail:
	json_decref(o);
	json_decref(a);
	return NULL;
}

/* Set o[k] to the Buffer b in the form o[k] has now (number array or
 * base64 string), number array when new. */
static int
set_buf(json_t *o, const char *k, const uint8_t *b, size_t n)
{
	json_t *cur = json_object_get(o, k), *v;

	if (json_is_object(cur) && json_is_string(json_object_get(cur, "data"))) {
		char *s = wa_base64_encode(b, n);
		if (!s)
			return WA_ENOMEM;
		v = json_pack("{s:s,s:s}", "type", "Buffer", "data", s);
		free(s);
	} else {
		v = nodebuf(b, n);
	}
	if (!v)
		return WA_ENOMEM;
	return json_object_set_new(o, k, v) < 0 ? WA_ENOMEM : 0;
}

static json_t *
old_state(const json_t *olda, uint32_t id)
{
	size_t i;
	json_t *s;

	json_array_foreach(olda, i, s) {
		const json_t *v = json_object_get(s, "senderKeyId");
		if (json_is_integer(v) && json_integer_value(v) == (json_int_t)id)
			return s;
	}
	return NULL;
}

int
wa_skjson_pack(json_t **out, const uint8_t *rec, size_t len, const json_t *old, struct wa_why *why)
{
	Wasig__SenderKeyRecordStructure *r;
	json_t *olda = NULL, *arr = NULL, *doc = NULL;
	size_t i;
	char *text = NULL;
	int rc = WA_ENOMEM;

	*out = NULL;
	if (!(r = wasig__sender_key_record_structure__unpack(NULL, len, rec)))
		return wa_why_set(why, WA_ECORRUPT, "not a sender key record");
	if (old && inner(&olda, old, NULL) < 0)
		olda = NULL;
	if (!(arr = json_array()))
		goto out;
	for (i = r->n_senderkeystates; i-- > 0;) {
		St *s = r->senderkeystates[i];
		json_t *o = olda ? old_state(olda, s->senderkeyid) : NULL, *ck, *sk, *mk;
		const uint8_t *pub;
		size_t publen, j;

		if (!s->senderchainkey || !s->sendersigningkey || s->sendersigningkey->public_.len != 33) {
			rc = wa_why_set(why, WA_ECORRUPT, "sender key state without keys");
			goto out;
		}
		o = o ? json_deep_copy(o) : json_object();
		if (!o || json_array_append_new(arr, o) < 0)
			goto out;
		json_object_set_new(o, "senderKeyId", json_integer(s->senderkeyid));
		ck = json_object_get(o, "senderChainKey");
		if (!json_is_object(ck)) {
			json_object_set_new(o, "senderChainKey", json_object());
			ck = json_object_get(o, "senderChainKey");
		}
		if (!ck)
			goto out;
		json_object_set_new(ck, "iteration", json_integer(s->senderchainkey->iteration));
		if (set_buf(ck, "seed", s->senderchainkey->seed.data, s->senderchainkey->seed.len) < 0)
			goto out;
		sk = json_object_get(o, "senderSigningKey");
		if (!json_is_object(sk)) {
			json_object_set_new(o, "senderSigningKey", json_object());
			sk = json_object_get(o, "senderSigningKey");
		}
		if (!sk)
			goto out;
		pub = s->sendersigningkey->public_.data;
		publen = 33;
		/* keep a 32-byte public key the way the file had it */
		if (wa_bufjson_len(json_object_get(sk, "public")) == 32) {
			pub++;
			publen = 32;
		}
		if (set_buf(sk, "public", pub, publen) < 0 ||
		    set_buf(sk, "private", s->sendersigningkey->private_.data,
		    s->sendersigningkey->has_private_ ? s->sendersigningkey->private_.len : 0) < 0)
			goto out;
		if (!(mk = json_array()) || json_object_set_new(o, "senderMessageKeys", mk) < 0)
			goto out;
		for (j = 0; j < s->n_sendermessagekeys; j++) {
			json_t *m = json_object();
			if (!m || json_array_append_new(mk, m) < 0)
				goto out;
			json_object_set_new(m, "iteration", json_integer(s->sendermessagekeys[j]->iteration));
			if (set_buf(m, "seed", s->sendermessagekeys[j]->seed.data, s->sendermessagekeys[j]->seed.len) < 0)
				goto out;
		}
	}
	if (!(text = json_dumps(arr, JSON_COMPACT)))
		goto out;
	if (!(doc = wa_bufjson_encode((const uint8_t *)text, strlen(text))))
		goto out;
	*out = doc;
	rc = 0;
out:
	if (text) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	json_decref(arr);
	json_decref(olda);
	wasig__sender_key_record_structure__free_unpacked(r, NULL);
	return rc;
}
