/*
 * curve.h - Curve25519 keys and XEdDSA signatures, as Signal and WhatsApp
 * use them (wa-protocol(7) §14.3, pitfalls 1 and 13).
 *
 * Keys are the raw 32-byte forms everywhere in this API: a private key is
 * a clamped X25519 scalar, a public key the 32-byte Montgomery u
 * coordinate, without the 0x05 type byte Signal puts in front of it inside
 * its own messages (wa_curve_djb adds it where a message needs it).
 *
 * Backends: key generation and Diffie-Hellman are OpenSSL's X25519 (a
 * random scalar from RAND_priv_bytes, clamped as libsignal clamps; the
 * all-zero result of a low-order peer key is refused).  Signatures are
 * XEdDSA through libsignal-protocol-c (curve_calculate_signature with a
 * wa_signalctx context for its 64 random bytes, curve_verify_signature) -
 * the scheme Baileys' libsignal and whatsmeow's go.mau.fi/libsignal use,
 * not Ed25519.  XEdDSA signatures are randomised: signing the same message
 * twice gives two different signatures, both valid.
 *
 * Private keys are clamped before use (a copy, cleared afterwards), so an
 * unclamped key imported from elsewhere signs for the public key X25519
 * derives from it.  Every temporary copy of a secret is cleared with
 * OPENSSL_cleanse; libsignal clears its private-key objects on destroy.
 *
 * Returns 0 or a negative WA_E* code: WA_EVERIFY (a signature that does
 * not verify, a low-order or malformed peer key), WA_EINVAL (a wrong
 * length), WA_ENOMEM, WA_ESYS (the random source or OpenSSL failed).
 */
#ifndef WA_CURVE_H
#define WA_CURVE_H

#include <stddef.h>

#include "base/err.h"

#define WA_KEY_LEN 32

/* A Curve25519 key pair, raw 32-byte forms. */
struct wa_keypair {
	unsigned char pub[WA_KEY_LEN];
	unsigned char priv[WA_KEY_LEN];
};

#define WA_CURVE_KEY_LEN 32
#define WA_CURVE_SIG_LEN 64
#define WA_CURVE_DJB_TYPE 0x05 /* Signal's key type byte (KEY_BUNDLE_TYPE) */

/* Clamp a scalar in place: clear bits 0-2 of byte 0 and bit 7 of byte
 * 31, set bit 6 of byte 31. */
void wa_curve_clamp(unsigned char priv[WA_CURVE_KEY_LEN]);

/* 1 if priv is already clamped, else 0. */
int wa_curve_is_clamped(const unsigned char priv[WA_CURVE_KEY_LEN]);

/* A fresh key pair: kp->priv random and clamped, kp->pub = X25519(priv, 9).
 * Clear it with wa_curve_keypair_wipe. */
int wa_curve_keypair(struct wa_keypair *kp);

/* pub = X25519(clamp(priv), 9). */
int wa_curve_public(unsigned char pub[WA_CURVE_KEY_LEN], const unsigned char priv[WA_CURVE_KEY_LEN]);

/* out = X25519(priv, pub).  WA_EVERIFY if pub is a low-order point (the
 * result would be all zeros). */
int wa_curve_dh(unsigned char out[WA_CURVE_KEY_LEN], const unsigned char priv[WA_CURVE_KEY_LEN],
    const unsigned char pub[WA_CURVE_KEY_LEN]);

/* sig = XEdDSA signature of msg (len bytes) by priv. */
int wa_curve_sign(unsigned char sig[WA_CURVE_SIG_LEN], const unsigned char priv[WA_CURVE_KEY_LEN],
    const void *msg, size_t len);

/* 0 if sig (siglen bytes) is pub's XEdDSA signature of msg; WA_EVERIFY if
 * not, including a siglen other than 64.  WA_ENOMEM. */
int wa_curve_verify(const unsigned char pub[WA_CURVE_KEY_LEN], const void *msg, size_t len,
    const void *sig, size_t siglen);

/* out = 0x05 || pub: the 33-byte form signed pre-keys and identity keys
 * take inside Signal messages and signatures. */
void wa_curve_djb(unsigned char out[WA_CURVE_KEY_LEN + 1], const unsigned char pub[WA_CURVE_KEY_LEN]);

/* Clear a key pair (NULL-safe). */
void wa_curve_keypair_wipe(struct wa_keypair *kp);

/* kp->pub from kp->priv (taken as it is). */
int wa_curve_keypair_from_private(struct wa_keypair *kp);

#endif
