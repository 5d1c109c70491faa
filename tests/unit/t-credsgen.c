/*
 * t-credsgen.c - fresh creds have exactly the shape of Baileys'
 * initAuthCreds() as written to creds.json (pv_creds_qr from
 * tests/fakewa/pair-vectors.mjs): same keys in the same order, same value
 * kinds and sizes; the keys are real (public = X25519(private), clamped,
 * signed pre-key signature verifies); wa_creds_inspect calls them complete
 * and unpaired.  Pre-keys have Baileys' pre-key-N.json shape.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bufjson.h"
#include "store/creds.h"
#include "crypto/credsgen.h"
#include "crypto/curve.h"
#include "tap.h"

#include "pair-vectors.h"

static int
is_buffer(const json_t *v)
{
	return json_is_object(v) && json_object_size(v) == 2 &&
	    json_is_string(json_object_get(v, "data")) &&
	    strcmp(json_string_value(json_object_get(v, "type")), "Buffer") == 0;
}

/* Same shape: objects with the same keys in the same order, Buffers of the
 * same length, same JSON types elsewhere.  why gets the first difference. */
static int
same_shape(const json_t *a, const json_t *b, const char *path, char *why, size_t n)
{
	void *ia, *ib;
	char sub[256];

	if (is_buffer(a) || is_buffer(b)) {
		if (!is_buffer(a) || !is_buffer(b) || wa_bufjson_len(a) != wa_bufjson_len(b)) {
			snprintf(why, n, "%s: buffer %ld vs %ld bytes", path, wa_bufjson_len(a), wa_bufjson_len(b));
			return 0;
		}
		return 1;
	}
	if (json_typeof(a) != json_typeof(b)) {
		snprintf(why, n, "%s: type %d vs %d", path, json_typeof(a), json_typeof(b));
		return 0;
	}
	if (!json_is_object(a))
		return 1;
	ia = json_object_iter((json_t *)a);
	ib = json_object_iter((json_t *)b);
	for (; ia && ib; ia = json_object_iter_next((json_t *)a, ia), ib = json_object_iter_next((json_t *)b, ib)) {
		if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) != 0) {
			snprintf(why, n, "%s: key %s vs %s", path, json_object_iter_key(ia), json_object_iter_key(ib));
			return 0;
		}
		snprintf(sub, sizeof sub, "%s.%s", path, json_object_iter_key(ia));
		if (!same_shape(json_object_iter_value(ia), json_object_iter_value(ib), sub, why, n))
			return 0;
	}
	if (ia || ib) {
		snprintf(why, n, "%s: key %s only on one side", path, json_object_iter_key(ia ? ia : ib));
		return 0;
	}
	return 1;
}

static int
key(unsigned char out[32], const json_t *kp, const char *field)
{
	uint8_t *b = NULL;
	size_t n = 0;
	int good = wa_bufjson_decode(&b, &n, json_object_get(kp, field)) == 0 && n == 32;

	if (good)
		memcpy(out, b, 32);
	free(b);
	return good;
}

static int
pair_ok(const json_t *kp)
{
	unsigned char priv[32], pub[32], derived[32];

	return key(priv, kp, "private") && key(pub, kp, "public") && wa_curve_is_clamped(priv) &&
	    wa_curve_public(derived, priv) == 0 && memcmp(derived, pub, 32) == 0;
}

int
main(void)
{
	json_t *c = NULL, *c2 = NULL, *baileys, *spk, *pk = NULL;
	struct wa_creds_info info;
	unsigned char ipub[32], spub[32], djb[33];
	uint8_t *sig = NULL, *adv = NULL;
	size_t siglen = 0, advlen = 0;
	char why[256] = "";
	json_int_t regid;
	const char *k;
	json_t *v;
	char *s1, *s2;
	int all;

	baileys = json_loads(pv_creds_qr, 0, NULL);
	ok(wa_creds_generate(&c) == 0 && c, "generated");
	ok(same_shape(c, baileys, "creds", why, sizeof why), "same keys, order, kinds and sizes as Baileys' initAuthCreds %s", why);
	wa_creds_inspect(&info, c);
	ok(info.complete && !info.paired && !info.registered && !info.me[0],
	    "wa_creds_inspect: complete, not paired (%s)", info.problem);

	ok(pair_ok(json_object_get(c, "noiseKey")), "noiseKey is a real clamped pair");
	ok(pair_ok(json_object_get(c, "pairingEphemeralKeyPair")), "pairingEphemeralKeyPair is a real clamped pair");
	ok(pair_ok(json_object_get(c, "signedIdentityKey")), "signedIdentityKey is a real clamped pair");
	spk = json_object_get(c, "signedPreKey");
	ok(pair_ok(json_object_get(spk, "keyPair")), "signedPreKey.keyPair is a real clamped pair");
	is_int(json_integer_value(json_object_get(spk, "keyId")), 1, "signedPreKey.keyId 1");
	key(ipub, json_object_get(c, "signedIdentityKey"), "public");
	key(spub, json_object_get(spk, "keyPair"), "public");
	wa_curve_djb(djb, spub);
	ok(wa_bufjson_decode(&sig, &siglen, json_object_get(spk, "signature")) == 0 &&
	    wa_curve_verify(ipub, djb, sizeof djb, sig, siglen) == 0,
	    "signedPreKey.signature: the identity key's XEdDSA over 0x05 || public");
	free(sig);
	regid = json_integer_value(json_object_get(c, "registrationId"));
	ok(regid >= 1 && regid <= 0x3fff, "registrationId %lld in 1..16383", (long long)regid);
	v = json_object_get(c, "advSecretKey");
	ok(json_is_string(v) && wa_base64_decode(&adv, &advlen, json_string_value(v), json_string_length(v)) == 0 &&
	    advlen == 32, "advSecretKey: base64 of 32 bytes, a plain string as Baileys writes it");
	free(adv);
	s1 = json_dumps(json_object_get(c, "processedHistoryMessages"), JSON_COMPACT);
	is_str(s1, "[]", "processedHistoryMessages []");
	free(s1);
	ok(json_integer_value(json_object_get(c, "nextPreKeyId")) == 1 &&
	    json_integer_value(json_object_get(c, "firstUnuploadedPreKeyId")) == 1 &&
	    json_integer_value(json_object_get(c, "accountSyncCounter")) == 0 &&
	    json_is_false(json_object_get(json_object_get(c, "accountSettings"), "unarchiveChats")) &&
	    json_is_false(json_object_get(c, "registered")), "counters, settings and registered as initAuthCreds");
	ok(!json_object_get(c, "me") && !json_object_get(c, "account") && !json_object_get(c, "pairingCode"),
	    "no me, account or pairingCode");

	ok(wa_creds_generate(&c2) == 0, "generated again");
	s1 = json_dumps(json_object_get(c, "signedIdentityKey"), JSON_COMPACT);
	s2 = json_dumps(json_object_get(c2, "signedIdentityKey"), JSON_COMPACT);
	ok(s1 && s2 && strcmp(s1, s2) != 0 &&
	    strcmp(json_string_value(json_object_get(c, "advSecretKey")),
	    json_string_value(json_object_get(c2, "advSecretKey"))) != 0, "two runs, two identities");
	free(s1);
	free(s2);

	ok(wa_prekeys_generate(&pk, 5, 30) == 0 && json_object_size(pk) == 30, "30 pre-keys");
	all = 1;
	{
		unsigned long want = 5;
		json_t *shape = json_pack("{s:o,s:o}", "private", json_object_get(json_object_get(baileys, "noiseKey"), "private"),
		    "public", json_object_get(json_object_get(baileys, "noiseKey"), "public"));

		json_incref(json_object_get(json_object_get(baileys, "noiseKey"), "private"));
		json_incref(json_object_get(json_object_get(baileys, "noiseKey"), "public"));
		json_object_foreach(pk, k, v) {
			char id[16];

			snprintf(id, sizeof id, "%lu", want++);
			if (strcmp(k, id) != 0 || !pair_ok(v) || !same_shape(v, shape, k, why, sizeof why))
				all = 0;
		}
		json_decref(shape);
	}
	ok(all, "ids 5..34 in order, each {private, public} as pre-key-N.json, real clamped pairs %s", why);
	json_decref(pk);
	pk = NULL;
	ok(wa_prekeys_generate(&pk, 0, 1) == WA_EINVAL && !pk, "pre-key id 0 refused");
	ok(wa_prekeys_generate(&pk, 1, 0) == WA_EINVAL, "no pre-keys refused");
	ok(wa_prekeys_generate(&pk, WA_PREKEY_ID_MAX, 2) == WA_EINVAL, "ids past 3 bytes refused");
	ok(wa_prekeys_generate(&pk, WA_PREKEY_ID_MAX, 1) == 0 && json_object_get(pk, "16777215"),
	    "the last 3-byte id is fine");
	json_decref(pk);

	json_decref(c);
	json_decref(c2);
	json_decref(baileys);
	done_testing();
	return exit_status();
}
