/*
 * t-spool.c - the inbox spool (lib/spool/spool.h): layout and modes,
 * add/commit/abort, the record (torn and bad lines, old files), names in
 * commit order, the backlog, symlink refusals, allocation failures, the
 * fsync count of a commit, and EIO/ENOSPC at each step of a commit.
 *
 * write, fsync, fdatasync, syncfs and renameat2 are interposed (the
 * test's definitions win over libc's for the code linked from libwa.a):
 * armed, the N-th call from now fails with the given errno (write: only
 * on descriptors other than 0-2; a "short" write writes half first).
 * Unarmed they pass through and count.
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
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "spool/spool.h"
#include "tap.h"

/* --- interposers ---------------------------------------------------- */
enum { C_WRITE, C_FSYNC, C_FDATASYNC, C_SYNCFS, C_RENAME, C_N };
static int fail_call = -1, fail_at, fail_errno, fail_short;
static int calls[C_N];

static void arm(int c, int at, int err, int shrt);

static int
armed(int c)
{
	calls[c]++;
	if (fail_call == c && fail_at > 0 && --fail_at == 0) {
		fail_call = -1;
		return 1;
	}
	return 0;
}

static void
arm(int c, int at, int err, int shrt)
{
	fail_call = c;
	fail_at = at;
	fail_errno = err;
	fail_short = shrt;
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	if (fd > 2 && armed(C_WRITE)) {
		if (fail_short && n > 1) {
			/* half now, and the next call fails */
			arm(C_WRITE, 1, fail_errno, 0);
			return (ssize_t)syscall(SYS_write, fd, buf, n / 2);
		}
		errno = fail_errno;
		return -1;
	}
	return (ssize_t)syscall(SYS_write, fd, buf, n);
}

int
fsync(int fd)
{
	if (armed(C_FSYNC)) {
		errno = fail_errno;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

int
fdatasync(int fd)
{
	if (armed(C_FDATASYNC)) {
		errno = fail_errno;
		return -1;
	}
	return (int)syscall(SYS_fdatasync, fd);
}

int
syncfs(int fd)
{
	if (armed(C_SYNCFS)) {
		errno = fail_errno;
		return -1;
	}
	return (int)syscall(SYS_syncfs, fd);
}

int
renameat2(int olddirfd, const char *old, int newdirfd, const char *new, unsigned int flags)
{
	if (armed(C_RENAME)) {
		errno = fail_errno;
		return -1;
	}
	return (int)syscall(SYS_renameat2, olddirfd, old, newdirfd, new, flags);
}

/* --- helpers ---------------------------------------------------------- */
static char top[64];

static const char * __attribute__((format(printf, 1, 2)))
path(const char *fmt, ...)
{
	static char buf[4][512];
	static int i;
	char *b = buf[i++ % 4];
	char rel[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	snprintf(b, 512, "%s/%s", top, rel);
	return b;
}

static int
count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* the names in dir, sorted, newline-separated */
static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
names(const char *dir, char *out, size_t n)
{
	char *v[256];
	int k = 0, i;
	DIR *d = opendir(dir);
	struct dirent *e;

	out[0] = 0;
	if (!d)
		return;
	while ((e = readdir(d)) && k < 256)
		if (e->d_name[0] != '.')
			v[k++] = strdup(e->d_name);
	closedir(d);
	qsort(v, (size_t)k, sizeof *v, cmp);
	for (i = 0; i < k; i++) {
		strncat(out, v[i], n - strlen(out) - 2);
		strcat(out, "\n");
		free(v[i]);
	}
}

static char *
slurp(const char *p)
{
	static char buf[65536];
	int fd = open(p, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void
put(const char *p, const char *s)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || (size_t)write(fd, s, strlen(s)) != strlen(s))
		printf("# cannot write %s\n", p);
	if (fd >= 0)
		close(fd);
}

static void
today(char out[16], int days_ago)
{
	time_t t = time(NULL) - (time_t)days_ago * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

static mode_t
mode_of(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0 ? st.st_mode & 07777 : 0;
}

static void
fresh(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s/in'", top);
	if (system(cmd) != 0)
		printf("# rm failed\n");
}

static int
opensp(struct wa_spool **sp, struct wa_why *why)
{
	return wa_spool_open(sp, path("in"), 14, why);
}

/* --- tests ------------------------------------------------------------ */

static void like_why(const struct wa_why *why);

static void
test_layout(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_spool *sp, *sp2;
	mode_t old = umask(0);

	fresh();
	is_int(opensp(&sp, &why), 0, "open makes a new spool");
	umask(old);
	is_int(mode_of(path("in")), 0700, "DIR is 0700 (umask 0)");
	is_int(mode_of(path("in/tmp")), 0700, "DIR/tmp 0700");
	is_int(mode_of(path("in/new")), 0700, "DIR/new 0700");
	is_int(mode_of(path("in/cur")), 0700, "DIR/cur 0700");
	is_int(mode_of(path("in/.wa")), 0700, "DIR/.wa 0700");
	is_int(mode_of(path("in/.wa/seen")), 0700, "DIR/.wa/seen 0700");
	is_str(wa_spool_dir(sp), path("in"), "wa_spool_dir");
	is_int(wa_spool_open(&sp2, path("in"), 14, &why), WA_ELOCKED, "a second open is refused while the first holds it");
	like_why(&why);
	wa_spool_free(sp);
	chmod(path("in/new"), 0755);
	is_int(opensp(&sp, &why), 0, "reopen");
	is_int(mode_of(path("in/new")), 0700, "a folder with group/other bits is made 0700 again");
	wa_spool_free(sp);
}

static void
like_why(const struct wa_why *why)
{
	ok(strstr(why->text, "in use") != NULL, "why says it is in use: %s", why->text);
}

static void
test_commit(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_spool *sp;
	char n1[WA_SPOOL_NAME_MAX], n2[WA_SPOOL_NAME_MAX], n3[WA_SPOOL_NAME_MAX], day[16], want[1024];
	char list[4096];
	int f[C_N];

	fresh();
	today(day, 0);
	is_int(opensp(&sp, &why), 0, "open");
	is_int(wa_spool_add(sp, "chat1 x", "a", 1, n1), WA_EINVAL, "a key with a space is refused");
	is_int(wa_spool_add(sp, "chat1\nx", "a", 1, n1), WA_EINVAL, "a key with a newline is refused");
	is_int(wa_spool_add(sp, "", "a", 1, n1), WA_EINVAL, "an empty key is refused");
	{
		char big[WA_SPOOL_KEY_MAX + 2];
		memset(big, 'k', sizeof big - 1);
		big[sizeof big - 1] = 0;
		is_int(wa_spool_add(sp, big, "a", 1, n1), WA_EINVAL, "a key of 513 bytes is refused");
		big[WA_SPOOL_KEY_MAX] = 0;
		is_int(wa_spool_add(sp, big, "a", 1, n1), 0, "a key of 512 bytes is taken");
		wa_spool_abort(sp);
	}
	is_int(wa_spool_add(sp, "k1", "one", 3, n1), 0, "add k1");
	is_int(wa_spool_add(sp, "k2", "two", 3, n2), 0, "add k2");
	is_int(wa_spool_add(sp, "k1", "again", 5, n3), WA_EEXIST, "the same key twice in a batch: WA_EEXIST");
	is_int(wa_spool_add(sp, "k3", "three", 5, n3), 0, "add k3");
	is_int((long long)wa_spool_pending(sp), 3, "three pending");
	ok(strcmp(n1, n2) < 0 && strcmp(n2, n3) < 0, "names increase in add order: %s %s %s", n1, n2, n3);
	is_int(mode_of(path("in/tmp/%s", n1)), 0600, "the temp is 0600");
	is_int(wa_spool_seen(sp, "k1"), 0, "not seen before the commit");
	is_int(count(path("in/new")), 0, "nothing in new/ before the commit");
	memcpy(f, calls, sizeof f);
	is_int(wa_spool_commit(sp, &why), 0, "commit");
	is_int(calls[C_FSYNC] - f[C_FSYNC], 3 + 1 + 1, "commit of 3 (new record file): 3 file fsyncs, seen/ and new/");
	is_int(calls[C_FDATASYNC] - f[C_FDATASYNC], 1, "one fdatasync of the record");
	is_int(calls[C_SYNCFS] - f[C_SYNCFS], 0, "no syncfs below the threshold");
	is_int(wa_spool_seen(sp, "k1") + wa_spool_seen(sp, "k2") + wa_spool_seen(sp, "k3"), 3, "all seen after it");
	is_int((long long)wa_spool_pending(sp), 0, "none pending");
	is_str(slurp(path("in/new/%s", n2)), "two", "the file in new/ holds the content");
	is_int(mode_of(path("in/new/%s", n2)), 0600, "and is 0600");
	is_int(count(path("in/tmp")), 0, "tmp/ is empty");
	snprintf(want, sizeof want, "%s k1\n%s k2\n%s k3\n", n1, n2, n3);
	is_str(slurp(path("in/.wa/seen/%s.log", day)), want, "the record: one line per file, in commit order");
	is_int(wa_spool_add(sp, "k2", "x", 1, NULL), WA_EEXIST, "adding a seen key: WA_EEXIST");

	/* abort */
	is_int(wa_spool_add(sp, "k4", "four", 4, n1), 0, "add k4");
	wa_spool_abort(sp);
	is_int(count(path("in/tmp")), 0, "abort: its temp is gone");
	is_int(wa_spool_seen(sp, "k4"), 0, "abort: not seen");
	is_int((long long)wa_spool_pending(sp), 0, "abort: none pending");
	is_int(wa_spool_commit(sp, &why), 0, "an empty commit is fine");
	is_str(slurp(path("in/.wa/seen/%s.log", day)), want, "abort: the record is unchanged");
	is_int(wa_spool_add(sp, "k4", "four", 4, n1), 0, "an aborted key can be added again");

	/* the syncfs barrier for a batch */
	{
		int i;
		char k[16];
		for (i = 5; i < 14; i++) {
			snprintf(k, sizeof k, "k%d", i);
			wa_spool_add(sp, k, k, strlen(k), NULL);
		}
	}
	memcpy(f, calls, sizeof f);
	is_int(wa_spool_commit(sp, &why), 0, "commit of 10");
	is_int(calls[C_SYNCFS] - f[C_SYNCFS], 1, "a batch of 10: one syncfs");
	is_int(calls[C_FSYNC] - f[C_FSYNC], 1, "and one fsync (new/)");
	is_int(count(path("in/new")), 13, "13 files in new/");
	wa_spool_free(sp);

	/* names across a reopen */
	names(path("in/new"), list, sizeof list);
	is_int(opensp(&sp, &why), 0, "reopen");
	is_int(wa_spool_seen(sp, "k13") + wa_spool_seen(sp, "k1"), 2, "reopen: the record is loaded");
	is_int(wa_spool_add(sp, "k20", "x", 1, n3), 0, "add after reopen");
	{
		char *last = strrchr(list, '\n');
		*last = 0;
		last = strrchr(list, '\n');
		ok(strcmp(n3, last ? last + 1 : list) > 0, "a name after a reopen sorts after every earlier one: %s", n3);
	}
	wa_spool_abort(sp);
	wa_spool_free(sp);
}

static void
test_record(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_spool *sp;
	char day[16], old[16], recent[16], file[64], n1[WA_SPOOL_NAME_MAX], want[512];

	fresh();
	today(day, 0);
	today(recent, 3);
	today(old, 20);
	is_int(opensp(&sp, &why), 0, "open");
	wa_spool_free(sp);

	/* a torn last line in today's record, a record from 3 and from 20 days ago */
	snprintf(file, sizeof file, "in/.wa/seen/%s.log", day);
	put(path("%s", file), "1700000000.000001_1.h t1\n1700000000.000002_1.h t2\n1700000000.0000");
	put(path("in/.wa/seen/%s.log", recent), "1700000000.000000_1.h r1\n");
	put(path("in/.wa/seen/%s.log", old), "1600000000.000000_1.h o1\n");
	put(path("in/.wa/seen/%s", "notes.txt"), "not a record\n");
	is_int(opensp(&sp, &why), 0, "open with a torn line");
	is_int(wa_spool_seen(sp, "t1") + wa_spool_seen(sp, "t2"), 2, "the complete lines are loaded");
	is_int(wa_spool_seen(sp, "r1"), 1, "a record of 3 days ago is loaded (keep 14)");
	is_int(wa_spool_seen(sp, "o1"), 0, "a record of 20 days ago is not");
	ok(access(path("in/.wa/seen/%s.log", old), F_OK) < 0, "and is removed");
	ok(access(path("in/.wa/seen/%s.log", recent), F_OK) == 0, "the recent one is kept");
	ok(access(path("in/.wa/seen/%s", "notes.txt"), F_OK) == 0, "another name in seen/ is left alone");
	is_str(slurp(path("%s", file)), "1700000000.000001_1.h t1\n1700000000.000002_1.h t2\n",
	    "open replaced today's record by its complete lines");
	is_int(wa_spool_add(sp, "t3", "x", 1, n1), 0, "add");
	is_int(wa_spool_commit(sp, &why), 0, "commit");
	snprintf(want, sizeof want, "1700000000.000001_1.h t1\n1700000000.000002_1.h t2\n%s t3\n", n1);
	is_str(slurp(path("%s", file)), want, "the next append starts on a fresh line");
	ok(strncmp(n1, "1700000000.000003_", 18) >= 0, "the counter continues from the newest name recorded: %s", n1);
	wa_spool_free(sp);
	if (!ok(opensp(&sp, &why) == 0, "reopen after the repair: no corrupt line (%s)", why.text))
		return;
	is_int(wa_spool_seen(sp, "t3"), 1, "t3 seen");
	wa_spool_free(sp);

	/* a torn line in an older record is ignored, the file left */
	put(path("in/.wa/seen/%s.log", recent), "1700000000.000000_1.h r1\n1700000000.00");
	is_int(opensp(&sp, &why), 0, "a torn line in an older record");
	is_str(slurp(path("in/.wa/seen/%s.log", recent)), "1700000000.000000_1.h r1\n1700000000.00", "that file is left as it is");
	wa_spool_free(sp);

	/* names from the future: the seconds never go back */
	put(path("in/.wa/seen/%s.log", recent), "4000000000.999999_1.h f1\n");
	is_int(opensp(&sp, &why), 0, "a record with a name from the future");
	is_int(wa_spool_add(sp, "f2", "x", 1, n1), 0, "add");
	ok(strncmp(n1, "4000000001.000000_", 18) == 0, "the next name follows it: %s", n1);
	wa_spool_abort(sp);
	wa_spool_free(sp);

	/* a bad line */
	put(path("in/.wa/seen/%s.log", recent), "1700000000.000000_1.h r1\nnot a record line\n");
	is_int(opensp(&sp, &why), WA_ECORRUPT, "a bad record line: WA_ECORRUPT");
	snprintf(want, sizeof want, "%s.log' line 2", recent);
	ok(strstr(why.text, want) != NULL, "why names the file and the line: %s", why.text);
	put(path("in/.wa/seen/%s.log", recent), "1700000000.000000_1.h r1 extra\n");
	is_int(opensp(&sp, &why), WA_ECORRUPT, "a key with a space in the record: WA_ECORRUPT");
	put(path("in/.wa/seen/%s.log", recent), "\n");
	is_int(opensp(&sp, &why), WA_ECORRUPT, "an empty line: WA_ECORRUPT");
	unlink(path("in/.wa/seen/%s.log", recent));
}

static void
test_recovery(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_spool *sp;
	char day[16];

	fresh();
	today(day, 0);
	is_int(opensp(&sp, &why), 0, "open");
	wa_spool_free(sp);
	put(path("in/tmp/%s", "1700000000.000001_9.h"), "recorded");
	put(path("in/tmp/%s", "1700000000.000002_9.h"), "not recorded");
	put(path("in/tmp/%s", "mutt-file"), "someone else's");
	put(path("in/.wa/seen/%s.log", day), "1700000000.000001_9.h r1\n");
	is_int(opensp(&sp, &why), 0, "open after a crash");
	is_str(slurp(path("in/new/%s", "1700000000.000001_9.h")), "recorded", "a recorded temp is moved on to new/");
	ok(access(path("in/tmp/%s", "1700000000.000002_9.h"), F_OK) < 0, "an unrecorded temp is removed");
	ok(access(path("in/new/%s", "1700000000.000002_9.h"), F_OK) < 0, "and not in new/");
	ok(access(path("in/tmp/%s", "mutt-file"), F_OK) == 0, "a name that is not ours is left alone");
	is_int(wa_spool_seen(sp, "r1"), 1, "r1 seen");
	wa_spool_free(sp);
}

static void
test_backlog(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_spool *sp;
	struct timespec ts[2] = { { 1000000, 0 }, { 1000000, 0 } };
	char n1[WA_SPOOL_NAME_MAX], n2[WA_SPOOL_NAME_MAX];
	size_t c = 99;
	time_t oldest = 99;

	fresh();
	is_int(wa_spool_backlog(path("in"), &c, &oldest, &why), WA_ENOTFOUND, "backlog of a missing spool: WA_ENOTFOUND");
	is_int(opensp(&sp, &why), 0, "open");
	is_int(wa_spool_backlog(path("in"), &c, &oldest, &why), 0, "backlog of an empty spool");
	is_int((long long)c, 0, "count 0");
	is_int((long long)oldest, 0, "oldest 0");
	wa_spool_add(sp, "b1", "x", 1, n1);
	wa_spool_add(sp, "b2", "y", 1, n2);
	is_int(wa_spool_commit(sp, &why), 0, "commit two");
	utimensat(AT_FDCWD, path("in/new/%s", n2), ts, 0);
	is_int(wa_spool_backlog(path("in"), &c, &oldest, &why), 0, "backlog");
	is_int((long long)c, 2, "count 2");
	is_int((long long)oldest, 1000000, "oldest is the oldest mtime");
	rename(path("in/new/%s", n2), path("in/cur/%s", n2));
	is_int(wa_spool_backlog(path("in"), &c, &oldest, &why), 0, "after the consumer took one");
	is_int((long long)c, 1, "count 1");
	ok(oldest > 1000000, "oldest is the other one");
	wa_spool_free(sp);
}

static void
test_symlinks(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_spool *sp;
	char day[16];
	size_t c;
	time_t o;

	fresh();
	today(day, 0);
	mkdir(path("real"), 0700);
	if (symlink(path("real"), path("in")) < 0)
		printf("# symlink failed\n");
	is_int(opensp(&sp, &why), WA_EUNSAFE, "DIR a symlink: WA_EUNSAFE");
	ok(strstr(why.text, "symbolic link") != NULL, "why says so: %s", why.text);
	is_int(count(path("real")), 0, "its target is untouched");
	is_int(wa_spool_backlog(path("in"), &c, &o, &why), WA_EUNSAFE, "backlog: DIR a symlink is refused");
	unlink(path("in"));
	rmdir(path("real"));

	is_int(opensp(&sp, &why), 0, "open");
	wa_spool_free(sp);
	rmdir(path("in/new"));
	mkdir(path("elsewhere"), 0700);
	if (symlink(path("elsewhere"), path("in/new")) < 0)
		printf("# symlink failed\n");
	is_int(opensp(&sp, &why), WA_EUNSAFE, "DIR/new a symlink: WA_EUNSAFE");
	ok(strstr(why.text, "in/new") != NULL, "why names it: %s", why.text);
	is_int(wa_spool_backlog(path("in"), &c, &o, &why), WA_EUNSAFE, "backlog: DIR/new a symlink is refused");
	unlink(path("in/new"));
	mkdir(path("in/new"), 0700);

	rmdir(path("in/.wa/seen"));
	if (symlink(path("elsewhere"), path("in/.wa/seen")) < 0)
		printf("# symlink failed\n");
	is_int(opensp(&sp, &why), WA_EUNSAFE, "DIR/.wa/seen a symlink: WA_EUNSAFE");
	unlink(path("in/.wa/seen"));
	mkdir(path("in/.wa/seen"), 0700);

	put(path("elsewhere/%s", "x.log"), "1700000000.000001_1.h e1\n");
	if (symlink(path("elsewhere/x.log"), path("in/.wa/seen/%s.log", day)) < 0)
		printf("# symlink failed\n");
	is_int(opensp(&sp, &why), WA_EUNSAFE, "a record file that is a symlink: WA_EUNSAFE");
	unlink(path("in/.wa/seen/%s.log", day));
	unlink(path("elsewhere/%s", "x.log"));
	rmdir(path("elsewhere"));
}

#ifdef WA_TESTING
static void
test_alloc(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_spool *sp;
	char day[16];
	int n, rc, failed = 0;

	fresh();
	today(day, 0);
	is_int(opensp(&sp, &why), 0, "open");
	wa_spool_free(sp);
	put(path("in/tmp/%s", "1700000000.000001_9.h"), "recorded");
	put(path("in/.wa/seen/%s.log", day), "1700000000.000001_9.h r1\n1700000000.000002_9.h r2\n");
	for (n = 1; n < 50; n++) {
		wa_test_alloc_fail_at = n;
		rc = opensp(&sp, &why);
		wa_test_alloc_fail_at = 0;
		if (rc == 0)
			break;
		if (rc != WA_ENOMEM)
			break;
		failed++;
	}
	is_int(rc, 0, "open succeeds once no allocation fails");
	ok(failed >= 4, "open fails cleanly (WA_ENOMEM) at each of its %d allocations", failed);
	is_int(wa_spool_seen(sp, "r1"), 1, "and loads the record");
	for (n = 1, failed = 0; n < 50; n++) {
		char k[16];
		snprintf(k, sizeof k, "a%d", n);
		wa_test_alloc_fail_at = 1;
		rc = wa_spool_add(sp, k, "x", 1, NULL);
		wa_test_alloc_fail_at = 0;
		if (rc == WA_ENOMEM) {
			failed++;
			if (wa_spool_seen(sp, k) || (rc = wa_spool_add(sp, k, "x", 1, NULL)) != 0)
				break;
		} else if (rc != 0) {
			break;
		}
	}
	ok(failed >= 2 && rc == 0 && wa_spool_pending(sp) == 49,
	    "add fails cleanly when an allocation fails (%d times), then the same key adds", failed);
	wa_test_alloc_fail_at = 1;
	rc = wa_spool_commit(sp, &why);
	wa_test_alloc_fail_at = 0;
	is_int(rc, WA_ENOMEM, "commit: WA_ENOMEM");
	is_int(count(path("in/tmp")), 0, "the batch is dropped");
	is_int(wa_spool_seen(sp, "a3"), 0, "nothing seen");
	is_int(wa_spool_add(sp, "a3", "x", 1, NULL), 0, "and can be added again");
	is_int(wa_spool_commit(sp, &why), 0, "then commits");
	wa_spool_free(sp);
}
#else
static void
test_alloc(void)
{
	ok(1, "# SKIP allocation failures need the test build (WA_TESTING)");
}
#endif

/* fault CALL AT ERR SHORT NFILES: one commit with the N-th CALL failing */
static void
fault(const char *what, int call, int at, int err, int shrt, int nfiles, int want)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_spool *sp;
	char k[32], rec[16], before[65536];
	int i, rc, innew;

	fresh();
	today(rec, 0);
	if (opensp(&sp, &why) < 0) {
		ok(0, "%s: open", what);
		return;
	}
	wa_spool_add(sp, "old", "x", 1, NULL);
	wa_spool_commit(sp, &why);
	snprintf(before, sizeof before, "%s", slurp(path("in/.wa/seen/%s.log", rec)));
	for (i = 0; i < nfiles; i++) {
		snprintf(k, sizeof k, "f%d", i);
		wa_spool_add(sp, k, "content", 7, NULL);
	}
	arm(call, at, err, shrt);
	rc = wa_spool_commit(sp, &why);
	fail_call = -1;
	innew = count(path("in/new"));
	is_int(rc, want, "%s: commit returns %s", what, want == WA_ESYNC ? "WA_ESYNC" : "WA_ESYS");
	ok(why.text[0] && strstr(why.text, top), "%s: why names the path: %s", what, why.text);
	for (i = 0, rc = 0; i < nfiles; i++) {
		snprintf(k, sizeof k, "f%d", i);
		rc += wa_spool_seen(sp, k);
	}
	is_int(rc, 0, "%s: no key marked seen", what);
	if (want == WA_ESYS) {
		is_int(innew, 1, "%s: nothing new in new/", what);
		is_int(count(path("in/tmp")), 0, "%s: the temps are removed", what);
		is_str(slurp(path("in/.wa/seen/%s.log", rec)), before, "%s: the record is unchanged", what);
		is_int(wa_spool_add(sp, "f0", "content", 7, NULL), 0, "%s: the key can be added again", what);
		is_int(wa_spool_commit(sp, &why), 0, "%s: and committed", what);
		wa_spool_free(sp);
	} else {
		is_int(wa_spool_add(sp, "g", "x", 1, NULL), WA_ESYNC, "%s: the handle refuses more", what);
		is_int(wa_spool_commit(sp, &why), WA_ESYNC, "%s: and refuses to commit", what);
		wa_spool_free(sp);
		is_int(opensp(&sp, &why), 0, "%s: a reopen recovers", what);
		for (i = 0, rc = 0; i < nfiles; i++) {
			snprintf(k, sizeof k, "f%d", i);
			rc += wa_spool_seen(sp, k);
		}
		is_int(count(path("in/new")), 1 + rc, "%s: after it, new/ holds exactly the seen keys' files", what);
		is_int(count(path("in/tmp")), 0, "%s: and tmp/ is empty", what);
		wa_spool_free(sp);
	}
}

/* the temp file's write fails in add: nothing of it stays, the batch is
 * dropped by the caller (abort) */
static void
add_fault(const char *what, int err)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_spool *sp;

	fresh();
	if (opensp(&sp, &why) < 0) {
		ok(0, "%s: open", what);
		return;
	}
	is_int(wa_spool_add(sp, "f0", "content", 7, NULL), 0, "%s: add f0", what);
	arm(C_WRITE, 1, err, 0);
	is_int(wa_spool_add(sp, "f1", "content", 7, NULL), WA_ESYS, "%s: add f1 fails", what);
	fail_call = -1;
	is_int(errno, err, "%s: errno kept", what);
	is_int((long long)wa_spool_pending(sp), 1, "%s: f0 still pending", what);
	is_int(count(path("in/tmp")), 1, "%s: no temp of f1 left", what);
	wa_spool_abort(sp);
	is_int(count(path("in/tmp")) + count(path("in/new")), 0, "%s: after abort nothing in tmp/ or new/", what);
	is_int(wa_spool_seen(sp, "f0") + wa_spool_seen(sp, "f1"), 0, "%s: no key marked seen", what);
	is_int(wa_spool_add(sp, "f1", "content", 7, NULL), 0, "%s: f1 can be added again", what);
	is_int(wa_spool_commit(sp, &why), 0, "%s: and committed", what);
	wa_spool_free(sp);
}

static void
test_faults(void)
{
	static const int errs[2] = { EIO, ENOSPC };
	int e;

	for (e = 0; e < 2; e++) {
		char w[64];
		const char *en = errs[e] == EIO ? "EIO" : "ENOSPC";
		snprintf(w, sizeof w, "temp write %s", en);
		add_fault(w, errs[e]);
		snprintf(w, sizeof w, "temp fsync %s", en);
		fault(w, C_FSYNC, 2, errs[e], 0, 3, WA_ESYS);
		snprintf(w, sizeof w, "syncfs %s", en);
		fault(w, C_SYNCFS, 1, errs[e], 0, 9, WA_ESYS);
		snprintf(w, sizeof w, "record write %s", en);
		fault(w, C_WRITE, 1, errs[e], 0, 9, WA_ESYS);
		snprintf(w, sizeof w, "record write short, then %s", en);
		fault(w, C_WRITE, 1, errs[e], 1, 9, WA_ESYNC);
		snprintf(w, sizeof w, "record fdatasync %s", en);
		fault(w, C_FDATASYNC, 1, errs[e], 0, 3, WA_ESYNC);
		snprintf(w, sizeof w, "second rename %s", en);
		fault(w, C_RENAME, 2, errs[e], 0, 3, WA_ESYNC);
		snprintf(w, sizeof w, "new/ fsync %s", en);
		fault(w, C_FSYNC, 4, errs[e], 0, 3, WA_ESYNC);
	}
}

/* 10^6 keys load in well under a second */
static void
test_big(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_spool *sp;
	struct timespec t0, t1, c0, c1;
	char day[16], line[200];
	FILE *f;
	int i;
	double s, cpu;

	fresh();
	today(day, 1);
	if (opensp(&sp, &why) < 0) {
		ok(0, "open");
		return;
	}
	wa_spool_free(sp);
	f = fdopen(open(path("in/.wa/seen/%s.log", day), O_WRONLY | O_CREAT, 0600), "w");
	for (i = 0; i < 1000000; i++) {
		snprintf(line, sizeof line, "1700000000.%06d_1.h 120363%09d@g.us_4915%08d@s.whatsapp.net_3EB0%016X\n",
		    i, i, i % 99999999, (unsigned)i * 2654435761u);
		fputs(line, f);
	}
	fclose(f);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	is_int(opensp(&sp, &why), 0, "open with 10^6 recorded keys");
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	printf("# 10^6 keys loaded in %.3f s (%.3f s CPU)\n", s, cpu);
	/* CPU time: the machine's load does not count; the sanitizers do
	 * (release build: about 0.4 s) */
	ok(cpu < 4.0, "loads in under 4 s of CPU even in the sanitizer build (%.3f s)", cpu);
	snprintf(line, sizeof line, "120363%09d@g.us_4915%08d@s.whatsapp.net_3EB0%016X", 777777, 777777, 777777u * 2654435761u);
	is_int(wa_spool_seen(sp, line), 1, "a key from the middle is seen");
	is_int(wa_spool_seen(sp, "120363x@g.us"), 0, "an unknown one is not");
	wa_spool_free(sp);
}

int
main(void)
{
	snprintf(top, sizeof top, "/tmp/t-spool.XXXXXX");
	if (!mkdtemp(top))
		return 1;
	test_layout();
	test_commit();
	test_record();
	test_recovery();
	test_backlog();
	test_symlinks();
	test_alloc();
	test_faults();
	test_big();
	{
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
		if (system(cmd) != 0)
			printf("# cleanup failed\n");
	}
	done_testing();
	return exit_status();
}
