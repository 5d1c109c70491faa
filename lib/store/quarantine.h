/*
 * quarantine.h - where files go instead of being deleted.
 *
 * wa never deletes an auth file on its own: what wa-prune removes is moved
 * (wa_durable_move: rename, then fsync of both folders) into
 *
 *	<folder>/.wa/quarantine/<STAMP>/<name>
 *
 * with STAMP = "YYYYmmddTHHMMSSZ-<pid>" (UTC, e.g. 20261121T101500Z-4242),
 * one sub-folder per run.  A rename never crosses file systems and never
 * touches what a symbolic link points to: a quarantined link is the link.
 * Undo by hand: mv <folder>/.wa/quarantine/STAMP/<name> <folder>/.
 * The only real deletion is wa_quarantine_purge, an explicit operator
 * action (wa-prune --purge DAYS).
 *
 * Calling sequence for a run:
 *
 *	wa_quarantine_begin(&q, ad, time(NULL));    (needs a WRITE authdir)
 *	wa_quarantine_move(q, ad->fd, "session-1.0.json");   ... per file
 *	wa_quarantine_commit(q);                    fsync the folders involved
 *	wa_quarantine_end(q);
 *
 * Each move is a rename (atomic: a crash leaves the file in one folder or
 * the other); commit makes all of them durable with one fsync per folder
 * instead of two per file, which matters for thousands of sessions.  The
 * run's sub-folder is made at the first move, so a run that moves
 * nothing leaves no trace.
 */
#ifndef WA_QUARANTINE_H
#define WA_QUARANTINE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "store/authdir.h"

#define WA_QUARANTINE_NAME_MAX 48

struct wa_quarantine {
	int qfd;                /* <folder>/.wa/quarantine */
	int efd;                /* the run's sub-folder, -1 until the first move */
	time_t when;
	char name[WA_QUARANTINE_NAME_MAX];  /* the run's STAMP, "" until the first move */
	size_t moved;
	int from[4];            /* the folders moved from, to fsync at commit */
	size_t nfrom;
	int dirty;              /* moves since the last commit */
};

/* Open (making it, 0700) .wa/quarantine.  ad must be open with
 * WA_AUTHDIR_WRITE.  WA_EUNSAFE when it is a symbolic link; WA_ESYS. */
int wa_quarantine_begin(struct wa_quarantine **out, struct wa_authdir *ad, time_t now);

/* Move fromfd/name into the run's sub-folder under the same name (at
 * most 4 different fromfd per run).  WA_EEXIST when that name is already
 * there (nothing moved); WA_EINVAL (a fifth folder); WA_ESYS. */
int wa_quarantine_move(struct wa_quarantine *q, int fromfd, const char *name);

/* fsync the run folder and every folder moved from.  0, or WA_ESYNC
 * (errno kept): the moves happened but are not known to be durable. */
int wa_quarantine_commit(struct wa_quarantine *q);

/* Close (committing first if moves are pending, errors ignored: call
 * wa_quarantine_commit to see them); NULL-safe. */
void wa_quarantine_end(struct wa_quarantine *q);

/* Format a STAMP; returns out. */
char *wa_quarantine_stamp(char *out, size_t n, time_t t, pid_t pid);

/* The time in a STAMP (also accepts a ".N" suffix that a second run in
 * the same second and pid gets).  0, or WA_EINVAL for any other name. */
int wa_quarantine_parse(const char *name, time_t *when);

struct wa_quarantine_entry {
	char name[WA_QUARANTINE_NAME_MAX];
	time_t when;
};

/* The run folders in qfd, oldest first.  Entries whose names are not
 * stamps are not listed (and never purged).  Caller frees *out. */
int wa_quarantine_list(struct wa_quarantine_entry **out, size_t *n, int qfd);

/* Delete the run folder name in qfd and everything in it (symbolic links
 * are removed, never followed; sub-folders up to 8 deep), then fsync qfd.
 * WA_EINVAL when name is not a stamp; WA_EUNSAFE when it is not a folder
 * (a symbolic link or a file put there by someone else: not touched, the
 * caller goes on with the next); WA_ESYS. */
int wa_quarantine_purge(int qfd, const char *name);

#endif
