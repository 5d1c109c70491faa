/*
 * fuzz-msg.c - libFuzzer harness for lib/msg: the padding, the Message
 * decoder, the record and the app-state key files made from a decrypted
 * plaintext, which comes from any peer that can encrypt to us.
 *
 *	make fuzz-build   (or make fuzz: FUZZ_TIME seconds per harness)
 *	build/fuzz/bin/fuzz-msg -max_len=65536 -rss_limit_mb=256 -malloc_limit_mb=64 fuzz/corpus/msg
 *
 * Input: a padded plaintext (the corpus: Baileys' messages of every kind
 * from tests/fakewa/msg-vectors.mjs, padded as Baileys pads).  It is
 * unpadded and decoded, and also decoded whole as if unpadded.
 * Properties: unpadding takes 1..16 bytes or refuses; a decoded message
 * gives a record whose "type" is wa_msg_type and whose "raw" is the
 * decoded bytes exactly; the record dumps to JSON that parses again; an
 * app-state key file name is a safe name in the folder, of that type;
 * a refused decode returns no message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/bufjson.h"
#include "msg/msg.h"
#include "store/fname.h"

#define fm_check(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-msg: %s:%d: property failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

static void
fm_one(const uint8_t *p, size_t n)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_msg *m = (struct wa_msg *)1;
	const char *group, *type;
	const uint8_t *skdm;
	size_t skdmlen, i, count;
	json_t *rec, *back;
	uint8_t *raw;
	size_t rawlen;
	char *s;
	int rc;

	rc = wa_msg_decode(&m, p, n, &why);
	if (rc < 0) {
		fm_check(m == NULL && (rc == WA_EPROTO || rc == WA_ENOMEM) && why.text[0]);
		return;
	}
	fm_check(m != NULL);
	type = wa_msg_type(m);
	(void)wa_msg_is_content(m);
	(void)wa_msg_is_history_sync(m);
	(void)wa_msg_dsm_destination(m);
	if (wa_msg_skdm(m, &group, &skdm, &skdmlen) == 0)
		fm_check(skdmlen == 0 || skdm != NULL);
	rec = json_object();
	fm_check(rec);
	if (wa_msg_to_json(m, rec) == 0) {
		fm_check(strcmp(json_string_value(json_object_get(rec, "type")), type) == 0);
		fm_check(wa_base64_decode(&raw, &rawlen, json_string_value(json_object_get(rec, "raw")),
		    strlen(json_string_value(json_object_get(rec, "raw")))) == 0);
		fm_check(rawlen == n && (n == 0 || memcmp(raw, p, n) == 0));
		free(raw);
		s = json_dumps(rec, JSON_COMPACT);
		fm_check(s);
		back = json_loads(s, 0, NULL);
		fm_check(back && json_equal(back, rec));
		json_decref(back);
		free(s);
	}
	json_decref(rec);
	count = wa_msg_appstate_count(m);
	for (i = 0; i < count; i++) {
		char name[256];
		json_t *doc = (json_t *)1;

		rc = wa_msg_appstate_key(m, i, name, sizeof name, &doc);
		if (rc < 0) {
			fm_check(doc == NULL);
			continue;
		}
		fm_check(doc && wa_fname_safe(name));
		fm_check(wa_fname_classify(name, NULL, NULL) == WA_FT_APP_STATE_SYNC_KEY);
		json_decref(doc);
	}
	wa_msg_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long len = wa_msg_unpad(data, size);

	if (len >= 0) {
		fm_check((size_t)len < size && size - (size_t)len <= 16);
		fm_one(data, (size_t)len);
	}
	fm_one(data, size);
	return 0;
}
