/*
 * noise.h - Noise_XX_25519_AESGCM_SHA256 as WhatsApp uses it
 * (wa-protocol(7) §2), on OpenSSL's X25519, AES-256-GCM and HKDF-SHA256.
 *
 * Three layers, each usable alone:
 *
 *  - keys: X25519 key pairs and DH on raw 32-byte keys (no 0x05 prefix);
 *  - the symmetric handshake state (h, ck, k, n) with MixHash, MixKey,
 *    EncryptAndHash, DecryptAndHash and Split, for both roles;
 *  - the client's three messages (§2.4) as HandshakeMessage protobufs:
 *
 *	struct wa_noise_client c;
 *	wa_noise_client_start(&c, &noise_key, NULL, &hello, &hlen);
 *	send intro + frame(hello)
 *	wa_noise_client_server_hello(&c, frame, flen, &cert, &clen, &why);
 *	verify cert against c.rs (certchain.h)
 *	wa_noise_client_finish(&c, payload, plen, &fin, &finlen, &t, &why);
 *	send frame(fin); from now on wa_noise_seal / wa_noise_open with t
 *	wa_noise_client_wipe(&c);
 *
 * The transport (§2.6): one key and one 32-bit counter per direction, IV
 * = 8 zero bytes + counter BE, empty AAD, 16-byte tag appended; the client
 * sends with k1 and receives with k2 from Split.  A counter that would wrap
 * is refused (WA_EPROTO): the connection must be dropped, never reuse an IV.
 *
 * Every secret (private keys, ck, k, transport keys, DH outputs) lives in
 * these structs or on the stack and is cleared with OPENSSL_cleanse by the
 * wipe functions and before any function returns; nothing here logs or
 * prints.  Returns 0 or a negative WA_E* code: WA_EVERIFY (a tag did not
 * verify, a peer key is a low-order point), WA_EPROTO (malformed message,
 * wrong step), WA_ENOMEM, WA_ESYS only if OpenSSL itself fails.
 */
#ifndef WA_NOISE_H
#define WA_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/curve.h" /* struct wa_keypair, WA_KEY_LEN */

#define WA_NOISE_TAG_LEN 16

/* "Noise_XX_25519_AESGCM_SHA256" and four NUL bytes: 32 bytes, used as h
 * directly, not hashed. */
extern const unsigned char wa_noise_protocol_name[32];

/* --- the symmetric handshake state ---------------------------------- */

struct wa_noise_hs {
	unsigned char h[32];  /* handshake hash: the AAD of every handshake AEAD */
	unsigned char ck[32]; /* chaining key (Baileys: "salt") */
	unsigned char k[32];  /* current cipher key */
	uint32_t n;	      /* nonce: reset by MixKey, not by anything else */
};

/* h = ck = k = protocol name, n = 0, then MixHash(prologue). */
void wa_noise_hs_init(struct wa_noise_hs *hs, const void *prologue, size_t len);

/* h = SHA256(h || data). */
int wa_noise_hs_mix_hash(struct wa_noise_hs *hs, const void *data, size_t len);

/* (ck, k) = HKDF(salt = ck, ikm), 64 bytes, empty info; n = 0. */
int wa_noise_hs_mix_key(struct wa_noise_hs *hs, const void *ikm, size_t len);

/* MixKey(X25519(priv, pub)).  WA_EVERIFY on a low-order pub. */
int wa_noise_hs_mix_dh(struct wa_noise_hs *hs, const unsigned char priv[WA_KEY_LEN],
    const unsigned char pub[WA_KEY_LEN]);

/* EncryptAndHash: out (len + 16 bytes) = AES-GCM(k, n++, aad = h, pt),
 * then MixHash(out). */
int wa_noise_hs_encrypt(struct wa_noise_hs *hs, unsigned char *out, const void *pt, size_t len);

/* DecryptAndHash: out (len - 16 bytes) from ct, then MixHash(ct).
 * WA_EVERIFY (tag) or WA_EPROTO (shorter than a tag); on error h is
 * unchanged and out is cleared. */
int wa_noise_hs_decrypt(struct wa_noise_hs *hs, unsigned char *out, const void *ct, size_t len);

/* (k1, k2) = HKDF(salt = ck, empty ikm). */
int wa_noise_hs_split(const struct wa_noise_hs *hs, unsigned char k1[WA_KEY_LEN],
    unsigned char k2[WA_KEY_LEN]);

void wa_noise_hs_wipe(struct wa_noise_hs *hs);

/* --- the transport ---------------------------------------------------- */

struct wa_noise_cipher {
	unsigned char key[WA_KEY_LEN];
	uint64_t n; /* frames done; refused at 2^32 */
};

struct wa_noise_transport {
	struct wa_noise_cipher send, recv;
};

/* out (len + 16 bytes) = the next frame for this direction. */
int wa_noise_seal(struct wa_noise_cipher *c, unsigned char *out, const void *pt, size_t len);

/* out (len - 16 bytes) = plaintext of the next frame.  The counter
 * advances also when the tag does not verify (WA_EVERIFY), as in
 * whatsmeow; a caller that keeps the connection then stays in step. */
int wa_noise_open(struct wa_noise_cipher *c, unsigned char *out, const void *ct, size_t len);

void wa_noise_transport_wipe(struct wa_noise_transport *t);

/* --- the client's handshake (wa-protocol(7) §2.4) ------------------------ */

enum wa_noise_step {
	WA_NOISE_START = 0,
	WA_NOISE_SENT_HELLO,	/* waiting for the ServerHello */
	WA_NOISE_GOT_SERVER,	/* server authenticated by Noise; cert to check */
	WA_NOISE_DONE,
	WA_NOISE_FAILED,
};

struct wa_noise_client {
	struct wa_noise_hs hs;
	struct wa_keypair e;	/* ephemeral, this connection only */
	struct wa_keypair s;	/* a copy of the long-term noise key */
	unsigned char re[WA_KEY_LEN]; /* server ephemeral */
	unsigned char rs[WA_KEY_LEN]; /* server static, decrypted: the leaf
				       * certificate must hold this key */
	enum wa_noise_step step;
};

/* Begin: MixHash(intro), MixHash(e.pub), and *hello = the encoded
 * HandshakeMessage{clientHello{ephemeral}} (malloc'd, the caller frees
 * it).  s: the long-term noise key pair.  e: NULL for a fresh ephemeral
 * (always, except known-answer tests). */
int wa_noise_client_start(struct wa_noise_client *c, const struct wa_keypair *s,
    const struct wa_keypair *e, unsigned char **hello, size_t *hellolen);

/* Process the ServerHello (one whole frame payload): steps 4-9.  *cert
 * gets the decrypted certificate chain (malloc'd, the caller frees it);
 * c->rs holds the server's static key.  The caller must verify the chain
 * (wa_certchain_verify) before calling finish.  WA_EPROTO (not a
 * ServerHello, parts missing or of the wrong size), WA_EVERIFY (a tag or
 * a low-order key). */
int wa_noise_client_server_hello(struct wa_noise_client *c, const void *msg, size_t len,
    unsigned char **cert, size_t *certlen, struct wa_why *why);

/* Steps 10-14: encrypt our static key and the ClientPayload bytes, *finish
 * = the encoded HandshakeMessage{clientFinish} to send (malloc'd), and t =
 * the transport keys.  The handshake secrets are wiped. */
int wa_noise_client_finish(struct wa_noise_client *c, const void *payload, size_t len,
    unsigned char **finish, size_t *finishlen, struct wa_noise_transport *t,
    struct wa_why *why);

/* Clear everything (NULL-safe); call on every path. */
void wa_noise_client_wipe(struct wa_noise_client *c);

#endif
