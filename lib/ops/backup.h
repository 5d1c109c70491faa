/*
 * backup.h - backup archives of an auth folder: write, read and verify,
 * build a restored folder, swap it in, and keep the backups folder tidy.
 *
 * An archive is a POSIX tar stream (pax, plain ustar headers whenever a
 * name fits) whose first member is wa-manifest.json, then one member per
 * file, each a regular file under its name in the folder: "creds.json",
 * "session-123.0.json", ".wa/status.json".  There are no folder, link or
 * device members.  The manifest:
 *
 *	{"format": "wa-backup", "version": 1,
 *	 "created": "2026-11-21T05:44:59Z", "wa_version": "0.1.0",
 *	 "folder": "auth", "account": "15550001111" | null,
 *	 "me": "15550001111:3@s.whatsapp.net" | null,
 *	 "identity": "<hex SHA-256 of creds.signedIdentityKey.public>" | null,
 *	 "files": [{"name": "creds.json", "size": 1234, "mode": "0600",
 *	            "sha256": "<hex>", "valid": true}, ...]}
 *
 * "valid" is present for .json files only: false when the file did not
 * parse even after re-reading (it is archived as found).  The checksums
 * detect damage, not forgery: anyone who can write the archive can write
 * a matching manifest.
 *
 * What a backup holds: every regular file directly in the folder, and
 * every regular file directly in .wa except the lock, the staging area
 * (tmp/) and quarantine/.  Leftover temporary files (WA_DURABLE_TMP_PREFIX)
 * are skipped silently; symbolic links, sub-folders, devices and a file
 * called wa-manifest.json are skipped with a warning, never followed.
 *
 * Writing never takes the folder lock.  Each file is read through one
 * descriptor with fstat before and after; a .json file that changed under
 * the read or does not parse is read again (a few times, briefly apart),
 * because Baileys rewrites files in place.  wa's own writes are atomic
 * renames, so an open descriptor always holds one complete version.
 */
#ifndef WA_BACKUP_H
#define WA_BACKUP_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>

#include "base/err.h"

#define WA_BACKUP_FORMAT   "wa-backup"
#define WA_BACKUP_VERSION  1
#define WA_BACKUP_KEEP     10              /* default --keep */
#define WA_BACKUP_MAX      (1ull << 30)    /* total bytes held in memory */
#define WA_BACKUP_RETRIES  5               /* reads of a file that changes or does not parse */
#define WA_BACKUP_KEEP_REPLACED 10         /* default wa-restore --keep (replaced folders) */
#define WA_REPLACED_INFIX  ".replaced-"    /* <folder>.replaced-YYYYmmddTHHMMSSZ[-N] */

/* Called for every non-fatal problem (a skipped symlink, a file archived
 * as invalid) with one line naming the path.  May be NULL. */
typedef void wa_backup_warn_fn(void *arg, const char *line);

/* Where the archive bytes go: return 0 or a negative WA_E* code (errno
 * kept for WA_ESYS). */
typedef int wa_backup_out_fn(void *arg, const void *buf, size_t len);

/* Ready-made outputs: arg is a pointer to an int descriptor (every byte
 * written, EINTR retried), or a struct wa_durable *. */
int wa_backup_out_fd(void *arg, const void *buf, size_t len);
int wa_backup_out_durable(void *arg, const void *buf, size_t len);

struct wa_backup_report {
	size_t files;            /* members, the manifest not counted */
	unsigned long long bytes; /* their total size */
	size_t invalid;          /* .json files archived with "valid": false */
	size_t skipped;          /* entries skipped with a warning */
	char account[64];        /* "" when unpaired or no creds.json */
	char identity[65];       /* "" when creds.json has no identity key */
	int creds;               /* creds.json: 1 archived valid, 0 invalid, -1 absent */
	size_t rereads;          /* files read more than once (changed during a read, or
	                          * did not parse at first) */
};

/* wa_backup_write_flags: */
#define WA_BACKUP_CREDS_VALID 1u  /* refuse (WA_ECORRUPT, nothing written) when
                                   * creds.json does not parse */
#define WA_BACKUP_AUTHLIKE    2u  /* refuse (WA_ECORRUPT, nothing written) a folder
                                   * wa_backup_authlike says is clearly not one */

/*
 * Write an archive of the folder dirfd (shown as dirshow in messages;
 * folder is its name, recorded in the manifest) to out, stamped created.
 * Errors (why names the path): WA_ESYS (a file could not be read, or out
 * failed: errno), WA_EUNSAFE (a file stopped being a regular file),
 * WA_ETOOBIG (over WA_BACKUP_MAX), WA_ENOMEM.  On error the output holds
 * a partial archive: write it through wa_durable and abort.
 */
int wa_backup_write(struct wa_backup_report *rep, int dirfd, const char *dirshow,
    const char *folder, time_t created, wa_backup_out_fn *out, void *outarg,
    wa_backup_warn_fn *warn, void *warnarg, struct wa_why *why);
/* The same with WA_BACKUP_* flags; both refusals happen before a byte
 * reaches out.  wa_backup_write is flags 0. */
int wa_backup_write_flags(struct wa_backup_report *rep, int dirfd, const char *dirshow,
    const char *folder, time_t created, unsigned flags, wa_backup_out_fn *out, void *outarg,
    wa_backup_warn_fn *warn, void *warnarg, struct wa_why *why);

/* Whether the folder dirfd could be an auth folder: 1 when it is empty
 * (apart from .wa and temporary files) or holds creds.json or a file
 * named like a Baileys auth file (pre-key-*, session-* ... see
 * store/fname.h); 0 when it holds only other things ("clearly not": /etc).
 * WA_ESYS, WA_ENOMEM. */
int wa_backup_authlike(int dirfd);

/* A verified archive in memory. */
struct wa_backup_file {
	char *name;              /* "creds.json", ".wa/status.json" */
	unsigned char *data;     /* size bytes */
	size_t size;
	int valid;               /* 1, 0 ("valid": false), -1 not a .json file */
};

struct wa_backup {
	json_t *manifest;
	const char *created;     /* point into manifest; "" when absent */
	const char *folder;
	const char *account;     /* "" when null */
	const char *me;
	const char *identity;
	struct wa_backup_file *f;    /* in manifest order */
	size_t n;
	unsigned long long bytes;
};

/*
 * Read an archive from fd (plain or gzip-compressed tar; shown as show in
 * messages) and verify it completely: the first member is the manifest,
 * every member is a regular file with a safe name (wa_backup_name_ok),
 * the members are exactly the manifest's files, each once, and every size
 * and SHA-256 matches.  Nothing is written anywhere.
 * Errors: WA_ECORRUPT (not an archive, truncated, bad manifest, unsafe or
 * unexpected member, missing member), WA_EMISMATCH (a checksum or size),
 * WA_ETOOBIG (over WA_BACKUP_MAX), WA_ESYS (reading fd failed), WA_ENOMEM;
 * why says which member and what.  Free with wa_backup_free.
 */
int wa_backup_read(struct wa_backup **out, int fd, const char *show, struct wa_why *why);

/* Only the manifest (the first member) of the archive in fd, checked as
 * wa_backup_read checks it: names, sizes and validity filled in, no
 * member read (every data is NULL).  Cheap: for choosing among archives.
 * Same errors.  Free with wa_backup_free. */
int wa_backup_read_manifest(struct wa_backup **out, int fd, const char *show, struct wa_why *why);

/* Whether a restore of b gives a usable session: its manifest lists
 * creds.json marked valid (it parsed when it was archived).  1 or 0. */
int wa_backup_usable(const struct wa_backup *b);

/* Zero the file contents (they hold keys) and free.  NULL-safe. */
void wa_backup_free(struct wa_backup *b);

/* Whether name may be a member: a bare name that wa_fname_safe accepts,
 * other than ".wa", wa-manifest.json and temporary files, or ".wa/" and
 * such a name other than lock, tmp and quarantine. */
int wa_backup_name_ok(const char *name);

/* The manifest's "identity" of a parsed creds.json: the hex SHA-256 of
 * signedIdentityKey.public, "" when it has none.  Returns 0. */
int wa_backup_identity(char out[65], const json_t *creds);

/* The file of the backup called name, or NULL. */
const struct wa_backup_file *wa_backup_find(const struct wa_backup *b, const char *name);

/*
 * What a restore of b would do to the folder dirfd (-1: no folder yet):
 * calls fn once per name, in name order, with "added", "changed",
 * "removed" or "same".  Names considered in the folder are those a
 * backup would hold, plus symbolic links and other entries a backup would
 * skip (they are "removed": they stay only in the replaced folder).
 * WA_ESYS, WA_ENOMEM.
 */
typedef void wa_backup_diff_fn(void *arg, const char *what, const char *name);
int wa_backup_diff(const struct wa_backup *b, int dirfd, wa_backup_diff_fn *fn, void *arg,
    struct wa_why *why);

/*
 * Create parentfd/stage (0700; EEXIST is an error) and write every file of
 * b into it durably (0600; .wa/ files into a .wa sub-folder), then fsync
 * the folders.  On error the partly built folder is removed again.
 * WA_ESYS (errno: ENOSPC, EIO ...), WA_EEXIST, WA_ENOMEM.
 */
int wa_backup_extract(const struct wa_backup *b, int parentfd, const char *stage, struct wa_why *why);

/* Remove a folder made by wa_backup_extract (its files, .wa, itself).
 * Only regular files are unlinked; never follows links.  0 or WA_ESYS. */
int wa_backup_unstage(int parentfd, const char *stage);

/*
 * Put the built folder parentfd/stage in place of parentfd/target, keeping
 * the old target as parentfd/replaced.  With an existing target this is an
 * atomic exchange (renameat2 RENAME_EXCHANGE) followed by a move of the
 * old folder to replaced; where the system cannot exchange (*exchanged set
 * to 0) it is two moves, target to replaced then stage to target, with a
 * moment in between when target does not exist.  Without a target, stage
 * is simply moved into place (*replaced_used = 0).  Never replaces or
 * deletes anything: every move is a no-replace rename (renameat2
 * RENAME_NOREPLACE), so an entry that another process makes at target
 * meanwhile, even an empty folder, makes it fail with WA_EEXIST.  When
 * the second of the two moves fails, the old folder is moved back; when
 * that fails too, why says where the old folder is (replaced).
 * WA_EEXIST (replaced exists, or target appeared), WA_ESYS, WA_ESYNC.
 */
int wa_backup_swap(int parentfd, const char *stage, const char *target, const char *replaced,
    int *exchanged, int *replaced_used, struct wa_why *why);

/* Split path into its parent folder and last component (trailing slashes
 * ignored): "a/b/auth/" gives "a/b" and "auth", "auth" gives "." and
 * "auth".  When the last component is ".", ".." or the path is "/", the
 * real path is used instead (it must exist).  Caller frees both.
 * WA_EINVAL (the root folder), WA_ESYS, WA_ENOMEM. */
int wa_backup_path_split(char **dir, char **base, const char *path);

/* The backups folder of the auth folder authpath, as the user would spell
 * it: bdir when not NULL, else "<auth folder>.backups" beside the auth
 * folder (the tools pass $WA_BACKUP_DIR as bdir).  Caller frees.
 * WA_ENOMEM, or what wa_backup_path_split returns. */
int wa_backup_dir(char **out, const char *authpath, const char *bdir);

/* Open the backups folder path, creating it (0700, parent flushed) when
 * it does not exist.  Returns the descriptor, or WA_ESYS (errno kept;
 * ENOTDIR: something else is there), WA_ESYNC, WA_ENOMEM; why names the
 * path. */
int wa_backup_dir_open(const char *path, struct wa_why *why);

/* A new archive name in the backups folder dirfd for the auth folder
 * called folder: "<folder>-<stamp>.tar", or "-N.tar" added, N one past the
 * highest N of that second: a name is never reused, even after retention
 * removed it, so (stamp, N) orders archives by creation.  WA_EEXIST when N
 * would pass 999999, WA_ETOOBIG. */
int wa_backup_new_name(char *out, size_t n, int dirfd, const char *folder, time_t now);
/* The same rule for the name wa-restore keeps a replaced folder under in
 * its parent parentfd: "<folder>.replaced-<stamp>[-N]". */
int wa_backup_replaced_name(char *out, size_t n, int parentfd, const char *folder, time_t now);

/* "YYYYmmddTHHMMSSZ" for t, in UTC (out at least 17 bytes). */
void wa_backup_stamp(char *out, size_t n, time_t t);

/* Whether file is one of our timestamped archives of folder:
 * "<folder>-YYYYmmddTHHMMSSZ.tar" or "<folder>-YYYYmmddTHHMMSSZ-N.tar". */
int wa_backup_is_ours(const char *file, const char *folder);

/*
 * Our archives of folder in the backups folder dirfd (regular files only),
 * oldest first (by stamp, then N).  *names is a NULL-terminated array;
 * free with wa_backup_names_free.  WA_ESYS, WA_ENOMEM.
 */
int wa_backup_list(char ***names, size_t *n, int dirfd, const char *folder);
void wa_backup_names_free(char **names);

/*
 * Keep the newest keep usable archives of folder in dirfd (a manifest
 * that can be read, creds.json marked valid: wa_backup_usable) and delete
 * every archive of ours older than the oldest of those.  Archives that
 * are not usable never count: a run of backups of a broken folder never
 * pushes the last good archive out, and every archive newer than the
 * keep-th usable one stays.  With fewer than keep usable archives nothing
 * is deleted.  Never deletes the one called spare (the archive just
 * written; may be NULL) or anything that is not ours; then fsyncs the
 * folder.  keep 0 deletes nothing.  fn (may be NULL) is called with each
 * name removed.  WA_ESYS, WA_ENOMEM.
 */
int wa_backup_retain(int dirfd, const char *folder, size_t keep, const char *spare,
    void (*fn)(void *arg, const char *name), void *arg);

/*
 * Delete every archive of folder in dirfd created more than max_age
 * seconds before now (the time is the stamp in the name, as for
 * wa_backup_list's order, wa-restore --latest and wa-check
 * --max-backup-age; a copy with a fresh modification time is no younger),
 * except the newest usable archive (wa_backup_usable), which stays however
 * old: a host whose backups stopped keeps its last good one.  An archive
 * that is not usable never stands in for it.  With no usable archive at
 * all nothing is deleted.  Never deletes spare (may be NULL) or anything
 * not ours; fsyncs the folder after a removal.  max_age <= 0 deletes
 * nothing.  fn as for wa_backup_retain.  WA_ESYS, WA_ENOMEM.
 */
int wa_backup_retain_age(int dirfd, const char *folder, long long max_age, time_t now, const char *spare,
    void (*fn)(void *arg, const char *name), void *arg);

/*
 * The same for the folders wa-restore kept beside the auth folder called
 * folder in parentfd, "<folder>.replaced-YYYYmmddTHHMMSSZ[-N]" (real
 * folders only, never a link): delete the oldest, with everything in
 * them (links unlinked, never followed), until keep remain; never the one
 * called spare (the folder just replaced).  keep 0 deletes nothing.
 * WA_ESYS, WA_EUNSAFE (nested too deep), WA_ENOMEM.
 */
int wa_backup_retain_replaced(int parentfd, const char *folder, size_t keep, const char *spare,
    void (*fn)(void *arg, const char *name), void *arg);

#endif
