/*
 * msgid.h - fresh message ids, as WhatsApp Web and Baileys make them
 * (wa-protocol(7) §13.3, Baileys generateMessageIDV2):
 *
 *	"3EB0" + the first 18 uppercase hex digits of SHA-256(data), where
 *	data is 44 bytes: the unix seconds as 8 bytes big-endian, then our
 *	user followed by "@c.us" (cut to 20 bytes, zero-padded), then 16
 *	random bytes.
 *
 * 22 characters of [0-9A-F], which the outbox takes as a job id.
 */
#ifndef WA_MSGID_H
#define WA_MSGID_H

#include <stdint.h>

#define WA_MSG_ID_MAX 65    /* an id of at most 64 bytes and the NUL */
#define WA_MSG_ID_LEN 22    /* the length of an id made here */

/* A new id into out for our user me_user (the user part of creds.json
 * me.id, e.g. "15550001111"; NULL or "" leaves that part zero, as Baileys
 * does without a user) at unix time now_s.  0, or WA_ESYS (no random
 * bytes: errno) or WA_ENOMEM (no digest). */
int wa_msg_new_id(char out[WA_MSG_ID_MAX], const char *me_user, int64_t now_s);

#endif
