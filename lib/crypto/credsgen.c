/*
 * credsgen.c - initAuthCreds() and pre-key generation (credsgen.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/bufjson.h"
#include "crypto/credsgen.h"
#include "crypto/curve.h"

/* {"private": B, "public": B} for a fresh pair, or NULL (*rc says why). */
static json_t *
keypair_json(const struct wa_keypair *kp)
{
	json_t *o = json_object();

	if (!o || json_object_set_new(o, "private", wa_bufjson_encode(kp->priv, sizeof kp->priv)) < 0 ||
	    json_object_set_new(o, "public", wa_bufjson_encode(kp->pub, sizeof kp->pub)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
fresh_keypair_json(json_t **out)
{
	struct wa_keypair kp;
	int rc;

	*out = NULL;
	if ((rc = wa_curve_keypair(&kp)) < 0)
		return rc;
	*out = keypair_json(&kp);
	wa_curve_keypair_wipe(&kp);
	return *out ? 0 : WA_ENOMEM;
}

/* Set o[key] = v (stolen); WA_ENOMEM when v is NULL or setting fails. */
static int
put(json_t *o, const char *key, json_t *v)
{
	return v && json_object_set_new(o, key, v) == 0 ? 0 : WA_ENOMEM;
}

static int
put_keypair(json_t *o, const char *key)
{
	json_t *kp;
	int rc;

	if ((rc = fresh_keypair_json(&kp)) < 0)
		return rc;
	return put(o, key, kp);
}

static int
signed_prekey(json_t **out, const struct wa_keypair *identity)
{
	struct wa_keypair pk;
	unsigned char djb[WA_CURVE_KEY_LEN + 1], sig[WA_CURVE_SIG_LEN];
	json_t *o = NULL;
	int rc;

	*out = NULL;
	if ((rc = wa_curve_keypair(&pk)) < 0)
		return rc;
	wa_curve_djb(djb, pk.pub);
	if ((rc = wa_curve_sign(sig, identity->priv, djb, sizeof djb)) < 0)
		goto out;
	rc = WA_ENOMEM;
	if (!(o = json_object()) || put(o, "keyPair", keypair_json(&pk)) < 0 ||
	    put(o, "signature", wa_bufjson_encode(sig, sizeof sig)) < 0 ||
	    put(o, "keyId", json_integer(WA_SIGNED_PREKEY_ID)) < 0)
		goto out;
	*out = o;
	o = NULL;
	rc = 0;
out:
	json_decref(o);
	wa_curve_keypair_wipe(&pk);
	return rc;
}

int
wa_creds_generate(json_t **out)
{
	struct wa_keypair id;
	unsigned char adv[32], r[2];
	json_t *c = NULL, *spk = NULL, *settings;
	char *b64 = NULL;
	unsigned regid;
	int rc;

	*out = NULL;
	memset(&id, 0, sizeof id);
	if (!(c = json_object()))
		return WA_ENOMEM;
	if ((rc = put_keypair(c, "noiseKey")) < 0 ||
	    (rc = put_keypair(c, "pairingEphemeralKeyPair")) < 0 ||
	    (rc = wa_curve_keypair(&id)) < 0 ||
	    (rc = put(c, "signedIdentityKey", keypair_json(&id))) < 0 ||
	    (rc = signed_prekey(&spk, &id)) < 0)
		goto out;
	if ((rc = put(c, "signedPreKey", spk)) < 0)
		goto out;
	do {
		if (RAND_bytes(r, sizeof r) != 1) {
			rc = WA_ESYS;
			goto out;
		}
		regid = ((unsigned)r[0] << 8 | r[1]) & 0x3fff;
	} while (regid == 0);
	if ((rc = put(c, "registrationId", json_integer(regid))) < 0)
		goto out;
	if (RAND_priv_bytes(adv, sizeof adv) != 1) {
		rc = WA_ESYS;
		goto out;
	}
	b64 = wa_base64_encode(adv, sizeof adv);
	OPENSSL_cleanse(adv, sizeof adv);
	if ((rc = put(c, "advSecretKey", b64 ? json_string(b64) : NULL)) < 0 ||
	    (rc = put(c, "processedHistoryMessages", json_array())) < 0 ||
	    (rc = put(c, "nextPreKeyId", json_integer(1))) < 0 ||
	    (rc = put(c, "firstUnuploadedPreKeyId", json_integer(1))) < 0 ||
	    (rc = put(c, "accountSyncCounter", json_integer(0))) < 0)
		goto out;
	settings = json_object();
	if ((rc = put(c, "accountSettings", settings)) < 0 ||
	    (rc = put(settings, "unarchiveChats", json_false())) < 0 ||
	    (rc = put(c, "registered", json_false())) < 0)
		goto out;
	*out = c;
	c = NULL;
	rc = 0;
out:
	if (b64) {
		OPENSSL_cleanse(b64, strlen(b64));
		free(b64);
	}
	wa_curve_keypair_wipe(&id);
	json_decref(c);
	return rc;
}

int
wa_prekeys_generate(json_t **out, uint32_t first, uint32_t count)
{
	json_t *o, *kp;
	char id[16];
	uint32_t i;
	int rc;

	*out = NULL;
	if (first == 0 || count == 0 || first > WA_PREKEY_ID_MAX || count - 1 > WA_PREKEY_ID_MAX - first)
		return WA_EINVAL;
	if (!(o = json_object()))
		return WA_ENOMEM;
	for (i = 0; i < count; i++) {
		if ((rc = fresh_keypair_json(&kp)) < 0)
			goto fail;
		snprintf(id, sizeof id, "%lu", (unsigned long)(first + i));
		if ((rc = put(o, id, kp)) < 0)
			goto fail;
	}
	*out = o;
	return 0;
fail:
	json_decref(o);
	return rc;
}
