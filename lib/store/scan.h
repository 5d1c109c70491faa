/*
 * scan.h - list an auth folder: every entry with its type and stat data.
 *
 * One readdir pass plus one fstatat (AT_SYMLINK_NOFOLLOW) per entry; no
 * file is opened.  The .wa sub-folder is reported once as an entry of
 * kind WA_SCAN_SUBDIR and not descended into.  Entries come back sorted
 * by name (C locale), so output built from them is stable.
 */
#ifndef WA_SCAN_H
#define WA_SCAN_H

#include <stddef.h>
#include <sys/stat.h>

#include "store/fname.h"

enum wa_scan_kind {
	WA_SCAN_FILE,     /* a regular file */
	WA_SCAN_SYMLINK,  /* a symbolic link: never followed */
	WA_SCAN_DIR,      /* some other folder (not ours) */
	WA_SCAN_SUBDIR,   /* wa's own .wa folder */
	WA_SCAN_OTHERKIND /* fifo, socket, device */
};

struct wa_scan_entry {
	char *name;
	enum wa_scan_kind kind;
	enum wa_ftype type;   /* by name; meaningful for WA_SCAN_FILE */
	struct stat st;
};

struct wa_scan {
	struct wa_scan_entry *e;
	size_t n;
	size_t count[WA_FT_COUNT];  /* regular files by type */
};

/* Scan the folder dirfd.  WA_ESYS, WA_ENOMEM.  Free with wa_scan_free. */
int wa_scan_dir(struct wa_scan **out, int dirfd);
void wa_scan_free(struct wa_scan *s);

/*
 * The one rule for modes (wa-authdir(5)): an auth file (creds.json and
 * every file wa_fname_classify knows) readable or writable by group or
 * others is set to 0600 by every wa tool that writes the folder, which
 * says so; wa-check reports it as a WARNING meanwhile.
 *
 * For each regular auth file of s with group/other bits, call fn (may be
 * NULL) with its name and old mode and, unless dry, set it to 0600
 * (opened O_NOFOLLOW, checked to be the same regular file, fchmod).
 * *n counts the files concerned.  0, or WA_ESYS (errno; the name is in
 * *failed, a pointer into s) at the first that fails.
 */
int wa_scan_fix_modes(size_t *n, const char **failed, int dirfd, const struct wa_scan *s, int dry,
    void (*fn)(void *arg, const char *name, mode_t old), void *arg);

/* The entry called name, or NULL (binary search). */
const struct wa_scan_entry *wa_scan_find(const struct wa_scan *s, const char *name);

#endif
