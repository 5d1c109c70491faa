/*
 * pair.h - the cryptography of linking a companion device (wa-protocol(7) §6,
 * §7): the QR string, pair-success verification and the device signature
 * reply, and the phone-number ("link code") key exchange.
 *
 * Pure functions on bytes and JSON: no I/O, no network, nothing printed.
 * The caller (wa-pair) moves the stanzas and writes the files:
 *
 *   QR       for each <ref> of <pair-device>: wa_pair_qr_string(...), show it.
 *   success  <pair-success> arrives: fill a struct wa_pair_success from the
 *            node, wa_pair_verify(&res, creds, &ps, &why).  On failure
 *            nothing may be written (why says which check failed).  On
 *            success write res.creds durably, THEN send
 *              <iq to=s.whatsapp.net type=result id=ID>
 *                <pair-device-sign>
 *                  <device-identity key-index=res.key_index>res.reply</…>
 *            and wa_pair_result_free(&res).
 *   code     wa_pair_code_generate(code); companion_hello carries
 *            wa_pair_code_wrap(code, creds.pairingEphemeralKeyPair.public);
 *            on the primary's link_code_companion_reg notification,
 *            wa_pair_code_finish(...) gives the key bundle for
 *            companion_finish and the new advSecretKey, which the later
 *            pair-success HMAC uses.
 *
 * pair-success checks, in this order (the first failure is reported as
 * "pair-success: CHECK: detail", every one WA_EVERIFY):
 *
 *   missing             no device-identity bytes or no device jid
 *   identity-decode     device-identity is not an ADVSignedDeviceIdentityHMAC
 *   identity-parts      it lacks details or hmac, or hmac is not 32 bytes
 *   hmac-prefix         the HMAC is right only with the other prefix: the
 *                       hosted-account prefix 06 05 used for an E2EE
 *                       accountType, or left out for a HOSTED one
 *   hmac                HMAC-SHA256(advSecret, prefix || details) differs
 *   account-decode      details is not an ADVSignedDeviceIdentity
 *   account-parts       it lacks details, accountSignatureKey or accountSignature
 *   account-key-length  accountSignatureKey is not 32 bytes
 *   account-sig-length  accountSignature is not 64 bytes
 *   details-decode      account.details is not an ADVDeviceIdentity
 *   account-sig-prefix  the account signature verifies only over the other
 *                       prefix (06 00 vs the hosted 06 05) than deviceType asks
 *   account-sig         XEdDSA(accountSignatureKey) over prefix || details ||
 *                       our identity public key does not verify
 *   key-index           the device identity has no keyIndex, or keyIndex 0
 *                       (the primary's own; companions are 1 and up)
 *   device-jid          the jid is not "<digits>:<device>@s.whatsapp.net"
 *                       with a device from 1 to 65535
 *   device-lid          the lid is absent or not "<digits>:<device>@lid"
 *                       with a device from 1 to 65535
 *
 * Our creds must hold signedIdentityKey (a matching pair) and a 32-byte
 * advSecretKey; when they do not, WA_ECORRUPT ("creds: ...").  Secrets copied out of the JSON are
 * cleared before return.  No function keeps state.
 */
#ifndef WA_PAIR_H
#define WA_PAIR_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "base/err.h"

/* ---- QR (§6.2) ------------------------------------------------------ */

#define WA_PAIR_QR_PREFIX "https://wa.me/settings/linked_devices#"

/* Baileys' companion platform id for a browser tuple (os, name), as in its
 * getCompanionWebClientType: name "Desktop" gives "8" on Windows, else
 * "7"; Chrome 1, Edge 2, Firefox 3, IE 4, Opera 5, Safari 6; anything else
 * "9".  Baileys' default ("Mac OS", "Chrome") gives "1".  Static string. */
const char *wa_pair_platform_id(const char *os, const char *name);

/* The QR string
 *   WA_PAIR_QR_PREFIX REF "," NOISE "," IDENTITY "," ADV ["," PLATFORM]
 * with REF the <ref> content as is, NOISE, IDENTITY and ADV the standard
 * padded base64 of creds.noiseKey.public, creds.signedIdentityKey.public
 * and the 32-byte advSecretKey, PLATFORM (left out when NULL) e.g. "1".
 * *out is a new NUL-terminated string (caller frees; it holds the adv
 * secret: clear it before freeing).  WA_EPROTO (why: "qr: ...") when the
 * ref is empty, over 512 bytes, or holds a comma, a control character or
 * non-ASCII (it ends up on a terminal); WA_EINVAL for a platform that is
 * not 1..8 printable ASCII without comma; WA_ECORRUPT when creds lacks a
 * key; WA_ENOMEM. */
int wa_pair_qr_string(char **out, const void *ref, size_t reflen, const json_t *creds,
    const char *platform, struct wa_why *why);

/* ---- pair-success (§6.4, §6.5) ------------------------------------- */

/* What <pair-success> carries; the strings may be NULL when absent.  The
 * platform and business name are stored as given when they are UTF-8,
 * else with '?' for every byte from 0x80 up. */
struct wa_pair_success {
	const uint8_t *identity;  /* <device-identity> content */
	size_t identity_len;
	const char *jid;          /* <device jid=…> */
	const char *lid;          /* <device lid=…> */
	const char *platform;     /* <platform name=…> */
	const char *biz_name;     /* <biz name=…> */
};

struct wa_pair_result {
	json_t *creds;           /* the input creds, deep-copied, with me {id, name?, lid},
	                            account (plain base64 strings, with accountSignatureKey
	                            and our deviceSignature), signalIdentities (+1 entry)
	                            and platform set, as Baileys' creds.update leaves them */
	uint8_t *reply;          /* ADVSignedDeviceIdentity {details, accountSignature,
	                            deviceSignature}, without accountSignatureKey */
	size_t reply_len;
	char key_index[16];      /* the reply's key-index attribute, decimal */
	int hosted;              /* the device identity is HOSTED (06 05 prefixes) */
};

/* Verify ps against creds (see the check list above) and build the reply
 * and the paired creds into *res (zeroed first; free with
 * wa_pair_result_free, also after a failure).  Returns 0, WA_EVERIFY,
 * WA_ECORRUPT, WA_ENOMEM or WA_ESYS. */
int wa_pair_verify(struct wa_pair_result *res, const json_t *creds,
    const struct wa_pair_success *ps, struct wa_why *why);

void wa_pair_result_free(struct wa_pair_result *res);

/* The device signature: XEdDSA(identity_priv) over
 * 06 01 || details || identity_pub || account_key (the prefix is 06 01 for
 * hosted accounts too). */
int wa_pair_device_sign(unsigned char sig[64], const unsigned char identity_priv[32],
    const unsigned char identity_pub[32], const uint8_t *details, size_t len,
    const unsigned char account_key[32]);

/* ---- pairing by phone-number code (§7) ----------------------------- */

#define WA_PAIR_CODE_LEN 8          /* characters, without the display hyphen */
#define WA_PAIR_CODE_ITER 131072    /* PBKDF2-SHA256 iterations: 2 << 16 */
#define WA_PAIR_CODE_WRAPPED 80     /* salt 32 || iv 16 || AES-256-CTR(pub) 32 */
#define WA_PAIR_CODE_BUNDLE 156     /* salt 32 || nonce 12 || AES-GCM(96) || tag 16 */

/* The code alphabet: digits 1-9 and A-Z without I, O and U. */
extern const char wa_pair_code_alphabet[33];

/* 5 bytes to 8 characters, 5 bits at a time from the most significant
 * (Baileys' bytesToCrockford).  code gets a NUL at [8]. */
void wa_pair_code_encode(char code[WA_PAIR_CODE_LEN + 1], const unsigned char raw[5]);

/* A random code.  WA_ESYS if the random source fails. */
int wa_pair_code_generate(char code[WA_PAIR_CODE_LEN + 1]);

/* 1 if code is 8 characters of the alphabet, else 0. */
int wa_pair_code_valid(const char *code);

/* "ABCD-EFGH", as the phone shows it. */
void wa_pair_code_format(char out[WA_PAIR_CODE_LEN + 2], const char *code);

/* wrapped = salt || iv || AES-256-CTR(PBKDF2-SHA256(code, salt, 131072, 32),
 * iv, pub).  salt and iv are random when NULL (tests pass fixed ones).
 * WA_EINVAL for an invalid code, WA_ESYS. */
int wa_pair_code_wrap(unsigned char wrapped[WA_PAIR_CODE_WRAPPED], const char *code,
    const unsigned char pub[32], const unsigned char *salt32, const unsigned char *iv16);

/* The inverse: the public key inside a wrapped key.  A wrong code gives a
 * wrong key, not an error (CTR has no integrity). */
int wa_pair_code_unwrap(unsigned char pub[32], const char *code,
    const unsigned char wrapped[WA_PAIR_CODE_WRAPPED]);

struct wa_pair_code_finish {
	unsigned char bundle[WA_PAIR_CODE_BUNDLE]; /* link_code_pairing_wrapped_key_bundle */
	unsigned char adv_secret[32];              /* the new creds.advSecretKey (raw) */
};

/* The companion_finish computation (§7.3 steps 1-9):
 *   primaryEph  = unwrap(code, primary_wrapped)
 *   ephShared   = X25519(eph_priv, primaryEph)
 *   bundleKey   = HKDF-SHA256(ephShared, salt = bundleSalt,
 *                             info "link_code_pairing_key_bundle_encryption_key", 32)
 *   bundle      = bundleSalt || nonce || AES-256-GCM(bundleKey, nonce,
 *                 identity_pub || primary_identity || advRandom)
 *   advSecret   = HKDF-SHA256(ephShared || X25519(identity_priv, primary_identity)
 *                             || advRandom, no salt, info "adv_secret", 32)
 * eph_priv is creds.pairingEphemeralKeyPair.private (whose public half
 * companion_hello wrapped), identity_* creds.signedIdentityKey.  rnd, when
 * not NULL, is advRandom(32) || bundleSalt(32) || nonce(12) for tests;
 * NULL draws them.  out is cleared on failure.  WA_EINVAL (bad code),
 * WA_EVERIFY (a low-order primary key), WA_ESYS, WA_ENOMEM. */
int wa_pair_code_finish(struct wa_pair_code_finish *out, const char *code,
    const unsigned char eph_priv[32], const unsigned char identity_priv[32],
    const unsigned char identity_pub[32], const unsigned char primary_wrapped[WA_PAIR_CODE_WRAPPED],
    const unsigned char primary_identity[32], const unsigned char *rnd76);

/* What Baileys records once companion_finish is sent: creds.pairingCode =
 * code, creds.advSecretKey = base64(adv_secret), creds.registered = true
 * (existing keys keep their place).  Unlike Baileys, no early creds.me
 * (wa-protocol(7) §7.2, pitfall 15).  WA_EINVAL (bad code), WA_ENOMEM (creds
 * then partly changed: discard it). */
int wa_pair_code_apply(json_t *creds, const char *code, const unsigned char adv_secret[32]);

/* Clear a finish result. */
void wa_pair_code_finish_wipe(struct wa_pair_code_finish *f);

/* Our ADVSignedDeviceIdentity as the primary signed it, with the account
 * signature key (creds.account; what a retry receipt's <device-identity>
 * carries, wa-protocol(7) §12.1).  *out malloc'ed.  WA_EINVAL (not
 * paired), WA_ENOMEM. */
int wa_pair_device_identity(uint8_t **out, size_t *len, const json_t *creds);

#endif
