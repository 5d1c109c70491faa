/*
 * retry.h - the durable table of messages wa could not decrypt and asked
 * their sender to send again (retry receipts, wa-protocol(7) §12).
 *
 *	wa_retries_open(&t, ad->wafd, ad->stagefd, &why);   .wa/retries.json
 *	e = wa_retries_get(t, key);                 borrowed, or NULL
 *	wa_retries_put(t, key, entry);              steals entry; NULL removes
 *	wa_retries_save(t, &why);                   durable, when changed
 *	wa_retries_free(t);
 *
 * The file is one JSON object, key -> entry, written whole with the
 * durable write (old or new, never a mix), so a restart neither resets a
 * count (a retry storm) nor forgets a pending repair.  Keys are the
 * receive path's "<chat>/<sender>/<id>"; an entry is whatever the caller
 * keeps (recv.c: count, first and last time, class, and the stanza's
 * attributes to write the final record from).  Entries older than 14
 * days are dropped at open: the server keeps no message longer.
 *
 * A file that cannot be parsed is moved to .wa/quarantine/ and the table
 * starts empty (the worst that costs is up to five more retries per
 * message); open reports that in *why with rc 0 and *why non-empty.
 * Errors: WA_ESYS, WA_ESYNC (save: renamed, not known durable), WA_ENOMEM.
 */
#ifndef WA_RETRY_H
#define WA_RETRY_H

#include <stdint.h>
#include <jansson.h>

#include "base/err.h"

#define WA_RETRIES_FILE "retries.json"

struct wa_retries;

int wa_retries_open(struct wa_retries **out, int wafd, int stagefd, struct wa_why *why);
void wa_retries_free(struct wa_retries *t);

json_t *wa_retries_get(struct wa_retries *t, const char *key);
int wa_retries_put(struct wa_retries *t, const char *key, json_t *entry);
/* The whole table (borrowed; iterate, do not change). */
const json_t *wa_retries_all(const struct wa_retries *t);
size_t wa_retries_count(const struct wa_retries *t);

int wa_retries_save(struct wa_retries *t, struct wa_why *why);

#endif
