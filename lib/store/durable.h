/*
 * durable.h - the one way anything reaches the disk.
 *
 * Every file wa writes (auth files, status, archives) and every rename it
 * makes goes through this file; no other code in the tree calls rename(2)
 * or fsync(2).  A test greps for that.
 *
 * Calling sequence for a write:
 *
 *	wa_durable_begin(&w, dirfd, "creds.json", stagefd);
 *	wa_durable_write(w, buf, len);   ... as often as needed
 *	wa_durable_commit(w);            or wa_durable_abort(w)
 *
 * begin creates a unique temporary file in the staging folder stagefd
 * (O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, mode 0600; pass dirfd itself when
 * the folder has no staging area); write writes all of buf, retrying short
 * writes and EINTR; commit does fsync, close (checked), rename over the
 * final name, fsync of the directory.  wa_durable_put does all of it for
 * one buffer.
 *
 * Guarantee: readers of dirfd/name see either the old file or the complete
 * new one, never a mix, never an empty file, also after a crash or power
 * loss at any point.  When commit returns 0 the new file is on stable
 * storage.
 *
 * Errors: WA_ESYS (errno kept; ENOSPC, EIO, EDQUOT are the expected ones),
 * WA_ENOMEM.  Before the rename, any failure unlinks the temporary file and
 * leaves the old file untouched.  A failed fsync is never retried on the
 * same descriptor (its dirty pages may already be gone: PostgreSQL's
 * "fsyncgate").  WA_ESYNC means the rename happened but the directory fsync
 * failed: the new name may or may not survive a power cut, so the caller
 * must not tell the network anything that depends on it, and long-running
 * callers should exit and let the supervisor restart them.
 *
 * The temporary file names start with WA_DURABLE_TMP_PREFIX; a crash can
 * leave one behind, and wa-check and wa-prune --tmp deal with them.
 */
#ifndef WA_DURABLE_H
#define WA_DURABLE_H

#include <stddef.h>
#include <sys/types.h>

#define WA_DURABLE_TMP_PREFIX ".wa-tmp."

struct wa_durable;

int wa_durable_begin(struct wa_durable **out, int dirfd, const char *name, int stagefd);
int wa_durable_write(struct wa_durable *w, const void *buf, size_t len);
/* Always consumes w, whatever it returns. */
int wa_durable_commit(struct wa_durable *w);
/* Unlinks the temporary file and frees w.  NULL-safe. */
void wa_durable_abort(struct wa_durable *w);

int wa_durable_put(int dirfd, const char *name, int stagefd, const void *buf, size_t len);

/* Create name in dirfd with content buf: exclusive create (mode 0600, no
 * link followed), write all, fsync, close.  No rename and no directory
 * fsync: only for a folder nobody can see yet (a restore being built),
 * where the caller fsyncs the folder once with wa_durable_syncfd when
 * every file is in, before making the folder visible.  That is half the
 * fsyncs of wa_durable_put per file.  WA_EEXIST if name exists; on any
 * failure the partial file is unlinked. */
int wa_durable_create(int dirfd, const char *name, const void *buf, size_t len);

/* Move fromdir/from to todir/to, never replacing an existing entry
 * (WA_EEXIST), then fsync both directories.  For quarantine.  The
 * no-replace is atomic (renameat2 RENAME_NOREPLACE); where the filesystem
 * cannot do that (EINVAL) a file is moved with link + unlink (a crash in
 * between leaves it under both names) and a folder with check + rename
 * (which can only ever replace an empty folder): see durable.c. */
int wa_durable_move(int fromdirfd, const char *from, int todirfd, const char *to);

/* wa_durable_move without the two folder fsyncs, for moving many files
 * (wa-prune: thousands of sessions would cost two fsyncs each).  Call
 * wa_durable_syncfd on both folders after the last move and before
 * reporting the moves as durable.  Until then a crash leaves each file
 * in one folder or the other (a rename is atomic), never in neither. */
int wa_durable_move_nosync(int fromdirfd, const char *from, int todirfd, const char *to);

/* Exchange two entries atomically, then fsync both directories.
 * WA_ESYS with errno ENOSYS/EINVAL where the system cannot. */
int wa_durable_exchange(int dirfd1, const char *name1, int dirfd2, const char *name2);

/* Rename, replacing nothing, without the atomic-exchange requirement;
 * used only where wa_durable_exchange is unavailable.  Same as move. */
#define wa_durable_rename wa_durable_move

/* Create a folder (mode 0700) and fsync its parent.  WA_EEXIST if present;
 * WA_ESYS (errno kept); WA_ESYNC: created, but the parent's fsync failed
 * (the folder may vanish in a power cut). */
int wa_durable_mkdir(int dirfd, const char *name);

/* wa_durable_mkdir for a path: the parent (the path up to its last '/',
 * or the current folder) is opened and fsynced.  Same errors, and
 * WA_EINVAL for an empty path or one ending in "." or "..", WA_ENOMEM. */
int wa_durable_mkdir_path(const char *path);

/* Remove dirfd/name (a file), without fsyncing dirfd: the caller calls
 * wa_durable_syncfd on dirfd after the last removal, before reporting
 * them as durable.  For what is not data or no longer needed (the outbox's
 * pruned jobs and a writer's crashed temporary files).  WA_ENOTFOUND when
 * there is no such name, WA_EINVAL (an empty name or one with a '/'),
 * WA_ESYS (errno kept). */
int wa_durable_unlink(int dirfd, const char *name);

/* fsync a directory (or any descriptor) with the platform's strongest call. */
int wa_durable_syncfd(int fd);

/* ---- files made durable by the caller (lib/spool) ----------------------
 *
 * wa_durable_create_nosync: exclusive create of name in dirfd (0600, no
 * link followed), write all of buf, no fsync.  With fdout the file stays
 * open for wa_durable_sync_close; without, it is closed (checked).  On
 * any failure the partial file is unlinked: WA_EEXIST, WA_ESYS.  Such a
 * file is not durable until wa_durable_sync_close (one file) or
 * wa_durable_syncfs (the whole filesystem, one barrier for many files)
 * returned 0.
 *
 * wa_durable_sync_close: fsync fd, then close it (checked); always
 * consumes fd.  WA_ESYS (errno kept).
 *
 * wa_durable_syncfs: flush the filesystem that holds fd (syncfs(2)).  It
 * reports writeback errors since fd was opened (Linux 5.8 and later), so
 * pass a descriptor opened before the files were written.  WA_ESYS; errno
 * ENOSYS where the system has no such call (fsync each file instead).
 *
 * wa_durable_append: write all of buf at the end of fd (opened
 * O_APPEND), then fdatasync it.  WA_ESYS when nothing reached the file
 * (the file is as it was); WA_ESYNC when a write stopped part way or the
 * fdatasync failed: the file may end in any prefix of buf, durable or
 * not.  After WA_ESYNC never fsync that descriptor again and trust it
 * (its dirty pages may already be gone: "fsyncgate"): close it, and let a
 * fresh open decide from what the file holds.
 */
int wa_durable_create_nosync(int *fdout, int dirfd, const char *name, const void *buf, size_t len);
int wa_durable_sync_close(int fd);
int wa_durable_syncfs(int fd);
/* Open dirfd/name for appending (O_APPEND, no link followed), creating
 * it (0600, exclusively) when missing: *created then 1, and the caller
 * fsyncs dirfd before relying on the name.  The descriptor, or WA_ESYS. */
int wa_durable_open_append(int dirfd, const char *name, int *created);
int wa_durable_append(int fd, const void *buf, size_t len);

#ifdef WA_TESTING
/*
 * Test builds only (absent from release binaries): counters that tests
 * assert on, and an operation log.  With WA_TEST_OPLOG=FILE in the
 * environment every storage operation is appended to FILE as one line:
 * "<pid> <op> <name>" with op one of tmp write fsync close rename
 * fsyncdir unlink move exchange mkdir create syncfs append fdatasync.
 * WA_TEST_CRASH_AT=N kills the process (SIGKILL, as kill -9) at the N-th
 * logged operation (counted from 1, whether or not WA_TEST_OPLOG is set;
 * most are logged just before the system call they name); when that
 * operation is an append, half of its bytes are written first (a torn
 * record line).  With WA_TEST_CRASHLOG=FILE every
 * storage operation that succeeded is appended to FILE as one JSON line
 * with what a crash-state replay needs (absolute paths, write offsets and
 * data; durable.c lists the operations; tests/crashsim/ replays them).
 * WA_TEST_MOVE_RACE=NAME makes
 * wa_durable_move create an empty folder NAME in the target
 * folder just before it renames onto NAME (another process winning the
 * race).
 */
struct wa_durable_stats {
	unsigned long fsync_file;
	unsigned long fsync_dir;
	unsigned long rename;
};
extern struct wa_durable_stats wa_durable_stats;
/* A marker in the operation log: something left for the network (the
 * receive path: "receipt ID" just before a receipt or ack is sent), so a
 * replay knows which storage operations came before it. */
void wa_durable_mark(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#else
#define wa_durable_mark(...) ((void)0)
#endif

/* ---- group commit (lib/signal's key store) ------------------------------
 *
 * Many files made durable together, with one barrier instead of a full
 * durable write per file:
 *
 *	wa_durable_batch_begin(&b, dirfd, stagefd);
 *	wa_durable_batch_put(b, "session-1.0.json", buf, len);   ... per file
 *	wa_durable_batch_unlink(b, "pre-key-7.json");             ... after the puts
 *	wa_durable_batch_move(b, "session-2.0.json", qfd, "session-2.0.json");
 *	wa_durable_batch_commit(b);      or wa_durable_batch_abort(b)
 *
 * put writes a complete temporary file at once (exclusive, 0600, no link
 * followed).  commit then: fsync every temporary file (the barrier; from
 * 8 files on, one syncfs of their filesystem instead), close them, rename each over its final name, fsync dirfd once; only then the
 * removals (unlinks and moves, in the order given), then one fsync of
 * dirfd and of every folder moved into.  So every new file is durable
 * before anything is removed (a session before the pre-key it consumed).
 *
 * Errors: before the first rename (a write, fsync or close failed) every
 * temporary file is unlinked and nothing visible changed: WA_ESYS.  A
 * rename failing part way leaves some files new and the rest old, each
 * whole: WA_ESYS.  WA_ESYNC when a folder fsync failed after the renames
 * (see wa_durable_commit).  A removal that fails leaves that file in
 * place: WA_ESYS.  commit and abort always consume b.
 */
struct wa_durable_batch;

int wa_durable_batch_begin(struct wa_durable_batch **out, int dirfd, int stagefd);
int wa_durable_batch_put(struct wa_durable_batch *b, const char *name, const void *buf, size_t len);
int wa_durable_batch_unlink(struct wa_durable_batch *b, const char *name);
int wa_durable_batch_move(struct wa_durable_batch *b, const char *name, int todirfd, const char *to);
int wa_durable_batch_commit(struct wa_durable_batch *b);
void wa_durable_batch_abort(struct wa_durable_batch *b);

#endif
