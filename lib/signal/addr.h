/*
 * addr.h - a JID's Signal protocol address and file names, as Baileys 7
 * computes them (wa-signal(7), "Addresses").
 *
 *	struct wa_sigaddr a;
 *	wa_sigaddr_from_jid(&a, "15550001111:2@s.whatsapp.net");  // "15550001111", 2
 *	wa_sigaddr_resolve(&a, &a, lookup, arg);   // the LID address if a mapping exists
 *	wa_sigaddr_file(name, sizeof name, WA_FT_SESSION, &a);    // session-…json
 *
 * name is "<user>" for phone-number JIDs and "<user>_<domain>" otherwise
 * (lid 1, hosted 128, hosted.lid 129, or the JID's agent); device is the
 * JID's device or 0.  Baileys refuses device 99 outside hosted servers,
 * and so do we.  Baileys' storage layer looks every phone-number address
 * up in lid-mapping-<user>.json and, when that holds a LID user, uses
 * "<lid>_1.<device>" (or _129 for hosted) instead: resolve does the same
 * through a caller-supplied lookup.  Every name that comes out has passed
 * wa_jid_parse, so it is safe inside a file name; file names are built by
 * wa_fname_make and never leave the folder.
 *
 * Errors: WA_EINVAL (not a user JID Baileys would take), WA_ECORRUPT (the
 * lookup gave something that is not a LID user).
 */
#ifndef WA_SIGADDR_H
#define WA_SIGADDR_H

#include <stddef.h>

#include "base/err.h"
#include "store/fname.h"
#include "wire/jid.h"

struct wa_sigaddr {
	char name[WA_SIGNAL_ADDR_MAX];   /* "15550001111" or "99990001111_1" */
	unsigned device;
};

int wa_sigaddr_from_jid(struct wa_sigaddr *out, const char *jid);

/* lookup(lid, n, pn_user, arg): 1 and lid filled when a mapping exists,
 * 0 when none, negative WA_E* on failure (passed on). */
typedef int (*wa_sigaddr_lookup)(char *lid, size_t n, const char *pn_user, void *arg);

/* out = in, or its LID address.  out may be in. */
int wa_sigaddr_resolve(struct wa_sigaddr *out, const struct wa_sigaddr *in,
    wa_sigaddr_lookup lookup, void *arg);

/* "<name>.<device>": the id of session-*, identity-key-*. */
int wa_sigaddr_id(char *out, size_t n, const struct wa_sigaddr *a);

/* The file of type t (WA_FT_SESSION or WA_FT_IDENTITY_KEY) for a. */
int wa_sigaddr_file(char *out, size_t n, enum wa_ftype t, const struct wa_sigaddr *a);

/* sender-key-<group>::<name>::<device>.json, for group (a g.us or
 * broadcast JID, taken as written) and sender a. */
int wa_sigaddr_sender_key_file(char *out, size_t n, const char *group, const struct wa_sigaddr *a);

#endif
