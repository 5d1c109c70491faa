/*
 * msg.h - a decrypted WhatsApp Message protobuf (wa-protocol(7) §11.3,
 * §11.4) and the inbox record made from it (wa-message(5)).
 *
 *	n = wa_msg_unpad(pt, ptlen);                  // the Message bytes
 *	wa_msg_decode(&m, pt, n, &why);               // WA_EPROTO: not a Message
 *	if (wa_msg_skdm(m, &group, &skdm, &len) == 0) ... process it
 *	for (i = 0; i < wa_msg_appstate_count(m); i++) wa_msg_appstate_key(m, i, ...)
 *	if (wa_msg_is_content(m)) {
 *		rec = json_object();  ... id, chat, sender, ... (the caller's)
 *		wa_msg_to_json(m, rec);                   // type, text, quoted, media, raw
 *	}
 *	wa_msg_free(m);
 *
 * Decoding never fails on a field it does not know: protobuf keeps
 * unknown fields, and the record's "raw" is the whole Message as it was
 * received (after unpadding, before unwrapping), so nothing is dropped.
 * The wrappers deviceSentMessage, ephemeralMessage, viewOnceMessage(V2,
 * V2Extension), documentWithCaptionMessage and editedMessage are
 * unwrapped for the typed fields, in whatsmeow's order.
 *
 * Everything returned points into m and lives until wa_msg_free.
 * Errors: WA_EPROTO (not a Message, bad padding), WA_ENOMEM.
 */
#ifndef WA_MSG_H
#define WA_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "base/err.h"

struct wa_msg;

/* v2 padding: the last byte N (1..16, never 0), N bytes of N.  Returns
 * the length without it, or WA_EPROTO when the padding is not that. */
long wa_msg_unpad(const uint8_t *pt, size_t len);

int wa_msg_decode(struct wa_msg **out, const uint8_t *buf, size_t len, struct wa_why *why);
void wa_msg_free(struct wa_msg *m);

/* The sender-key distribution message inside (Message field 2, also
 * inside the wrappers): its groupId and the axolotl bytes.  0, or
 * WA_ENOTFOUND. */
int wa_msg_skdm(const struct wa_msg *m, const char **group, const uint8_t **skdm, size_t *len);

/* deviceSentMessage.destinationJid when the message is a device-sent
 * copy of one we sent from another device, else NULL. */
const char *wa_msg_dsm_destination(const struct wa_msg *m);

/* protocolMessage APP_STATE_SYNC_KEY_SHARE: how many keys, and for key
 * i the Baileys file name ("app-state-sync-key-<keyId as Baileys
 * names it>.json", names.h/fname.h rules) and its content as Baileys
 * writes it (AppStateSyncKeyData as JSON: keyData base64, fingerprint,
 * timestamp).  *doc is new (caller's). */
size_t wa_msg_appstate_count(const struct wa_msg *m);
int wa_msg_appstate_key(const struct wa_msg *m, size_t i, char *name, size_t namesz, json_t **doc);

/* protocolMessage HISTORY_SYNC_NOTIFICATION present. */
int wa_msg_is_history_sync(const struct wa_msg *m);

/* 1 when the message is something for the application: anything but a
 * message that carries only a sender-key distribution, message context
 * info and/or an app-state key share (which wa consumes itself). */
int wa_msg_is_content(const struct wa_msg *m);

/* The type name of the record ("text", "extended_text", "image", ...,
 * "unknown"; wa-message(5)). */
const char *wa_msg_type(const struct wa_msg *m);

/* Add the content fields of the record to obj (wa-message(5)): type,
 * text, quoted, media, reaction/edit/revoke target, poll, location,
 * contact, protocol, and raw (base64 of the whole Message).  Fields the
 * message does not have are left out.  0, WA_ENOMEM. */
int wa_msg_to_json(const struct wa_msg *m, json_t *obj);

#endif
