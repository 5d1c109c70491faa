/* Unit tests for lib/backup.c: member names, archive names and retention
 * order, path splitting, and a write / read / extract / swap round trip. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/backup.h"
#include "store/durable.h"
#include "store/names.h"
#include "tap.h"

static void
test_names(void)
{
	static const char *good[] = { "creds.json", "session-1.0.json", "notes.txt", ".hidden",
		".wa/status.json", ".wa/events.jsonl", "sender-key-1@g.us--2_1--3.json" };
	static const char *bad[] = { "", ".", "..", "../evil", "/etc/x", "a/b", ".wa", ".wa/",
		".wa/lock", ".wa/tmp", ".wa/quarantine", ".wa/../x", ".wa/a/b", "wa-manifest.json",
		".wa-tmp.creds.json.1.aa", ".wa/.wa-tmp.x", "a\nb", ".wa/." };
	size_t i;

	for (i = 0; i < sizeof good / sizeof *good; i++)
		ok(wa_backup_name_ok(good[i]), "member name '%s' accepted", good[i]);
	for (i = 0; i < sizeof bad / sizeof *bad; i++)
		ok(!wa_backup_name_ok(bad[i]), "member name '%s' refused", bad[i]);
}

static void
test_ours(void)
{
	char s[32];

	wa_backup_stamp(s, sizeof s, 1700000000);
	is_str(s, "20231114T221320Z", "stamp is UTC YYYYmmddTHHMMSSZ");
	ok(wa_backup_is_ours("auth-20231114T221320Z.tar", "auth"), "plain name is ours");
	ok(wa_backup_is_ours("auth-20231114T221320Z-12.tar", "auth"), "-N name is ours");
	ok(!wa_backup_is_ours("auth-20231114T221320Z-0.tar", "auth"), "-0 is not");
	ok(!wa_backup_is_ours("auth-20231114T221320Z-.tar", "auth"), "empty -N is not");
	ok(!wa_backup_is_ours("auth-20231114T221320Z.tar.gz", "auth"), "other suffix is not");
	ok(!wa_backup_is_ours("auth-2-20231114T221320Z.tar", "auth"), "another folder's is not");
	ok(!wa_backup_is_ours("auth-20231114X221320Z.tar", "auth"), "malformed stamp is not");
	ok(!wa_backup_is_ours("auth20231114T221320Z.tar", "auth"), "missing dash is not");
	ok(!wa_backup_is_ours("xauth-20231114T221320Z.tar", "auth"), "prefix must match");
}

static void
test_split(void)
{
	char *d, *b;

	ok(wa_backup_path_split(&d, &b, "a/b/auth/") == 0 && strcmp(d, "a/b") == 0 && strcmp(b, "auth") == 0,
	    "a/b/auth/ splits into a/b and auth");
	free(d), free(b);
	ok(wa_backup_path_split(&d, &b, "auth") == 0 && strcmp(d, ".") == 0 && strcmp(b, "auth") == 0,
	    "auth splits into . and auth");
	free(d), free(b);
	ok(wa_backup_path_split(&d, &b, "/auth") == 0 && strcmp(d, "/") == 0 && strcmp(b, "auth") == 0,
	    "/auth splits into / and auth");
	free(d), free(b);
	ok(wa_backup_path_split(&d, &b, "/tmp/.") == 0 && strcmp(d, "/") == 0 && strcmp(b, "tmp") == 0,
	    "/tmp/. resolves to / and tmp");
	free(d), free(b);
	is_int(wa_backup_path_split(&d, &b, "/"), WA_EINVAL, "/ cannot be split");
}

static int
put(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static void
removed(void *arg, const char *name)
{
	char *log = arg;

	strcat(log, name);
	strcat(log, " ");
}

/* Write an archive of the folder dfd into bk/name; creds.json as given. */
static int
archive(int bk, const char *name, int dfd, const char *creds)
{
	struct wa_backup_report rep;
	struct wa_why why = { "" };
	int fd, rc;

	put(dfd, "creds.json", creds);
	if ((fd = openat(bk, name, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	rc = wa_backup_write(&rep, dfd, "src", "src", 1700000000, wa_backup_out_fd, &fd, NULL, NULL, &why);
	close(fd);
	return rc;
}

static void
test_retain(const char *top)
{
	static const char *names[] = { "a-20200101T000000Z-10.tar", "a-20200101T000000Z-2.tar",
		"a-20200101T000000Z.tar", "a-20190101T000000Z.tar", "a-20210101T000000Z.tar", "a.tar", "b-20180101T000000Z.tar" };
	static const char *good = "{\"me\":{\"id\":\"15550001111:2@s.whatsapp.net\"}}", *torn = "{\"me\":{\"id\":";
	char path[512], log[512] = "", **v;
	size_t i, n;
	int fd, src;

	snprintf(path, sizeof path, "%s/bk", top);
	mkdir(path, 0700);
	fd = open(path, O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof path, "%s/src", top);
	mkdir(path, 0700);
	src = open(path, O_RDONLY | O_DIRECTORY);
	for (i = 0; i < sizeof names / sizeof *names; i++)
		put(fd, names[i], "x");
	ok(wa_backup_list(&v, &n, fd, "a") == 0 && n == 5, "five archives of 'a'");
	ok(n == 5 && strcmp(v[0], "a-20190101T000000Z.tar") == 0 && strcmp(v[1], "a-20200101T000000Z.tar") == 0 &&
	    strcmp(v[2], "a-20200101T000000Z-2.tar") == 0 && strcmp(v[3], "a-20200101T000000Z-10.tar") == 0 &&
	    strcmp(v[4], "a-20210101T000000Z.tar") == 0, "oldest first, -N numerically");
	wa_backup_names_free(v);

	ok(wa_backup_retain(fd, "a", 1, NULL, removed, log) == 0 && !log[0],
	    "files that are not archives never count: nothing removed");
	/* oldest to newest: good, good, torn, torn, torn */
	ok(archive(fd, "a-20190101T000000Z.tar", src, good) == 0 && archive(fd, "a-20200101T000000Z.tar", src, good) == 0 &&
	    archive(fd, "a-20200101T000000Z-2.tar", src, torn) == 0 && archive(fd, "a-20200101T000000Z-10.tar", src, torn) == 0 &&
	    archive(fd, "a-20210101T000000Z.tar", src, torn) == 0, "two good archives, then three of a torn creds.json");
	ok(wa_backup_retain(fd, "a", 2, "a-20210101T000000Z.tar", removed, log) == 0 && !log[0],
	    "retain 2: the torn ones do not count, both good ones stay");
	ok(wa_backup_retain(fd, "a", 1, "a-20210101T000000Z.tar", removed, log) == 0, "retain 1");
	is_str(log, "a-20190101T000000Z.tar ", "only what is older than the newest good archive goes");
	ok(faccessat(fd, "a-20200101T000000Z.tar", F_OK, 0) == 0 && faccessat(fd, "a-20210101T000000Z.tar", F_OK, 0) == 0 &&
	    faccessat(fd, "a-20200101T000000Z-2.tar", F_OK, 0) == 0 &&
	    faccessat(fd, "a.tar", F_OK, 0) == 0 && faccessat(fd, "b-20180101T000000Z.tar", F_OK, 0) == 0,
	    "the newest good one, the newer torn ones and what is not ours remain");
	log[0] = 0;
	ok(archive(fd, "a-20220101T000000Z.tar", src, good) == 0, "a new good archive");
	ok(wa_backup_retain(fd, "a", 1, "a-20220101T000000Z.tar", removed, log) == 0, "retain 1 again");
	is_str(log, "a-20200101T000000Z.tar a-20200101T000000Z-2.tar a-20200101T000000Z-10.tar a-20210101T000000Z.tar ",
	    "now everything older than it goes");
	close(src);
	close(fd);
}

/* A name freed by retention is not handed out again in the same second:
 * (stamp, N) stays the order of creation. */
static void
test_new_name(const char *top)
{
	char path[512], name[128];
	int fd;
	time_t t = 1577836800;	/* 2020-01-01T00:00:00Z */

	snprintf(path, sizeof path, "%s/nn", top);
	mkdir(path, 0700);
	fd = open(path, O_RDONLY | O_DIRECTORY);
	ok(wa_backup_new_name(name, sizeof name, fd, "a", t) == 0 && strcmp(name, "a-20200101T000000Z.tar") == 0,
	    "the first name of a second has no suffix");
	put(fd, name, "x");
	put(fd, "a-20200101T000000Z-7.tar", "x");
	ok(wa_backup_new_name(name, sizeof name, fd, "a", t) == 0 && strcmp(name, "a-20200101T000000Z-8.tar") == 0,
	    "then one past the highest suffix of that second");
	unlinkat(fd, "a-20200101T000000Z.tar", 0);
	unlinkat(fd, "a-20200101T000000Z-7.tar", 0);
	put(fd, "a-20200101T000000Z-9.tar", "x");
	ok(wa_backup_new_name(name, sizeof name, fd, "a", t) == 0 && strcmp(name, "a-20200101T000000Z-10.tar") == 0,
	    "a freed name is not reused");
	close(fd);
}

/* Listing from two threads at once, folders of different name lengths:
 * the sort must not depend on anything but its arguments (a static set
 * by one thread's listing would sort the other's names at the wrong
 * offset). */
#define NLIST 64

struct lister {
	int fd;
	const char *folder;
	char want[NLIST][80];
	int bad;
};

static void *
list_loop(void *p)
{
	struct lister *l = p;
	char **v;
	size_t n, i;
	int k;

	for (k = 0; k < 2000 && !l->bad; k++) {
		if (wa_backup_list(&v, &n, l->fd, l->folder) < 0 || n != NLIST) {
			l->bad = 1;
			break;
		}
		for (i = 0; i < NLIST; i++)
			if (strcmp(v[i], l->want[i]) != 0)
				l->bad = 1;
		wa_backup_names_free(v);
	}
	return NULL;
}

static void
test_reentrant(const char *top)
{
	static struct lister l1, l2;
	pthread_t t1, t2;
	char path[512];
	size_t i;
	int fd;

	snprintf(path, sizeof path, "%s/re", top);
	mkdir(path, 0700);
	fd = open(path, O_RDONLY | O_DIRECTORY);
	l1.folder = "a";
	l2.folder = "a-much-longer-folder-name";
	/* oldest first: stamps going up, a -N name after the plain one */
	for (i = 0; i < NLIST; i++) {
		if (i % 2)
			snprintf(l1.want[i], sizeof l1.want[i], "a-20%02zu0101T000000Z-%zu.tar", 10 + i / 2, 9 + i % 4);
		else
			snprintf(l1.want[i], sizeof l1.want[i], "a-20%02zu0101T000000Z.tar", 10 + i / 2);
		snprintf(l2.want[i], sizeof l2.want[i], "a-much-longer-folder-name-2020%02zu%02zuT000000Z.tar",
		    1 + i / 28, 1 + i % 28);
		put(fd, l1.want[i], "x");
		put(fd, l2.want[i], "x");
	}
	l1.fd = l2.fd = fd;
	pthread_create(&t1, NULL, list_loop, &l1);
	pthread_create(&t2, NULL, list_loop, &l2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	ok(!l1.bad && !l2.bad, "two threads listing two folders at once both get their own order");
	close(fd);
}

static void
test_roundtrip(const char *top)
{
	struct wa_backup_report rep;
	struct wa_backup *b = NULL;
	struct wa_why why = { "" };
	const struct wa_backup_file *f;
	char path[512], buf[64];
	int dfd, afd, pfd, ex, used, rc;
	unsigned long before;

	snprintf(path, sizeof path, "%s/auth", top);
	mkdir(path, 0700);
	dfd = open(path, O_RDONLY | O_DIRECTORY);
	mkdirat(dfd, ".wa", 0700);
	put(dfd, "creds.json", "{\"me\":{\"id\":\"15550001111:2@s.whatsapp.net\"},"
	    "\"signedIdentityKey\":{\"public\":{\"type\":\"Buffer\",\"data\":\"AQI=\"}}}");
	put(dfd, "pre-key-1.json", "{\"a\":1}");
	put(dfd, "empty.txt", "");
	put(dfd, ".wa/status.json", "{}");
	put(dfd, ".wa/lock", "pid=1");
	snprintf(path, sizeof path, "%s/a.tar", top);
	afd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	rc = wa_backup_write(&rep, dfd, "auth", "auth", 1700000000, wa_backup_out_fd, &afd, NULL, NULL, &why);
	is_int(rc, 0, "write an archive (%s)", why.text);
	is_int(rep.files, 4, "four files archived");
	is_str(rep.account, "15550001111", "account from me.id");
	ok(strlen(rep.identity) == 64, "identity fingerprint");
	lseek(afd, 0, SEEK_SET);
	rc = wa_backup_read(&b, afd, "a.tar", &why);
	is_int(rc, 0, "read it back (%s)", why.text);
	if (rc < 0)
		return;
	is_int(b->n, 4, "four files in the manifest");
	is_str(b->account, "15550001111", "manifest account");
	is_str(b->created, "2023-11-14T22:13:20Z", "manifest time");
	ok((f = wa_backup_find(b, "pre-key-1.json")) && f->size == 7 && memcmp(f->data, "{\"a\":1}", 7) == 0 &&
	    f->valid == 1, "pre-key content and validity");
	ok((f = wa_backup_find(b, "empty.txt")) && f->size == 0 && f->valid == -1, "an empty non-JSON file");
	ok(wa_backup_find(b, ".wa/status.json") != NULL, ".wa/status.json is in");
	ok(wa_backup_find(b, ".wa/lock") == NULL, ".wa/lock is not");

	pfd = open(top, O_RDONLY | O_DIRECTORY);
#ifdef WA_TESTING
	before = wa_durable_stats.fsync_file;
#else
	before = 0;
#endif
	rc = wa_backup_extract(b, pfd, ".auth.restore-test", &why);
	is_int(rc, 0, "extract (%s)", why.text);
#ifdef WA_TESTING
	is_int(wa_durable_stats.fsync_file - before, 4, "one file fsync per file");
#else
	ok(1, "# SKIP not a test build");
#endif
	rc = wa_backup_swap(pfd, ".auth.restore-test", "auth", "auth.replaced", &ex, &used, &why);
	is_int(rc, 0, "swap (%s)", why.text);
	ok(used && faccessat(pfd, "auth.replaced/.wa/lock", F_OK, 0) == 0, "the old folder is kept");
	ok(faccessat(pfd, "auth/.wa/lock", F_OK, 0) < 0 && faccessat(pfd, "auth/.wa/status.json", F_OK, 0) == 0,
	    "the new folder is the archive's");
	ok(faccessat(pfd, ".auth.restore-test", F_OK, 0) < 0, "nothing left under the staging name");
	{
		int fd = openat(pfd, "auth/pre-key-1.json", O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
		ok(n == 7 && memcmp(buf, "{\"a\":1}", 7) == 0, "content restored");
		if (fd >= 0)
			close(fd);
	}
	is_int(wa_backup_swap(pfd, "nosuch", "auth", "auth.replaced", &ex, &used, &why), WA_EEXIST,
	    "never replaces an existing replaced folder");
	rc = wa_backup_extract(b, pfd, "auth", &why);
	is_int(rc, WA_EEXIST, "extract never builds into an existing folder");
	wa_backup_free(b);
	close(pfd);
	close(afd);
	close(dfd);
}

int
main(void)
{
	char top[] = "/tmp/t-backup.XXXXXX", cmd[600];

	if (!mkdtemp(top))
		return 1;
	test_names();
	test_ours();
	test_split();
	test_retain(top);
	test_new_name(top);
	test_reentrant(top);
	test_roundtrip(top);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
	if (system(cmd) != 0)
		ok(0, "cleanup");
	done_testing();
	return exit_status();
}
