/*
 * keyjson.h - the other key files of a Baileys folder, as libsignal-protocol-c
 * wants them (wa-signal(7), "Keys"):
 *
 *   creds.json          our identity key pair (signedIdentityKey, public
 *                       without 0x05), registrationId, the signed pre-key
 *                       (signedPreKey {keyPair, signature, keyId}), me.id
 *   pre-key-<id>.json   {"private": B32, "public": B32}
 *   identity-key-<addr>.json   B33: a peer's identity key with its 0x05
 *
 * Binary values in any of Baileys' four forms (base/bufjson.h).  A loader
 * fills the whole object or returns WA_ECORRUPT (why says which field);
 * nothing is partly filled.  Pack/unpack only, no file I/O.
 */
#ifndef WA_KEYJSON_H
#define WA_KEYJSON_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "base/err.h"
#include "crypto/curve.h"

struct wa_keyjson_creds {
	struct wa_keypair identity;     /* raw 32-byte forms */
	uint32_t regid;
	uint32_t spk_id;
	struct wa_keypair spk;
	uint8_t spk_sig[64];
	char me[160];                   /* me.id */
	char lid[160];                  /* me.lid, "" when absent */
};

/* creds.json (parsed) -> c.  Requires a paired account (me.id). */
int wa_keyjson_creds(struct wa_keyjson_creds *c, const json_t *creds, struct wa_why *why);

/* pre-key-<id>.json -> *kp. */
int wa_keyjson_prekey(struct wa_keypair *kp, const json_t *doc, struct wa_why *why);

/* A pre-key / signed pre-key as libsignal-protocol-c's serialized
 * records (caller frees *out). */
int wa_keyjson_prekey_record(uint8_t **out, size_t *len, uint32_t id, const struct wa_keypair *kp);
int wa_keyjson_spk_record(uint8_t **out, size_t *len, const struct wa_keyjson_creds *c);

/* identity-key-<addr>.json -> key (33 bytes, 0x05 first). */
int wa_keyjson_identity(uint8_t key[33], const json_t *doc, struct wa_why *why);

/* key -> the identity-key file's JSON (a BufferJSON Buffer). */
json_t *wa_keyjson_identity_doc(const uint8_t key[33]);

#endif
