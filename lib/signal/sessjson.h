/*
 * sessjson.h - libsignal-node session records (Baileys' session-*.json)
 * to and from libsignal-protocol-c's serialized session_record, without
 * losing anything (wa-signal(7), "Sessions").
 *
 * Pack/unpack only; no file I/O.  The C record is the byte form that
 * session_record_deserialize() reads and the session store callbacks of
 * libsignal-protocol-c pass around (its RecordStructure).
 *
 *	wa_sessjson_unpack(&rec, &len, doc, &local, why);   JSON -> C
 *	    ... libsignal-protocol-c decrypts/encrypts, hands back rec2 ...
 *	wa_sessjson_pack(&doc2, rec2, len2, doc, now, &hint, why);   C -> JSON
 *
 * libsignal-node keeps message-key seeds (HMAC(chainKey, 1)), the C
 * library the keys derived from them; HKDF is one-way, so pack takes the
 * JSON the record was unpacked from ("old") and rebuilds every seed it
 * has not got by walking the chain again from old's chain key, or, for
 * the receiving chain a DH ratchet step has just made, from old's root
 * key and ratchet private key as libsignal-node's calculateRatchet does.
 * Fields C does not have (timestamps, unknown keys, chains and message
 * keys beyond C's limits, closed chains) come from old.  unpack(old) then
 * pack(that, old) gives old back exactly.
 *
 * Errors: WA_ECORRUPT (doc or rec is not a session record; why says
 * which field), WA_EMISMATCH (rec is not a successor of old: a seed
 * cannot be rebuilt), WA_ENOMEM.  Nothing is half done: *out is set only
 * on success.
 */
#ifndef WA_SESSJSON_H
#define WA_SESSJSON_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "base/err.h"

/* What C keeps per state and node takes from creds at use time. */
struct wa_sessjson_local {
	uint8_t identity[33];   /* 0x05 || creds.signedIdentityKey.public */
	uint32_t regid;         /* creds.registrationId */
};

/* The incoming message that led to the record being stored, when there
 * is one: a DH ratchet step closes the previous receiving chain after
 * filling it up to previous_counter, as libsignal-node does. */
struct wa_sessjson_hint {
	int have;
	uint8_t ratchet[33];
	uint32_t counter;
	uint32_t previous_counter;
};

/* libsignal-node's limits and C's, for the tests. */
#define WA_SESSJSON_RECV_MAX 5      /* receiver chains C keeps */
#define WA_SESSJSON_KEYS_MAX 2000   /* message keys per chain C keeps */
#define WA_SESSJSON_SESSIONS_MAX 40 /* entries libsignal-node keeps */

/* doc -> serialized record (caller frees *out). */
int wa_sessjson_unpack(uint8_t **out, size_t *outlen, const json_t *doc,
    const struct wa_sessjson_local *local, struct wa_why *why);

/* rec -> a new JSON document (caller json_decref()s).  old may be NULL
 * (a record that never was JSON: then it must hold no message keys);
 * hint may be NULL.  now_ms stamps new and newly closed entries. */
int wa_sessjson_pack(json_t **out, const uint8_t *rec, size_t len, const json_t *old,
    long long now_ms, const struct wa_sessjson_hint *hint, struct wa_why *why);

/* What libsignal-node's SessionBuilder.initIncoming does to a record for
 * a pkmsg with a new base key, done on doc (which may be an empty object):
 * close the open entry, add the responder's initial entry (X3DH with our
 * identity, signed pre-key and one-time pre-key).  Pack then rebuilds the
 * seeds of the first receiving chain from it. */
struct wa_sessjson_bob {
	uint8_t identity_priv[32];
	uint8_t signed_pub[32];
	uint8_t signed_priv[32];
	int has_onetime;
	uint8_t onetime_priv[32];
	uint8_t their_identity[33];
	uint8_t their_base[33];
	uint32_t their_regid;
};
int wa_sessjson_bob_init(json_t *doc, const struct wa_sessjson_bob *b, long long now_ms);

#endif
