/*
 * fuzz-sigjson.c - libFuzzer harness for lib/signal's loaders: Baileys'
 * session, sender-key, pre-key, identity-key and creds files, and the
 * JID -> Signal address -> file name mapping.
 *
 *	make fuzz-build   (or make fuzz: FUZZ_TIME seconds per harness)
 *	build/fuzz/bin/fuzz-sigjson -max_len=16384 -rss_limit_mb=256 -malloc_limit_mb=64 fuzz/corpus/sigjson
 *
 * Input: one byte choosing the loader (modulo 6), then the file's text
 * (or the JID).  Properties: a load gives a whole object or an error,
 * never a partial one (the output pointer is set exactly on success); a
 * session or sender key that loads is accepted by libsignal-protocol-c
 * and packs back to JSON that loads again; a JID that maps gives file
 * names that stay inside the folder.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <signal/signal_protocol.h>
#include <signal/session_record.h>
#include <signal/sender_key_record.h>

#include "crypto/signalctx.h"
#include "signal/addr.h"
#include "signal/keyjson.h"
#include "signal/sessjson.h"
#include "signal/skjson.h"

#define fs_check(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-sigjson: %s:%d: property failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static signal_context *fs_sc;

static void
fs_session(const json_t *doc)
{
	static const struct wa_sessjson_local local = { { 0x05, 9 }, 7 };
	uint8_t *rec = (uint8_t *)&local, *rec2;
	size_t len = 99, len2;
	session_record *sr = NULL;
	json_t *out = (json_t *)&local;
	int rc;

	rc = wa_sessjson_unpack(&rec, &len, doc, &local, NULL);
	if (rc < 0) {
		fs_check(rec == NULL && len == 0);
		return;
	}
	fs_check(rec != NULL);
	fs_check(session_record_deserialize(&sr, rec, len, fs_sc) == 0);
	SIGNAL_UNREF(sr);
	rc = wa_sessjson_pack(&out, rec, len, doc, 1, NULL, NULL);
	fs_check(rc == 0 ? out != NULL : out == NULL);
	if (rc == 0) {
		fs_check(wa_sessjson_unpack(&rec2, &len2, out, &local, NULL) == 0);
		free(rec2);
		json_decref(out);
	}
	free(rec);
}

static void
fs_senderkey(const json_t *doc)
{
	uint8_t *rec = (uint8_t *)doc;
	size_t len = 99;
	sender_key_record *r = NULL;
	json_t *out = (json_t *)doc;
	int rc;

	rc = wa_skjson_unpack(&rec, &len, doc, NULL);
	if (rc < 0) {
		fs_check(rec == NULL && len == 0);
		return;
	}
	fs_check(sender_key_record_deserialize(&r, rec, len, fs_sc) == 0);
	SIGNAL_UNREF(r);
	rc = wa_skjson_pack(&out, rec, len, doc, NULL);
	fs_check(rc == 0 ? out != NULL : out == NULL);
	json_decref(out);
	free(rec);
}

static void
fs_addr(const char *s)
{
	struct wa_sigaddr a;
	char name[600];

	if (wa_sigaddr_from_jid(&a, s) < 0)
		return;
	if (wa_sigaddr_file(name, sizeof name, WA_FT_SESSION, &a) == 0)
		fs_check(!strchr(name, '/') && name[0] != '.');
	if (wa_sigaddr_sender_key_file(name, sizeof name, "120363000000000000@g.us", &a) == 0)
		fs_check(!strchr(name, '/') && name[0] != '.');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc;
	char *s;

	if (size < 1)
		return 0;
	if (!fs_sc && wa_signalctx_new(&fs_sc) < 0)
		return 0;
	if (data[0] % 6 == 5) {
		if (!(s = malloc(size)))
			return 0;
		memcpy(s, data + 1, size - 1);
		s[size - 1] = 0;
		fs_addr(s);
		free(s);
		return 0;
	}
	if (!(doc = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY, NULL)))
		return 0;
	switch (data[0] % 6) {
	case 0:
		fs_session(doc);
		break;
	case 1:
		fs_senderkey(doc);
		break;
	case 2: {
		struct wa_keypair kp;
		memset(&kp, 0xaa, sizeof kp);
		if (wa_keyjson_prekey(&kp, doc, NULL) < 0)
			fs_check(kp.pub[0] == 0xaa && kp.priv[31] == 0xaa);
		break;
	}
	case 3: {
		uint8_t k[33];
		memset(k, 0xaa, sizeof k);
		if (wa_keyjson_identity(k, doc, NULL) < 0)
			fs_check(k[0] == 0xaa);
		else
			fs_check(k[0] == 0x05);
		break;
	}
	case 4: {
		struct wa_keyjson_creds c;
		if (wa_keyjson_creds(&c, doc, NULL) == 0)
			fs_check(c.me[0] != 0);
		break;
	}
	}
	json_decref(doc);
	return 0;
}
