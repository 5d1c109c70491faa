/*
 * prune.h - what wa-prune selects, decided without changing anything.
 *
 * wa_prune_select lists the files the selectors pick; wa-prune prints the
 * list and (without -n) moves each file into quarantine.  Selection never
 * picks creds.json, never looks inside .wa except at the staging area
 * .wa/tmp, and never follows a symbolic link (a selected link is a link).
 *
 * Before selecting, it refuses a folder that is not safe to work on,
 * naming the path in why:
 *   WA_ENOTFOUND  no creds.json: not an auth folder
 *   WA_EUNSAFE    creds.json is a symbolic link or not a regular file
 * (A key file with group/other permission bits is not refused: wa-prune
 * sets it to 0600, see wa_scan_fix_modes.)
 *   WA_ECORRUPT   creds.json is empty or not valid JSON (use wa-restore)
 *   WA_ESYS       a file could not be read (errno kept)
 */
#ifndef WA_PRUNE_H
#define WA_PRUNE_H

#include <stddef.h>

#include "store/authdir.h"
#include "base/err.h"

#define WA_PRUNE_SESSIONS    0x01  /* session-*.json (all, or of given peers) */
#define WA_PRUNE_SENDER_KEYS 0x02  /* sender-key-*.json, sender-key-memory-*.json */
#define WA_PRUNE_TMP         0x04  /* leftover .wa-tmp.* in the folder, anything in .wa/tmp */
#define WA_PRUNE_CORRUPT     0x08  /* what wa-check calls broken (never creds.json): auth files
                                    * that do not parse or are over WA_FILE_MAX, and symbolic
                                    * links, folders, fifos, sockets and devices under an auth
                                    * file's name */
#define WA_PRUNE_PRE_KEYS    0x10  /* pre-keys no message can use: see wa_prekey_unusable */

/*
 * A contact given to --sessions, as its Signal address name (the part of
 * session-NAME.DEVICE.json before the device) and device.
 *
 *   15550001111@s.whatsapp.net     name 15550001111,   every device
 *   15550001111:3@s.whatsapp.net   name 15550001111,   device 3
 *   99990002222:5@lid              name 99990002222_1, device 5
 *   15550001111.3                  a Signal address: name 15550001111, device 3
 *   99990002222_1                  a bare name: every device
 *
 * A JID without a device means every device of that contact (Baileys
 * reads it as device 0; write :0 for device 0 only).  Servers:
 * s.whatsapp.net and c.us (phone numbers), lid, hosted (_128),
 * hosted.lid (_129); a group or broadcast JID is refused (group state is
 * in sender keys).
 */
struct wa_peer {
	char user[64];          /* digits (or letters) before any '_', ':' or '@' */
	int domain;             /* 0 phone number, 1 LID, 128 hosted, 129 hosted LID */
	long device;            /* -1: every device */
	char name[80];          /* user, or user_domain when domain is not 0 */
};

/* WA_EINVAL with why ("'x@g.us': not a contact ...") when spec is none of
 * the forms above. */
int wa_peer_parse(struct wa_peer *out, const char *spec, struct wa_why *why);

/*
 * The pre-key rule.  Baileys names a pre-key file after its id, uploads
 * ids 1, 2, 3 ... (3 bytes on the wire, so at most 16777215), and a
 * message that uses one (a pkmsg) names it by that id; the server hands
 * each uploaded key out once, but when is unknown, so any pre-key that
 * could have been uploaded may still arrive.  A pre-key file is unusable,
 * and selected, only when no message could ever use it:
 *   - its id is not a canonical decimal number in 1..16777215 (no pkmsg
 *     can name it, Baileys looks up "pre-key-<number>.json"), or
 *   - its content does not parse, or is not a key pair of two 32-byte
 *     keys (a pkmsg naming it fails with or without the file).
 * Pre-keys with ids at or above creds.nextPreKeyId are NOT selected:
 * they are normally left by a crash between writing new keys and saving
 * creds.json, but the upload may have reached the server in that window,
 * and a creds.json restored from an older copy leaves live keys there too.
 * Returns 1 (unusable, *reason a static text) or 0 (keep).
 */
int wa_prekey_unusable(const char *id, size_t idlen, const char *buf, size_t len, const char **reason);

enum wa_prune_where {
	WA_PRUNE_IN_FOLDER,     /* the auth folder itself */
	WA_PRUNE_IN_STAGE,      /* .wa/tmp */
};

struct wa_prune_item {
	char *name;             /* file name in its folder */
	enum wa_prune_where where;
	unsigned selector;      /* the WA_PRUNE_* that picked it first */
	const char *reason;     /* static text, e.g. "does not parse" */
};

struct wa_prune_sel {
	struct wa_prune_item *v;  /* folder files by name, then staging files by name */
	size_t n;
	size_t *peer_hits;        /* per peer given: sessions matched */
};

int wa_prune_select(struct wa_prune_sel **out, struct wa_authdir *ad, unsigned what,
    const struct wa_peer *peers, size_t npeers, struct wa_why *why);
void wa_prune_sel_free(struct wa_prune_sel *s);

#endif
