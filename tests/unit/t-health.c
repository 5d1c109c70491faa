/*
 * t-health - the library side of wa-check and wa-prune: the JSON
 * validator (against jansson on every truncation and many mutations of
 * real-shaped documents), the status file reader, wa_health_check on
 * folders built here, the quarantine (stamps, moves, listing, purge) and
 * the prune selection (contacts, the pre-key rule).
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
#include "ops/health.h"
#include "store/names.h"
#include "ops/prune.h"
#include "store/quarantine.h"
#include "store/scan.h"
#include "tap.h"

static char top[256];

#define K32A "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
#define K32B "ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A="
#define K64 "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA=="
#define BUF(x) "{\"type\":\"Buffer\",\"data\":\"" x "\"}"
#define KP "{\"private\":" BUF(K32A) ",\"public\":" BUF(K32B) "}"

static const char *creds_paired =
	"{\"noiseKey\":" KP ",\"pairingEphemeralKeyPair\":" KP ",\"signedIdentityKey\":" KP
	",\"signedPreKey\":{\"keyPair\":" KP ",\"signature\":" BUF(K64) ",\"keyId\":1}"
	",\"registrationId\":1234,\"advSecretKey\":\"" K32A "\",\"processedHistoryMessages\":[]"
	",\"nextPreKeyId\":31,\"firstUnuploadedPreKeyId\":31,\"accountSyncCounter\":0"
	",\"accountSettings\":{\"unarchiveChats\":false},\"registered\":false"
	",\"me\":{\"id\":\"15550001111:3@s.whatsapp.net\",\"lid\":\"99990001111:3@lid\"}"
	",\"account\":{\"details\":\"" K32A "\",\"accountSignatureKey\":\"" K32B "\","
	"\"accountSignature\":\"" K64 "\",\"deviceSignature\":\"" K64 "\"},\"platform\":\"android\"}";

static const char *session_json =
	"{\"_sessions\":{\"BQ==\":{\"registrationId\":7,\"currentRatchet\":{\"ephemeralKeyPair\":"
	"{\"pubKey\":\"" K32A "\",\"privKey\":\"" K32B "\"},\"lastRemoteEphemeralKey\":\"" K32A "\","
	"\"previousCounter\":-1,\"rootKey\":\"" K32B "\"},\"indexInfo\":{\"baseKey\":\"" K32A "\","
	"\"baseKeyType\":1,\"closed\":-1,\"used\":1795256113000,\"created\":1795256113000,"
	"\"remoteIdentityKey\":\"" K32A "\"},\"_chains\":{\"" K32B "\":{\"chainKey\":{\"counter\":-1,"
	"\"key\":\"" K32A "\"},\"chainType\":1,\"messageKeys\":{\"0\":\"" K32B "\"}}}}},\"version\":\"v1\"}";

/* ---- helpers ---- */

static void
put(const char *dir, const char *name, const char *content, mode_t mode)
{
	char p[1024];
	int fd;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content)) {
		perror(p);
		exit(2);
	}
	fchmod(fd, mode);
	close(fd);
}

static char *
mkfolder(const char *name)
{
	static char p[512];

	snprintf(p, sizeof p, "%s/%s", top, name);
	if (mkdir(p, 0700) < 0) {
		perror(p);
		exit(2);
	}
	put(p, "creds.json", creds_paired, 0600);
	put(p, "pre-key-1.json", "{\"private\":" BUF(K32A) ",\"public\":" BUF(K32B) "}", 0600);
	put(p, "pre-key-2.json", "{\"private\":" BUF(K32A) ",\"public\":" BUF(K32B) "}", 0600);
	put(p, "session-15550002222.0.json", session_json, 0600);
	put(p, "session-15550002222.5.json", session_json, 0600);
	put(p, "session-99990003333_1.0.json", session_json, 0600);
	put(p, "sender-key-memory-120363000000000000@g.us.json", "{\"15550002222:0@s.whatsapp.net\":true}", 0600);
	put(p, "lid-mapping-15550003333.json", "\"99990003333\"", 0600);
	put(p, "lid-mapping-99990003333_reverse.json", "\"15550003333\"", 0600);
	put(p, "notes.txt", "not json, not ours\n", 0644);
	return p;
}

static int
has_problem(const struct wa_health *h, enum wa_sev sev, const char *path_end, const char *text)
{
	size_t i, n = path_end ? strlen(path_end) : 0;

	for (i = 0; i < h->nproblems; i++) {
		const struct wa_problem *p = &h->problems[i];
		if (p->sev != sev)
			continue;
		if (path_end && (!p->path || strlen(p->path) < n || strcmp(p->path + strlen(p->path) - n, path_end)))
			continue;
		if (text && !strstr(p->message, text))
			continue;
		return 1;
	}
	return 0;
}

static void
dump(const struct wa_health *h)
{
	size_t i;

	for (i = 0; i < h->nproblems; i++)
		printf("#   %s '%s': %s\n", wa_sev_name(h->problems[i].sev),
		    h->problems[i].path ? h->problems[i].path : "-", h->problems[i].message);
}

static struct wa_health *
check(const char *dir, const struct wa_health_opts *o)
{
	struct wa_health *h;

	if (wa_health_check(&h, dir, o) < 0) {
		printf("Bail out! wa_health_check: out of memory\n");
		exit(1);
	}
	return h;
}

/* ---- the validator ---- */

static int
jansson_ok(const char *buf, size_t len)
{
	json_t *j = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	json_decref(j);
	return j != NULL;
}

static void
test_validator(void)
{
	static const struct { const char *doc; int ok; const char *why; } cases[] = {
		{ "{}", 1, NULL }, { "[]", 1, NULL }, { " {\"a\" : [1, -2.5e+3, true, false, null, \"x\"]} \n", 1, NULL },
		{ "\"lid\"", 1, NULL }, { "0", 1, NULL }, { "-0.0E-0", 1, NULL },
		{ "{\"a\":\"\\u00e9\\n\\\"\\\\\\/\"}", 1, NULL }, { "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", 1, NULL },
		{ "123456789012345678901234567890", 1, NULL },   /* JSON.parse takes it, jansson does not */
		{ "", 0, "empty file" }, { "  \n", 0, "only white space" },
		{ "{", 0, "unexpected end of input" }, { "{\"a\":1", 0, "unexpected end of input" },
		{ "{\"a\":1,}", 0, "expected a string key" }, { "[1,]", 0, "unexpected character" },
		{ "{\"a\" 1}", 0, "expected ':'" }, { "{1:2}", 0, "expected a string key" },
		{ "01", 0, "unexpected data after the end" }, { "1.", 0, "unexpected end of input" },
		{ "1.e3", 0, "invalid number" }, { "-", 0, "unexpected end of input" }, { "+1", 0, "unexpected character" },
		{ "tru", 0, "unexpected end of input" }, { "trux", 0, "invalid literal" }, { "nul", 0, NULL },
		{ "\"a\tb\"", 0, "control character in a string" }, { "\"\\x\"", 0, "invalid escape" },
		{ "\"\\u12g4\"", 0, "invalid \\u escape" }, { "\"\xc3", 0, "unexpected end of input" }, { "\"\xc3\"", 0, "invalid UTF-8" },
		{ "\"\xc0\xaf\"", 0, "invalid UTF-8" }, { "\"\xed\xa0\x80\"", 0, "invalid UTF-8" },
		{ "\"\xf4\x90\x80\x80\"", 0, "invalid UTF-8" }, { "\xef\xbb\xbf{}", 0, "unexpected character" },
		{ "{}{}", 0, "unexpected data after the end" }, { "[1 2]", 0, "expected ',' or ']'" },
		{ "{\"a\":1 \"b\":2}", 0, "expected ',' or '}'" }, { "'a'", 0, NULL },
	};
	size_t i, pos, len, agree, total, n;
	const char *reason;
	char *deep;
	char buf[4096];

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *sp;
		char show[200];
		size_t o = 0;
		int rc;
		for (sp = cases[i].doc; *sp && o + 5 < sizeof show; sp++) {
			unsigned char ch = (unsigned char)*sp;
			o += (size_t)snprintf(show + o, sizeof show - o, ch < 0x20 || ch >= 0x7f ? "\\x%02x" : "%c", ch);
		}
		show[o] = 0;
		reason = NULL;
		rc = wa_json_check(cases[i].doc, strlen(cases[i].doc), &pos, &reason);
		ok((rc == 0) == cases[i].ok, "json_check %s '%s'", cases[i].ok ? "accepts" : "rejects", show);
		if (!cases[i].ok && cases[i].why)
			is_str(reason, cases[i].why, "  reason for '%s'", show);
	}
	pos = 0;
	wa_json_check("{\"a\":[1,2", 9, &pos, &reason);
	is_int(pos, 9, "a truncated document fails at its last byte");
	wa_json_check("{\"a\":[1,x]}", 11, &pos, &reason);
	is_int(pos, 8, "the offset points at the bad byte");

	/* nesting: deep is fine up to the cap, beyond it an error, no crash */
	n = WA_JSON_MAX_DEPTH;
	deep = malloc(2 * n + 2);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	ok(wa_json_check(deep, 2 * n, NULL, NULL) == 0, "nesting %zu deep is valid", n);
	memset(deep, '[', n + 1);
	memset(deep + n + 1, ']', n + 1);
	ok(wa_json_check(deep, 2 * n + 2, &pos, &reason) < 0 && strcmp(reason, "nested too deeply") == 0,
	    "nesting beyond the cap is an error");
	free(deep);

	/* every proper prefix of a real document is invalid, like jansson says */
	len = strlen(session_json);
	agree = 0;
	for (i = 0; i < len; i++)
		agree += (wa_json_check(session_json, i, NULL, NULL) < 0) && !jansson_ok(session_json, i);
	is_int(agree, len, "all %zu truncations of a session file rejected by both", len);
	ok(wa_json_check(session_json, len, NULL, NULL) == 0, "the whole session file is valid");
	ok(wa_json_check(creds_paired, strlen(creds_paired), NULL, NULL) == 0, "the creds file is valid");

	/* single-byte mutations: agree with jansson (no big numbers or
	 * surrogates can arise from these substitutions) */
	{
		static const char subst[] = "{}[]:,\"\\ 0-9.eEtfnu\x01\xc3\x80x";
		agree = total = 0;
		len = strlen(creds_paired) < sizeof buf ? strlen(creds_paired) : sizeof buf;
		for (i = 0; i < len; i += 3) {
			size_t k;
			for (k = 0; k < sizeof subst - 1; k++) {
				int a, b;
				memcpy(buf, creds_paired, len);
				buf[i] = subst[k];
				a = wa_json_check(buf, len, NULL, NULL) == 0;
				b = jansson_ok(buf, len);
				total++;
				if (a == b)
					agree++;
				else if (total - agree <= 3)
					printf("#   disagree at %zu with 0x%02x: ours %d, jansson %d\n", i,
					    (unsigned char)subst[k], a, b);
			}
		}
		is_int(agree, total, "%zu single-byte mutations of creds: same verdict as jansson", total);
	}
}

/* ---- status file ---- */

static void
test_runstatus(void)
{
	struct wa_runstatus st;
	json_t *j;

	j = json_pack("{s:s, s:s, s:i, s:I, s:s, s:s, s:i}", "state", "connected", "since", "2026-11-21T10:15:00Z",
	    "pid", 4242, "last_inbound", (json_int_t)1795256113000LL, "last_error", "bad\nline", "class", "net",
	    "future_field", 1);
	wa_runstatus_parse(&st, j);
	ok(st.present, "status: present");
	is_str(st.state, "connected", "status: state");
	is_int(st.since, 1795256100, "status: RFC 3339 since");
	is_int(st.last_inbound, 1795256113, "status: milliseconds taken as such");
	is_int(st.pid, 4242, "status: pid");
	is_str(st.last_error, "bad line", "status: last_error kept on one line");
	is_str(st.klass, "net", "status: class");
	is_int(st.alive, -1, "status: alive unknown until looked up");
	json_decref(j);

	j = json_pack("{s:i, s:s, s:s}", "state", 3, "since", "yesterday", "pid", "12");
	wa_runstatus_parse(&st, j);
	ok(st.present && !st.state[0] && !st.since && !st.pid, "status: wrong types count as absent");
	json_decref(j);
	j = json_array();
	wa_runstatus_parse(&st, j);
	ok(!st.present, "status: not an object is not a status");
	json_decref(j);

	/* times through the status reader: offset, real seconds, bad ones absent */
	j = json_pack("{s:s, s:s}", "state", "online", "since", "2026-11-21T12:15:00.250+02:00");
	wa_runstatus_parse(&st, j);
	ok(st.since == 1795256100, "time: fraction and offset");
	json_decref(j);
	j = json_pack("{s:s, s:f}", "state", "online", "since", 1795256100.5);
	wa_runstatus_parse(&st, j);
	ok(st.since == 1795256100, "time: real seconds");
	json_decref(j);
	j = json_pack("{s:s, s:s}", "state", "online", "since", "2026-13-01T00:00:00Z");
	wa_runstatus_parse(&st, j);
	ok(st.present && st.since == 0, "time: month 13 refused");
	json_decref(j);
	j = json_pack("{s:s, s:s}", "state", "online", "since", "2026-11-21T10:15:00");
	wa_runstatus_parse(&st, j);
	ok(st.present && st.since == 0, "time: no zone refused");
	json_decref(j);
	ok(wa_runstatus_final("stopped") && wa_runstatus_final("logged_out") && !wa_runstatus_final("connected"),
	    "final states");
	ok(!wa_runstatus_final("exited"), "final states: only the ones wa-run writes (not \"exited\")");
}

/* ---- the check ---- */

static void
test_check(void)
{
	struct wa_health_opts o = WA_HEALTH_OPTS_INIT;
	struct wa_health *h;
	char p[600], q[1200];
	char *d;

	d = mkfolder("good");
	h = check(d, NULL);
	is_int(h->status, WA_SEV_OK, "a good folder is OK");
	if (h->status != WA_SEV_OK)
		dump(h);
	is_int(h->files, 10, "10 files counted");
	is_int(h->count[WA_FT_SESSION], 3, "3 sessions");
	is_int(h->count[WA_FT_PRE_KEY], 2, "2 pre-keys");
	is_int(h->count[WA_FT_OTHER], 1, "1 other file");
	is_str(h->me, "15550001111:3@s.whatsapp.net", "me.id");
	is_str(h->account, "15550001111", "account");
	ok(h->paired && h->creds_ok, "paired and complete");
	wa_health_free(h);

	o.warn_files = 5;
	h = check(d, &o);
	is_int(h->status, WA_SEV_WARNING, "over --warn-files: WARNING");
	wa_health_free(h);
	o.crit_files = 9;
	h = check(d, &o);
	is_int(h->status, WA_SEV_CRITICAL, "over --crit-files: CRITICAL");
	ok(has_problem(h, WA_SEV_CRITICAL, "good", "10 files, over the critical threshold of 9"), "  names the count");
	wa_health_free(h);
	o.warn_files = o.crit_files = 10;
	h = check(d, &o);
	is_int(h->status, WA_SEV_OK, "exactly at the thresholds: OK");
	wa_health_free(h);

	snprintf(p, sizeof p, "%s/none", top);
	h = check(p, NULL);
	is_int(h->status, WA_SEV_CRITICAL, "missing folder: CRITICAL");
	ok(has_problem(h, WA_SEV_CRITICAL, "/none", "no such folder"), "  named");
	ok(!h->scanned, "  nothing counted");
	wa_health_free(h);

	snprintf(p, sizeof p, "%s/good/creds.json", top);
	h = check(p, NULL);
	ok(h->status == WA_SEV_CRITICAL && has_problem(h, WA_SEV_CRITICAL, "creds.json", "not a folder"),
	    "a file as the folder: CRITICAL");
	wa_health_free(h);

	snprintf(q, sizeof q, "%s/link", top);
	if (symlink(d, q) < 0)
		perror("symlink");
	h = check(q, NULL);
	ok(h->status == WA_SEV_CRITICAL && has_problem(h, WA_SEV_CRITICAL, "/link", "symbolic link"),
	    "a symlinked folder: CRITICAL");
	wa_health_free(h);

	/* several broken files: all named, creds first */
	d = mkfolder("broken");
	put(d, "creds.json", "{\"noiseKey\":{\"priv", 0600);
	put(d, "session-15550002222.0.json", "{\"_sessions\":{", 0600);
	put(d, "pre-key-2.json", "", 0600);
	put(d, "other.json", "nope", 0600);
	put(d, "pre-key-1.json", "{\"private\":" BUF(K32A) ",\"public\":" BUF(K32B) "}", 0644);
	h = check(d, NULL);
	is_int(h->status, WA_SEV_CRITICAL, "broken files: CRITICAL");
	ok(h->nproblems && h->problems[0].path && strstr(h->problems[0].path, "creds.json"),
	    "  creds.json is the worst problem");
	ok(has_problem(h, WA_SEV_CRITICAL, "creds.json", "at byte 18 of 18: unexpected end of input (truncated)"),
	    "  truncated creds.json: byte offset");
	ok(has_problem(h, WA_SEV_CRITICAL, "creds.json", "wa-restore"), "  points to wa-restore");
	ok(has_problem(h, WA_SEV_CRITICAL, "session-15550002222.0.json", "unexpected end of input"),
	    "  truncated session named");
	ok(has_problem(h, WA_SEV_CRITICAL, "pre-key-2.json", "empty file"), "  empty pre-key named");
	ok(has_problem(h, WA_SEV_WARNING, "other.json", "not valid JSON"), "  other JSON: WARNING");
	ok(has_problem(h, WA_SEV_WARNING, "pre-key-1.json", "mode 0644"), "  0644 key file: WARNING (the mode rule)");
	{
		size_t k;
		int found = 0;
		for (k = 0; k < h->nproblems; k++)
			if (h->problems[k].path && strstr(h->problems[k].path, "pre-key-1.json") &&
			    strcmp(h->problems[k].kind, "file_mode") == 0 && h->problems[k].fix &&
			    strncmp(h->problems[k].fix, "chmod 600 '", 11) == 0)
				found = 1;
		ok(found, "  kind file_mode, fix chmod 600 'DIR/pre-key-1.json'");
	}
	ok(!has_problem(h, WA_SEV_CRITICAL, "notes.txt", NULL), "  notes.txt (0644, not JSON) left alone");
	is_int(h->nproblems, 5, "  5 problems");
	if (h->nproblems != 5)
		dump(h);
	wa_health_free(h);

	/* creds states */
	d = mkfolder("unpaired");
	put(d, "creds.json", creds_paired, 0600);
	{
		json_t *c = json_loads(creds_paired, 0, NULL);
		char *s;
		json_object_del(c, "account");
		s = json_dumps(c, JSON_COMPACT);
		put(d, "creds.json", s, 0600);
		free(s);
		json_decref(c);
	}
	h = check(d, NULL);
	ok(h->status == WA_SEV_CRITICAL && has_problem(h, WA_SEV_CRITICAL, "creds.json", "not paired: run wa-pair"),
	    "me without account: not paired");
	ok(!h->paired && h->creds_ok, "  complete, not paired");
	wa_health_free(h);
	put(d, "creds.json", "{\"me\":{\"id\":\"1@s.whatsapp.net\"}}", 0600);
	h = check(d, NULL);
	ok(has_problem(h, WA_SEV_CRITICAL, "creds.json", "incomplete"), "a creds.json without keys: incomplete");
	wa_health_free(h);
	unlink(strcat(strcpy(p, d), "/creds.json"));
	h = check(d, NULL);
	ok(has_problem(h, WA_SEV_CRITICAL, "creds.json", "missing"), "no creds.json: CRITICAL");
	wa_health_free(h);

	/* links, leftovers, locks */
	d = mkfolder("odd");
	snprintf(p, sizeof p, "%s/creds.json", d);
	snprintf(q, sizeof q, "%s/outside-creds.json", top);
	put(top, "outside-creds.json", creds_paired, 0600);
	unlink(p);
	if (symlink(q, p) < 0)
		perror("symlink");
	snprintf(p, sizeof p, "%s/.wa", d);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/.wa/tmp", d);
	mkdir(p, 0700);
	put(p, ".wa-tmp.creds.json.1.aabbcc", "{\"half", 0600);
	put(d, ".wa-tmp.session-x.json.1.ddeeff", "", 0600);
	snprintf(p, sizeof p, "%s/.wa", d);
	put(p, "lock", "pid=999999999 start=1795256113 pstart=1 prog=wa-run\n", 0600);
	h = check(d, NULL);
	ok(has_problem(h, WA_SEV_CRITICAL, "/creds.json", "symbolic link to"), "symlinked creds.json: CRITICAL");
	ok(has_problem(h, WA_SEV_WARNING, ".wa/tmp/.wa-tmp.creds.json.1.aabbcc", "leftover"), "leftover in .wa/tmp");
	ok(has_problem(h, WA_SEV_WARNING, ".wa-tmp.session-x.json.1.ddeeff", "leftover"), "leftover in the folder");
	ok(has_problem(h, WA_SEV_WARNING, ".wa/lock", "stale lock: pid 999999999 (wa-run)"), "stale lock");
	is_int(h->tmpfiles, 2, "2 temporary files");
	ok(h->lock_present && h->lock.pid == 999999999 && !h->lock.alive, "lock holder reported dead");
	wa_health_free(h);

	/* a live writer: its temp files are not leftovers */
	snprintf(p, sizeof p, "pid=%ld start=1795256113 prog=wa-run\n", (long)getpid());
	snprintf(q, sizeof q, "%s/.wa", d);
	put(q, "lock", p, 0600);
	h = check(d, NULL);
	ok(!has_problem(h, WA_SEV_WARNING, NULL, "leftover") && !has_problem(h, WA_SEV_WARNING, NULL, "stale"),
	    "with a live lock holder: no leftover or stale warnings");
	ok(h->lock.alive, "  holder alive");
	wa_health_free(h);

	/* status file */
	d = mkfolder("status");
	snprintf(p, sizeof p, "%s/.wa", d);
	mkdir(p, 0700);
	put(p, "status.json", "{\"state\":\"connected\",\"since\":1795256000,\"last_inbound\":1795256100}", 0600);
	o = (struct wa_health_opts)WA_HEALTH_OPTS_INIT;
	o.now = 1795256200;
	o.max_silence = 300;
	h = check(d, &o);
	ok(h->status == WA_SEV_OK && h->silence == 100, "silence 100 s under 300: OK");
	wa_health_free(h);
	o.max_silence = 60;
	h = check(d, &o);
	ok(has_problem(h, WA_SEV_CRITICAL, ".wa/status.json", "nothing received for 1m40s"), "silence over max: CRITICAL");
	wa_health_free(h);
	put(p, "status.json", "{\"state\":\"connecting\",\"since\":1795256000}", 0600);
	h = check(d, &o);
	ok(has_problem(h, WA_SEV_CRITICAL, ".wa/status.json", "nothing received yet"), "no inbound: since counts");
	wa_health_free(h);
	put(p, "status.json", "{\"state\":\"logged_out\",\"since\":1795256000}", 0600);
	o.max_silence = -1;
	h = check(d, &o);
	ok(has_problem(h, WA_SEV_CRITICAL, ".wa/status.json", "logged_out"), "logged_out: CRITICAL");
	wa_health_free(h);
	put(p, "status.json", "{\"state\":\"connected\",\"pid\":999999999}", 0600);
	h = check(d, &o);
	ok(h->status == WA_SEV_WARNING && has_problem(h, WA_SEV_WARNING, ".wa/status.json", "stale status"),
	    "dead pid, state not final: WARNING");
	wa_health_free(h);
	put(p, "status.json", "{\"state\":\"stopped\",\"pid\":999999999}", 0600);
	h = check(d, &o);
	is_int(h->status, WA_SEV_OK, "dead pid after 'stopped': OK");
	wa_health_free(h);
	put(p, "status.json", "{\"state\":", 0600);
	h = check(d, &o);
	ok(h->status == WA_SEV_WARNING && has_problem(h, WA_SEV_WARNING, ".wa/status.json", "ignored"),
	    "torn status file: WARNING, ignored");
	wa_health_free(h);
	snprintf(q, sizeof q, "%s/status.json", p);
	unlink(q);
	o.max_silence = 60;
	h = check(d, &o);
	ok(h->status == WA_SEV_UNKNOWN && has_problem(h, WA_SEV_UNKNOWN, ".wa/status.json", "no status file"),
	    "max silence without a status file: UNKNOWN");
	wa_health_free(h);

	ok(wa_sev_worse(WA_SEV_CRITICAL, WA_SEV_UNKNOWN) && wa_sev_worse(WA_SEV_UNKNOWN, WA_SEV_WARNING) &&
	    wa_sev_worse(WA_SEV_WARNING, WA_SEV_OK), "severity order CRITICAL > UNKNOWN > WARNING > OK");
}

/* ---- quarantine ---- */

static int
exists(const char *dir, const char *name)
{
	char p[1024];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	return lstat(p, &st) == 0;
}

static void
test_quarantine(void)
{
	struct wa_authdir *ad;
	struct wa_quarantine *q;
	struct wa_quarantine_entry *v;
	struct wa_why why;
	char stamp[64], p[1024];
	size_t n;
	time_t t;
	char *d;
	int qfd, rc;

	is_str(wa_quarantine_stamp(stamp, sizeof stamp, 1795256100, 4242), "20261121T101500Z-4242", "stamp format");
	ok(wa_quarantine_parse(stamp, &t) == 0 && t == 1795256100, "stamp parses back");
	ok(wa_quarantine_parse("20261121T101500Z-4242.3", &t) == 0, "stamp with .N suffix");
	ok(wa_quarantine_parse("20261121T101500Z", NULL) < 0 && wa_quarantine_parse("notes", NULL) < 0 &&
	    wa_quarantine_parse("20261321T101500Z-1", NULL) < 0 && wa_quarantine_parse("20261121T101500Z-1x", NULL) < 0,
	    "other names are not stamps");

	d = mkfolder("quar");
	rc = wa_authdir_open(&ad, d, WA_AUTHDIR_WRITE, "t-health", NULL, &why);
	ok(rc == 0, "open for writing");
	if (rc < 0) {
		printf("#   %s\n", why.text);
		return;
	}
	ok(wa_quarantine_begin(&q, ad, 1795256100) == 0, "begin");
	ok(!q->name[0] && !exists(d, ".wa/quarantine/20261121T101500Z-0"), "no run folder before the first move");
	ok(wa_quarantine_move(q, ad->fd, "session-15550002222.0.json") == 0, "move a file");
	snprintf(p, sizeof p, ".wa/quarantine/%s/session-15550002222.0.json", q->name);
	ok(exists(d, p) && !exists(d, "session-15550002222.0.json"), "  it is in the run folder, not in the folder");
	ok(strncmp(q->name, "20261121T101500Z-", 17) == 0, "  run folder named by the stamp (%s)", q->name);
	put(d, "session-15550002222.0.json", "{}", 0600);
	is_int(wa_quarantine_move(q, ad->fd, "session-15550002222.0.json"), WA_EEXIST, "same name again: WA_EEXIST");
	ok(exists(d, "session-15550002222.0.json"), "  and nothing moved");
	is_int(q->moved, 1, "one moved");
	ok(q->dirty && wa_quarantine_commit(q) == 0 && !q->dirty, "commit flushes the folders");
	wa_quarantine_end(q);

	/* a second run in the same second gets .1 */
	ok(wa_quarantine_begin(&q, ad, 1795256100) == 0 && wa_quarantine_move(q, ad->fd, "pre-key-1.json") == 0,
	    "second run, same second");
	snprintf(p, sizeof p, "%s", q->name);
	ok(strstr(p, ".1") != NULL, "  gets a .1 suffix (%s)", p);
	wa_quarantine_end(q);
	ok(wa_quarantine_begin(&q, ad, 1700000000) == 0 && wa_quarantine_move(q, ad->fd, "pre-key-2.json") == 0,
	    "an older run");
	wa_quarantine_end(q);

	qfd = wa_authdir_subdir(ad, WA_QUARANTINE, 0);
	snprintf(p, sizeof p, "%s/.wa/quarantine", d);
	mkdir(strcat(p, "/not-a-stamp"), 0700);
	ok(wa_quarantine_list(&v, &n, qfd) == 0 && n == 3, "list: 3 runs (not-a-stamp ignored)");
	ok(n == 3 && v[0].when == 1700000000 && v[1].when == 1795256100, "  oldest first");
	/* a link inside a run: purge removes the link, not its target */
	{
		char e[1024], tgt[1024];
		snprintf(tgt, sizeof tgt, "%s/keep-me", top);
		put(top, "keep-me", "precious", 0600);
		snprintf(e, sizeof e, "%s/.wa/quarantine/%s/link", d, v[0].name);
		if (symlink(tgt, e) < 0)
			perror("symlink");
		snprintf(e, sizeof e, "%s/.wa/quarantine/%s/sub", d, v[0].name);
		mkdir(e, 0700);
		put(e, "deep.json", "{}", 0600);
		ok(n == 3 && wa_quarantine_purge(qfd, v[0].name) == 0, "purge the oldest run");
		snprintf(e, sizeof e, ".wa/quarantine/%s", v[0].name);
		ok(!exists(d, e), "  its folder is gone");
		ok(exists(top, "keep-me"), "  a link's target is untouched");
	}
	is_int(wa_quarantine_purge(qfd, "not-a-stamp"), WA_EINVAL, "purge refuses a name that is not a stamp");
	ok(exists(d, ".wa/quarantine/not-a-stamp"), "  and leaves it");
	free(v);
	close(qfd);
	wa_authdir_close(ad);
}

/* ---- prune selection ---- */

static void
test_prune(void)
{
	static const struct { const char *spec; const char *name; long dev; } peers[] = {
		{ "15550001111@s.whatsapp.net", "15550001111", -1 },
		{ "15550001111:3@s.whatsapp.net", "15550001111", 3 },
		{ "15550001111:0@c.us", "15550001111", 0 },
		{ "99990002222:5@lid", "99990002222_1", 5 },
		{ "99990002222@hosted.lid", "99990002222_129", -1 },
		{ "15550001111:99@hosted", "15550001111_128", 99 },
		{ "15550001111.3", "15550001111", 3 },
		{ "99990002222_1.0", "99990002222_1", 0 },
		{ "99990002222_1", "99990002222_1", -1 },
		{ "15550001111", "15550001111", -1 },
	};
	static const char *bad[] = {
		"120363000000000000@g.us", "status@broadcast", "", "1555:x@s.whatsapp.net", "../x", "a/b.1",
		"15550001111.", "1555 0001111", "15550001111:3", "x_y.1", ".3",
	};
	struct wa_prune_sel *sel;
	struct wa_authdir *ad;
	struct wa_peer pv[3];
	struct wa_why why;
	const char *reason;
	size_t i;
	char *d;
	int rc;

	for (i = 0; i < sizeof peers / sizeof peers[0]; i++) {
		struct wa_peer p;
		rc = wa_peer_parse(&p, peers[i].spec, &why);
		ok(rc == 0 && strcmp(p.name, peers[i].name) == 0 && p.device == peers[i].dev,
		    "peer '%s' -> %s device %ld", peers[i].spec, peers[i].name, peers[i].dev);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct wa_peer p;
		why.text[0] = 0;
		ok(wa_peer_parse(&p, bad[i], &why) == WA_EINVAL && strstr(why.text, bad[i]),
		    "peer '%s' refused, named", bad[i]);
	}

#define PK "{\"private\":" BUF(K32A) ",\"public\":" BUF(K32B) "}"
	ok(!wa_prekey_unusable("1", 1, PK, strlen(PK), &reason), "pre-key 1, good pair: kept");
	ok(!wa_prekey_unusable("16777215", 8, PK, strlen(PK), &reason), "pre-key 16777215: kept");
	ok(wa_prekey_unusable("16777216", 8, PK, strlen(PK), &reason), "pre-key 16777216: unusable");
	ok(wa_prekey_unusable("0", 1, PK, strlen(PK), &reason), "pre-key 0: unusable");
	ok(wa_prekey_unusable("007", 3, PK, strlen(PK), &reason), "pre-key 007: unusable (never looked up)");
	ok(wa_prekey_unusable("x1", 2, PK, strlen(PK), &reason), "pre-key x1: unusable");
	ok(wa_prekey_unusable("5", 1, "{\"private\":", 11, &reason) && strcmp(reason, "does not parse") == 0,
	    "torn pre-key: unusable");
	ok(wa_prekey_unusable("5", 1, "{\"private\":1}", 13, &reason) &&
	    strcmp(reason, "not a pair of 32-byte keys") == 0, "wrong shape: unusable");
	ok(!wa_prekey_unusable("999", 3, PK, strlen(PK), &reason),
	    "pre-key 999 above nextPreKeyId 31: kept (it may have been uploaded)");

	d = mkfolder("prune");
	put(d, "session-15550003333.1.json", session_json, 0600);
	put(d, "pre-key-0.json", PK, 0600);
	put(d, "pre-key-999.json", PK, 0600);
	put(d, "sender-key-120363000000000000@g.us--15550002222--0.json", "{\"type\":\"Buffer\",\"data\":\"W10=\"}", 0600);
	put(d, "device-list-15550002222.json", "[\"0\",", 0600);
	put(d, ".wa-tmp.x.json.1.aa", "", 0600);
	rc = wa_authdir_open(&ad, d, 0, "t-health", NULL, &why);
	ok(rc == 0, "open read-only");
	if (rc < 0)
		return;
	wa_peer_parse(&pv[0], "15550002222@s.whatsapp.net", NULL);
	wa_peer_parse(&pv[1], "15550003333:0@s.whatsapp.net", NULL);
	wa_peer_parse(&pv[2], "15550009999@s.whatsapp.net", NULL);
	rc = wa_prune_select(&sel, ad, WA_PRUNE_SESSIONS, pv, 3, &why);
	ok(rc == 0 && sel->n == 3, "sessions of 3 contacts: 3 files");
	if (rc == 0) {
		for (i = 0; i < sel->n; i++)
			printf("#   %s\n", sel->v[i].name);
		ok(sel->n == 3 && !strcmp(sel->v[0].name, "session-15550002222.0.json") &&
		    !strcmp(sel->v[1].name, "session-15550002222.5.json") &&
		    !strcmp(sel->v[2].name, "session-99990003333_1.0.json"),
		    "  both devices of one, the LID session of the other (device 0 only)");
		ok(sel->peer_hits[0] == 2 && sel->peer_hits[1] == 1 && sel->peer_hits[2] == 0, "  hits per contact");
		wa_prune_sel_free(sel);
	}
	rc = wa_prune_select(&sel, ad, WA_PRUNE_CORRUPT | WA_PRUNE_PRE_KEYS | WA_PRUNE_TMP | WA_PRUNE_SENDER_KEYS,
	    NULL, 0, &why);
	ok(rc == 0, "the other selectors");
	if (rc == 0) {
		const char *want[] = { ".wa-tmp.x.json.1.aa", "device-list-15550002222.json", "pre-key-0.json",
			"sender-key-120363000000000000@g.us--15550002222--0.json",
			"sender-key-memory-120363000000000000@g.us.json" };
		int same = sel->n == 5;
		for (i = 0; same && i < 5; i++)
			same = strcmp(sel->v[i].name, want[i]) == 0;
		ok(same, "  temp, corrupt, unusable pre-key, sender keys; not creds, not pre-key-999");
		if (!same)
			for (i = 0; i < sel->n; i++)
				printf("#   got %s\n", sel->v[i].name);
		wa_prune_sel_free(sel);
	}
	put(d, "creds.json", "", 0600);
	is_int(wa_prune_select(&sel, ad, WA_PRUNE_SESSIONS, NULL, 0, &why), WA_ECORRUPT, "empty creds.json: refused");
	ok(strstr(why.text, "creds.json': empty file") && strstr(why.text, "wa-restore"), "  says so: %s", why.text);
	put(d, "creds.json", creds_paired, 0600);
	chmod(strcat(strcpy((char[600]){0}, d), "/pre-key-1.json"), 0640);
	/* the mode rule: not a refusal; wa_scan_fix_modes sets 0600 */
	is_int(wa_prune_select(&sel, ad, WA_PRUNE_SESSIONS, NULL, 0, &why), 0, "0640 key file: not refused");
	wa_prune_sel_free(sel);
	{
		struct wa_scan *sc;
		struct stat st;
		const char *failed;
		size_t nfix;
		char path[600];
		snprintf(path, sizeof path, "%s/pre-key-1.json", d);
		is_int(wa_scan_dir(&sc, ad->fd), 0, "scan");
		is_int(wa_scan_fix_modes(&nfix, &failed, ad->fd, sc, 1, NULL, NULL), 0, "fix modes, dry");
		ok(nfix == 1 && stat(path, &st) == 0 && (st.st_mode & 07777) == 0640, "  counts 1, changes nothing");
		is_int(wa_scan_fix_modes(&nfix, &failed, ad->fd, sc, 0, NULL, NULL), 0, "fix modes");
		ok(nfix == 1 && stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "  pre-key-1.json is 0600");
		wa_scan_free(sc);
	}
	wa_authdir_close(ad);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(top, sizeof top, "%s/t-health.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 2;
	}
	umask(077);
	test_validator();
	test_runstatus();
	test_check();
	test_quarantine();
	test_prune();
	done_testing();
	{
		char cmd[400];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", top);
	}
	return exit_status();
}
