/*
 * t-sessjson.c - Baileys' session and sender-key JSON through
 * libsignal-protocol-c and back (lib/signal/sessjson.h, skjson.h).
 *
 * The fixtures in tests/unit/sigfix/ were written by Baileys 7 itself
 * (tests/fakewa/sigcases.mjs): a responder session after skipped keys, a
 * session after two ratchet steps with a closed chain, the primary's
 * session, a peer's sender key.  Each one goes JSON -> C bytes ->
 * session_record_deserialize -> session_record_serialize -> JSON and must
 * come back deep-equal and byte-equal.  Then corrupt variants must give
 * an error, never a crash or a partial object.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal/signal_protocol.h>
#include <signal/session_record.h>
#include <signal/sender_key_record.h>

#include "base/file.h"
#include "base/bufjson.h"
#include "crypto/signalctx.h"
#include "signal/sessjson.h"
#include "signal/skjson.h"
#include "tap.h"

static signal_context *sc;
static const struct wa_sessjson_local local = { { 0x05, 1, 2, 3 }, 4242 };

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = malloc((size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	b[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void
session_roundtrip_text(char *text, size_t len, const char *name);

/* The same record with its entries in the opposite order (the open one
 * first when the file has it last). */
static void
session_reversed(const char *path, const char *name)
{
	size_t len;
	char *text = slurp(path, &len), *rtext, label[300];
	json_t *doc = json_loadb(text, len, 0, NULL), *sess = json_object_get(doc, "_sessions"), *rev;
	const char *keys[64];
	size_t n = 0, i;
	const char *k;
	json_t *v;

	if (json_object_size(sess) < 2 || json_object_size(sess) > 64) {
		json_decref(doc);
		free(text);
		return;
	}
	json_object_foreach(sess, k, v)
		keys[n++] = k;
	rev = json_object();
	for (i = n; i-- > 0;)
		json_object_set(rev, keys[i], json_object_get(sess, keys[i]));
	json_object_set_new(doc, "_sessions", rev);
	rtext = json_dumps(doc, JSON_COMPACT);
	snprintf(label, sizeof label, "%s reversed", name);
	session_roundtrip_text(rtext, strlen(rtext), label);
	json_decref(doc);
	free(text);
}

static void
session_roundtrip(const char *path, const char *name)
{
	size_t len;
	char *text = slurp(path, &len);

	session_roundtrip_text(text, len, name);
	session_reversed(path, name);
}

static void
session_roundtrip_text(char *text, size_t len, const char *name)
{
	size_t rlen;
	char *back;
	json_t *doc = json_loadb(text, len, 0, NULL), *out = NULL;
	uint8_t *rec = NULL;
	session_record *sr = NULL;
	signal_buffer *sb = NULL;
	struct wa_why why = { "" };
	int rc;

	ok(doc != NULL, "%s parses", name);
	rc = wa_sessjson_unpack(&rec, &rlen, doc, &local, &why);
	is_int(rc, 0, "%s: unpack (%s)", name, why.text);
	rc = session_record_deserialize(&sr, rec, rlen, sc);
	is_int(rc, 0, "%s: libsignal-protocol-c loads it", name);
	rc = sr ? session_record_serialize(&sb, sr) : -1;
	is_int(rc, 0, "%s: and serializes it again", name);
	rc = sb ? wa_sessjson_pack(&out, signal_buffer_data(sb), signal_buffer_len(sb), doc,
	    1, NULL, &why) : -1;
	is_int(rc, 0, "%s: pack (%s)", name, why.text);
	ok(out && json_equal(out, doc), "%s: JSON -> C -> JSON is deep-equal", name);
	back = out ? json_dumps(out, JSON_COMPACT) : NULL;
	ok(back && strcmp(back, text) == 0, "%s: and byte-equal", name);
	free(back);
	json_decref(out);
	signal_buffer_free(sb);
	SIGNAL_UNREF(sr);
	free(rec);
	json_decref(doc);
	free(text);
}

static void
senderkey_roundtrip(const char *path, const char *name)
{
	size_t len, rlen;
	char *text = slurp(path, &len), *back;
	json_t *doc = json_loadb(text, len, 0, NULL), *out = NULL;
	uint8_t *rec = NULL;
	sender_key_record *r = NULL;
	signal_buffer *sb = NULL;
	struct wa_why why = { "" };
	int rc;

	rc = wa_skjson_unpack(&rec, &rlen, doc, &why);
	is_int(rc, 0, "%s: unpack (%s)", name, why.text);
	rc = sender_key_record_deserialize(&r, rec, rlen, sc);
	is_int(rc, 0, "%s: libsignal-protocol-c loads it", name);
	rc = r ? sender_key_record_serialize(&sb, r) : -1;
	is_int(rc, 0, "%s: and serializes it again", name);
	rc = sb ? wa_skjson_pack(&out, signal_buffer_data(sb), signal_buffer_len(sb), doc, &why) : -1;
	is_int(rc, 0, "%s: pack (%s)", name, why.text);
	ok(out && json_equal(out, doc), "%s: JSON -> C -> JSON is deep-equal", name);
	back = out ? json_dumps(out, JSON_COMPACT) : NULL;
	ok(back && strcmp(back, text) == 0, "%s: and byte-equal", name);
	free(back);
	json_decref(out);
	signal_buffer_free(sb);
	SIGNAL_UNREF(r);
	free(rec);
	json_decref(doc);
	free(text);
}

/* Every way of breaking one value of a session file gives an error. */
static void
session_corrupt(const char *path, const char *name)
{
	static const char *const breaks[][2] = {
		{ "\"version\":\"v1\"", "\"version\":\"v2\"" },
		{ "\"registrationId\":", "\"registrationId\":\"x\",\"y\":" },
		{ "\"rootKey\":\"", "\"rootKey\":\"AAAA" },
		{ "\"chainType\":2", "\"chainType\":3" },
		{ "\"counter\":", "\"counter\":-5,\"x\":" },
		{ "\"privKey\":\"", "\"privKey\":\"!" },
		{ "\"_chains\":{", "\"_chains\":{\"x\":1," },
		{ "\"messageKeys\":{}", "\"messageKeys\":{\"01\":\"AAAA\"}" },
		{ "\"baseKey\":\"B", "\"baseKey\":\"C" },
	};
	size_t len, i, rlen;
	char *text = slurp(path, &len);

	for (i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
		char *p = strstr(text, breaks[i][0]), *mut;
		json_t *doc;
		uint8_t *rec = (uint8_t *)"x";
		struct wa_why why = { "" };
		int rc;

		if (!p) {
			ok(1, "%s: break %zu not applicable", name, i);
			continue;
		}
		mut = malloc(len + 64);
		memcpy(mut, text, (size_t)(p - text));
		strcpy(mut + (p - text), breaks[i][1]);
		strcat(mut, p + strlen(breaks[i][0]));
		doc = json_loads(mut, 0, NULL);
		rc = doc ? wa_sessjson_unpack(&rec, &rlen, doc, &local, &why) : WA_ECORRUPT;
		ok(rc == WA_ECORRUPT && rec == NULL, "%s: break %zu is refused (%s)", name, i, why.text);
		json_decref(doc);
		free(mut);
	}
	free(text);
}

int
main(void)
{
	const char *top = getenv("WA_TOP");
	char dir[4096], path[8192];
	DIR *d;
	struct dirent *de;
	int n = 0;

	wa_signalctx_new(&sc);
	snprintf(dir, sizeof dir, "%s/tests/unit/sigfix", top ? top : ".");
	if (!(d = opendir(dir))) {
		ok(0, "fixtures in %s", dir);
		return exit_status();
	}
	while ((de = readdir(d))) {
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (strncmp(de->d_name, "session-", 8) == 0) {
			session_roundtrip(path, de->d_name);
			session_corrupt(path, de->d_name);
			n++;
		} else if (strncmp(de->d_name, "sender-key-", 11) == 0) {
			senderkey_roundtrip(path, de->d_name);
			n++;
		}
	}
	closedir(d);
	ok(n >= 5, "%d fixtures", n);
	wa_signalctx_free(sc);
	done_testing();
	return exit_status();
}
