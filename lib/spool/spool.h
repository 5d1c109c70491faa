/*
 * spool.h - a maildir spool of message files with a durable record of
 * what was ever delivered into it (wa-message(5)).
 *
 *	wa_spool_open(&sp, "/var/lib/wa/acct/inbox", 14, &why);
 *	if (!wa_spool_seen(sp, key)) wa_spool_add(sp, key, json, len);  ... per message
 *	wa_spool_commit(sp, &why);       // all of them durable and recorded
 *	... only now tell the network ...
 *	wa_spool_free(sp);
 *
 * Layout: DIR/tmp, DIR/new, DIR/cur (maildir), and DIR/.wa/seen/, the
 * record: one append-only file per UTC day, "YYYY-MM-DD.log", one line
 * per delivered message: "<name> <key>\n".  Keys are the caller's (wa-run:
 * chat, sender, message id); a key is 1..WA_SPOOL_KEY_MAX printable
 * bytes without space (other bytes are refused: WA_EINVAL).
 *
 * File names sort in delivery order: "<unix seconds, 10 digits>.<6-digit
 * counter>_<pid>.<host>", the pair (seconds, counter) strictly increasing
 * across commits of one process and across restarts (it continues from
 * the newest name recorded): the counter counts within a second, and the
 * seconds never go back (a clock set back keeps the newest second used).
 * So a consumer that lists new/ and sorts by name sees each chat's
 * messages in the order they were committed.  (host: its bytes outside
 * [A-Za-z0-9._-] as '_'.)
 *
 * commit, in this order (RELIABILITY.md R1-R4):
 *   1. every added file was written complete into tmp/ by add; fsync each
 *      (or, for a batch of at least syncfs_min files, one syncfs: one
 *      barrier for all of them, measured faster: bench/spool-rate.c);
 *   2. append their record lines to today's record, fsync it;
 *   3. rename each tmp/NAME to new/NAME (never replacing), fsync new/.
 * When commit returns 0 every file is in new/ and recorded, on stable
 * storage.  A crash at any point leaves: nothing recorded (a redelivery
 * writes it again: the temps of an unrecorded name are removed at the next
 * open), or recorded and in tmp/ (open finishes the rename: 3), or done.
 * So a key that is seen is in new/ (or was moved on by the consumer), and
 * no partial file is ever visible in new/.
 *
 * open makes the folders (0700, durably) when missing, finishes or drops
 * what a crash left in tmp/ (above; files in tmp/ whose names are not
 * ours are left alone), and loads the record of the last keep_days days
 * (and today); record files older than that are removed at open: they
 * are an index, not messages (the server keeps no message longer).
 *
 * A record file whose last line is torn (a crash mid-append: no newline
 * at the end) is read up to its last complete line; when it is today's
 * file, open first replaces it durably by its complete lines, so the
 * next append starts on a fresh line and no torn fragment ever sits
 * between two lines.
 *
 * One process at a time: open takes a lock (DIR/.wa/lock, as for an auth
 * folder, lock.h); DIR/.wa/tmp is the staging folder of that replace.
 *
 * Errors: WA_ESYS (errno kept), WA_ESYNC (the state on disk is not
 * known: the record's fdatasync, a rename or new/'s fsync failed; tell
 * the network nothing, and reopen: exit and let the supervisor restart),
 * WA_ENOMEM, WA_EINVAL (bad key), WA_EEXIST (add: key already added or
 * seen), WA_EUNSAFE (a folder is a symlink or not 0700-able, a record
 * file is not a regular file), WA_ECORRUPT (a record line that is not
 * "<name> <key>": why names file and line), WA_ELOCKED (open: another
 * process has the spool open).
 * On a failed commit nothing is visible in new/ that was not before
 * (failure before 3) or the WA_ESYNC case; the added files are dropped
 * either way, and the caller sends no receipt.  After WA_ESYNC the
 * handle refuses add and commit (WA_ESYNC) and leaves the temps in tmp/:
 * the next open moves the recorded ones on and removes the others.
 */
#ifndef WA_SPOOL_H
#define WA_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/err.h"

#define WA_SPOOL_KEY_MAX 512
#define WA_SPOOL_NAME_MAX 128

struct wa_spool;

int wa_spool_open(struct wa_spool **out, const char *dir, int keep_days, struct wa_why *why);
void wa_spool_free(struct wa_spool *sp);

/* 1 when key was recorded (committed), 0 when not. */
int wa_spool_seen(const struct wa_spool *sp, const char *key);

/* Write buf as a new file in tmp/ (exclusive, 0600, no link followed),
 * to be committed.  *name (optional) gets its file name.  The key counts
 * as seen only after commit. */
int wa_spool_add(struct wa_spool *sp, const char *key, const void *buf, size_t len,
    char name[WA_SPOOL_NAME_MAX]);

/* Files added since the last commit or abort. */
size_t wa_spool_pending(const struct wa_spool *sp);

int wa_spool_commit(struct wa_spool *sp, struct wa_why *why);
/* Drop what was added since the last commit (temps unlinked). */
void wa_spool_abort(struct wa_spool *sp);

/* The spool's folder (a file's path is "DIR/new/NAME"). */
const char *wa_spool_dir(const struct wa_spool *sp);

/* From how many files in one commit on the temps are made durable by one
 * syncfs instead of an fsync each (default 8; 0: never).  For the bench
 * and the tests. */
void wa_spool_set_syncfs_min(struct wa_spool *sp, size_t n);

/* What waits in DIR/new: count and the oldest file's mtime (0 when
 * none).  Reads only; for status and wa-check (no spool open needed). */
int wa_spool_backlog(const char *dir, size_t *count, time_t *oldest, struct wa_why *why);
/* The same, counting only the regular files whose names ours accepts
 * (wa_spool_backlog: every name not starting with a dot; the outbox: its
 * job names). */
int wa_spool_backlog_of(const char *dir, int (*ours)(const char *name), size_t *count, time_t *oldest,
    struct wa_why *why);

#endif
