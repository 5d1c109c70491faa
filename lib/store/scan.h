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

/* The entry called name, or NULL (binary search). */
const struct wa_scan_entry *wa_scan_find(const struct wa_scan *s, const char *name);

#endif
