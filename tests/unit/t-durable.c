/*
 * t-durable.c - the durable write (lib/durable.h): round trips, fsync
 * counts, what is left behind on every failure path, temp-name
 * collisions, move/exchange/mkdir.
 *
 * openat, fsync, renameat, renameat2 and linkat are interposed here (the
 * test's definitions win over libc's for the code linked from libwa.a) so
 * that a test can make the temp-file create collide, an fsync fail, a
 * competing process create a move's target just before the system call
 * that moves, or the filesystem refuse RENAME_NOREPLACE; and so that the
 * durable write's contract can be checked from the calls it makes (which
 * folder the temp file is in, what is fsynced before and after the
 * rename).  Unarmed they pass through.
 */
#undef _FORTIFY_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/authdir.h"
#include "store/durable.h"
#include "base/err.h"
#include "base/file.h"
#include "tap.h"

/* --- interposers ---------------------------------------------------- */
static int eexist_left;     /* fail this many temp creates with EEXIST */
static int eexist_seen;
static int fsync_fail_at;   /* fail the N-th fsync from now (1 = next) */
static int fsync_errno;
static int fsync_calls;
static int noreplace_einval; /* renameat2 RENAME_NOREPLACE: EINVAL, as on a filesystem without it */
static int race_fd = -1;     /* a competitor creates race_fd/race_name ... */
static const char *race_name; /* ... right before the next rename or link */

/* The calls the durable write makes, in order, by inode: the contract is
 * checked on this log, not on an exact sequence. */
enum { EV_CREATE, EV_FSYNC, EV_RENAME };
struct ev {
	int op;
	ino_t ino;      /* CREATE: the new file; FSYNC: what was fsynced */
	ino_t dir;      /* CREATE: its folder; RENAME: the source folder */
	ino_t todir;    /* RENAME: the target folder */
	char name[256]; /* CREATE, RENAME: the (source) name */
	char to[256];   /* RENAME: the target name */
};
static struct ev evlog[64];
static int nev, recording;

static ino_t
fd_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static void
record(int op, ino_t ino, ino_t dir, ino_t todir, const char *name, const char *to)
{
	struct ev *e;

	if (!recording || nev >= (int)(sizeof evlog / sizeof evlog[0]))
		return;
	e = &evlog[nev++];
	e->op = op;
	e->ino = ino;
	e->dir = dir;
	e->todir = todir;
	snprintf(e->name, sizeof e->name, "%s", name ? name : "");
	snprintf(e->to, sizeof e->to, "%s", to ? to : "");
}

/* The competitor: creates race_name in race_fd, once. */
static void
race(void)
{
	int fd, saved = errno;

	if (race_fd < 0)
		return;
	fd = (int)syscall(SYS_openat, race_fd, race_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write(fd, "raced", 5) != 5)
			fprintf(stderr, "# race: short write\n");
		close(fd);
	}
	race_fd = -1;
	errno = saved;
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;
	int fd;

	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (eexist_left > 0 && strncmp(path, WA_DURABLE_TMP_PREFIX, strlen(WA_DURABLE_TMP_PREFIX)) == 0) {
		eexist_left--;
		eexist_seen++;
		errno = EEXIST;
		return -1;
	}
	fd = (int)syscall(SYS_openat, dirfd, path, flags, mode);
	if (fd >= 0 && (flags & O_CREAT))
		record(EV_CREATE, fd_ino(fd), fd_ino(dirfd), 0, path, NULL);
	return fd;
}

int
fsync(int fd)
{
	fsync_calls++;
	record(EV_FSYNC, fd_ino(fd), 0, 0, NULL, NULL);
	if (fsync_fail_at > 0 && --fsync_fail_at == 0) {
		errno = fsync_errno;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

int
renameat2(int olddirfd, const char *old, int newdirfd, const char *new, unsigned int flags)
{
	if (noreplace_einval && (flags & RENAME_NOREPLACE)) {
		errno = EINVAL;
		return -1;
	}
	race();
	record(EV_RENAME, 0, fd_ino(olddirfd), fd_ino(newdirfd), old, new);
	return (int)syscall(SYS_renameat2, olddirfd, old, newdirfd, new, flags);
}

int
renameat(int olddirfd, const char *old, int newdirfd, const char *new)
{
	race();
	record(EV_RENAME, 0, fd_ino(olddirfd), fd_ino(newdirfd), old, new);
	return (int)syscall(SYS_renameat2, olddirfd, old, newdirfd, new, 0);
}

int
linkat(int olddirfd, const char *old, int newdirfd, const char *new, int flags)
{
	race();
	return (int)syscall(SYS_linkat, olddirfd, old, newdirfd, new, flags);
}

/* Index of the first event at or after from matching op (and ino when
 * non-zero), or -1. */
static int
find_ev(int from, int op, ino_t ino)
{
	int i;

	for (i = from < 0 ? 0 : from; i < nev; i++)
		if (evlog[i].op == op && (!ino || evlog[i].ino == ino))
			return i;
	return -1;
}

/* --- helpers -------------------------------------------------------- */
static char top[256];

static int
count_entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* The one entry of dir (for the temp file's name), or "". */
static const char *
only_entry(const char *dir)
{
	static char name[256];
	struct dirent *e;
	DIR *d = opendir(dir);

	name[0] = 0;
	if (!d)
		return name;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			snprintf(name, sizeof name, "%s", e->d_name);
	closedir(d);
	return name;
}

static char *
slurp(int dirfd, const char *name)
{
	char *buf;
	size_t len;

	if (wa_file_read(&buf, &len, dirfd, name, NULL, NULL) < 0)
		return NULL;
	return buf;
}

static int
content_is(int dirfd, const char *name, const char *want)
{
	char *got = slurp(dirfd, name);
	int same = got && strcmp(got, want) == 0;

	free(got);
	return same;
}

static void
reset_stats(void)
{
	memset(&wa_durable_stats, 0, sizeof wa_durable_stats);
}

int
main(void)
{
	char stage[300], sub[300], path[400], *big;
	struct wa_durable *w, *w2;
	struct stat st, st2;
	int dfd, sfd, rc, i, e;

	umask(0);
	snprintf(top, sizeof top, "%s/t-durable.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(stage, sizeof stage, "%s/stage", top);
	snprintf(sub, sizeof sub, "%s/sub", top);
	mkdir(stage, 0700);
	mkdir(sub, 0700);
	dfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sfd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	/* put, read back, mode, counters */
	reset_stats();
	rc = wa_durable_put(dfd, "creds.json", sfd, "{\"v\":1}\n", 8);
	is_int(rc, 0, "put creds.json");
	ok(content_is(dfd, "creds.json", "{\"v\":1}\n"), "read back what was put");
	ok(fstatat(dfd, "creds.json", &st, 0) == 0 && (st.st_mode & 07777) == 0600,
	    "mode 0600 under umask 0 (got %o)", st.st_mode & 07777);
	is_int(wa_durable_stats.fsync_file, 1, "one put: one file fsync");
	is_int(wa_durable_stats.fsync_dir, 1, "one put: one folder fsync");
	is_int(wa_durable_stats.rename, 1, "one put: one rename");
	is_int(count_entries(stage), 0, "no temp file left after a put");

	/* the contract, read from the calls made (not their exact sequence):
	 * the temp file is created in the staging folder, fsynced, renamed
	 * over the final name, and the folder is fsynced after the rename */
	nev = 0;
	recording = 1;
	rc = wa_durable_put(dfd, "contract.json", sfd, "{}", 2);
	recording = 0;
	is_int(rc, 0, "put contract.json, its calls recorded");
	{
		ino_t stage_ino = fd_ino(sfd), dir_ino = fd_ino(dfd);
		int c = find_ev(0, EV_CREATE, 0), r, f, d;

		ok(c >= 0 && evlog[c].dir == stage_ino &&
		    strncmp(evlog[c].name, WA_DURABLE_TMP_PREFIX, strlen(WA_DURABLE_TMP_PREFIX)) == 0,
		    "contract: the temp file is created in the staging folder (%s)", c >= 0 ? evlog[c].name : "none");
		r = c >= 0 ? find_ev(c, EV_RENAME, 0) : -1;
		ok(r > c && evlog[r].dir == stage_ino && strcmp(evlog[r].name, evlog[c].name) == 0 &&
		    evlog[r].todir == dir_ino && strcmp(evlog[r].to, "contract.json") == 0,
		    "contract: then renamed from the staging folder over the final name");
		f = c >= 0 ? find_ev(c, EV_FSYNC, evlog[c].ino) : -1;
		ok(f > c && f < r, "contract: the temp file is fsynced before the rename");
		d = r >= 0 ? find_ev(r, EV_FSYNC, dir_ino) : -1;
		ok(r >= 0 && d > r, "contract: the final name's folder is fsynced after the rename");
		ok(r >= 0 && find_ev(r + 1, EV_RENAME, 0) < 0, "contract: one rename");
	}

	/* a replace is a new file: an old hard link keeps the old content */
	snprintf(path, sizeof path, "%s/sub/old-link", top);
	{
		char src[400];
		snprintf(src, sizeof src, "%s/creds.json", top);
		ok(link(src, path) == 0, "hard link to the old creds.json");
	}
	rc = wa_durable_put(dfd, "creds.json", sfd, "{\"v\":2,\"longer\":true}\n", 22);
	is_int(rc, 0, "put a new version");
	ok(content_is(dfd, "creds.json", "{\"v\":2,\"longer\":true}\n"), "the name holds the new version");
	{
		int l = open(sub, O_RDONLY | O_DIRECTORY);
		ok(content_is(l, "old-link", "{\"v\":1}\n"), "the old file was not written in place");
		close(l);
	}
	ok(fstatat(dfd, "creds.json", &st2, 0) == 0 && stat(path, &st) == 0 && st.st_ino != st2.st_ino,
	    "the new version is a new inode");

	/* a big buffer */
	big = malloc(3u << 20);
	for (i = 0; i < (3 << 20) - 1; i++)
		big[i] = (char)('a' + i % 26);
	big[(3 << 20) - 1] = 0;
	is_int(wa_durable_put(dfd, "session-1.0.json", sfd, big, (3u << 20) - 1), 0, "put 3 MB");
	ok(content_is(dfd, "session-1.0.json", big), "3 MB read back");
	free(big);

	/* begin / write / abort */
	rc = wa_durable_begin(&w, dfd, "creds.json", sfd);
	is_int(rc, 0, "begin");
	is_int(count_entries(stage), 1, "begin creates one temp file");
	ok(strncmp(only_entry(stage), WA_DURABLE_TMP_PREFIX "creds.json.", strlen(WA_DURABLE_TMP_PREFIX "creds.json.")) == 0,
	    "its name starts with " WA_DURABLE_TMP_PREFIX "creds.json. (%s)", only_entry(stage));
	ok(fstatat(sfd, only_entry(stage), &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & 07777) == 0600,
	    "the temp file is 0600");
	is_int(wa_durable_write(w, "partial", 7), 0, "write");
	wa_durable_abort(w);
	is_int(count_entries(stage), 0, "abort leaves no temp file");
	ok(content_is(dfd, "creds.json", "{\"v\":2,\"longer\":true}\n"), "abort leaves the old file");
	rc = wa_durable_begin(&w, dfd, "creds.json", sfd);
	wa_durable_abort(w);
	is_int(count_entries(stage), 0, "begin + abort without a write leaves nothing");
	{
		/* in a child: a NULL dereference there is a failed test, not a
		 * crash of the whole file */
		pid_t pid = fork();
		int status = -1;

		if (pid == 0) {
			errno = ERANGE;
			wa_durable_abort(NULL);
			_exit(errno == ERANGE ? 0 : 3);
		}
		ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "abort(NULL) returns, errno untouched (child status %#x)", (unsigned)status);
		is_int(count_entries(stage), 0, "and leaves nothing");
	}

	/* two writers of the same name at once: two distinct temp files */
	ok(wa_durable_begin(&w, dfd, "creds.json", sfd) == 0 && wa_durable_begin(&w2, dfd, "creds.json", sfd) == 0,
	    "two begins of the same name");
	is_int(count_entries(stage), 2, "two distinct temp files (O_EXCL, unique names)");
	wa_durable_write(w, "{\"w\":1}", 7);
	wa_durable_write(w2, "{\"w\":2}", 7);
	is_int(wa_durable_commit(w), 0, "commit the first");
	is_int(wa_durable_commit(w2), 0, "commit the second");
	ok(content_is(dfd, "creds.json", "{\"w\":2}"), "the last commit wins, whole");
	is_int(count_entries(stage), 0, "no temp file left");

	/* bad names */
	is_int(wa_durable_begin(&w, dfd, "a/b", sfd), WA_EINVAL, "a name with '/' is refused");
	ok(w == NULL, "and no handle is returned");
	is_int(wa_durable_put(dfd, "../escape.json", sfd, "x", 1), WA_EINVAL, "'../escape.json' is refused");
	is_int(wa_durable_put(dfd, "", sfd, "x", 1), WA_EINVAL, "an empty name is refused");
	is_int(count_entries(stage), 0, "nothing created for refused names");
	snprintf(path, sizeof path, "%s/../escape.json", top);
	ok(access(path, F_OK) != 0, "nothing outside the folder");

	/* temp-name collisions: EEXIST is retried with a new name */
	eexist_left = 3;
	eexist_seen = 0;
	rc = wa_durable_put(dfd, "creds.json", sfd, "{\"c\":1}", 7);
	is_int(rc, 0, "put succeeds after 3 temp-name collisions");
	is_int(eexist_seen, 3, "the 3 collisions were seen");
	ok(content_is(dfd, "creds.json", "{\"c\":1}"), "with the right content");
	is_int(count_entries(stage), 0, "and no temp file left");
	eexist_left = 1000;
	eexist_seen = 0;
	errno = 0;
	rc = wa_durable_begin(&w, dfd, "creds.json", sfd);
	e = errno;
	eexist_left = 0;
	is_int(rc, WA_ESYS, "begin gives up after repeated collisions");
	is_int(e, EEXIST, "with errno EEXIST");
	ok(eexist_seen >= 2 && eexist_seen <= 64, "after a bounded number of tries (%d)", eexist_seen);
	is_int(count_entries(stage), 0, "nothing created");

	/* fsync of the temp file fails: no rename, old content, no temp */
	reset_stats();
	fsync_calls = 0;
	fsync_fail_at = 1;
	fsync_errno = EIO;
	rc = wa_durable_put(dfd, "creds.json", sfd, "{\"lost\":1}", 10);
	e = errno;
	is_int(rc, WA_ESYS, "file fsync fails: WA_ESYS");
	is_int(e, EIO, "errno EIO kept");
	is_int(fsync_calls, 1, "the failed fsync is not retried");
	is_int(wa_durable_stats.rename, 0, "no rename after a failed fsync");
	ok(content_is(dfd, "creds.json", "{\"c\":1}"), "the old content stays");
	is_int(count_entries(stage), 0, "no temp file left");

	/* fsync of the folder fails: renamed, but WA_ESYNC */
	fsync_calls = 0;
	fsync_fail_at = 2;
	fsync_errno = EIO;
	rc = wa_durable_put(dfd, "creds.json", sfd, "{\"new\":1}", 9);
	is_int(rc, WA_ESYNC, "folder fsync fails: WA_ESYNC");
	ok(content_is(dfd, "creds.json", "{\"new\":1}"), "the new content is in place (renamed)");
	is_int(count_entries(stage), 0, "no temp file left");
	fsync_fail_at = 0;

	/* the rename fails (target is a folder): temp removed */
	ok(mkdirat(dfd, "adir.json", 0700) == 0, "a folder named adir.json");
	rc = wa_durable_put(dfd, "adir.json", sfd, "{}", 2);
	e = errno;
	is_int(rc, WA_ESYS, "put over a folder fails");
	ok(e == EISDIR || e == ENOTEMPTY || e == EEXIST, "with errno from rename (%s)", strerror(e));
	is_int(count_entries(stage), 0, "no temp file left");

	/* no staging area: the folder itself */
	is_int(wa_durable_put(dfd, "pre-key-1.json", dfd, "{\"k\":1}", 7), 0, "put with the folder as staging area");
	ok(content_is(dfd, "pre-key-1.json", "{\"k\":1}"), "read back");

	/* move: never replaces */
	int subfd = open(sub, O_RDONLY | O_DIRECTORY);
	ok(wa_durable_put(subfd, "q.json", subfd, "{\"q\":1}", 7) == 0, "a file to move onto");
	reset_stats();
	is_int(wa_durable_move(dfd, "pre-key-1.json", subfd, "q.json"), WA_EEXIST, "move refuses to replace");
	ok(content_is(dfd, "pre-key-1.json", "{\"k\":1}") && content_is(subfd, "q.json", "{\"q\":1}"),
	    "both files untouched");
	is_int(wa_durable_move(dfd, "pre-key-1.json", subfd, "pre-key-1.json"), 0, "move to a free name");
	ok(faccessat(dfd, "pre-key-1.json", F_OK, AT_SYMLINK_NOFOLLOW) != 0 && content_is(subfd, "pre-key-1.json", "{\"k\":1}"),
	    "moved");
	is_int(wa_durable_stats.fsync_dir, 2, "move fsyncs both folders");
	is_int(wa_durable_move(dfd, "no-such.json", subfd, "x.json"), WA_ESYS, "moving a missing file fails");

	/* a competitor creates the target in the last moment before the
	 * move's system call: the move fails, the competitor's file stays */
	ok(wa_durable_put(dfd, "r.json", dfd, "{\"r\":1}", 7) == 0, "a file to move");
	race_fd = subfd;
	race_name = "r.json";
	rc = wa_durable_move(dfd, "r.json", subfd, "r.json");
	ok(race_fd < 0, "the competitor ran");
	race_fd = -1;
	is_int(rc, WA_EEXIST, "move onto a name created just before its rename: WA_EEXIST");
	ok(content_is(subfd, "r.json", "raced"), "the competitor's file is not replaced");
	ok(content_is(dfd, "r.json", "{\"r\":1}"), "the file to move stays where it was");
	race_fd = subfd;
	race_name = "r2.json";
	rc = wa_durable_move_nosync(dfd, "r.json", subfd, "r2.json");
	race_fd = -1;
	is_int(rc, WA_EEXIST, "move_nosync onto a name created just before its rename: WA_EEXIST");
	ok(content_is(subfd, "r2.json", "raced") && content_is(dfd, "r.json", "{\"r\":1}"),
	    "the competitor's file is not replaced, the other one not moved");

	/* a filesystem without RENAME_NOREPLACE (EINVAL): files move by
	 * link + unlink, folders by check + rename; still never a replace */
	noreplace_einval = 1;
	is_int(wa_durable_move(dfd, "r.json", subfd, "r3.json"), 0, "without RENAME_NOREPLACE: move a file");
	ok(faccessat(dfd, "r.json", F_OK, AT_SYMLINK_NOFOLLOW) != 0 && content_is(subfd, "r3.json", "{\"r\":1}"),
	    "without RENAME_NOREPLACE: moved, no second name left");
	ok(wa_durable_put(dfd, "r.json", dfd, "{\"r\":2}", 7) == 0, "another file to move");
	is_int(wa_durable_move(dfd, "r.json", subfd, "r3.json"), WA_EEXIST,
	    "without RENAME_NOREPLACE: a move onto a file is refused");
	race_fd = subfd;
	race_name = "r4.json";
	rc = wa_durable_move(dfd, "r.json", subfd, "r4.json");
	race_fd = -1;
	is_int(rc, WA_EEXIST, "without RENAME_NOREPLACE: a target created just before the link: WA_EEXIST");
	ok(content_is(subfd, "r3.json", "{\"r\":1}") && content_is(subfd, "r4.json", "raced") &&
	    content_is(dfd, "r.json", "{\"r\":2}"), "without RENAME_NOREPLACE: nothing replaced, nothing moved");
	ok(mkdirat(dfd, "fold", 0700) == 0 && mkdirat(dfd, "fold2", 0700) == 0, "two folders to move");
	is_int(wa_durable_move(dfd, "fold", subfd, "fold"), 0, "without RENAME_NOREPLACE: move a folder");
	ok(faccessat(subfd, "fold", F_OK, AT_SYMLINK_NOFOLLOW) == 0 && faccessat(dfd, "fold", F_OK, AT_SYMLINK_NOFOLLOW) != 0,
	    "without RENAME_NOREPLACE: the folder moved");
	is_int(wa_durable_move(dfd, "fold2", subfd, "fold"), WA_EEXIST,
	    "without RENAME_NOREPLACE: a folder onto a folder is refused");
	race_fd = subfd;
	race_name = "fold3";
	rc = wa_durable_move(dfd, "fold2", subfd, "fold3");
	race_fd = -1;
	ok(rc < 0 && content_is(subfd, "fold3", "raced") && faccessat(dfd, "fold2", F_OK, AT_SYMLINK_NOFOLLOW) == 0,
	    "without RENAME_NOREPLACE: a folder onto a file made in the window fails, the file stays (rc %d)", rc);
	noreplace_einval = 0;

	/* exchange */
	rc = wa_durable_exchange(subfd, "q.json", subfd, "pre-key-1.json");
	if (rc == WA_ESYS && (errno == ENOSYS || errno == EINVAL)) {
		ok(1, "# SKIP exchange unsupported here");
		ok(1, "# SKIP exchange unsupported here");
	} else {
		is_int(rc, 0, "exchange two files");
		ok(content_is(subfd, "q.json", "{\"k\":1}") && content_is(subfd, "pre-key-1.json", "{\"q\":1}"),
		    "their contents swapped");
	}

	/* mkdir */
	reset_stats();
	is_int(wa_durable_mkdir(dfd, "newdir"), 0, "mkdir");
	ok(fstatat(dfd, "newdir", &st, 0) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700,
	    "a folder, 0700 under umask 0");
	is_int(wa_durable_stats.fsync_dir, 1, "its parent fsynced");
	is_int(wa_durable_mkdir(dfd, "newdir"), WA_EEXIST, "mkdir of an existing folder: WA_EEXIST");

	/* syncfd */
	reset_stats();
	is_int(wa_durable_syncfd(dfd), 0, "syncfd");
	is_int(wa_durable_stats.fsync_dir, 1, "counted");

	/* wa_durable_create: exclusive, one file fsync, no rename, no dir fsync */
	reset_stats();
	is_int(wa_durable_create(dfd, "created.json", "{\"c\":1}", 7), 0, "create a file in a private folder");
	is_int(wa_durable_stats.fsync_file, 1, "create: one file fsync");
	is_int(wa_durable_stats.fsync_dir, 0, "create: no folder fsync (the caller does it once)");
	is_int(wa_durable_stats.rename, 0, "create: no rename");
	ok(content_is(dfd, "created.json", "{\"c\":1}"), "created content");
	{
		struct stat cst;
		ok(fstatat(dfd, "created.json", &cst, 0) == 0 && (cst.st_mode & 0777) == 0600, "created file is 0600");
	}
	is_int(wa_durable_create(dfd, "created.json", "x", 1), WA_EEXIST, "create never replaces");
	ok(content_is(dfd, "created.json", "{\"c\":1}"), "the existing file is untouched");
	is_int(wa_durable_create(dfd, "a/b", "x", 1), WA_EINVAL, "create refuses a path");

	/* creating the auth folder itself: 0700, its parent fsynced, and a
	 * failure of that fsync reported with the folder's name */
	{
		struct wa_authdir *ad;
		struct wa_why why;
		char adir[300];

		snprintf(adir, sizeof adir, "%s/auth-new", top);
		nev = 0;
		recording = 1;
		rc = wa_authdir_open(&ad, adir, WA_AUTHDIR_WRITE | WA_AUTHDIR_CREATE, "t-durable", NULL, NULL);
		recording = 0;
		is_int(rc, 0, "authdir: create a new auth folder");
		ok(stat(adir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700, "authdir: it is 0700");
		ok(find_ev(0, EV_FSYNC, fd_ino(dfd)) >= 0, "authdir: its parent folder was fsynced");
		wa_authdir_close(ad);

		snprintf(adir, sizeof adir, "%s/auth-eio/", top);
		memset(&why, 0, sizeof why);
		fsync_fail_at = 1;
		fsync_errno = EIO;
		rc = wa_authdir_open(&ad, adir, WA_AUTHDIR_WRITE | WA_AUTHDIR_CREATE, "t-durable", NULL, &why);
		fsync_fail_at = 0;
		ok(rc < 0 && ad == NULL, "authdir: a failed fsync of the parent is an error (rc %d)", rc);
		ok(strstr(why.text, "auth-eio") && strstr(why.text, strerror(EIO)), "authdir: why names the folder and the reason (%s)", why.text);

		is_int(wa_durable_mkdir_path(""), WA_EINVAL, "mkdir_path: an empty path is refused");
		snprintf(adir, sizeof adir, "%s/..", top);
		is_int(wa_durable_mkdir_path(adir), WA_EINVAL, "mkdir_path: a path ending in .. is refused");
		snprintf(adir, sizeof adir, "%s/mp//", top);
		reset_stats();
		is_int(wa_durable_mkdir_path(adir), 0, "mkdir_path: trailing slashes");
		is_int(wa_durable_stats.fsync_dir, 1, "mkdir_path: one folder fsync");
		is_int(wa_durable_mkdir_path(adir), WA_EEXIST, "mkdir_path: WA_EEXIST when present");
	}

	/* wa_authdir_put: bare safe names only, write mode only */
	{
		struct wa_authdir *ad;
		char adir[300];
		snprintf(adir, sizeof adir, "%s/auth", top);
		ok(wa_authdir_open(&ad, adir, WA_AUTHDIR_WRITE | WA_AUTHDIR_CREATE, "t-durable", NULL, NULL) == 0,
		    "open an auth folder for writing");
		is_int(wa_authdir_put(ad, "..", "x", 1), WA_EINVAL, "authdir put refuses '..'");
		is_int(wa_authdir_put(ad, "a/b.json", "x", 1), WA_EINVAL, "authdir put refuses 'a/b.json'");
		is_int(wa_authdir_put(ad, "bad\nname.json", "x", 1), WA_EINVAL, "authdir put refuses a control character");
		is_int(wa_authdir_put(ad, "creds.json", "{}", 2), 0, "authdir put creds.json");
		wa_authdir_close(ad);
		ok(wa_authdir_open(&ad, adir, 0, "t-durable", NULL, NULL) == 0, "open it read-only");
		is_int(wa_authdir_put(ad, "creds.json", "{\"ro\":1}", 8), WA_EINVAL, "a read-only handle cannot put");
		wa_authdir_close(ad);
	}

	close(subfd);
	close(sfd);
	close(dfd);
	snprintf(path, sizeof path, "rm -rf '%s'", top);
	if (system(path) != 0)
		fprintf(stderr, "could not remove %s\n", top);
	done_testing();
	return exit_status();
}
