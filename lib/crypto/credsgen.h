/*
 * credsgen.h - fresh credentials and pre-keys, in Baileys' JSON form.
 *
 * Only wa-pair creates credentials, and only for a folder that has none
 * (a creds.json that is there but unreadable is never replaced: see
 * creds.h).  What these functions make is exactly what Baileys 7's
 * initAuthCreds() makes, written the way useMultiFileAuthState writes it
 * (BufferJSON {"type":"Buffer","data":"<base64>"} for every key, keys in
 * the same order), so a Baileys bot can take the folder over:
 *
 *   noiseKey, pairingEphemeralKeyPair, signedIdentityKey
 *                         {private, public}: fresh X25519 pairs (curve.h)
 *   signedPreKey          {keyPair, signature, keyId: 1}; signature =
 *                         XEdDSA(identity, 0x05 || keyPair.public)
 *   registrationId        random in 1..16383 (14 bits, never 0).  Baileys
 *                         rc14 means 14 bits but, through a Uint16Array
 *                         quirk, only ever draws 0..255; any 32-bit value
 *                         is valid on the wire (wa-protocol(7) §3.4)
 *   advSecretKey          base64 of 32 random bytes (a plain string)
 *   processedHistoryMessages [], nextPreKeyId 1, firstUnuploadedPreKeyId 1,
 *   accountSyncCounter 0, accountSettings {unarchiveChats: false},
 *   registered false
 *
 * Fields Baileys leaves undefined (pairingCode, me, account, ...) are
 * absent, as JSON.stringify drops them.
 *
 * Secrets end up as base64 strings inside the jansson tree; the binary
 * copies made on the way are cleared.  Free the tree with json_decref.
 */
#ifndef WA_CREDSGEN_H
#define WA_CREDSGEN_H

#include <stdint.h>
#include <jansson.h>

#include "base/err.h"

#define WA_SIGNED_PREKEY_ID 1     /* initAuthCreds' signedKeyPair(identity, 1) */
#define WA_PREKEY_ID_MAX 0xffffff /* pre-key ids go out as 3 bytes (pitfall 12) */

/* A new creds object (above) in *out.  WA_ENOMEM, WA_ESYS (random source). */
int wa_creds_generate(json_t **out);

/* count fresh pre-keys with ids first .. first+count-1, as a new JSON
 * object in *out mapping each decimal id to the value Baileys writes to
 * pre-key-<id>.json: {"private": B32, "public": B32}, ids in ascending
 * order.  The caller writes the files and then moves creds.nextPreKeyId
 * past them, as Baileys' getNextPreKeys does (nextPreKeyId =
 * max(last + 1, nextPreKeyId); firstUnuploadedPreKeyId likewise, but only
 * once the server has taken the upload).  WA_EINVAL when first is 0, count
 * is 0 or the last id would pass WA_PREKEY_ID_MAX; WA_ENOMEM, WA_ESYS. */
int wa_prekeys_generate(json_t **out, uint32_t first, uint32_t count);

#endif
