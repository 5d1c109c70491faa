/*
 * skjson.h - Baileys' sender-key-*.json <-> libsignal-protocol-c's
 * serialized sender_key_record (wa-signal(7), "Sender keys").
 *
 * The file holds {"type":"Buffer","data":"<base64>"} whose bytes are the
 * UTF-8 JSON of an array of states, oldest first (Baileys appends and
 * uses the last); each state is {senderKeyId, senderChainKey {iteration,
 * seed}, senderSigningKey {public, private}, senderMessageKeys
 * [{iteration, seed}]} with Node's own Buffer form {"type":"Buffer",
 * "data":[ints]} inside.  C keeps the newest state first, so unpack
 * reverses the order; another sender's state has an empty private key
 * there, which C wants absent.  A 32-byte public key gets its 0x05.
 *
 * pack writes Baileys' form back, starting from the old file's state
 * objects with the same senderKeyId (unknown fields survive) when old is
 * given.  Errors: WA_ECORRUPT (why says what), WA_ENOMEM.
 */
#ifndef WA_SKJSON_H
#define WA_SKJSON_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "base/err.h"

int wa_skjson_unpack(uint8_t **out, size_t *outlen, const json_t *doc, struct wa_why *why);
int wa_skjson_pack(json_t **out, const uint8_t *rec, size_t len, const json_t *old, struct wa_why *why);

#endif
