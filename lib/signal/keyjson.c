/*
 * keyjson.c - creds, pre-key and identity-key files <-> the key forms
 * libsignal-protocol-c takes (see keyjson.h).
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bufjson.h"
#include "signal/keyjson.h"
#include "sigstore.pb-c.h"

static int
buf_exact(uint8_t *out, size_t n, const json_t *v)
{
	uint8_t *b;
	size_t len;

	if (!v || wa_bufjson_decode(&b, &len, v) < 0)
		return WA_ECORRUPT;
	if (len != n) {
		if (b)
			OPENSSL_cleanse(b, len);
		free(b);
		return WA_ECORRUPT;
	}
	memcpy(out, b, n);
	OPENSSL_cleanse(b, len);
	free(b);
	return 0;
}

static int
pair_of(struct wa_keypair *kp, const json_t *o)
{
	if (!json_is_object(o) || buf_exact(kp->priv, 32, json_object_get(o, "private")) < 0 ||
	    buf_exact(kp->pub, 32, json_object_get(o, "public")) < 0)
		return WA_ECORRUPT;
	return 0;
}

int
wa_keyjson_creds(struct wa_keyjson_creds *c, const json_t *creds, struct wa_why *why)
{
	struct wa_keyjson_creds t;
	const json_t *spk, *me, *v;

	memset(&t, 0, sizeof t);
	memset(c, 0, sizeof *c);
	if (!json_is_object(creds))
		return wa_why_set(why, WA_ECORRUPT, "creds.json is not an object");
	if (pair_of(&t.identity, json_object_get(creds, "signedIdentityKey")) < 0)
		return wa_why_set(why, WA_ECORRUPT, "creds.json: bad signedIdentityKey");
	v = json_object_get(creds, "registrationId");
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0xffffffffLL)
		goto bad_reg;
	t.regid = (uint32_t)json_integer_value(v);
	spk = json_object_get(creds, "signedPreKey");
	v = json_object_get(spk, "keyId");
	if (!json_is_object(spk) || pair_of(&t.spk, json_object_get(spk, "keyPair")) < 0 ||
	    buf_exact(t.spk_sig, 64, json_object_get(spk, "signature")) < 0 ||
	    !json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0xffffff) {
		wa_curve_keypair_wipe(&t.identity);
		wa_curve_keypair_wipe(&t.spk);
		return wa_why_set(why, WA_ECORRUPT, "creds.json: bad signedPreKey");
	}
	t.spk_id = (uint32_t)json_integer_value(v);
	me = json_object_get(creds, "me");
	v = json_object_get(me, "id");
	if (!json_is_string(v) || json_string_length(v) >= sizeof t.me) {
		wa_curve_keypair_wipe(&t.identity);
		wa_curve_keypair_wipe(&t.spk);
		return wa_why_set(why, WA_ECORRUPT, "creds.json: no me.id (not paired)");
	}
	snprintf(t.me, sizeof t.me, "%s", json_string_value(v));
	v = json_object_get(me, "lid");
	if (json_is_string(v) && json_string_length(v) < sizeof t.lid)
		snprintf(t.lid, sizeof t.lid, "%s", json_string_value(v));
	*c = t;
	wa_curve_keypair_wipe(&t.identity);
	wa_curve_keypair_wipe(&t.spk);
	return 0;
bad_reg:
	wa_curve_keypair_wipe(&t.identity);
	return wa_why_set(why, WA_ECORRUPT, "creds.json: bad registrationId");
}

int
wa_keyjson_prekey(struct wa_keypair *kp, const json_t *doc, struct wa_why *why)
{
	struct wa_keypair t;

	if (pair_of(&t, doc) < 0) {
		wa_curve_keypair_wipe(&t);
		return wa_why_set(why, WA_ECORRUPT, "not a pre-key {private, public}");
	}
	*kp = t;
	wa_curve_keypair_wipe(&t);
	return 0;
}

int
wa_keyjson_prekey_record(uint8_t **out, size_t *len, uint32_t id, const struct wa_keypair *kp)
{
	Wasig__PreKeyRecordStructure r = WASIG__PRE_KEY_RECORD_STRUCTURE__INIT;
	uint8_t pub[33], priv[32];

	wa_curve_djb(pub, kp->pub);
	memcpy(priv, kp->priv, 32);
	wa_curve_clamp(priv);
	r.has_id = r.has_publickey = r.has_privatekey = 1;
	r.id = id;
	r.publickey.data = pub;
	r.publickey.len = 33;
	r.privatekey.data = priv;
	r.privatekey.len = 32;
	*len = wasig__pre_key_record_structure__get_packed_size(&r);
	if ((*out = malloc(*len)))
		wasig__pre_key_record_structure__pack(&r, *out);
	OPENSSL_cleanse(priv, sizeof priv);
	return *out ? 0 : WA_ENOMEM;
}

int
wa_keyjson_spk_record(uint8_t **out, size_t *len, const struct wa_keyjson_creds *c)
{
	Wasig__SignedPreKeyRecordStructure r = WASIG__SIGNED_PRE_KEY_RECORD_STRUCTURE__INIT;
	uint8_t pub[33], priv[32], sig[64];

	wa_curve_djb(pub, c->spk.pub);
	memcpy(priv, c->spk.priv, 32);
	wa_curve_clamp(priv);
	memcpy(sig, c->spk_sig, 64);
	r.has_id = r.has_publickey = r.has_privatekey = r.has_signature = r.has_timestamp = 1;
	r.id = c->spk_id;
	r.publickey.data = pub;
	r.publickey.len = 33;
	r.privatekey.data = priv;
	r.privatekey.len = 32;
	r.signature.data = sig;
	r.signature.len = 64;
	*len = wasig__signed_pre_key_record_structure__get_packed_size(&r);
	if ((*out = malloc(*len)))
		wasig__signed_pre_key_record_structure__pack(&r, *out);
	OPENSSL_cleanse(priv, sizeof priv);
	return *out ? 0 : WA_ENOMEM;
}

int
wa_keyjson_identity(uint8_t key[33], const json_t *doc, struct wa_why *why)
{
	uint8_t t[33];

	if (buf_exact(t, 33, doc) < 0 || t[0] != WA_CURVE_DJB_TYPE)
		return wa_why_set(why, WA_ECORRUPT, "not a 33-byte identity key");
	memcpy(key, t, 33);
	return 0;
}

json_t *
wa_keyjson_identity_doc(const uint8_t key[33])
{
	return wa_bufjson_encode(key, 33);
}
