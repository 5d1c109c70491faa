/*
 * curve.c - X25519 on OpenSSL, XEdDSA on libsignal-protocol-c (curve.h).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <signal/curve.h>
#include <signal/signal_protocol.h>

#include "crypto/curve.h"
#include "crypto/signalctx.h"

void
wa_curve_clamp(unsigned char priv[WA_CURVE_KEY_LEN])
{
	priv[0] &= 248;
	priv[31] &= 127;
	priv[31] |= 64;
}

int
wa_curve_is_clamped(const unsigned char priv[WA_CURVE_KEY_LEN])
{
	return (priv[0] & 7) == 0 && (priv[31] & 0xc0) == 0x40;
}

int
wa_curve_public(unsigned char pub[WA_CURVE_KEY_LEN], const unsigned char priv[WA_CURVE_KEY_LEN])
{
	unsigned char k[WA_CURVE_KEY_LEN];
	EVP_PKEY *p;
	size_t n = WA_CURVE_KEY_LEN;
	int rc = 0;

	memcpy(k, priv, sizeof k);
	wa_curve_clamp(k); /* X25519 clamps anyway; keep the contract explicit */
	p = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, k, sizeof k);
	OPENSSL_cleanse(k, sizeof k);
	if (!p)
		return WA_ENOMEM;
	if (EVP_PKEY_get_raw_public_key(p, pub, &n) != 1 || n != WA_CURVE_KEY_LEN)
		rc = WA_ESYS;
	EVP_PKEY_free(p);
	return rc;
}

int
wa_curve_keypair(struct wa_keypair *kp)
{
	int rc;

	if (RAND_priv_bytes(kp->priv, WA_CURVE_KEY_LEN) != 1)
		return WA_ESYS;
	wa_curve_clamp(kp->priv);
	if ((rc = wa_curve_public(kp->pub, kp->priv)) < 0)
		wa_curve_keypair_wipe(kp);
	return rc;
}

void
wa_curve_djb(unsigned char out[WA_CURVE_KEY_LEN + 1], const unsigned char pub[WA_CURVE_KEY_LEN])
{
	out[0] = WA_CURVE_DJB_TYPE;
	memcpy(out + 1, pub, WA_CURVE_KEY_LEN);
}

static int
sg_err(int rc)
{
	return rc == SG_ERR_NOMEM ? WA_ENOMEM : rc == SG_ERR_INVAL || rc == SG_ERR_INVALID_KEY ?
	    WA_EINVAL : WA_ESYS;
}

int
wa_curve_sign(unsigned char sig[WA_CURVE_SIG_LEN], const unsigned char priv[WA_CURVE_KEY_LEN],
    const void *msg, size_t len)
{
	static const unsigned char empty = 0;
	unsigned char k[WA_CURVE_KEY_LEN];
	signal_context *sc = NULL;
	ec_private_key *key = NULL;
	signal_buffer *s = NULL;
	int rc;

	if ((rc = wa_signalctx_new(&sc)) < 0)
		return rc;
	memcpy(k, priv, sizeof k);
	wa_curve_clamp(k);
	rc = curve_decode_private_point(&key, k, sizeof k, sc);
	OPENSSL_cleanse(k, sizeof k);
	if (rc < 0) {
		rc = sg_err(rc);
		goto out;
	}
	rc = curve_calculate_signature(sc, &s, key, len ? msg : &empty, len);
	if (rc < 0 || !s) {
		rc = rc < 0 ? sg_err(rc) : WA_ESYS;
		goto out;
	}
	if (signal_buffer_len(s) != WA_CURVE_SIG_LEN) {
		rc = WA_ESYS;
		goto out;
	}
	memcpy(sig, signal_buffer_data(s), WA_CURVE_SIG_LEN);
	rc = 0;
out:
	if (s)
		signal_buffer_free(s);
	if (key)
		SIGNAL_UNREF(key); /* ec_private_key_destroy clears the key */
	wa_signalctx_free(sc);
	return rc;
}

int
wa_curve_verify(const unsigned char pub[WA_CURVE_KEY_LEN], const void *msg, size_t len,
    const void *sig, size_t siglen)
{
	static const unsigned char empty = 0;
	unsigned char djb[WA_CURVE_KEY_LEN + 1];
	ec_public_key *k = NULL;
	int rc;

	if (siglen != WA_CURVE_SIG_LEN)
		return WA_EVERIFY;
	wa_curve_djb(djb, pub);
	rc = curve_decode_point(&k, djb, sizeof djb, NULL);
	if (rc == SG_ERR_NOMEM)
		return WA_ENOMEM;
	if (rc < 0 || !k)
		return WA_EVERIFY;
	rc = curve_verify_signature(k, len ? msg : &empty, len, sig, siglen);
	SIGNAL_UNREF(k);
	return rc == 1 ? 0 : WA_EVERIFY;
}

void
wa_curve_keypair_wipe(struct wa_keypair *kp)
{
	if (kp)
		OPENSSL_cleanse(kp, sizeof *kp);
}

/* --- key pairs and X25519 (OpenSSL) --------------------------------- */

int
wa_curve_keypair_from_private(struct wa_keypair *kp)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, kp->priv, WA_KEY_LEN);
	size_t n = WA_KEY_LEN;
	int rc = 0;

	if (!k)
		return WA_ENOMEM;
	if (EVP_PKEY_get_raw_public_key(k, kp->pub, &n) != 1 || n != WA_KEY_LEN)
		rc = WA_EPROTO;
	EVP_PKEY_free(k);
	return rc;
}

int
wa_curve_dh(unsigned char out[WA_KEY_LEN], const unsigned char priv[WA_KEY_LEN],
    const unsigned char pub[WA_KEY_LEN])
{
	EVP_PKEY *a = NULL, *b = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t n = WA_KEY_LEN;
	int rc = WA_ENOMEM;

	a = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, WA_KEY_LEN);
	b = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, WA_KEY_LEN);
	if (!a || !b || !(ctx = EVP_PKEY_CTX_new(a, NULL)))
		goto out;
	rc = WA_EVERIFY;
	/* OpenSSL refuses an all-zero result (a low-order peer key). */
	if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, b) != 1 ||
	    EVP_PKEY_derive(ctx, out, &n) != 1 || n != WA_KEY_LEN) {
		OPENSSL_cleanse(out, WA_KEY_LEN);
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	return rc;
}
