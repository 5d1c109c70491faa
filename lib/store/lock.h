/*
 * lock.h - one writer per auth folder.
 *
 * A writer opens <folder>/.wa/lock (created 0600, O_NOFOLLOW, never
 * renamed: the lock lives on that inode), takes flock(LOCK_EX|LOCK_NB) and
 * writes "pid=<pid> start=<unix time> pstart=<process start> prog=<name>"
 * into it (a fixed-size record, overwritten in place).  The kernel drops
 * the flock when the process dies, however it dies; an orderly release
 * writes "pid=0".  So a lock file with content
 * whose pid is gone is a stale lock: harmless, but a sign of a crash.
 *
 * The lock file is the one file under the folder that is not written by
 * the durable write: it is not data, and renaming it would break the lock.
 *
 * Readers (wa-check, wa-backup) never take the lock and never block; they
 * may read the holder information with wa_lock_inspect.
 */
#ifndef WA_LOCK_H
#define WA_LOCK_H

#include <sys/types.h>
#include <time.h>

struct wa_lock;

struct wa_lock_holder {
	pid_t pid;              /* 0 when the file is empty or absent */
	time_t since;
	unsigned long long pstart;
	char prog[64];
	int alive;              /* 1 the pid runs (and started when recorded), 0 dead */
	int held;               /* the flock is held right now: 1 yes, 0 no, -1 cannot tell */
	int foreign;            /* held by a process that wrote no record (not a wa tool,
	                         * e.g. flock(1)): pid and prog are from the kernel's lock
	                         * table (0 and "" when it does not say), since is 0 */
};

/* Take the lock in the folder wafd (the .wa sub-folder).  WA_ELOCKED with
 * *holder filled (may be NULL) when another process holds it.  WA_ESYS,
 * WA_EUNSAFE (the lock file is a symlink or not a regular file). */
int wa_lock_acquire(struct wa_lock **out, int wafd, const char *prog, struct wa_lock_holder *holder);

/* Release (empty the file, drop the flock) and free.  NULL-safe. */
void wa_lock_release(struct wa_lock *lock);

/* Read the holder information without locking.  0 with holder->pid 0 when
 * nobody holds it or the last holder released it; WA_ENOTFOUND when there is no lock file.
 * Whether the flock is held is asked of the kernel's lock table (Linux
 * /proc/locks; held -1 where there is none), never by trying to take it:
 * so a lock taken by a process that writes no record (flock(1) from a
 * shell) is seen as held, foreign, with its pid. */
int wa_lock_inspect(int wafd, struct wa_lock_holder *holder);

#endif
