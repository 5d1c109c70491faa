/*
 * msgenc.h - the Message protobufs wa sends (wa-protocol(7) §13.3,
 * §11.3), the other direction of msg.h.
 *
 *	wa_msgenc_text(&m, &n, "hello", NULL, NULL);        // conversation
 *	wa_msgenc_text(&m, &n, "yes", "3EB0…", "1555…@s.whatsapp.net");  // a reply
 *	wa_msgenc_dsm(&d, &dn, "1555…@s.whatsapp.net", m, n);   // our other devices' copy
 *	wa_msgenc_pad(&pt, &ptn, m, n);                      // what is encrypted
 *
 * Shapes, as Baileys' generateWAMessageContent makes them:
 *   text      Message.conversation; a reply is an extendedTextMessage
 *             {text, contextInfo{stanzaId, participant}} (the quoted
 *             message itself is not known to the sender: left out);
 *   reaction  reactionMessage{key{remoteJid, fromMe, id, participant},
 *             text = emoji ("" removes), senderTimestampMs};
 *   revoke    protocolMessage{key{remoteJid, fromMe = true, id
 *             [, participant]}, type REVOKE};
 *   dsm       Message{deviceSentMessage{destinationJid, message =
 *             the original}, messageContextInfo = the original's};
 *   skdm      the original Message (or an empty one) with
 *             senderKeyDistributionMessage{groupId, axolotl bytes}.
 * pad appends 1..16 bytes of their count (writeRandomPadMax16).
 *
 * *out is malloc'ed, the caller's.  0, WA_EINVAL (a NULL string that is
 * needed; a Message that does not decode), WA_ENOMEM.
 */
#ifndef WA_MSGENC_H
#define WA_MSGENC_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

int wa_msgenc_text(uint8_t **out, size_t *len, const char *text, const char *reply_id,
    const char *reply_participant);
int wa_msgenc_reaction(uint8_t **out, size_t *len, const char *chat, const char *id, int from_me,
    const char *participant, const char *emoji, int64_t ts_ms);
int wa_msgenc_revoke(uint8_t **out, size_t *len, const char *chat, const char *id,
    const char *participant);
int wa_msgenc_dsm(uint8_t **out, size_t *len, const char *destination, const uint8_t *msg,
    size_t msglen);
/* msg NULL: a Message with only the distribution. */
int wa_msgenc_skdm(uint8_t **out, size_t *len, const uint8_t *msg, size_t msglen, const char *group,
    const uint8_t *skdm, size_t skdmlen);
int wa_msgenc_pad(uint8_t **out, size_t *len, const uint8_t *msg, size_t msglen);

#endif
