/*
 * authdir.h - open an auth folder safely.
 *
 * The folder must be a real directory (a symbolic link is refused: pass the
 * real path).  Read-only opens never create anything and never lock.
 * WA_AUTHDIR_WRITE creates the .wa sub-folder and its staging area if
 * needed (0700) and takes the one-writer lock for as long as the handle is
 * open.  All descriptors are O_CLOEXEC; everything inside is opened
 * relative to them with O_NOFOLLOW.
 */
#ifndef WA_AUTHDIR_H
#define WA_AUTHDIR_H

#include <stddef.h>

#include "base/err.h"
#include "store/lock.h"

#define WA_AUTHDIR_WRITE  0x1  /* create .wa, .wa/tmp; take the lock */
#define WA_AUTHDIR_CREATE 0x2  /* create the folder itself (0700) if missing */

struct wa_authdir {
	int fd;          /* the auth folder */
	int wafd;        /* <folder>/.wa, or -1 if absent (read-only open) */
	int stagefd;     /* <folder>/.wa/tmp, or -1 if absent */
	char *path;      /* as given, trailing slashes removed */
	struct wa_lock *lock;
};

/* Errors (why says which path and what): WA_ENOTFOUND no such folder;
 * WA_EINVAL not a folder; WA_EUNSAFE a symbolic link; WA_ELOCKED another
 * writer holds the lock (why names it, *holder filled when non-NULL);
 * WA_ESYS. */
int wa_authdir_open(struct wa_authdir **out, const char *path, unsigned flags,
    const char *prog, struct wa_lock_holder *holder, struct wa_why *why);
void wa_authdir_close(struct wa_authdir *ad);

/* Durably write name (a bare name, checked with wa_fname_safe) in the
 * folder through the staging area.  Requires WA_AUTHDIR_WRITE. */
int wa_authdir_put(struct wa_authdir *ad, const char *name, const void *buf, size_t len);

/* Open (creating 0700 when create is set) a sub-folder of .wa, e.g.
 * "quarantine".  Returns a descriptor or a negative WA_E* code. */
int wa_authdir_subdir(struct wa_authdir *ad, const char *name, int create);

/* Describe a lock holder in one line ("pid 123 (wa-run) since ..."). */
void wa_lock_holder_describe(const struct wa_lock_holder *h, char *buf, size_t n);

#endif
