/*
 * fname.h - auth-folder file names: what type a file is, and the name for
 * an id, exactly as Baileys' useMultiFileAuthState names them.
 *
 * Baileys maps an id to a name with "<type>-<id>.json" after replacing
 * every '/' with "__" and then every ':' with '-'.  The mapping is lossy,
 * so names are only ever built forward from ids, never parsed back into
 * ids for anything but display.
 */
#ifndef WA_FNAME_H
#define WA_FNAME_H

#include <stddef.h>

enum wa_ftype {
	WA_FT_CREDS,
	WA_FT_PRE_KEY,
	WA_FT_SESSION,
	WA_FT_SENDER_KEY,
	WA_FT_SENDER_KEY_MEMORY,
	WA_FT_APP_STATE_SYNC_KEY,
	WA_FT_APP_STATE_SYNC_VERSION,
	WA_FT_LID_MAPPING,
	WA_FT_DEVICE_LIST,
	WA_FT_TCTOKEN,
	WA_FT_IDENTITY_KEY,
	WA_FT_OTHER_JSON,   /* some other .json file: preserved, parse-checked */
	WA_FT_OTHER,        /* anything else: preserved, left alone */
	WA_FT_COUNT
};

/* "creds", "pre-key", "session", ... "other-json", "other". */
const char *wa_ftype_name(enum wa_ftype t);

/* The type named s ("session"), or -1. */
int wa_ftype_parse(const char *s);

/* Classify a file name from the auth folder.  When the type has ids,
 * *id and *idlen (each may be NULL) point into name at the id part as it
 * appears in the name (already mapped). */
enum wa_ftype wa_fname_classify(const char *name, const char **id, size_t *idlen);

/* Build the file name for type t and id into out (size outsz), applying
 * Baileys' mapping.  WA_EINVAL when the id is empty, holds a NUL or control
 * character, or the name would be ".", "..", start with '.', or be longer
 * than 255 bytes; WA_ETOOBIG when out is too small.  The result never
 * contains '/', so it never names anything outside the folder. */
int wa_fname_make(char *out, size_t outsz, enum wa_ftype t, const char *id);

/* Whether a bare file name is safe to open inside the folder: not empty,
 * no '/', not "." or "..", no control characters, <= 255 bytes. */
int wa_fname_safe(const char *name);

#endif
