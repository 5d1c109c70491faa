/*
 * t-status - wa-run's status file and event history (lib/status.h): the
 * status is written through the durable write (fsync counters), has every
 * field, decodes back and is read by wa-check's parser; the write policy
 * (state changes, last_inbound at most once per interval); events are
 * appended one line each, 0600, a torn last line is skipped and sealed,
 * rotation keeps K files with every line in order, a crash gap in the
 * numbering is closed, and a symbolic link is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "store/authdir.h"
#include "store/durable.h"
#include "ops/event.h"
#include "ops/health.h"
#include "store/names.h"
#include "ops/status.h"
#include "signal/cipher.h"
#include "tap.h"

static char top[256];

static json_t *
load(int wafd, const char *name)
{
	char path[512];
	json_error_t je;
	int fd = openat(wafd, name, O_RDONLY);
	json_t *j;

	(void)path;
	if (fd < 0)
		return NULL;
	j = json_loadfd(fd, 0, &je);
	close(fd);
	return j;
}

static size_t
count_dir(int fd)
{
	char cmd[600];
	FILE *p;
	size_t n = 0;
	int c;

	(void)fd;
	snprintf(cmd, sizeof cmd, "ls -A '%s/auth/.wa/tmp'", top);
	if (!(p = popen(cmd, "r")))
		return 999;
	while ((c = fgetc(p)) != EOF)
		n += c == '\n';
	pclose(p);
	return n;
}

struct lines {
	long seq[4096];
	size_t n;
};

static int
collect(void *arg, json_t *o)
{
	struct lines *l = arg;

	if (l->n < 4096)
		l->seq[l->n++] = (long)json_integer_value(json_object_get(o, "seq"));
	return 0;
}

static size_t
fsize(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? (size_t)st.st_size : (size_t)-1;
}

static int
exists(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void
test_status(struct wa_authdir *ad)
{
	struct wa_statusw w;
	struct wa_statusw_opts o = { 30000 };
	struct wa_status st;
	struct wa_runstatus rs;
	struct stat sb;
	int64_t t0 = 1795256100000LL, t;
	unsigned long writes;
	json_t *j;
	char iso[40];

	wa_status_init(&w, ad->wafd, ad->stagefd, &o, t0);
	ok(!exists(ad->wafd, WA_STATUS), "init writes nothing");
	memset(&wa_durable_stats, 0, sizeof wa_durable_stats);
	is_int(wa_status_state(&w, WA_ST_CONNECTING, t0 + 5), 0, "state connecting: written");
	is_int(wa_durable_stats.fsync_file, 1, "  one file fsync");
	is_int(wa_durable_stats.fsync_dir, 1, "  one folder fsync");
	is_int(wa_durable_stats.rename, 1, "  one rename (the durable write)");
	is_int(count_dir(ad->stagefd), 0, "  nothing left in .wa/tmp");
	ok(fstatat(ad->wafd, WA_STATUS, &sb, AT_SYMLINK_NOFOLLOW) == 0 && (sb.st_mode & 0777) == 0600,
	    "  status.json is 0600");

	j = load(ad->wafd, WA_STATUS);
	ok(j && json_is_object(j), "  status.json is a JSON object");
	{
		static const char *fields[] = { "state", "since", "pid", "pstart", "started", "updated",
			"last_connected", "last_inbound", "last_error", "class", "code", "reconnects",
			"reconnects_since_online", "next_attempt", "exit_code", "version", "inbox",
			"last_message", "messages_received", "undecryptable", "decrypt_failures",
			"decrypt_failures_recent", "retries", "repaired", "quarantined", NULL };
		int all = 1, i;
		for (i = 0; fields[i]; i++)
			if (!json_object_get(j, fields[i])) {
				printf("# missing %s\n", fields[i]);
				all = 0;
			}
		ok(all, "  every documented field is present");
	}
	is_str(json_string_value(json_object_get(j, "state")), "connecting", "  state connecting");
	wa_time_iso(iso, sizeof iso, t0 + 5);
	is_str(json_string_value(json_object_get(j, "since")), iso, "  since is the change time, RFC 3339 with ms");
	is_int(json_integer_value(json_object_get(j, "pid")), getpid(), "  pid");
	ok(json_is_integer(json_object_get(j, "pstart")), "  pstart known on this system");
	ok(json_is_null(json_object_get(j, "last_inbound")) && json_is_null(json_object_get(j, "class")),
	    "  nothing received yet, no error: nulls");
	ok(json_is_null(json_object_get(j, "inbox")) && json_is_null(json_object_get(j, "last_message")) &&
	    json_integer_value(json_object_get(j, "messages_received")) == 0 &&
	    json_is_integer(json_object_get(j, "undecryptable")), "  no inbox, no message yet: nulls and 0");

	/* wa-check's reader understands it */
	wa_runstatus_parse(&rs, j);
	ok(rs.present && strcmp(rs.state, "connecting") == 0 && rs.pid == getpid() &&
	    rs.since == (t0 + 5) / 1000, "wa-check's parser: state, pid, since");
	json_decref(j);

	/* same state, nothing changed: no write */
	writes = w.writes;
	wa_status_state(&w, WA_ST_CONNECTING, t0 + 10);
	is_int(w.writes, writes, "same state again: not written");

	/* online, then inbound data */
	wa_status_online(&w, t0 + 1000);
	wa_status_state(&w, WA_ST_ONLINE, t0 + 1000);
	is_int(w.writes, writes + 1, "online: written");
	wa_status_inbound(&w, t0 + 1500);
	is_int(w.writes, writes + 2, "the first inbound is written at once");
	for (t = t0 + 2000; t < t0 + 1500 + 30000; t += 1000)
		wa_status_inbound(&w, t);
	is_int(w.writes, writes + 2, "inbound every second for 29 s: no write (interval 30 s)");
	wa_status_inbound(&w, t0 + 1500 + 30000);
	is_int(w.writes, writes + 3, "inbound 30 s after the last written one: written");
	wa_status_inbound(&w, t0 + 32000);
	is_int(w.writes, writes + 3, "another inbound 0.5 s later: pending");
	is_int(wa_status_tick(&w, t0 + 40000), 0, "tick before it is due");
	is_int(w.writes, writes + 3, "  writes nothing");
	is_int(wa_status_tick(&w, t0 + 61500), 0, "tick 30 s after the last inbound write");
	is_int(w.writes, writes + 4, "  writes the pending inbound");
	is_int(wa_status_tick(&w, t0 + 99000), 0, "tick with nothing pending");
	is_int(w.writes, writes + 4, "  writes nothing");
	is_int(wa_status_read(&st, ad->wafd), 0, "read back");
	ok(st.last_inbound == t0 + 32000 && st.last_connected == t0 + 1000 && st.state == WA_ST_ONLINE,
	    "  last_inbound and last_connected as written");

	/* a disconnect: error fields, counters, next attempt */
	wa_status_error(&w, "transient", 428, "connection closed by the server\nsecond line");
	wa_status_attempt(&w);
	wa_status_attempt(&w);
	wa_status_next(&w, t0 + 90000);
	wa_status_state(&w, WA_ST_BACKOFF, t0 + 80000);
	is_int(wa_status_read(&st, ad->wafd), 0, "backoff written and read back");
	ok(st.state == WA_ST_BACKOFF && st.code == 428 && strcmp(st.klass, "transient") == 0 &&
	    strcmp(st.last_error, "connection closed by the server second line") == 0,
	    "  class, code and last_error (one line)");
	ok(st.reconnects == 2 && st.reconnects_since_online == 2 && st.next_attempt == t0 + 90000,
	    "  reconnects 2, since online 2, next_attempt");
	wa_status_online(&w, t0 + 95000);
	wa_status_state(&w, WA_ST_ONLINE, t0 + 95000);
	wa_status_read(&st, ad->wafd);
	ok(st.reconnects == 2 && st.reconnects_since_online == 0 && st.next_attempt == 0,
	    "online again: reconnects kept, since-online 0, next_attempt null");

	/* final state */
	wa_status_error(&w, "logged_out", 401, "stream:error 401 <conflict type=\"device_removed\"/>");
	wa_status_exit(&w, 10);
	wa_status_state(&w, WA_ST_LOGGED_OUT, t0 + 100000);
	j = load(ad->wafd, WA_STATUS);
	wa_runstatus_parse(&rs, j);
	ok(strcmp(rs.state, "logged_out") == 0 && strcmp(rs.klass, "logged_out") == 0 &&
	    strstr(rs.last_error, "device_removed") && wa_runstatus_final(rs.state),
	    "wa-check's parser: logged_out is final, class and last_error");
	is_int(json_integer_value(json_object_get(j, "exit_code")), 10, "  exit_code 10");
	json_decref(j);
	ok(wa_state_final(WA_ST_LOGGED_OUT) && wa_state_final(WA_ST_STOPPED) &&
	    wa_state_final(WA_ST_RETRIES_EXHAUSTED) && !wa_state_final(WA_ST_BACKOFF) &&
	    !wa_state_final(WA_ST_BANNED) && !wa_state_final(WA_ST_ONLINE), "final states");
	{
		int i, all = 1;
		for (i = 0; i < WA_ST_COUNT; i++)
			if (wa_state_parse(wa_state_name((enum wa_state)i)) != i)
				all = 0;
		ok(all && wa_state_parse("nope") == -1, "state names round-trip");
	}

	/* decode is strict about types */
	j = json_pack("{s:s,s:s,s:i}", "state", "online", "since", "yesterday", "pid", 1);
	ok(wa_status_decode(&st, j, 0) == WA_ECORRUPT, "decode: a bad time is corrupt");
	json_decref(j);
	j = json_pack("{s:s}", "state", "dancing");
	ok(wa_status_decode(&st, j, 0) == WA_ECORRUPT, "decode: an unknown state is corrupt");
	json_decref(j);
	{
		int64_t ms;
		ok(wa_time_parse(&ms, "2026-11-21T10:15:00.123Z") == 0 && ms == 1795256100123LL,
		    "time parse with ms");
		ok(wa_time_parse(&ms, "2026-11-21T11:15:00+01:00") == 0 && ms == 1795256100000LL,
		    "time parse with an offset");
		ok(wa_time_parse(&ms, "2026-11-21T10:15:00") < 0, "time without a zone: refused");
		wa_time_iso(iso, sizeof iso, 1795256100123LL);
		is_str(iso, "2026-11-21T10:15:00.123Z", "time format");
	}
}

/* The receiving fields (issue 11): inbox, last_message, the counters. */
static void
test_messages(struct wa_authdir *ad)
{
	struct wa_statusw w;
	struct wa_statusw_opts o = { 30000 };
	struct wa_status st, back;
	struct wa_runstatus rs;
	int64_t t0 = 1795256100000LL, t;
	unsigned long writes;
	json_t *j;
	char *text;
	size_t len;
	int i;

	wa_status_init(&w, ad->wafd, ad->stagefd, &o, t0);
	wa_status_inbox(&w, "/var/lib/wa/acct.inbox");
	wa_status_online(&w, t0);
	is_int(wa_status_state(&w, WA_ST_ONLINE, t0), 0, "messages: online, inbox set");
	is_int(wa_status_read(&st, ad->wafd), 0, "  read back");
	ok(strcmp(st.inbox, "/var/lib/wa/acct.inbox") == 0 && st.last_message == 0 && st.messages_received == 0,
	    "  inbox written with the state, no message yet");
	wa_status_inbound(&w, t0 + 100);
	writes = w.writes;

	/* a message counts in memory; the write is lazy */
	wa_status_message(&w, t0 + 200, 1);
	is_int(w.writes, writes, "a message alone writes nothing");
	is_int(wa_status_tick(&w, t0 + 300), 0, "tick after the first message");
	is_int(w.writes, writes + 1, "  the first message is written at once");
	wa_status_read(&st, ad->wafd);
	ok(st.last_message == t0 + 200 && st.messages_received == 1 && st.undecryptable == 0,
	    "  last_message and messages_received 1 on disk");
	for (i = 0, t = t0 + 1000; i < 500; i++, t += 50) {
		wa_status_message(&w, t, i % 100 != 0);
		wa_status_inbound(&w, t);
		wa_status_tick(&w, t);
	}
	ok(w.writes == writes + 1, "500 messages with inbounds and ticks in 25 s: no write (interval 30 s), "
	    "%lu", w.writes - writes);
	is_int(wa_status_tick(&w, t0 + 300 + 30000), 0, "tick 30 s after the last lazy write");
	is_int(w.writes, writes + 2, "  writes once");
	wa_status_read(&st, ad->wafd);
	ok(st.messages_received == 501 && st.undecryptable == 5 && st.last_message == t - 50,
	    "  501 messages, 5 undecryptable, the last one's time");
	is_int(wa_status_tick(&w, t0 + 99000), 0, "tick with nothing pending");
	is_int(w.writes, writes + 2, "  writes nothing");

	/* round trip through the one encoder and the one decoder */
	memset(&st, 0, sizeof st);
	st.state = WA_ST_BACKOFF;
	st.since = t0;
	st.pid = 42;
	st.exit_code = -1;
	snprintf(st.inbox, sizeof st.inbox, "/srv/wa/inbox");
	st.last_message = t0 + 123;
	st.messages_received = 77;
	st.undecryptable = 3;
	is_int(wa_status_encode(&text, &len, &st, t0 + 500), 0, "encode the receiving fields");
	j = json_loadb(text, len, 0, NULL);
	free(text);
	is_int(wa_status_decode(&back, j, 0), 0, "  decode strictly");
	ok(strcmp(back.inbox, "/srv/wa/inbox") == 0 && back.last_message == t0 + 123 &&
	    back.messages_received == 77 && back.undecryptable == 3, "  inbox, last_message and counters round-trip");
	wa_runstatus_parse(&rs, j);
	ok(strcmp(rs.inbox, "/srv/wa/inbox") == 0 && rs.last_message == (t0 + 123) / 1000 &&
	    rs.messages_received == 77 && rs.undecryptable == 3, "  wa-check's parser reads them");
	json_object_set_new(j, "messages_received", json_string("many"));
	ok(wa_status_decode(&back, j, 0) == WA_ECORRUPT, "  strict: a counter of the wrong type is corrupt");
	ok(wa_status_decode(&back, j, WA_STATUS_LENIENT) == 0 && back.messages_received == 0 &&
	    back.undecryptable == 3, "  lenient: it keeps its default, the rest is read");
	json_decref(j);

	/* a file of an older wa-run, without the receiving fields */
	j = json_pack("{s:s, s:s, s:i, s:n, s:s, s:s, s:n, s:n, s:n, s:n, s:n, s:i, s:i, s:n, s:n, s:s}",
	    "state", "online", "since", "2026-11-21T10:15:00.000Z", "pid", 4242, "pstart", "started",
	    "2026-11-21T10:00:00.000Z", "updated", "2026-11-21T10:16:00.000Z", "last_connected", "last_inbound",
	    "last_error", "class", "code", "reconnects", 0, "reconnects_since_online", 0, "next_attempt",
	    "exit_code", "version", "0.9");
	is_int(wa_status_decode(&back, j, 0), 0, "an older status file without the receiving fields decodes strictly");
	ok(back.inbox[0] == 0 && back.last_message == 0 && back.messages_received == 0 && back.undecryptable == 0,
	    "  inbox and last_message null, counters 0");
	is_int(wa_status_decode(&back, j, WA_STATUS_LENIENT), 0, "  and leniently");
	wa_runstatus_parse(&rs, j);
	ok(rs.present && rs.inbox[0] == 0 && rs.last_message == 0 && rs.messages_received < 0,
	    "  wa-check's parser: no inbox, no last message, counters unknown");
	json_decref(j);
}

/* The self-healing counters: decrypt_failures by class since start, the
 * recent window of one-minute slots, retries/repaired/quarantined; lazy
 * like last_message; an older file decodes. */
static void
test_heal(struct wa_authdir *ad)
{
	struct wa_statusw w;
	struct wa_statusw_opts o = { 30000 };
	struct wa_status st, back;
	struct wa_runstatus rs;
	unsigned long f[16] = { 0 };
	int64_t t0 = 1795256100000LL, t;
	unsigned long writes;
	json_t *j, *m;
	char *text;
	size_t len;
	int i;

	wa_status_init(&w, ad->wafd, ad->stagefd, &o, t0);
	wa_status_online(&w, t0);
	is_int(wa_status_state(&w, WA_ST_ONLINE, t0), 0, "heal: online");
	j = load(ad->wafd, WA_STATUS);
	m = json_object_get(j, "decrypt_failures");
	ok(json_is_object(m) && json_object_size(m) == 0 &&
	    json_is_object(json_object_get(j, "decrypt_failures_recent")) &&
	    json_integer_value(json_object_get(j, "retries")) == 0 &&
	    json_is_integer(json_object_get(j, "repaired")) && json_is_integer(json_object_get(j, "quarantined")),
	    "  no failure yet: empty class objects, counters 0");
	json_decref(j);
	wa_status_inbound(&w, t0 + 500);   /* the first inbound: written at once */
	writes = w.writes;

	/* the first failures: memory, then written at once by the next tick */
	f[WA_SIGF_BAD_MAC] = 3;
	f[WA_SIGF_NO_SESSION] = 1;
	wa_status_heal(&w, t0 + 1000, f, 16, 4, 0, 1);
	is_int(w.writes, writes, "the first failures alone write nothing");
	is_int(wa_status_tick(&w, t0 + 2000), 0, "tick after them");
	is_int(w.writes, writes + 1, "  the first self-healing change is written at once");
	is_int(wa_status_read(&st, ad->wafd), 0, "  read back strictly");
	ok(st.heal && st.decrypt_failures[WA_SIGF_BAD_MAC] == 3 && st.decrypt_failures[WA_SIGF_NO_SESSION] == 1 &&
	    st.decrypt_recent[WA_SIGF_BAD_MAC] == 3 && st.decrypt_recent[WA_SIGF_NO_SESSION] == 1 &&
	    st.retries == 4 && st.repaired == 0 && st.quarantined == 1,
	    "  bad_mac 3, no_session 1 since start and recent; 4 retries, 1 quarantined");
	j = load(ad->wafd, WA_STATUS);
	is_int(json_integer_value(json_object_get(json_object_get(j, "decrypt_failures"), "bad_mac")), 3,
	    "  on disk by name: decrypt_failures.bad_mac 3");
	is_int(json_integer_value(json_object_get(json_object_get(j, "decrypt_failures_recent"), "no_session")), 1,
	    "  decrypt_failures_recent.no_session 1");
	wa_runstatus_parse(&rs, j);
	ok(rs.heal_present && rs.failures[WA_SIGF_BAD_MAC] == 3 && rs.recent[WA_SIGF_NO_SESSION] == 1 &&
	    rs.retries == 4 && rs.quarantined == 1 && rs.updated == (t0 + 2000) / 1000,
	    "  wa-check's parser reads them and updated");
	json_decref(j);

	/* a storm: 1000 more over 20 s, ticks and inbounds: no write per failure */
	for (i = 0, t = t0 + 3000; i < 1000; i++, t += 20) {
		f[WA_SIGF_BAD_MAC]++;
		wa_status_heal(&w, t, f, 16, 4 + (unsigned long)i, 0, 1);
		wa_status_inbound(&w, t);
		wa_status_tick(&w, t);
	}
	ok(w.writes == writes + 1, "1000 failures in 20 s with inbounds and ticks: no write (interval 30 s), %lu",
	    w.writes - writes);
	is_int(wa_status_tick(&w, t0 + 2000 + 30000), 0, "tick 30 s after the last lazy write");
	is_int(w.writes, writes + 2, "  writes once");
	wa_status_read(&st, ad->wafd);
	ok(st.decrypt_failures[WA_SIGF_BAD_MAC] == 1003 && st.decrypt_recent[WA_SIGF_BAD_MAC] == 1003,
	    "  bad_mac 1003 since start and in the window");

	/* a repair four minutes later: since start grows, the window too */
	f[WA_SIGF_NO_SENDER_KEY] = 2;
	wa_status_heal(&w, t0 + 240000, f, 16, 1010, 1, 2);
	wa_status_tick(&w, t0 + 240000);
	wa_status_read(&st, ad->wafd);
	ok(st.repaired == 1 && st.quarantined == 2 && st.decrypt_recent[WA_SIGF_NO_SENDER_KEY] == 2 &&
	    st.decrypt_recent[WA_SIGF_BAD_MAC] == 1003, "4 min later: repaired 1, no_sender_key 2 in the window");

	/* the first minute's failures age out of the window; the tick writes
	 * that without any new failure */
	writes = w.writes;
	is_int(wa_status_tick(&w, t0 + 11 * 60000), 0, "11 min later, a tick");
	is_int(w.writes, writes + 1, "  the window changed: written");
	wa_status_read(&st, ad->wafd);
	ok(st.decrypt_failures[WA_SIGF_BAD_MAC] == 1003 && st.decrypt_recent[WA_SIGF_BAD_MAC] == 0 &&
	    st.decrypt_recent[WA_SIGF_NO_SENDER_KEY] == 2, "  bad_mac gone from the window, kept since start; "
	    "no_sender_key still in it");
	wa_status_tick(&w, t0 + 16 * 60000);
	wa_status_read(&st, ad->wafd);
	ok(st.decrypt_recent[WA_SIGF_NO_SENDER_KEY] == 0 && st.decrypt_failures[WA_SIGF_NO_SENDER_KEY] == 2,
	    "16 min later: the window is empty");
	writes = w.writes;
	wa_status_tick(&w, t0 + 40 * 60000);
	is_int(w.writes, writes, "  and stays so: no more writes");

	/* round trip, an unknown class, an index past the table */
	memset(&st, 0, sizeof st);
	st.state = WA_ST_ONLINE;
	st.since = t0;
	st.exit_code = -1;
	st.decrypt_failures[WA_SIGF_UNTRUSTED] = 5;
	st.decrypt_failures[15] = 2;   /* no name: "other" */
	st.decrypt_recent[WA_SIGF_CORRUPT] = 1;
	st.retries = 9;
	st.repaired = 8;
	st.quarantined = 7;
	is_int(wa_status_encode(&text, &len, &st, t0 + 500), 0, "encode the self-healing fields");
	j = json_loadb(text, len, 0, NULL);
	free(text);
	is_int(json_integer_value(json_object_get(json_object_get(j, "decrypt_failures"), "other")), 2,
	    "  a class without a name is written as other");
	is_int(wa_status_decode(&back, j, 0), 0, "  decode strictly");
	ok(back.heal && back.decrypt_failures[WA_SIGF_UNTRUSTED] == 5 && back.decrypt_failures[0] == 2 &&
	    back.decrypt_recent[WA_SIGF_CORRUPT] == 1 && back.retries == 9 && back.repaired == 8 &&
	    back.quarantined == 7 && back.updated == t0 + 500, "  classes, counters and updated round-trip");
	json_object_set_new(json_object_get(j, "decrypt_failures"), "from_the_future", json_integer(4));
	ok(wa_status_decode(&back, j, 0) == 0 && back.decrypt_failures[0] == 6,
	    "  a class name this version does not know counts as other");
	json_object_set_new(json_object_get(j, "decrypt_failures"), "bad_mac", json_string("x"));
	ok(wa_status_decode(&back, j, 0) == WA_ECORRUPT, "  strict: a count of the wrong type is corrupt");
	ok(wa_status_decode(&back, j, WA_STATUS_LENIENT) == 0 && back.decrypt_failures[WA_SIGF_UNTRUSTED] == 5 &&
	    back.retries == 9, "  lenient: that count is skipped, the rest is read");
	json_object_set_new(j, "decrypt_failures_recent", json_integer(3));
	ok(wa_status_decode(&back, j, WA_STATUS_LENIENT) == 0 && back.decrypt_recent[WA_SIGF_CORRUPT] == 0,
	    "  lenient: a window that is not an object counts as empty");
	json_decref(j);

	/* an older file: no self-healing fields */
	j = json_pack("{s:s, s:s, s:i, s:n, s:s, s:s, s:n, s:n, s:n, s:n, s:n, s:i, s:i, s:n, s:n, s:s, s:n, "
	    "s:n, s:i, s:i}",
	    "state", "online", "since", "2026-11-21T10:15:00.000Z", "pid", 4242, "pstart", "started",
	    "2026-11-21T10:00:00.000Z", "updated", "2026-11-21T10:16:00.000Z", "last_connected", "last_inbound",
	    "last_error", "class", "code", "reconnects", 0, "reconnects_since_online", 0, "next_attempt",
	    "exit_code", "version", "0.9", "inbox", "last_message", "messages_received", 3, "undecryptable", 0);
	is_int(wa_status_decode(&back, j, 0), 0, "an older file without the self-healing fields decodes strictly");
	ok(!back.heal && back.decrypt_failures[WA_SIGF_BAD_MAC] == 0 && back.retries == 0, "  counters 0, heal 0");
	wa_runstatus_parse(&rs, j);
	ok(rs.present && !rs.heal_present, "  wa-check's parser: no self-healing fields");
	json_decref(j);
}

static void
write_raw(int dirfd, const char *name, const char *s)
{
	int fd = openat(dirfd, name, O_WRONLY | O_APPEND | O_CREAT, 0600);

	if (fd >= 0) {
		if (write(fd, s, strlen(s)) < 0)
			perror("write");
		close(fd);
	}
}

static void
test_events(struct wa_authdir *ad)
{
	struct wa_eventlog *l;
	struct wa_eventlog_opts o = { 0, 0, 0 };
	struct wa_event e;
	struct lines got;
	struct stat sb;
	size_t skipped, len;
	char *line;
	int i, rc, inorder;

	umask(0);
	rc = wa_eventlog_open(&l, ad->wafd, &o);
	umask(077);
	is_int(rc, 0, "event log opened");
	ok(fstatat(ad->wafd, WA_EVENTS, &sb, AT_SYMLINK_NOFOLLOW) == 0 && (sb.st_mode & 0777) == 0600,
	    "events.jsonl created 0600 (under umask 000)");
	memset(&wa_durable_stats, 0, sizeof wa_durable_stats);
	for (i = 1; i <= 5; i++) {
		wa_event_init(&e, WA_EV_CONNECTING, WA_ST_CONNECTING);
		e.seq = (unsigned long)i;
		e.attempt = (unsigned)i;
		wa_event_format(&line, &len, &e);
		wa_eventlog_append(l, line, len);
		free(line);
	}
	ok(wa_durable_stats.fsync_dir >= 5, "each append is flushed (wa_durable_syncfd: %lu)",
	    wa_durable_stats.fsync_dir);
	memset(&got, 0, sizeof got);
	rc = wa_eventlog_read(ad->wafd, WA_EVENTS, collect, &got, &skipped);
	ok(rc == 0 && got.n == 5 && skipped == 0 && got.seq[0] == 1 && got.seq[4] == 5,
	    "five events read back in order");
	is_int(wa_eventlog_append(l, "{\"seq\":6}", 9), 0, "a line without its newline gets one");

	/* a crash tears the last line */
	write_raw(ad->wafd, WA_EVENTS, "{\"ts\":\"2026-11-21T10:1");
	memset(&got, 0, sizeof got);
	rc = wa_eventlog_read(ad->wafd, WA_EVENTS, collect, &got, &skipped);
	ok(rc == 0 && got.n == 6 && skipped == 1, "a torn last line is skipped (%zu read, %zu skipped)",
	    got.n, skipped);
	wa_eventlog_close(l);
	is_int(wa_eventlog_open(&l, ad->wafd, &o), 0, "reopened after the crash");
	wa_eventlog_append(l, "{\"seq\":7}\n", 10);
	memset(&got, 0, sizeof got);
	rc = wa_eventlog_read(ad->wafd, WA_EVENTS, collect, &got, &skipped);
	ok(rc == 0 && got.n == 7 && skipped == 1 && got.seq[6] == 7,
	    "the torn line was sealed: the next event is its own line (%zu read, %zu skipped)", got.n,
	    skipped);
	wa_eventlog_close(l);

	/* rotation: 1000 bytes, keep 2 */
	unlinkat(ad->wafd, WA_EVENTS, 0);
	o.max_bytes = 1000;
	o.keep = 2;
	is_int(wa_eventlog_open(&l, ad->wafd, &o), 0, "opened with max 1000 bytes, keep 2");
	for (i = 1; i <= 60; i++) {
		wa_event_init(&e, WA_EV_RECONNECT, WA_ST_BACKOFF);
		e.seq = (unsigned long)i;
		e.delay_ms = 1234;
		e.attempt = (unsigned)i;
		e.at = 1795256100000LL;
		e.ts = 1795256100000LL;
		wa_event_format(&line, &len, &e);
		if (wa_eventlog_append(l, line, len) < 0)
			ok(0, "append %d: %s", i, strerror(errno));
		free(line);
	}
	ok(wa_eventlog_rotations(l) >= 3, "rotated %lu times", wa_eventlog_rotations(l));
	ok(exists(ad->wafd, WA_EVENTS) && exists(ad->wafd, WA_EVENTS ".1") && exists(ad->wafd, WA_EVENTS ".2") &&
	    !exists(ad->wafd, WA_EVENTS ".3"), "events.jsonl, .1, .2 and no .3");
	ok(fsize(ad->wafd, WA_EVENTS) <= 1000 && fsize(ad->wafd, WA_EVENTS ".1") <= 1000 &&
	    fsize(ad->wafd, WA_EVENTS ".2") <= 1000, "each file within 1000 bytes");
	memset(&got, 0, sizeof got);
	wa_eventlog_read(ad->wafd, WA_EVENTS ".2", collect, &got, NULL);
	wa_eventlog_read(ad->wafd, WA_EVENTS ".1", collect, &got, NULL);
	wa_eventlog_read(ad->wafd, WA_EVENTS, collect, &got, NULL);
	inorder = got.n > 0 && got.seq[got.n - 1] == 60;
	for (i = 1; i < (int)got.n; i++)
		if (got.seq[i] != got.seq[i - 1] + 1)
			inorder = 0;
	ok(inorder, "the kept files hold the last %zu events, contiguous and in order (%ld..%ld)", got.n,
	    got.n ? got.seq[0] : 0, got.n ? got.seq[got.n - 1] : 0);
	ok(fstatat(ad->wafd, WA_EVENTS ".1", &sb, AT_SYMLINK_NOFOLLOW) == 0 && (sb.st_mode & 0777) == 0600,
	    "rotated files stay 0600");
	is_int(count_dir(ad->stagefd), 0, "nothing in .wa/tmp");

	/* a crash mid-rotation left a gap: .1 missing */
	unlinkat(ad->wafd, WA_EVENTS ".1", 0);
	for (i = 61; i <= 80; i++) {
		char buf[200];
		int n = snprintf(buf, sizeof buf, "{\"seq\":%d,\"pad\":\"%060d\"}\n", i, 0);
		if (wa_eventlog_append(l, buf, (size_t)n) < 0)
			ok(0, "append %d after the gap: %s", i, strerror(errno));
	}
	ok(exists(ad->wafd, WA_EVENTS ".1") && exists(ad->wafd, WA_EVENTS ".2") && !exists(ad->wafd, WA_EVENTS ".3"),
	    "rotation after a gap in the numbering: .1 and .2 again, no .3");
	wa_eventlog_close(l);

	/* a symbolic link is refused, its target untouched */
	unlinkat(ad->wafd, WA_EVENTS, 0);
	write_raw(ad->wafd, "target", "x");
	if (symlinkat("target", ad->wafd, WA_EVENTS) < 0)
		perror("symlink");
	rc = wa_eventlog_open(&l, ad->wafd, &o);
	is_int(rc, WA_EUNSAFE, "events.jsonl as a symbolic link: refused");
	is_int(fsize(ad->wafd, "target"), 1, "  the target is untouched");
	unlinkat(ad->wafd, WA_EVENTS, 0);
	unlinkat(ad->wafd, "target", 0);
	if (mkfifoat(ad->wafd, WA_EVENTS, 0600) == 0) {
		rc = wa_eventlog_open(&l, ad->wafd, &o);
		ok(rc == WA_EUNSAFE || rc == WA_ESYS, "events.jsonl as a FIFO: refused without blocking");
		unlinkat(ad->wafd, WA_EVENTS, 0);
	}
	is_int(wa_eventlog_read(ad->wafd, WA_EVENTS, collect, &got, NULL), WA_ENOTFOUND,
	    "reading a missing history: WA_ENOTFOUND");

	/* line cap */
	is_int(wa_eventlog_open(&l, ad->wafd, NULL), 0, "opened with the defaults");
	{
		char *big = malloc(70000);
		memset(big, 'x', 70000);
		is_int(wa_eventlog_append(l, big, 70000), WA_ETOOBIG, "a 70000-byte line: WA_ETOOBIG");
		free(big);
	}
	wa_eventlog_close(l);
}

int
main(void)
{
	struct wa_authdir *ad;
	struct wa_why why;
	char d[300], cmd[400];

	snprintf(top, sizeof top, "%s/t-status.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(d, sizeof d, "%s/auth", top);
	if (wa_authdir_open(&ad, d, WA_AUTHDIR_WRITE | WA_AUTHDIR_CREATE, "t-status", NULL, &why) < 0) {
		printf("Bail out! %s\n", why.text);
		return 1;
	}
	test_status(ad);
	test_messages(ad);
	test_heal(ad);
	test_events(ad);
	wa_authdir_close(ad);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
	if (system(cmd) != 0)
		perror("rm");
	done_testing();
	return exit_status();
}
