/*
 * compat.h - everything that differs between Linux and macOS lives here.
 * No #ifdef for the platform anywhere else in the tree.
 */
#ifndef WA_COMPAT_H
#define WA_COMPAT_H

#include <sys/types.h>

/* Flush a file or directory to stable storage: F_FULLFSYNC on macOS (plain
 * fsync there does not reach the platter), fsync elsewhere.  -1/errno. */
int wa_compat_fsync(int fd);

/* fsync without the metadata a later read does not need (the file size
 * is kept): fdatasync on Linux, wa_compat_fsync elsewhere.  -1/errno. */
int wa_compat_fdatasync(int fd);

/* Flush the whole filesystem holding fd (syncfs(2)) and report a
 * writeback error on it since fd was opened.  -1 with errno ENOSYS where
 * the system has no such call: fsync each file instead. */
int wa_compat_syncfs(int fd);

/* Atomically exchange two directory entries (renameat2 RENAME_EXCHANGE).
 * -1 with errno ENOSYS or EINVAL where the system or filesystem cannot. */
int wa_compat_exchange(int olddirfd, const char *oldname, int newdirfd, const char *newname);

/* Rename, failing with EEXIST instead of replacing an existing newname,
 * atomically (renameat2 RENAME_NOREPLACE).  -1/errno; EINVAL or ENOSYS
 * where the system or the filesystem cannot (wa_durable_move falls back;
 * see durable.c). */
int wa_compat_rename_noreplace(int olddirfd, const char *oldname, int newdirfd, const char *newname);

/* Start time of a process in an opaque monotonic unit (clock ticks since
 * boot on Linux), to tell a live lock holder from a recycled pid.
 * 0 and *out set, or -1 (unknown on this system, or no such process). */
int wa_compat_proc_start(pid_t pid, unsigned long long *out);

/* Whether a flock(2) lock is held on the file fd right now, asked of the
 * kernel's lock table (Linux /proc/locks), never by trying to take it:
 * 1 with *pid the holder (0 when the table does not say), 0 nobody,
 * -1 cannot tell on this system. */
int wa_compat_flock_holder(int fd, pid_t *pid);

/* The name of a running process (Linux /proc/PID/comm; bytes outside
 * printable ASCII as '?'), or "" when unknown. */
void wa_compat_proc_name(pid_t pid, char *out, size_t n);

/* Fill buf with len cryptographically random bytes.  0 or -1/errno. */
int wa_compat_random(void *buf, size_t len);

/* A descriptor (non-blocking, close-on-exec) that becomes readable when
 * an entry is created in or moved into the folder path (Linux inotify,
 * IN_CREATE | IN_MOVED_TO; the path itself is not followed when it is a
 * symlink).  -1/errno; ENOSYS where the system has no such facility (the
 * caller polls instead). */
int wa_compat_watch_dir(const char *path);

/* Read every pending event of a wa_compat_watch_dir descriptor: their
 * number (0 when none), or -1/errno. */
int wa_compat_watch_drain(int fd);

/* wa_compat_watch_drain that also hands each event's entry name to
 * fn(arg, name) (fn's negative return stops the reading and is
 * returned).  *lost is set to 1 when the kernel's queue overflowed
 * (events, and so names, were lost: read the folder instead), else 0.
 * The number of events, or -1/errno. */
int wa_compat_watch_names(int fd, int (*fn)(void *arg, const char *name), void *arg, int *lost);
/* (fn may be NULL: the events are only counted, as wa_compat_watch_drain does.) */

#endif
