/*
 * t-outbox.c - the outbox spool (lib/spool/outbox.h) and message ids
 * (lib/msg/msgid.h): layout and modes, put/queued/load/finish/find and
 * the status round trip, a duplicate id, job checks, JID and phone number
 * normalisation, prune (new/ and young cur/ jobs kept), a symlinked
 * folder refused, what a crash leaves in tmp/, the runner lock, the watch
 * descriptor, and a put that fails on a full disk (write, fsync).
 *
 * write and fsync are interposed (the test's definitions win over libc's
 * for the code linked from libwa.a): armed, the N-th call from now fails
 * with the given errno (write: only on descriptors other than 0-2).
 */
#undef _FORTIFY_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "msg/msgid.h"
#include "spool/outbox.h"
#include "store/durable.h"
#include "tap.h"

/* --- interposers ---------------------------------------------------- */
enum { C_WRITE, C_FSYNC, C_N };
static int fail_call = -1, fail_at, fail_errno;

static int
armed(int c)
{
	if (fail_call == c && fail_at > 0 && --fail_at == 0) {
		fail_call = -1;
		return 1;
	}
	return 0;
}

static void
arm(int c, int at, int err)
{
	fail_call = c;
	fail_at = at;
	fail_errno = err;
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	if (fd > 2 && armed(C_WRITE)) {
		errno = fail_errno;
		return -1;
	}
	return syscall(SYS_write, fd, buf, n);
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

/* --- helpers -------------------------------------------------------- */
static char top[256];

static int
count(const char *dir, const char *sub)
{
	char p[512];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(p, sizeof p, "%s/%s", dir, sub);
	if (!(d = opendir(p)))
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static json_t *
text_job(const char *id, const char *to, const char *text)
{
	return json_pack("{s:i,s:s,s:s,s:s,s:I,s:s}", "v", 1, "id", id, "to", to, "type", "text",
	    "created_ms", (json_int_t)1700000000000LL, "text", text);
}

static char *
path(const char *a, const char *b)
{
	static char p[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", a, b);
	return p[k];
}

static int
writefile(const char *p, const char *s)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600), rc;

	if (fd < 0)
		return -1;
	rc = (size_t)syscall(SYS_write, fd, s, strlen(s)) == strlen(s) ? 0 : -1;
	close(fd);
	return rc;
}

/* --- tests ---------------------------------------------------------- */

static void
t_msgid(void)
{
	char a[WA_MSG_ID_MAX], b[WA_MSG_ID_MAX];
	size_t i;
	int good = 1;

	is_int(wa_msg_new_id(a, "15550001111", 1700000000), 0, "msgid: made");
	is_int(strlen(a), WA_MSG_ID_LEN, "msgid: 22 characters");
	ok(strncmp(a, "3EB0", 4) == 0, "msgid: starts with 3EB0 (%s)", a);
	for (i = 0; a[i]; i++)
		if (!((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'A' && a[i] <= 'F')))
			good = 0;
	ok(good, "msgid: uppercase hex");
	wa_msg_new_id(b, "15550001111", 1700000000);
	ok(strcmp(a, b) != 0, "msgid: two ids differ (random bytes)");
	ok(wa_outbox_id_ok(a), "msgid: an outbox id");
	is_int(wa_msg_new_id(b, NULL, 0), 0, "msgid: without a user");
}

static void
t_checks(void)
{
	char out[WA_OUTBOX_JID_MAX];
	struct wa_why why = WA_WHY_INIT;
	json_t *j;

	ok(wa_outbox_id_ok("3EB0ABC") && wa_outbox_id_ok("a"), "id: letters and digits");
	ok(!wa_outbox_id_ok("") && !wa_outbox_id_ok("a-b") && !wa_outbox_id_ok("../x") &&
	    !wa_outbox_id_ok("a.b"), "id: empty, dash, slash, dot refused");
	ok(wa_outbox_id_ok("0123456789012345678901234567890123456789012345678901234567890123"),
	    "id: 64 bytes");
	ok(!wa_outbox_id_ok("01234567890123456789012345678901234567890123456789012345678901234"),
	    "id: 65 bytes refused");

	is_int(wa_outbox_norm_to(out, "+1 (555) 000-1111"), 0, "to: +1 (555) 000-1111");
	is_str(out, "15550001111@s.whatsapp.net", "to: normalised");
	is_int(wa_outbox_norm_to(out, "15550001111"), 0, "to: digits");
	is_str(out, "15550001111@s.whatsapp.net", "to: digits normalised");
	is_int(wa_outbox_norm_to(out, "49.30.1234567"), 0, "to: dots");
	is_int(wa_outbox_norm_to(out, "15550001111@c.us"), 0, "to: c.us");
	is_str(out, "15550001111@s.whatsapp.net", "to: c.us becomes s.whatsapp.net");
	is_int(wa_outbox_norm_to(out, "99990002222@lid"), 0, "to: lid");
	is_int(wa_outbox_norm_to(out, "120363041234567890@g.us"), 0, "to: group");
	is_int(wa_outbox_norm_to(out, "15550001111-1600000000@g.us"), 0, "to: old group id");
	is_int(wa_outbox_norm_to(out, "12345"), WA_EINVAL, "to: 5 digits refused");
	is_int(wa_outbox_norm_to(out, "1234567890123456"), WA_EINVAL, "to: 16 digits refused");
	is_int(wa_outbox_norm_to(out, "0301234567"), WA_EINVAL, "to: leading 0 refused");
	is_int(wa_outbox_norm_to(out, "+1 555 abc"), WA_EINVAL, "to: letters refused");
	is_int(wa_outbox_norm_to(out, "++15550001111"), WA_EINVAL, "to: two + refused");
	is_int(wa_outbox_norm_to(out, "-15550001111"), WA_EINVAL, "to: leading dash refused");
	is_int(wa_outbox_norm_to(out, "15550001111:3@s.whatsapp.net"), WA_EINVAL, "to: device refused");
	is_int(wa_outbox_norm_to(out, "abc@s.whatsapp.net"), WA_EINVAL, "to: letters in a JID refused");
	is_int(wa_outbox_norm_to(out, "1@broadcast"), WA_EINVAL, "to: broadcast refused");
	is_int(wa_outbox_norm_to(out, "@s.whatsapp.net"), WA_EINVAL, "to: the server refused");
	is_int(wa_outbox_norm_to(out, ""), WA_EINVAL, "to: empty refused");
	ok(!wa_outbox_jid_ok("120363041234567890@g.us", 0), "jid: a group is no participant");

	ok(wa_outbox_utf8_ok("h\xc3\xa9 \xf0\x9f\x91\x8d", 8), "utf8: valid");
	ok(!wa_outbox_utf8_ok("\xff", 1), "utf8: 0xff refused");
	ok(!wa_outbox_utf8_ok("\xc0\x80", 2), "utf8: overlong refused");
	ok(!wa_outbox_utf8_ok("\xed\xa0\x80", 3), "utf8: surrogate refused");
	ok(!wa_outbox_utf8_ok("\xe2\x82", 2), "utf8: cut refused");

	j = text_job("ABC", "15550001111@s.whatsapp.net", "hi");
	is_int(wa_outbox_job_check(j, &why), 0, "job: text ok");
	json_object_set_new(j, "text", json_string(""));
	is_int(wa_outbox_job_check(j, &why), WA_EINVAL, "job: empty text refused");
	ok(strstr(why.text, "\"text\"") != NULL, "job: why names the field (%s)", why.text);
	json_object_set_new(j, "text", json_string("x"));
	json_object_set_new(j, "type", json_string("poll"));
	is_int(wa_outbox_job_check(j, &why), WA_EINVAL, "job: unknown type refused");
	json_object_set_new(j, "type", json_string("reaction"));
	json_object_set_new(j, "emoji", json_string(""));
	json_object_set_new(j, "target", json_pack("{s:s,s:b}", "id", "X1", "from_me", 0));
	is_int(wa_outbox_job_check(j, &why), 0, "job: reaction with \"\" ok");
	json_object_set_new(j, "emoji", json_string("0123456789012345678901234567890123"));
	is_int(wa_outbox_job_check(j, &why), WA_EINVAL, "job: emoji over 32 bytes refused");
	json_object_set_new(j, "type", json_string("read"));
	json_object_set_new(j, "ids", json_pack("[s,s]", "A1", "B2"));
	is_int(wa_outbox_job_check(j, &why), 0, "job: read ok");
	json_object_set_new(j, "ids", json_pack("[s,s]", "A1", "B/2"));
	is_int(wa_outbox_job_check(j, &why), WA_EINVAL, "job: read with a bad id refused");
	json_object_set_new(j, "type", json_string("revoke"));
	is_int(wa_outbox_job_check(j, &why), 0, "job: revoke ok");
	json_object_set_new(j, "v", json_integer(2));
	is_int(wa_outbox_job_check(j, &why), WA_EINVAL, "job: v 2 refused");
	json_decref(j);
}

static void
t_roundtrip(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_outbox *ob, *run;
	char dir[512], name[3][WA_OUTBOX_NAME_MAX], **names;
	json_t *j, *got, *st;
	struct stat sb;
	size_t n, i;
	int rc;

	snprintf(dir, sizeof dir, "%s/rt.outbox", top);
	is_int(wa_outbox_open(&ob, dir, 0, 14, &why), WA_ENOTFOUND, "open: missing folder without CREATE");
	is_int(wa_outbox_open(&ob, dir, WA_OUTBOX_CREATE, 14, &why), 0, "open: CREATE makes the folder");
	ok(stat(path(dir, "new"), &sb) == 0 && (sb.st_mode & 0777) == 0700, "open: new/ is 0700");
	ok(stat(path(dir, "status"), &sb) == 0 && S_ISDIR(sb.st_mode), "open: status/ made");
	ok(stat(path(dir, ".wa"), &sb) < 0, "open: a writer makes no .wa (no lock)");
	for (i = 0; i < 3; i++) {
		char id[8];
		snprintf(id, sizeof id, "ID%zu", i);
		j = text_job(id, "15550001111@s.whatsapp.net", "hello");
		rc = wa_outbox_put(ob, j, name[i], &why);
		is_int(rc, 0, "put %s: %s", id, why.text);
		json_decref(j);
	}
	ok(strcmp(name[0], name[1]) < 0 && strcmp(name[1], name[2]) < 0, "put: names sort in put order");
	ok(strlen(name[0]) > 14 && name[0][13] == '.' && strstr(name[0], ".ID0"), "put: name %s", name[0]);
	ok(stat(path(path(dir, "new"), name[0]), &sb) == 0 && (sb.st_mode & 0777) == 0600,
	    "put: job file 0600 in new/");
	is_int(count(dir, "tmp"), 0, "put: nothing left in tmp/");
	j = text_job("ID1", "15550001111@s.whatsapp.net", "again");
	is_int(wa_outbox_put(ob, j, NULL, &why), WA_EEXIST, "put: a duplicate id in new/ is EEXIST");
	ok(strstr(why.text, name[1]) != NULL, "put: why names the job (%s)", why.text);
	json_object_set_new(j, "text", json_string(""));
	is_int(wa_outbox_put(ob, j, NULL, &why), WA_EINVAL, "put: an invalid job is EINVAL");
	json_decref(j);
	is_int(count(dir, "new"), 3, "put: three jobs in new/");

	is_int(wa_outbox_open(&run, dir, WA_OUTBOX_CREATE | WA_OUTBOX_RUNNER, 14, &why), 0, "open: runner");
	{
		struct wa_outbox *run2;
		is_int(wa_outbox_open(&run2, dir, WA_OUTBOX_RUNNER, 14, &why), WA_ELOCKED,
		    "open: a second runner is ELOCKED");
	}
	is_int(wa_outbox_queued(run, &names, &n, &why), 0, "queued");
	is_int(n, 3, "queued: three");
	ok(n == 3 && strcmp(names[0], name[0]) == 0 && strcmp(names[2], name[2]) == 0, "queued: in name order");
	wa_outbox_names_free(names, n);
	is_int(wa_outbox_load(run, name[1], &got, &why), 0, "load");
	is_str(json_string_value(json_object_get(got, "text")), "hello", "load: the text");
	is_str(json_string_value(json_object_get(got, "id")), "ID1", "load: the id");
	json_decref(got);
	is_int(wa_outbox_finish(run, name[1], &why), 0, "finish");
	is_int(count(dir, "new"), 2, "finish: two left in new/");
	is_int(count(dir, "cur"), 1, "finish: one in cur/");
	is_int(wa_outbox_load(run, name[1], &got, &why), 0, "load: a finished job from cur/");
	json_decref(got);
	is_int(wa_outbox_find(run, "ID1", &got), 0, "find: in cur/ (runner)");
	json_decref(got);
	is_int(wa_outbox_find(ob, "ID1", &got), 0, "find: in cur/ (writer)");
	json_decref(got);
	is_int(wa_outbox_find(run, "ID2", &got), 0, "find: in new/");
	json_decref(got);
	is_int(wa_outbox_find(run, "NOPE", &got), WA_ENOTFOUND, "find: unknown id");
	j = text_job("ID1", "15550001111@s.whatsapp.net", "again");
	is_int(wa_outbox_put(ob, j, NULL, &why), WA_EEXIST, "put: a duplicate id in cur/ is EEXIST (writer)");
	is_int(wa_outbox_put(run, j, NULL, &why), WA_EEXIST, "put: a duplicate id in cur/ is EEXIST (runner)");
	json_decref(j);
	/* a job that lands after the runner's open is found */
	j = text_job("LATE", "15550001111@s.whatsapp.net", "late");
	is_int(wa_outbox_put(ob, j, NULL, &why), 0, "put: a job after the runner's open");
	json_decref(j);
	is_int(wa_outbox_find(run, "LATE", &got), 0, "find: a job that arrived after open");
	json_decref(got);

	st = json_pack("{s:i,s:s,s:s,s:s,s:I}", "v", 1, "id", "ID1", "to", "15550001111@s.whatsapp.net",
	    "state", "sent", "updated_ms", (json_int_t)1700000000001LL);
	is_int(wa_outbox_status_write(ob, st, &why), WA_EINVAL, "status: a writer may not write");
	is_int(wa_outbox_status_write(run, st, &why), 0, "status: written");
	json_decref(st);
	is_int(wa_outbox_status_read(dir, "ID1", &got, &why), 0, "status: read");
	is_str(json_string_value(json_object_get(got, "state")), "sent", "status: state");
	json_decref(got);
	is_int(wa_outbox_status_read(dir, "ID0", &got, &why), WA_ENOTFOUND, "status: none yet");
	writefile(path(path(dir, "status"), "ID2.json"), "{\"id\":\"OTHER\",\"state\":\"sent\"}");
	is_int(wa_outbox_status_read(dir, "ID2", &got, &why), WA_ECORRUPT, "status: another id is ECORRUPT");
	writefile(path(path(dir, "status"), "ID0.json"), "{\"id\":");
	is_int(wa_outbox_status_read(dir, "ID0", &got, &why), WA_ECORRUPT, "status: torn is ECORRUPT");

	/* a bad job in new/ is reported, not removed */
	writefile(path(path(dir, "new"), "1700000000000.1_000000.BAD"), "{not json");
	is_int(wa_outbox_load(run, "1700000000000.1_000000.BAD", &got, &why), WA_ECORRUPT,
	    "load: a job that is not JSON is ECORRUPT");
	ok(strstr(why.text, "new/1700000000000.1_000000.BAD") != NULL, "load: why names it (%s)", why.text);
	writefile(path(path(dir, "new"), "1700000000000.1_000001.BAD2"),
	    "{\"v\":1,\"id\":\"OTHER\",\"to\":\"15550001111@s.whatsapp.net\",\"type\":\"text\",\"created_ms\":1,\"text\":\"x\"}");
	is_int(wa_outbox_load(run, "1700000000000.1_000001.BAD2", &got, &why), WA_ECORRUPT,
	    "load: an id that is not the name's is ECORRUPT");
	if (symlink("/etc/passwd", path(path(dir, "new"), "1700000000000.1_000002.LINK")) < 0)
		perror("symlink");
	is_int(wa_outbox_load(run, "1700000000000.1_000002.LINK", &got, &why), WA_ECORRUPT,
	    "load: a symlink in new/ is not followed (ECORRUPT)");
	ok(strstr(why.text, "symbolic link") != NULL, "load: why says so (%s)", why.text);
	if (symlink("/etc/passwd", path(path(dir, "status"), "LINK.json")) < 0)
		perror("symlink");
	is_int(wa_outbox_status_read(dir, "LINK", &got, &why), WA_ECORRUPT,
	    "status: a symlinked status file is not followed");
	wa_outbox_free(run);
	is_int(wa_outbox_open(&run, dir, WA_OUTBOX_RUNNER, 14, &why), 0, "open: runner again");
	ok(access(path(path(dir, "new"), "1700000000000.1_000000.BAD"), F_OK) == 0,
	    "open: a bad job in new/ is left for the runner to fail");
	is_int(wa_outbox_find(run, "ID1", &got), 0, "find: cur/ indexed at open");
	json_decref(got);
	wa_outbox_free(run);
	wa_outbox_free(ob);
}

static void
t_prune(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_outbox *run;
	char dir[512], name[3][WA_OUTBOX_NAME_MAX];
	json_t *j, *st, *got;
	int64_t now;
	size_t removed, i;
	struct timespec ts;

	snprintf(dir, sizeof dir, "%s/prune.outbox", top);
	is_int(wa_outbox_open(&run, dir, WA_OUTBOX_CREATE | WA_OUTBOX_RUNNER, 2, &why), 0, "prune: open");
	for (i = 0; i < 3; i++) {
		char id[8];
		snprintf(id, sizeof id, "P%zu", i);
		j = text_job(id, "15550001111@s.whatsapp.net", "x");
		wa_outbox_put(run, j, name[i], &why);
		json_decref(j);
		st = json_pack("{s:s,s:s}", "id", id, "state", "sent");
		wa_outbox_status_write(run, st, &why);
		json_decref(st);
	}
	wa_outbox_finish(run, name[0], &why);
	wa_outbox_finish(run, name[1], &why);
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	is_int(wa_outbox_prune(run, now + 86400000, &removed, &why), 0, "prune: a day later");
	is_int(removed, 0, "prune: young cur/ jobs kept");
	is_int(wa_outbox_prune(run, now + 3 * 86400000LL, &removed, &why), 0, "prune: three days later");
	is_int(removed, 2, "prune: the two cur/ jobs older than keep_days removed");
	is_int(count(dir, "cur"), 0, "prune: cur/ empty");
	is_int(count(dir, "new"), 1, "prune: new/ untouched");
	is_int(wa_outbox_status_read(dir, "P0", &got, &why), WA_ENOTFOUND, "prune: their status files go");
	is_int(wa_outbox_status_read(dir, "P2", &got, &why), 0, "prune: the queued job's status stays");
	json_decref(got);
	is_int(wa_outbox_find(run, "P0", &got), WA_ENOTFOUND, "prune: a pruned job is not found");
	is_int(wa_outbox_find(run, "P2", &got), 0, "prune: the queued job is found");
	json_decref(got);
	j = text_job("P0", "15550001111@s.whatsapp.net", "again");
	is_int(wa_outbox_put(run, j, name[0], &why), 0, "prune: a pruned id may be put again");
	json_decref(j);
	is_int(wa_outbox_find(run, "P0", &got), 0, "prune: and is found (the index keeps its new name)");
	is_str(json_string_value(json_object_get(got, "text")), "again", "prune: the new job");
	json_decref(got);
	wa_outbox_free(run);
}

static void
t_unsafe(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_outbox *ob;
	char dir[512], real[512], link[512];

	snprintf(real, sizeof real, "%s/real.outbox", top);
	snprintf(link, sizeof link, "%s/link.outbox", top);
	is_int(wa_outbox_open(&ob, real, WA_OUTBOX_CREATE, 14, &why), 0, "unsafe: a real outbox");
	wa_outbox_free(ob);
	if (symlink(real, link) < 0)
		perror("symlink");
	is_int(wa_outbox_open(&ob, link, WA_OUTBOX_CREATE, 14, &why), WA_EUNSAFE, "unsafe: a symlinked outbox refused");
	ok(strstr(why.text, "symbolic link") != NULL, "unsafe: why says so (%s)", why.text);
	snprintf(dir, sizeof dir, "%s/sub.outbox", top);
	mkdir(dir, 0700);
	mkdir(path(dir, "elsewhere"), 0700);
	if (symlink("elsewhere", path(dir, "new")) < 0)
		perror("symlink");
	is_int(wa_outbox_open(&ob, dir, WA_OUTBOX_CREATE, 14, &why), WA_EUNSAFE, "unsafe: a symlinked new/ refused");
	ok(strstr(why.text, "new") != NULL, "unsafe: why names new/ (%s)", why.text);
}

static void
t_crash_tmp(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_outbox *run;
	struct timespec old[2];
	char dir[512];
	const char *stale = "1700000000000.4242_000000.CRASHED", *young = "1700000000000.4243_000000.YOUNG";

	snprintf(dir, sizeof dir, "%s/crash.outbox", top);
	is_int(wa_outbox_open(&run, dir, WA_OUTBOX_CREATE | WA_OUTBOX_RUNNER, 14, &why), 0, "crash: open");
	wa_outbox_free(run);
	writefile(path(path(dir, "tmp"), stale), "{\"v\":1,\"id\":\"CRAS");   /* torn */
	writefile(path(path(dir, "tmp"), young), "{\"v\":1,");
	writefile(path(path(dir, "tmp"), "not-ours"), "x");
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 7200;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	utimensat(AT_FDCWD, path(path(dir, "tmp"), stale), old, 0);
	utimensat(AT_FDCWD, path(path(dir, "tmp"), "not-ours"), old, 0);
	is_int(wa_outbox_open(&run, dir, WA_OUTBOX_RUNNER, 14, &why), 0, "crash: the runner opens");
	ok(access(path(path(dir, "tmp"), stale), F_OK) < 0, "crash: a temp older than an hour is removed");
	ok(access(path(path(dir, "tmp"), young), F_OK) == 0, "crash: a young temp (a writer at work) stays");
	ok(access(path(path(dir, "tmp"), "not-ours"), F_OK) == 0, "crash: a name not ours stays");
	is_int(count(dir, "new"), 0, "crash: nothing of it in new/");
	wa_outbox_free(run);
}

static void
t_full_disk(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_outbox *ob;
	char dir[512];
	json_t *j;

	snprintf(dir, sizeof dir, "%s/full.outbox", top);
	is_int(wa_outbox_open(&ob, dir, WA_OUTBOX_CREATE, 14, &why), 0, "full: open");
	j = text_job("F1", "15550001111@s.whatsapp.net", "x");
	arm(C_WRITE, 1, ENOSPC);
	is_int(wa_outbox_put(ob, j, NULL, &why), WA_ESYS, "full: a write failing with ENOSPC");
	ok(strstr(why.text, "No space") != NULL && strstr(why.text, "/tmp/"), "full: why (%s)", why.text);
	is_int(count(dir, "tmp") + count(dir, "new"), 0, "full: nothing in tmp/ or new/");
	arm(C_FSYNC, 1, EIO);
	is_int(wa_outbox_put(ob, j, NULL, &why), WA_ESYS, "full: an fsync failing with EIO");
	is_int(count(dir, "tmp") + count(dir, "new"), 0, "full: nothing in tmp/ or new/");
	is_int(wa_outbox_put(ob, j, NULL, &why), 0, "full: then it works");
	json_decref(j);
	wa_outbox_free(ob);
}

static void
t_watch(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_outbox *run, *ob;
	struct pollfd p;
	char dir[512];
	json_t *j;
	int fd;
	size_t n;
	time_t oldest;

	snprintf(dir, sizeof dir, "%s/watch.outbox", top);
	wa_outbox_open(&run, dir, WA_OUTBOX_CREATE | WA_OUTBOX_RUNNER, 14, &why);
	wa_outbox_open(&ob, dir, 0, 14, &why);
	fd = wa_outbox_watch_fd(run);
	ok(fd >= 0, "watch: a descriptor");
	p.fd = fd;
	p.events = POLLIN;
	is_int(poll(&p, 1, 0), 0, "watch: not readable while new/ is quiet");
	is_int(wa_outbox_watch_drain(run), 0, "watch: drain with nothing pending");
	j = text_job("W1", "15550001111@s.whatsapp.net", "x");
	wa_outbox_put(ob, j, NULL, &why);
	json_decref(j);
	is_int(poll(&p, 1, 5000), 1, "watch: readable after a put");
	ok(wa_outbox_watch_drain(run) >= 1, "watch: drained");
	is_int(poll(&p, 1, 0), 0, "watch: quiet again");
	is_int(wa_outbox_backlog(dir, &n, &oldest, &why), 0, "backlog");
	is_int(n, 1, "backlog: one job");
	ok(oldest > 0, "backlog: its time");
	wa_outbox_free(ob);
	wa_outbox_free(run);
}

/* A turn's statuses as one group commit, its finished jobs moved with two
 * folder fsyncs in all, and a new job's name from the watch descriptor. */
static void
t_many(void)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_outbox *run, *ob;
	char dir[512], name[10][WA_OUTBOX_NAME_MAX], *names[11], **v = NULL, id[8];
	const json_t *sts[10];
	json_t *st[10], *j;
	unsigned long fd0, ff0, rn0;
	size_t n = 0, i;

	snprintf(dir, sizeof dir, "%s/many.outbox", top);
	wa_outbox_open(&run, dir, WA_OUTBOX_CREATE | WA_OUTBOX_RUNNER, 14, &why);
	wa_outbox_open(&ob, dir, 0, 14, &why);
	ok(wa_outbox_watch_fd(run) >= 0, "many: a watch descriptor");
	for (i = 0; i < 10; i++) {
		snprintf(id, sizeof id, "M%zu", i);
		j = text_job(id, "15550001111@s.whatsapp.net", "x");
		wa_outbox_put(ob, j, name[i], &why);
		json_decref(j);
		st[i] = json_pack("{s:i, s:s, s:s}", "v", 1, "id", id, "state", "sent");
		sts[i] = st[i];
		names[i] = name[i];
	}
	is_int(wa_outbox_watch_take(run, &v, &n), 0, "watch_take: no event lost");
	is_int(n, 10, "watch_take: the ten names");
	ok(n == 10 && strcmp(v[0], name[0]) == 0 && strcmp(v[9], name[9]) == 0, "watch_take: sorted, the names put");
	wa_outbox_names_free(v, n);
	is_int(wa_outbox_watch_take(run, &v, &n), 0, "watch_take: again");
	is_int(n, 0, "watch_take: nothing new");

	fd0 = wa_durable_stats.fsync_dir;
	ff0 = wa_durable_stats.fsync_file;
	rn0 = wa_durable_stats.rename;
	is_int(wa_outbox_status_write_many(run, sts, 10, &why), 0, "status_write_many: ten");
	is_int(wa_durable_stats.fsync_dir - fd0, 1, "status_write_many: one folder fsync");
	ok(wa_durable_stats.fsync_file - ff0 <= 1, "status_write_many: one barrier (%lu)",
	    wa_durable_stats.fsync_file - ff0);
	is_int(wa_durable_stats.rename - rn0, 10, "status_write_many: ten renames");
	is_int(count(dir, "status"), 10, "status_write_many: ten files");
	{
		json_t *back = NULL;
		is_int(wa_outbox_status_read(dir, "M7", &back, &why), 0, "status_write_many: M7 reads back");
		is_str(json_string_value(json_object_get(back, "state")), "sent", "status_write_many: its state");
		json_decref(back);
	}
	fd0 = wa_durable_stats.fsync_dir;
	is_int(wa_outbox_finish_many(run, names, 10, &why), 0, "finish_many: ten");
	is_int(wa_durable_stats.fsync_dir - fd0, 2, "finish_many: two folder fsyncs (cur/, new/)");
	is_int(count(dir, "new"), 0, "finish_many: new/ empty");
	is_int(count(dir, "cur"), 10, "finish_many: ten in cur/");
	j = NULL;
	is_int(wa_outbox_find(run, "M3", &j), 0, "finish_many: the index knows M3 in cur/");
	json_decref(j);
	names[10] = "1700000000000.1_000000.GONE";
	why = (struct wa_why)WA_WHY_INIT;
	is_int(wa_outbox_finish_many(run, names + 10, 1, &why), WA_ENOTFOUND, "finish_many: a name not in new/");
	ok(strstr(why.text, "GONE") != NULL, "finish_many: why names it (%s)", why.text);
	st[0] = json_pack("{s:s}", "id", "M0");
	json_decref((json_t *)sts[0]);
	sts[0] = st[0];
	is_int(wa_outbox_status_write_many(run, sts, 10, &why), WA_EINVAL, "status_write_many: one without a state");
	for (i = 0; i < 10; i++)
		json_decref(st[i]);
	wa_outbox_free(ob);
	wa_outbox_free(run);
}

int
main(void)
{
	snprintf(top, sizeof top, "/tmp/t-outbox.XXXXXX");
	if (!mkdtemp(top))
		return 1;
	t_msgid();
	t_checks();
	t_roundtrip();
	t_prune();
	t_unsafe();
	t_crash_tmp();
	t_full_disk();
	t_watch();
	t_many();
	{
		char cmd[512];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", top);
	}
	done_testing();
	return exit_status();
}
