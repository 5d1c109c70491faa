/*
 * t-curve.c - X25519 keys and XEdDSA signatures (curve.h) against Baileys'
 * Curve (vectors from tests/fakewa/pair-vectors.mjs), and the OpenSSL
 * crypto provider libsignal-protocol-c runs on (signalctx.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/curve.h"
#include "crypto/signalctx.h"
#include "tap.h"

#include "pair-vectors.h"

#define NS (sizeof pv_curve_sigs / sizeof pv_curve_sigs[0])

static void
from_hex(unsigned char *out, const char *hex)
{
	size_t i;
	unsigned v;

	for (i = 0; hex[2 * i]; i++) {
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
}

static void
baileys_signatures(void)
{
	unsigned char pub[32], sig[64], other[32], msg[128];
	struct wa_keypair kp;
	size_t i;

	ok(wa_curve_public(pub, pv_curve_priv) == 0 && memcmp(pub, pv_curve_pub, 32) == 0,
	    "public key from a Baileys private key is Baileys' public key");
	ok(wa_curve_is_clamped(pv_curve_priv), "Baileys' private key is stored clamped");
	for (i = 0; i < NS; i++) {
		ok(wa_curve_verify(pv_curve_pub, pv_curve_sigs[i].msg, pv_curve_sigs[i].len,
		    pv_curve_sigs[i].sig, 64) == 0, "Baileys' Curve.sign over %zu bytes verifies",
		    pv_curve_sigs[i].len);
		memcpy(sig, pv_curve_sigs[i].sig, 64);
		sig[i * 7 % 64] ^= 0x01;
		ok(wa_curve_verify(pv_curve_pub, pv_curve_sigs[i].msg, pv_curve_sigs[i].len, sig, 64) ==
		    WA_EVERIFY, "... with a flipped signature bit does not");
		ok(wa_curve_verify(pv_curve_pub, pv_curve_sigs[i].msg, pv_curve_sigs[i].len,
		    pv_curve_sigs[i].sig, 63) == WA_EVERIFY, "... cut to 63 bytes does not");
		if (pv_curve_sigs[i].len) {
			memcpy(msg, pv_curve_sigs[i].msg, pv_curve_sigs[i].len);
			msg[pv_curve_sigs[i].len - 1] ^= 0x80;
			ok(wa_curve_verify(pv_curve_pub, msg, pv_curve_sigs[i].len, pv_curve_sigs[i].sig, 64) ==
			    WA_EVERIFY, "... over a changed message does not");
		}
	}
	wa_curve_keypair(&kp);
	memcpy(other, kp.pub, 32);
	wa_curve_keypair_wipe(&kp);
	ok(wa_curve_verify(other, pv_curve_sigs[1].msg, pv_curve_sigs[1].len, pv_curve_sigs[1].sig, 64) ==
	    WA_EVERIFY, "a Baileys signature does not verify under another key");
	/* we sign with Baileys' key; verify ours */
	ok(wa_curve_sign(sig, pv_curve_priv, pv_curve_sigs[2].msg, pv_curve_sigs[2].len) == 0 &&
	    wa_curve_verify(pv_curve_pub, pv_curve_sigs[2].msg, pv_curve_sigs[2].len, sig, 64) == 0,
	    "our signature with Baileys' key verifies");
	ok(memcmp(sig, pv_curve_sigs[2].sig, 64) != 0, "and differs from Baileys' (XEdDSA is randomised)");
}

static void
round_trip(void)
{
	struct wa_keypair a, b;
	unsigned char s1[64], s2[64], djb[33], k1[32], k2[32], pub[32], un[32];
	static const unsigned char zero[32];
	int i, clamped = 1;

	for (i = 0; i < 64; i++) {
		if (wa_curve_keypair(&a) < 0 || !wa_curve_is_clamped(a.priv))
			clamped = 0;
	}
	ok(clamped, "64 fresh private keys are clamped");
	wa_curve_keypair(&a);
	wa_curve_keypair(&b);
	ok(wa_curve_public(pub, a.priv) == 0 && memcmp(pub, a.pub, 32) == 0, "public key matches the pair");
	wa_curve_djb(djb, b.pub);
	ok(djb[0] == 0x05 && memcmp(djb + 1, b.pub, 32) == 0, "0x05 || pub");
	ok(wa_curve_sign(s1, a.priv, djb, sizeof djb) == 0 && wa_curve_verify(a.pub, djb, sizeof djb, s1, 64) == 0,
	    "sign/verify round trip (a signed pre-key)");
	ok(wa_curve_sign(s2, a.priv, djb, sizeof djb) == 0 && memcmp(s1, s2, 64) != 0 &&
	    wa_curve_verify(a.pub, djb, sizeof djb, s2, 64) == 0, "a second signature differs and verifies");
	ok(wa_curve_verify(b.pub, djb, sizeof djb, s1, 64) == WA_EVERIFY, "not under another key");
	ok(wa_curve_sign(s1, a.priv, "", 0) == 0 && wa_curve_verify(a.pub, "", 0, s1, 64) == 0,
	    "empty message");

	/* clamping: an unclamped copy of a's scalar is the same key */
	memcpy(un, a.priv, 32);
	un[0] |= 7;
	un[31] |= 0x80;
	ok(!wa_curve_is_clamped(un), "unclamped scalar detected");
	ok(wa_curve_public(pub, un) == 0 && memcmp(pub, a.pub, 32) == 0, "unclamped scalar: same public key");
	ok(wa_curve_sign(s1, un, "abc", 3) == 0 && wa_curve_verify(a.pub, "abc", 3, s1, 64) == 0,
	    "unclamped scalar: signature verifies under the clamped key's public key");
	memcpy(k1, un, 32);
	wa_curve_clamp(k1);
	ok(memcmp(k1, a.priv, 32) == 0, "wa_curve_clamp restores the scalar");

	ok(wa_curve_dh(k1, a.priv, b.pub) == 0 && wa_curve_dh(k2, b.priv, a.pub) == 0 && memcmp(k1, k2, 32) == 0,
	    "X25519 agreement both ways");
	ok(wa_curve_dh(k1, a.priv, zero) == WA_EVERIFY, "low-order peer key refused");
	ok(wa_curve_verify(zero, "abc", 3, s1, 64) == WA_EVERIFY, "verify under the zero key fails");
	wa_curve_keypair_wipe(&a);
	ok(memcmp(a.priv, zero, 32) == 0 && memcmp(a.pub, zero, 32) == 0, "wipe clears the pair");
	wa_curve_keypair_wipe(&b);
	wa_curve_keypair_wipe(NULL);
}

static void
provider(void)
{
	const signal_crypto_provider *p = &wa_signalctx_provider;
	unsigned char want[64], key[32], iv[16], pt[40];
	signal_buffer *out = NULL, *back = NULL;
	signal_context *sc = NULL;
	void *ctx = NULL;
	int good;

	/* RFC 4231 test case 2 */
	from_hex(want, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	good = p->hmac_sha256_init_func(&ctx, (const uint8_t *)"Jefe", 4, NULL) == 0 &&
	    p->hmac_sha256_update_func(ctx, (const uint8_t *)"what do ya want ", 16, NULL) == 0 &&
	    p->hmac_sha256_update_func(ctx, (const uint8_t *)"for nothing?", 12, NULL) == 0 &&
	    p->hmac_sha256_final_func(ctx, &out, NULL) == 0;
	ok(good && signal_buffer_len(out) == 32 && memcmp(signal_buffer_data(out), want, 32) == 0,
	    "provider: HMAC-SHA256 (RFC 4231 case 2)");
	if (ctx)
		p->hmac_sha256_cleanup_func(ctx, NULL);
	signal_buffer_free(out);
	out = NULL;

	/* FIPS 180-2 "abc", twice on one context (final prepares for reuse) */
	from_hex(want, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	ctx = NULL;
	good = p->sha512_digest_init_func(&ctx, NULL) == 0 &&
	    p->sha512_digest_update_func(ctx, (const uint8_t *)"abc", 3, NULL) == 0 &&
	    p->sha512_digest_final_func(ctx, &out, NULL) == 0 &&
	    p->sha512_digest_update_func(ctx, (const uint8_t *)"abc", 3, NULL) == 0 &&
	    p->sha512_digest_final_func(ctx, &back, NULL) == 0;
	ok(good && signal_buffer_len(out) == 64 && memcmp(signal_buffer_data(out), want, 64) == 0 &&
	    memcmp(signal_buffer_data(back), want, 64) == 0, "provider: SHA-512, context reusable after final");
	if (ctx)
		p->sha512_digest_cleanup_func(ctx, NULL);
	signal_buffer_free(out);
	signal_buffer_free(back);
	out = back = NULL;

	memset(key, 0x11, sizeof key);
	memset(iv, 0x22, sizeof iv);
	memset(pt, 0x33, sizeof pt);
	good = p->encrypt_func(&out, SG_CIPHER_AES_CBC_PKCS5, key, 32, iv, 16, pt, sizeof pt, NULL) == 0 &&
	    signal_buffer_len(out) == 48 &&
	    p->decrypt_func(&back, SG_CIPHER_AES_CBC_PKCS5, key, 32, iv, 16, signal_buffer_data(out), 48, NULL) == 0;
	ok(good && signal_buffer_len(back) == sizeof pt && memcmp(signal_buffer_data(back), pt, sizeof pt) == 0,
	    "provider: AES-256-CBC PKCS#5 round trip (40 -> 48 bytes)");
	signal_buffer_free(back);
	back = NULL;
	if (out) {
		signal_buffer_data(out)[47] ^= 1;
		ok(p->decrypt_func(&back, SG_CIPHER_AES_CBC_PKCS5, key, 32, iv, 16, signal_buffer_data(out), 48,
		    NULL) < 0 || (back && signal_buffer_len(back) != sizeof pt),
		    "provider: AES-CBC with broken padding does not come back whole");
		signal_buffer_free(back);
		back = NULL;
	}
	signal_buffer_free(out);
	out = NULL;
	good = p->encrypt_func(&out, SG_CIPHER_AES_CTR_NOPADDING, key, 16, iv, 16, pt, 5, NULL) == 0 &&
	    signal_buffer_len(out) == 5 &&
	    p->decrypt_func(&back, SG_CIPHER_AES_CTR_NOPADDING, key, 16, iv, 16, signal_buffer_data(out), 5, NULL) == 0;
	ok(good && signal_buffer_len(back) == 5 && memcmp(signal_buffer_data(back), pt, 5) == 0,
	    "provider: AES-128-CTR round trip, no padding");
	signal_buffer_free(out);
	signal_buffer_free(back);
	out = back = NULL;
	ok(p->encrypt_func(&out, SG_CIPHER_AES_CTR_NOPADDING, key, 20, iv, 16, pt, 5, NULL) == SG_ERR_INVAL,
	    "provider: a 20-byte AES key is refused");
	ok(p->random_func(key, sizeof key, NULL) == 0, "provider: random");
	ok(wa_signalctx_new(&sc) == 0 && sc, "a context with the provider");
	wa_signalctx_free(sc);
	wa_signalctx_free(NULL);
}

int
main(void)
{
	baileys_signatures();
	round_trip();
	provider();
	done_testing();
	return exit_status();
}
