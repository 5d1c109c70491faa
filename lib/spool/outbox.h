/*
 * outbox.h - the outbox spool: jobs for wa-run to send, put there by
 * wa-send (maildir semantics: many writers, one runner), and one status
 * file per job (wa-message(5), OUTBOX).
 *
 *	wa-send (no lock):
 *	wa_outbox_open(&ob, "auth.outbox", WA_OUTBOX_CREATE, 14, &why);
 *	wa_outbox_put(ob, job, name, &why);        // durable in new/, or nothing
 *	wa_outbox_free(ob);
 *
 *	wa-run (the one runner, holds OUT/.wa/lock):
 *	wa_outbox_open(&ob, dir, WA_OUTBOX_CREATE | WA_OUTBOX_RUNNER, keep_days, &why);
 *	fd = wa_outbox_watch_fd(ob);               // on the loop; -1: poll
 *	wa_outbox_queued(ob, &names, &n, &why);    // new/, in name order
 *	wa_outbox_load(ob, names[i], &job, &why);  // WA_ECORRUPT: fail it
 *	wa_outbox_status_write(ob, status, &why);  // sending, sent, ...
 *	wa_outbox_finish(ob, names[i], &why);      // new/ -> cur/
 *	wa_outbox_status_write_many(ob, sts, n, &why);  // a turn's statuses: one commit
 *	wa_outbox_finish_many(ob, names, n, &why);  // ... then their moves: two folder fsyncs
 *	wa_outbox_find(ob, id, &job);              // a retry receipt for id
 *	wa_outbox_prune(ob, now_ms, &removed, &why);
 *
 * Layout of DIR: tmp/ (jobs being written), new/ (queued jobs), cur/
 * (finished jobs, sent or failed, kept keep_days for retry receipts),
 * status/ID.json (one per job, written by the runner only), .wa/lock
 * (the runner's) and .wa/tmp (the staging folder of the status writes).
 * Folders 0700, files 0600, no link followed: a symlinked DIR or
 * sub-folder is refused (WA_EUNSAFE).
 *
 * A job file is named "<13-digit unix ms>.<pid>_<6-digit counter>.<ID>"
 * (counter: per process, from 0); the milliseconds never go back within
 * one process, so sorting names sorts each process's jobs in the order
 * they were put, and the whole queue in submission order up to clock
 * differences between processes.  ID is the message id: 1 to 64 of
 * [A-Za-z0-9], so it is safe in a file name.  Its content is one JSON
 * object (wa_outbox_job_check says which).
 *
 * put: the job is written complete into tmp/ (exclusive, 0600) and
 * fsynced, moved into new/ without ever replacing an entry, and new/ is
 * fsynced: when put returns 0 the job is on stable storage; on any error
 * nothing is in new/ and the temporary file is gone.  A crash leaves at
 * most a temporary file in tmp/, which a runner's open removes once it is
 * an hour old (maildir's rule: a younger one may be a writer at work).
 * The test for a duplicate id (WA_EEXIST) looks at new/ and cur/ just
 * before the move; two writers racing with the same id can both win:
 * ids are meant to be fresh (wa_msg_new_id).
 *
 * finish moves new/NAME to cur/NAME and fsyncs both.  prune removes the
 * jobs in cur/ older than keep_days (by the later of the name's time and
 * the time the job was finished) and their status files; it never touches
 * new/.  A job in new/ that is not valid is left there for the runner to
 * load (WA_ECORRUPT), fail with the reason and finish.
 *
 * Errors: WA_ESYS (errno kept; ENOSPC, EDQUOT, EIO), WA_ENOMEM, WA_EINVAL
 * (put: a job that wa_outbox_job_check refuses; a bad name or id),
 * WA_EUNSAFE, WA_ENOTFOUND (open without CREATE: DIR or a sub-folder is
 * missing; find: no such job), WA_EEXIST, WA_ECORRUPT (load, status_read:
 * not valid; why says what), WA_ELOCKED (open RUNNER: another runner),
 * WA_ESYNC (the move happened, the folder fsync failed: not known
 * durable).  Every error comes with why (may be NULL), one line naming
 * the path and the reason.
 */
#ifndef WA_OUTBOX_H
#define WA_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>

#include "base/err.h"
#include "store/names.h"    /* WA_OUTBOX_SUFFIX: the default folder */

#define WA_OUTBOX_NAME_MAX 128
#define WA_OUTBOX_ID_MAX 65         /* 64 bytes and the NUL */
#define WA_OUTBOX_JID_MAX 200       /* a JID of the job, with the NUL */
#define WA_OUTBOX_TEXT_MAX 65536    /* bytes of UTF-8 in a text job */
#define WA_OUTBOX_EMOJI_MAX 32      /* bytes of UTF-8 in a reaction */
#define WA_OUTBOX_KEEP_DAYS 14      /* default keep_days */

enum {
	WA_OUTBOX_CREATE = 1,       /* make missing folders (0700, durably) */
	WA_OUTBOX_RUNNER = 2,       /* take the lock, clean tmp/, index cur/ and new/ */
};

struct wa_outbox;

int wa_outbox_open(struct wa_outbox **out, const char *dir, int flags, int keep_days,
    struct wa_why *why);
/* NULL-safe; releases the lock. */
void wa_outbox_free(struct wa_outbox *ob);
const char *wa_outbox_dir(const struct wa_outbox *ob);

/* Put job (wa_outbox_job_check must accept it) durably into new/; name
 * (may be NULL) gets its file name.  WA_EEXIST when a job with that id is
 * in new/ or cur/. */
int wa_outbox_put(struct wa_outbox *ob, const json_t *job, char name[WA_OUTBOX_NAME_MAX],
    struct wa_why *why);

/* The names in new/ (only names of the form above), sorted.  *names is
 * the caller's: wa_outbox_names_free. */
int wa_outbox_queued(struct wa_outbox *ob, char ***names, size_t *n, struct wa_why *why);
void wa_outbox_names_free(char **names, size_t n);

/* Read and check the job new/NAME (or cur/NAME once finished).  *job is
 * the caller's (json_decref).  WA_ECORRUPT with why when it is not a
 * valid job or its id is not the one in its name; WA_ENOTFOUND. */
int wa_outbox_load(struct wa_outbox *ob, const char *name, json_t **job, struct wa_why *why);

/* Move new/NAME to cur/NAME (never replacing), fsync both folders. */
int wa_outbox_finish(struct wa_outbox *ob, const char *name, struct wa_why *why);

/* wa_outbox_finish for n jobs: each moved new/ -> cur/ (never
 * replacing), then one fsync of cur/ and one of new/ for all of them.
 * Every name is tried; the first error is returned (with why), the
 * others are not reported: WA_ENOTFOUND (not in new/), WA_EEXIST,
 * WA_EINVAL (not a job name), WA_ESYS; WA_ESYNC when a folder fsync
 * failed (the moves may not survive a power cut). */
int wa_outbox_finish_many(struct wa_outbox *ob, char *const *names, size_t n, struct wa_why *why);

/* The job with message id in new/ or cur/: 0 with *job (caller's), or
 * WA_ENOTFOUND (also for an unreadable or invalid job), WA_EINVAL (bad id),
 * WA_ENOMEM.  A runner looks it up in its index (cur/ and what it saw in
 * new/; new/ is read again on a miss); otherwise both folders are read. */
int wa_outbox_find(struct wa_outbox *ob, const char *id, json_t **job);

/* Write status/ID.json durably (temp, fsync, rename, fsync status/), ID
 * from status's "id".  WA_EINVAL when status has no valid id. */
int wa_outbox_status_write(struct wa_outbox *ob, const json_t *status, struct wa_why *why);

/* wa_outbox_status_write for n statuses as one group commit (durable.h,
 * wa_durable_batch): every temporary file written, one barrier, the
 * renames, one fsync of status/.  0 when all are durable; on an error
 * before the renames none changed; a rename failing part way leaves some
 * new and the rest old, each whole (WA_ESYS); WA_ESYNC: renamed, the
 * folder fsync failed.  WA_EINVAL (nothing written) when one has no
 * valid id or state.  Ids should be distinct (the last one wins). */
int wa_outbox_status_write_many(struct wa_outbox *ob, const json_t *const *statuses, size_t n,
    struct wa_why *why);

/* Read DIR/status/ID.json (no open needed: wa-send --wait).  WA_ENOTFOUND
 * when there is none yet (the job is queued), WA_ECORRUPT when it is not
 * a JSON object with that id and a string "state". */
int wa_outbox_status_read(const char *dir, const char *id, json_t **status, struct wa_why *why);

/* Remove the jobs in cur/ finished more than keep_days before now_ms,
 * with their status files, and status files of no job older than that.
 * *removed (may be NULL): the jobs removed.  Never touches new/. */
int wa_outbox_prune(struct wa_outbox *ob, int64_t now_ms, size_t *removed, struct wa_why *why);

/* An inotify descriptor readable when a file lands in new/ (IN_MOVED_TO,
 * IN_CREATE), owned by ob; -1 when unavailable (callers then poll new/
 * every second).  drain reads what is pending: the number of events, 0
 * when none, a negative WA_E* code on error. */
int wa_outbox_watch_fd(struct wa_outbox *ob);
int wa_outbox_watch_drain(struct wa_outbox *ob);
/* Drain the watch descriptor and take the names of the jobs that landed
 * in new/ since the last call (only names of the job form; sorted; the
 * caller's: wa_outbox_names_free), so that a runner learns a new job
 * without listing new/.  0; 1 when events were lost (the kernel's queue
 * overflowed: *names holds what was seen, list new/ with
 * wa_outbox_queued for the rest); WA_ENOMEM, WA_ESYS. */
int wa_outbox_watch_take(struct wa_outbox *ob, char ***names, size_t *n);

/* What waits in DIR/new: count and the oldest job's mtime (0 when none).
 * Reads only (wa-check, status). */
int wa_outbox_backlog(const char *dir, size_t *count, time_t *oldest, struct wa_why *why);

/* ---- checks (pure) --------------------------------------------------- */

/* 1 when id is 1..64 bytes of [A-Za-z0-9], else 0. */
int wa_outbox_id_ok(const char *id);

/* 1 when s is a valid UTF-8 string of len bytes (no NUL, no overlong
 * form, no surrogate), else 0. */
int wa_outbox_utf8_ok(const char *s, size_t len);

/* 1 when jid is a normalised JID wa sends to: NUMBER@s.whatsapp.net,
 * NUMBER@lid, or (with group) ID@g.us, without agent or device. */
int wa_outbox_jid_ok(const char *jid, int group);

/* TO as a user types it into the JID of a job: a phone number with an
 * optional leading '+' and spaces, dashes, dots or parentheses between
 * the digits (6 to 15 digits, not starting with 0) becomes
 * NUMBER@s.whatsapp.net; a JID accepted by wa_outbox_jid_ok(jid, 1)
 * stays as it is (c.us becomes s.whatsapp.net).  WA_EINVAL otherwise. */
int wa_outbox_norm_to(char out[WA_OUTBOX_JID_MAX], const char *to);

/* 0 when job is a valid job, else WA_EINVAL with why naming the field:
 * an object with "v":1, "id" (wa_outbox_id_ok), "to" (wa_outbox_jid_ok),
 * "created_ms" (an integer), and "type" one of
 *   "text"     "text": 1..WA_OUTBOX_TEXT_MAX bytes; optional "reply_to":
 *              {"id":ID, "participant":JID?}
 *   "reaction" "target": {"id":ID, "participant":JID?, "from_me":bool},
 *              "emoji": "" (remove) or 1..WA_OUTBOX_EMOJI_MAX bytes
 *   "read"     "ids": [ID, ...] (1 to 256 of them), "participant": JID?
 *   "revoke"   "target": {"id":ID}
 * Other fields are ignored (forward compatibility). */
int wa_outbox_job_check(const json_t *job, struct wa_why *why);

#endif
