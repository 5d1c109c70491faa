/*
 * pair.c - linking a companion device: QR string, pair-success checks and
 * the device signature, link-code key exchange (see pair.h for the
 * contract and the list of checks).
 *
 * How pair-success works (wa-protocol(7) §6.4): the primary phone signs our
 * identity key with its account key (accountSignature over
 * 06 00 || details || ourIdentity, 06 05 for hosted devices), wraps that
 * ADVSignedDeviceIdentity in an HMAC keyed with the adv secret that only
 * the QR (or the link-code exchange) carried, and the server hands it to
 * us.  The HMAC proves the phone saw our QR; the account signature binds
 * the account key to our identity.  We answer with our own signature over
 * the same details plus the account key (06 01 || details || ourIdentity ||
 * accountKey) and leave the account key out of the reply.  Baileys rc14
 * checks the HMAC but its Curve.verify accepts any well-formed signature;
 * here every check is made, whatsmeow's order, nothing trusted unverified.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "adv.pb-c.h"
#include "base/bufjson.h"
#include "crypto/curve.h"
#include "crypto/pair.h"

static const unsigned char PREFIX_ACCOUNT[2] = { 6, 0 };
static const unsigned char PREFIX_DEVICE[2] = { 6, 1 };
static const unsigned char PREFIX_HOSTED[2] = { 6, 5 };

#define REF_MAX 512

/* ---- keys out of creds ------------------------------------------------ */

/* dst = the 32-byte binary value at creds[obj][field]; WA_ECORRUPT. */
static int
creds_key(unsigned char dst[32], const json_t *creds, const char *obj, const char *field,
    struct wa_why *why)
{
	const json_t *v = json_object_get(json_object_get(creds, obj), field);
	uint8_t *b = NULL;
	size_t n = 0;
	int rc;

	if (!v)
		return wa_why_set(why, WA_ECORRUPT, "creds: %s.%s missing", obj, field);
	if ((rc = wa_bufjson_decode(&b, &n, v)) < 0)
		return rc == WA_ENOMEM ? rc :
		    wa_why_set(why, WA_ECORRUPT, "creds: %s.%s is not binary", obj, field);
	rc = 0;
	if (n == 32)
		memcpy(dst, b, 32);
	else
		rc = wa_why_set(why, WA_ECORRUPT, "creds: %s.%s is %zu bytes, want 32", obj, field, n);
	if (b) {
		OPENSSL_cleanse(b, n);
		free(b);
	}
	return rc;
}

static int
creds_adv(unsigned char adv[32], const json_t *creds, struct wa_why *why)
{
	const json_t *v = json_object_get(creds, "advSecretKey");
	uint8_t *b = NULL;
	size_t n = 0;
	int rc;

	if (!json_is_string(v))
		return wa_why_set(why, WA_ECORRUPT, "creds: advSecretKey missing");
	if ((rc = wa_base64_decode(&b, &n, json_string_value(v), json_string_length(v))) < 0)
		return rc == WA_ENOMEM ? rc : wa_why_set(why, WA_ECORRUPT, "creds: advSecretKey is not base64");
	rc = 0;
	if (n == 32)
		memcpy(adv, b, 32);
	else
		rc = wa_why_set(why, WA_ECORRUPT, "creds: advSecretKey is %zu bytes, want 32", n);
	if (b) {
		OPENSSL_cleanse(b, n);
		free(b);
	}
	return rc;
}

/* ---- QR --------------------------------------------------------------- */

const char *
wa_pair_platform_id(const char *os, const char *name)
{
	static const struct { const char *name, *id; } web[] = {
		{ "Chrome", "1" }, { "Edge", "2" }, { "Firefox", "3" },
		{ "IE", "4" }, { "Opera", "5" }, { "Safari", "6" },
	};
	size_t i;

	if (name && strcmp(name, "Desktop") == 0)
		return os && strcmp(os, "Windows") == 0 ? "8" : "7";
	for (i = 0; name && i < sizeof web / sizeof web[0]; i++)
		if (strcmp(name, web[i].name) == 0)
			return web[i].id;
	return "9";
}

int
wa_pair_qr_string(char **out, const void *ref, size_t reflen, const json_t *creds,
    const char *platform, struct wa_why *why)
{
	const unsigned char *r = ref;
	unsigned char noise[32], ident[32], adv[32];
	char *b_noise = NULL, *b_ident = NULL, *b_adv = NULL, *s = NULL;
	size_t i, n;
	int rc;

	*out = NULL;
	if (reflen == 0 || reflen > REF_MAX)
		return wa_why_set(why, WA_EPROTO, "qr: ref is %zu bytes", reflen);
	for (i = 0; i < reflen; i++)
		if (r[i] < 0x21 || r[i] > 0x7e || r[i] == ',')
			return wa_why_set(why, WA_EPROTO, "qr: ref byte %zu is 0x%02x", i, r[i]);
	if (platform) {
		n = strlen(platform);
		if (n == 0 || n > 8 || strchr(platform, ','))
			return wa_why_set(why, WA_EINVAL, "qr: bad platform id");
		for (i = 0; i < n; i++)
			if (platform[i] < 0x21 || platform[i] > 0x7e)
				return wa_why_set(why, WA_EINVAL, "qr: bad platform id");
	}
	if ((rc = creds_key(noise, creds, "noiseKey", "public", why)) < 0 ||
	    (rc = creds_key(ident, creds, "signedIdentityKey", "public", why)) < 0 ||
	    (rc = creds_adv(adv, creds, why)) < 0)
		goto out;
	rc = WA_ENOMEM;
	if (!(b_noise = wa_base64_encode(noise, 32)) || !(b_ident = wa_base64_encode(ident, 32)) ||
	    !(b_adv = wa_base64_encode(adv, 32)))
		goto out;
	n = sizeof WA_PAIR_QR_PREFIX + reflen + strlen(b_noise) + strlen(b_ident) + strlen(b_adv) +
	    (platform ? strlen(platform) + 1 : 0) + 3;
	if (!(s = malloc(n)))
		goto out;
	memcpy(s, WA_PAIR_QR_PREFIX, sizeof WA_PAIR_QR_PREFIX - 1);
	memcpy(s + sizeof WA_PAIR_QR_PREFIX - 1, r, reflen);
	snprintf(s + sizeof WA_PAIR_QR_PREFIX - 1 + reflen, n - (sizeof WA_PAIR_QR_PREFIX - 1 + reflen),
	    ",%s,%s,%s%s%s", b_noise, b_ident, b_adv, platform ? "," : "", platform ? platform : "");
	*out = s;
	rc = 0;
out:
	OPENSSL_cleanse(adv, sizeof adv);
	if (b_adv)
		OPENSSL_cleanse(b_adv, strlen(b_adv));
	free(b_noise);
	free(b_ident);
	free(b_adv);
	return rc;
}

/* ---- pair-success ----------------------------------------------------- */

/* HMAC-SHA256(key, a || b) into mac. */
static int
hmac2(unsigned char mac[32], const unsigned char key[32], const void *a, size_t alen,
    const void *b, size_t blen)
{
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM p[2];
	size_t n = 0;
	int ok;

	EVP_MAC_free(m);
	if (!c)
		return WA_ENOMEM;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_end();
	ok = EVP_MAC_init(c, key, 32, p) == 1 &&
	    (alen == 0 || EVP_MAC_update(c, a, alen) == 1) &&
	    (blen == 0 || EVP_MAC_update(c, b, blen) == 1) &&
	    EVP_MAC_final(c, mac, &n, 32) == 1 && n == 32;
	EVP_MAC_CTX_free(c);
	return ok ? 0 : WA_ESYS;
}

/* 0 if sig verifies over prefix || details || ident, WA_EVERIFY if not. */
static int
account_sig_ok(const unsigned char key[32], const unsigned char prefix[2], const uint8_t *details,
    size_t dlen, const unsigned char ident[32], const uint8_t *sig, size_t siglen)
{
	uint8_t *msg = malloc(2 + dlen + 32);
	int rc;

	if (!msg)
		return WA_ENOMEM;
	memcpy(msg, prefix, 2);
	memcpy(msg + 2, details, dlen);
	memcpy(msg + 2 + dlen, ident, 32);
	rc = wa_curve_verify(key, msg, 2 + dlen + 32, sig, siglen);
	free(msg);
	return rc;
}

int
wa_pair_device_sign(unsigned char sig[64], const unsigned char identity_priv[32],
    const unsigned char identity_pub[32], const uint8_t *details, size_t len,
    const unsigned char account_key[32])
{
	uint8_t *msg = malloc(2 + len + 64);
	int rc;

	if (!msg)
		return WA_ENOMEM;
	memcpy(msg, PREFIX_DEVICE, 2);
	if (len)
		memcpy(msg + 2, details, len);
	memcpy(msg + 2 + len, identity_pub, 32);
	memcpy(msg + 2 + len + 32, account_key, 32);
	rc = wa_curve_sign(sig, identity_priv, msg, 2 + len + 64);
	free(msg);
	return rc;
}

/* 1 if s is "<digits>:<device>@<server>", device 1..65535 without a
 * leading zero, user 1..64 digits. */
static int
device_jid_ok(const char *s, const char *server)
{
	size_t u = 0, d = 0;
	unsigned long dev = 0;

	if (!s)
		return 0;
	while (s[u] >= '0' && s[u] <= '9')
		u++;
	if (u == 0 || u > 64 || s[u] != ':')
		return 0;
	s += u + 1;
	if (*s == '0')
		return 0;
	while (s[d] >= '0' && s[d] <= '9' && d < 6)
		dev = dev * 10 + (unsigned long)(s[d++] - '0');
	if (d == 0 || dev < 1 || dev > 65535 || s[d] != '@')
		return 0;
	return strcmp(s + d + 1, server) == 0;
}

static json_t *
b64_json(const uint8_t *p, size_t n)
{
	char *s = wa_base64_encode(p, n);
	json_t *v = s ? json_string(s) : NULL;

	free(s);
	return v;
}

/* A JSON string for text from the server: as is when it is UTF-8, else
 * with every byte from 0x80 up replaced by '?' (a business name in some
 * other encoding must not stop a pairing, nor make creds.json invalid). */
static json_t *
text_json(const char *s)
{
	json_t *v = json_string(s);
	char *t, *p;

	if (v || !s || !(t = strdup(s)))
		return v;
	for (p = t; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(t);
	free(t);
	return v;
}

/* Set o[key] = v (stolen): 0 or WA_ENOMEM. */
static int
put(json_t *o, const char *key, json_t *v)
{
	return v && json_object_set_new(o, key, v) == 0 ? 0 : WA_ENOMEM;
}

/* The creds update of §6.5 applied to c (a copy of our creds) the way
 * Baileys' Object.assign(creds, {account, me, signalIdentities, platform})
 * does: keys already there keep their place, new ones go last in that
 * order (jansson keeps a replaced key's place too). */
static int
apply(json_t *c, const struct wa_pair_success *ps, const uint8_t *details, size_t dlen,
    const unsigned char akey[32], const uint8_t *asig, size_t asiglen, const unsigned char dsig[64])
{
	unsigned char djb[33];
	json_t *me = NULL, *acc = NULL, *ids, *id, *idf;

	/* account: protobuf toJSON, so plain base64 strings, field order */
	if (!(acc = json_object()) ||
	    put(acc, "details", b64_json(details, dlen)) < 0 ||
	    put(acc, "accountSignatureKey", b64_json(akey, 32)) < 0 ||
	    put(acc, "accountSignature", b64_json(asig, asiglen)) < 0 ||
	    put(acc, "deviceSignature", b64_json(dsig, 64)) < 0)
		goto nomem;
	/* me: {id, name, lid}, name only for a business */
	if (!(me = json_object()) ||
	    put(me, "id", json_string(ps->jid)) < 0 ||
	    (ps->biz_name && put(me, "name", text_json(ps->biz_name)) < 0) ||
	    put(me, "lid", json_string(ps->lid)) < 0)
		goto nomem;
	if (put(c, "account", acc) < 0) {
		acc = NULL;
		goto nomem;
	}
	acc = NULL;
	if (put(c, "me", me) < 0) {
		me = NULL;
		goto nomem;
	}
	me = NULL;

	/* signalIdentities: the old list plus the primary's identity */
	if (!(ids = json_object_get(c, "signalIdentities")) &&
	    put(c, "signalIdentities", ids = json_array()) < 0)
		return WA_ENOMEM;
	wa_curve_djb(djb, akey);
	if (!(id = json_object()) || json_array_append_new(ids, id) < 0 ||
	    !(idf = json_object()) || put(id, "identifier", idf) < 0 ||
	    put(idf, "name", json_string(ps->lid)) < 0 ||
	    put(idf, "deviceId", json_integer(0)) < 0 ||
	    put(id, "identifierKey", wa_bufjson_encode(djb, sizeof djb)) < 0)
		return WA_ENOMEM;

	/* platform: undefined when the node had none, and then not written */
	if (ps->platform)
		return put(c, "platform", text_json(ps->platform));
	json_object_del(c, "platform");
	return 0;
nomem:
	json_decref(acc);
	json_decref(me);
	return WA_ENOMEM;
}

#define FAIL(code, check, ...) do { \
	rc = wa_why_set(why, code, "pair-success: " check ": " __VA_ARGS__); \
	goto out; \
} while (0)

int
wa_pair_verify(struct wa_pair_result *res, const json_t *creds,
    const struct wa_pair_success *ps, struct wa_why *why)
{
	Wa__ADVSignedDeviceIdentityHMAC *hc = NULL;
	Wa__ADVSignedDeviceIdentity *acct = NULL, reply = WA__ADVSIGNED_DEVICE_IDENTITY__INIT;
	Wa__ADVDeviceIdentity *dev = NULL;
	unsigned char ipriv[32], ipub[32], adv[32], mac[32], dsig[64];
	const unsigned char *prefix, *other;
	int rc, hosted_hmac, hosted_dev;

	memset(res, 0, sizeof *res);
	memset(adv, 0, sizeof adv);
	memset(ipriv, 0, sizeof ipriv);
	memset(mac, 0, sizeof mac);
	if ((rc = creds_key(ipriv, creds, "signedIdentityKey", "private", why)) < 0 ||
	    (rc = creds_key(ipub, creds, "signedIdentityKey", "public", why)) < 0 ||
	    (rc = creds_adv(adv, creds, why)) < 0)
		goto out;
	if ((rc = wa_curve_public(mac, ipriv)) < 0)
		goto out;
	if (CRYPTO_memcmp(mac, ipub, 32) != 0) {
		rc = wa_why_set(why, WA_ECORRUPT, "creds: signedIdentityKey.public is not the private key's");
		goto out;
	}
	if (!json_is_object(creds) || (json_object_get(creds, "signalIdentities") &&
	    !json_is_array(json_object_get(creds, "signalIdentities")))) {
		rc = wa_why_set(why, WA_ECORRUPT, "creds: signalIdentities is not an array");
		goto out;
	}

	if (!ps->identity || ps->identity_len == 0)
		FAIL(WA_EVERIFY, "missing", "no device-identity");
	if (!ps->jid)
		FAIL(WA_EVERIFY, "missing", "no device jid");

	hc = wa__advsigned_device_identity_hmac__unpack(NULL, ps->identity_len, ps->identity);
	if (!hc)
		FAIL(WA_EVERIFY, "identity-decode", "device-identity is not an ADVSignedDeviceIdentityHMAC");
	if (!hc->has_details || !hc->has_hmac)
		FAIL(WA_EVERIFY, "identity-parts", "device-identity lacks %s", hc->has_details ? "hmac" : "details");
	if (hc->hmac.len != 32)
		FAIL(WA_EVERIFY, "identity-parts", "hmac is %zu bytes, want 32", hc->hmac.len);

	/* HMAC-SHA256(advSecret, [06 05 if accountType HOSTED] || details) */
	hosted_hmac = hc->has_accounttype && hc->accounttype == WA__ADVENCRYPTION_TYPE__HOSTED;
	if ((rc = hmac2(mac, adv, PREFIX_HOSTED, hosted_hmac ? 2 : 0, hc->details.data, hc->details.len)) < 0)
		goto out;
	if (CRYPTO_memcmp(mac, hc->hmac.data, 32) != 0) {
		if ((rc = hmac2(mac, adv, PREFIX_HOSTED, hosted_hmac ? 0 : 2, hc->details.data,
		    hc->details.len)) < 0)
			goto out;
		if (CRYPTO_memcmp(mac, hc->hmac.data, 32) == 0)
			FAIL(WA_EVERIFY, "hmac-prefix", "the hmac %s the hosted-account prefix but accountType is %s",
			    hosted_hmac ? "lacks" : "includes", hosted_hmac ? "HOSTED" : "E2EE");
		FAIL(WA_EVERIFY, "hmac", "device identity hmac does not match our adv secret "
		    "(not from the phone that scanned this code)");
	}

	acct = wa__advsigned_device_identity__unpack(NULL, hc->details.len, hc->details.data);
	if (!acct)
		FAIL(WA_EVERIFY, "account-decode", "details is not an ADVSignedDeviceIdentity");
	if (!acct->has_details || acct->details.len == 0)
		FAIL(WA_EVERIFY, "account-parts", "no details");
	if (!acct->has_accountsignaturekey)
		FAIL(WA_EVERIFY, "account-parts", "no accountSignatureKey");
	if (!acct->has_accountsignature)
		FAIL(WA_EVERIFY, "account-parts", "no accountSignature");
	if (acct->accountsignaturekey.len != 32)
		FAIL(WA_EVERIFY, "account-key-length", "accountSignatureKey is %zu bytes, want 32",
		    acct->accountsignaturekey.len);
	if (acct->accountsignature.len != 64)
		FAIL(WA_EVERIFY, "account-sig-length", "accountSignature is %zu bytes, want 64",
		    acct->accountsignature.len);

	dev = wa__advdevice_identity__unpack(NULL, acct->details.len, acct->details.data);
	if (!dev)
		FAIL(WA_EVERIFY, "details-decode", "account details is not an ADVDeviceIdentity");

	hosted_dev = dev->has_devicetype && dev->devicetype == WA__ADVENCRYPTION_TYPE__HOSTED;
	prefix = hosted_dev ? PREFIX_HOSTED : PREFIX_ACCOUNT;
	other = hosted_dev ? PREFIX_ACCOUNT : PREFIX_HOSTED;
	rc = account_sig_ok(acct->accountsignaturekey.data, prefix, acct->details.data, acct->details.len,
	    ipub, acct->accountsignature.data, acct->accountsignature.len);
	if (rc == WA_EVERIFY) {
		rc = account_sig_ok(acct->accountsignaturekey.data, other, acct->details.data,
		    acct->details.len, ipub, acct->accountsignature.data, acct->accountsignature.len);
		if (rc == 0)
			FAIL(WA_EVERIFY, "account-sig-prefix", "the account signature is over the %s prefix "
			    "but deviceType is %s", hosted_dev ? "E2EE" : "hosted", hosted_dev ? "HOSTED" : "E2EE");
		if (rc == WA_EVERIFY)
			FAIL(WA_EVERIFY, "account-sig", "the account signature over our identity key does not verify");
	}
	if (rc < 0)
		goto out;

	if (!dev->has_keyindex)
		FAIL(WA_EVERIFY, "key-index", "the device identity has no keyIndex");
	if (dev->keyindex == 0)
		FAIL(WA_EVERIFY, "key-index", "keyIndex 0 is the primary's own, not a companion's");
	if (!device_jid_ok(ps->jid, "s.whatsapp.net"))
		FAIL(WA_EVERIFY, "device-jid", "'%.64s' is not a companion device jid", ps->jid);
	if (!ps->lid)
		FAIL(WA_EVERIFY, "device-lid", "no lid");
	if (!device_jid_ok(ps->lid, "lid"))
		FAIL(WA_EVERIFY, "device-lid", "'%.64s' is not a companion device lid", ps->lid);

	if ((rc = wa_pair_device_sign(dsig, ipriv, ipub, acct->details.data, acct->details.len,
	    acct->accountsignaturekey.data)) < 0)
		goto out;

	/* A fresh message, so nothing unknown the phone sent is echoed back. */
	reply.has_details = 1;
	reply.details = acct->details;
	reply.has_accountsignature = 1;
	reply.accountsignature = acct->accountsignature;
	reply.has_devicesignature = 1;
	reply.devicesignature.data = dsig;
	reply.devicesignature.len = sizeof dsig;
	res->reply_len = wa__advsigned_device_identity__get_packed_size(&reply);
	rc = WA_ENOMEM;
	if (!(res->reply = malloc(res->reply_len ? res->reply_len : 1)))
		goto out;
	wa__advsigned_device_identity__pack(&reply, res->reply);
	snprintf(res->key_index, sizeof res->key_index, "%lu", (unsigned long)dev->keyindex);
	res->hosted = hosted_dev;

	if (!(res->creds = json_deep_copy(creds)))
		goto out;
	if ((rc = apply(res->creds, ps, acct->details.data, acct->details.len,
	    acct->accountsignaturekey.data, acct->accountsignature.data, acct->accountsignature.len,
	    dsig)) < 0)
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(ipriv, sizeof ipriv);
	OPENSSL_cleanse(adv, sizeof adv);
	OPENSSL_cleanse(mac, sizeof mac);
	if (dev)
		wa__advdevice_identity__free_unpacked(dev, NULL);
	if (acct)
		wa__advsigned_device_identity__free_unpacked(acct, NULL);
	if (hc)
		wa__advsigned_device_identity_hmac__free_unpacked(hc, NULL);
	if (rc < 0)
		wa_pair_result_free(res);
	return rc;
}

void
wa_pair_result_free(struct wa_pair_result *res)
{
	if (!res)
		return;
	json_decref(res->creds);
	free(res->reply);
	memset(res, 0, sizeof *res);
}

/* ---- link code -------------------------------------------------------- */

const char wa_pair_code_alphabet[33] = "123456789ABCDEFGHJKLMNPQRSTVWXYZ";

void
wa_pair_code_encode(char code[WA_PAIR_CODE_LEN + 1], const unsigned char raw[5])
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 5; i++)
		v = v << 8 | raw[i];
	for (i = 0; i < WA_PAIR_CODE_LEN; i++)
		code[i] = wa_pair_code_alphabet[(v >> (35 - 5 * i)) & 31];
	code[WA_PAIR_CODE_LEN] = 0;
}

int
wa_pair_code_generate(char code[WA_PAIR_CODE_LEN + 1])
{
	unsigned char raw[5];

	if (RAND_bytes(raw, sizeof raw) != 1)
		return WA_ESYS;
	wa_pair_code_encode(code, raw);
	OPENSSL_cleanse(raw, sizeof raw);
	return 0;
}

int
wa_pair_code_valid(const char *code)
{
	size_t i;

	if (!code || strlen(code) != WA_PAIR_CODE_LEN)
		return 0;
	for (i = 0; i < WA_PAIR_CODE_LEN; i++)
		if (!strchr(wa_pair_code_alphabet, code[i]) || code[i] == 0)
			return 0;
	return 1;
}

void
wa_pair_code_format(char out[WA_PAIR_CODE_LEN + 2], const char *code)
{
	memcpy(out, code, 4);
	out[4] = '-';
	memcpy(out + 5, code + 4, 4);
	out[9] = 0;
}

/* key = PBKDF2-HMAC-SHA256(code, salt, 131072, 32) */
static int
code_key(unsigned char key[32], const char *code, const unsigned char salt[32])
{
	return PKCS5_PBKDF2_HMAC(code, WA_PAIR_CODE_LEN, salt, 32, WA_PAIR_CODE_ITER, EVP_sha256(),
	    32, key) == 1 ? 0 : WA_ESYS;
}

/* out = AES-256-CTR(key, iv, in), 32 bytes (CTR: same both ways). */
static int
ctr32(unsigned char out[32], const unsigned char key[32], const unsigned char iv[16],
    const unsigned char in[32])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, ok;

	if (!c)
		return WA_ENOMEM;
	ok = EVP_EncryptInit_ex(c, EVP_aes_256_ctr(), NULL, key, iv) == 1 &&
	    EVP_EncryptUpdate(c, out, &n1, in, 32) == 1 &&
	    EVP_EncryptFinal_ex(c, out + n1, &n2) == 1 && n1 + n2 == 32;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : WA_ESYS;
}

int
wa_pair_code_wrap(unsigned char wrapped[WA_PAIR_CODE_WRAPPED], const char *code,
    const unsigned char pub[32], const unsigned char *salt32, const unsigned char *iv16)
{
	unsigned char key[32];
	int rc;

	if (!wa_pair_code_valid(code))
		return WA_EINVAL;
	if (salt32)
		memcpy(wrapped, salt32, 32);
	if (iv16)
		memcpy(wrapped + 32, iv16, 16);
	if ((!salt32 && RAND_bytes(wrapped, 32) != 1) || (!iv16 && RAND_bytes(wrapped + 32, 16) != 1))
		return WA_ESYS;
	if ((rc = code_key(key, code, wrapped)) == 0)
		rc = ctr32(wrapped + 48, key, wrapped + 32, pub);
	OPENSSL_cleanse(key, sizeof key);
	return rc;
}

int
wa_pair_code_unwrap(unsigned char pub[32], const char *code,
    const unsigned char wrapped[WA_PAIR_CODE_WRAPPED])
{
	unsigned char key[32];
	int rc;

	if (!wa_pair_code_valid(code))
		return WA_EINVAL;
	if ((rc = code_key(key, code, wrapped)) == 0)
		rc = ctr32(pub, key, wrapped + 32, wrapped + 48);
	OPENSSL_cleanse(key, sizeof key);
	return rc;
}

/* out = HKDF-SHA256(ikm, salt (NULL: none), info, 32). */
static int
hkdf32(unsigned char out[32], const void *ikm, size_t ikmlen, const unsigned char *salt,
    size_t saltlen, const char *info)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *c = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[5], *q = p;
	int rc;

	EVP_KDF_free(kdf);
	if (!c)
		return WA_ENOMEM;
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
	if (salt)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	*q = OSSL_PARAM_construct_end();
	rc = EVP_KDF_derive(c, out, 32, p) == 1 ? 0 : WA_ESYS;
	EVP_KDF_CTX_free(c);
	return rc;
}

/* out = ct(len) || tag(16) of AES-256-GCM(key, nonce 12, pt, no AAD). */
static int
gcm(unsigned char *out, const unsigned char key[32], const unsigned char nonce[12],
    const unsigned char *pt, int len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, ok;

	if (!c)
		return WA_ENOMEM;
	ok = EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
	    EVP_EncryptInit_ex(c, NULL, NULL, key, nonce) == 1 &&
	    EVP_EncryptUpdate(c, out, &n1, pt, len) == 1 &&
	    EVP_EncryptFinal_ex(c, out + n1, &n2) == 1 && n1 + n2 == len &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + len) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : WA_ESYS;
}

int
wa_pair_code_finish(struct wa_pair_code_finish *out, const char *code,
    const unsigned char eph_priv[32], const unsigned char identity_priv[32],
    const unsigned char identity_pub[32], const unsigned char primary_wrapped[WA_PAIR_CODE_WRAPPED],
    const unsigned char primary_identity[32], const unsigned char *rnd76)
{
	unsigned char rnd[76], peph[32], eph_shared[32], id_shared[32], bkey[32], pt[96], ikm[96];
	const unsigned char *adv_random = rnd, *salt = rnd + 32, *nonce = rnd + 64;
	int rc;

	memset(out, 0, sizeof *out);
	if (!wa_pair_code_valid(code))
		return WA_EINVAL;
	if (rnd76)
		memcpy(rnd, rnd76, sizeof rnd);
	else if (RAND_priv_bytes(rnd, sizeof rnd) != 1)
		return WA_ESYS;
	if ((rc = wa_pair_code_unwrap(peph, code, primary_wrapped)) < 0 ||
	    (rc = wa_curve_dh(eph_shared, eph_priv, peph)) < 0 ||
	    (rc = hkdf32(bkey, eph_shared, 32, salt, 32, "link_code_pairing_key_bundle_encryption_key")) < 0)
		goto out;
	memcpy(pt, identity_pub, 32);
	memcpy(pt + 32, primary_identity, 32);
	memcpy(pt + 64, adv_random, 32);
	memcpy(out->bundle, salt, 32);
	memcpy(out->bundle + 32, nonce, 12);
	if ((rc = gcm(out->bundle + 44, bkey, nonce, pt, sizeof pt)) < 0 ||
	    (rc = wa_curve_dh(id_shared, identity_priv, primary_identity)) < 0)
		goto out;
	memcpy(ikm, eph_shared, 32);
	memcpy(ikm + 32, id_shared, 32);
	memcpy(ikm + 64, adv_random, 32);
	rc = hkdf32(out->adv_secret, ikm, sizeof ikm, NULL, 0, "adv_secret");
out:
	OPENSSL_cleanse(rnd, sizeof rnd);
	OPENSSL_cleanse(peph, sizeof peph);
	OPENSSL_cleanse(eph_shared, sizeof eph_shared);
	OPENSSL_cleanse(id_shared, sizeof id_shared);
	OPENSSL_cleanse(bkey, sizeof bkey);
	OPENSSL_cleanse(pt, sizeof pt);
	OPENSSL_cleanse(ikm, sizeof ikm);
	if (rc < 0)
		wa_pair_code_finish_wipe(out);
	return rc;
}

int
wa_pair_code_apply(json_t *creds, const char *code, const unsigned char adv_secret[32])
{
	char *b64;
	int rc;

	if (!wa_pair_code_valid(code) || !json_is_object(creds))
		return WA_EINVAL;
	if (!(b64 = wa_base64_encode(adv_secret, 32)))
		return WA_ENOMEM;
	rc = put(creds, "pairingCode", json_string(code));
	if (rc == 0)
		rc = put(creds, "advSecretKey", json_string(b64));
	if (rc == 0)
		rc = put(creds, "registered", json_true());
	OPENSSL_cleanse(b64, strlen(b64));
	free(b64);
	return rc;
}

void
wa_pair_code_finish_wipe(struct wa_pair_code_finish *f)
{
	if (f)
		OPENSSL_cleanse(f, sizeof *f);
}

int
wa_pair_device_identity(uint8_t **out, size_t *len, const json_t *creds)
{
	static const char *const f[] = { "details", "accountSignatureKey", "accountSignature", "deviceSignature" };
	Wa__ADVSignedDeviceIdentity id = WA__ADVSIGNED_DEVICE_IDENTITY__INIT;
	ProtobufCBinaryData *dst[] = { &id.details, &id.accountsignaturekey, &id.accountsignature,
	    &id.devicesignature };
	protobuf_c_boolean *has[] = { &id.has_details, &id.has_accountsignaturekey, &id.has_accountsignature,
	    &id.has_devicesignature };
	const json_t *acct = json_object_get(creds, "account");
	uint8_t *buf[4] = { NULL, NULL, NULL, NULL };
	size_t i, n;
	int rc = 0;

	*out = NULL;
	*len = 0;
	if (!json_is_object(acct))
		return WA_EINVAL;
	for (i = 0; i < 4; i++) {
		if (wa_bufjson_decode(&buf[i], &n, json_object_get(acct, f[i])) < 0 || !buf[i]) {
			rc = WA_EINVAL;
			goto out;
		}
		dst[i]->data = buf[i];
		dst[i]->len = n;
		*has[i] = 1;
	}
	n = wa__advsigned_device_identity__get_packed_size(&id);
	if (!(*out = malloc(n ? n : 1))) {
		rc = WA_ENOMEM;
		goto out;
	}
	*len = wa__advsigned_device_identity__pack(&id, *out);
out:
	for (i = 0; i < 4; i++)
		free(buf[i]);
	return rc;
}
