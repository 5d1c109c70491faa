/*
 * stage.h - the staging folder .wa/tmp, where every durable write makes
 * its temporary file before the rename (durable.h).
 *
 * A crash between creating a temporary file and renaming it leaves the
 * file behind.  It is never data: the rename that would have made it one
 * never happened, and the file it was meant to replace is intact.  A
 * writer that holds the folder lock knows that no other write is under
 * way, so every temporary file in the staging folder is such a leftover
 * (RELIABILITY.md R5: "stale temp files are ignored and swept").
 */
#ifndef WA_STAGE_H
#define WA_STAGE_H

#include <stddef.h>

/* Remove every regular file named WA_DURABLE_TMP_PREFIX... from the
 * staging folder stagefd.  Call only while holding the folder lock.
 * Anything else there (links, folders, other names) is left alone for
 * wa-check to report.  0 with *removed the count (may be NULL), or WA_ESYS
 * (errno) for the first file that could not be listed or removed; the
 * others are still tried. */
int wa_stage_sweep(int stagefd, size_t *removed);

#endif
