/*
 * wa-msgjson - lib/msg as a line filter, for tests/0700-msg-baileys.t.
 *
 *	wa-msgjson < lines     base64 of a padded plaintext per line
 *
 * For each line prints one JSON object (compact, keys sorted):
 *   {"record": {the content fields wa_msg_to_json adds},
 *    "content": wa_msg_is_content, "history_sync": wa_msg_is_history_sync,
 *    "skdm": {"group": G, "bytes": B64} (when there is one),
 *    "dsm": destinationJid (when a device-sent copy),
 *    "appstate": [{"name": N, "json": the file's text} or {"error": E}, ...]}
 * or "error <reason>" when the padding or the protobuf is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/bufjson.h"
#include "msg/msg.h"

static int
one(const char *line, size_t n)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_msg *m;
	uint8_t *pt = NULL;
	size_t ptlen, i, count;
	long len;
	json_t *out, *rec, *arr;
	const char *group, *dsm;
	const uint8_t *skdm;
	size_t skdmlen;
	char *s;
	int rc;

	if (wa_base64_decode(&pt, &ptlen, line, n) < 0) {
		printf("error bad base64\n");
		return 0;
	}
	if ((len = wa_msg_unpad(pt, ptlen)) < 0) {
		printf("error bad padding\n");
		free(pt);
		return 0;
	}
	if ((rc = wa_msg_decode(&m, pt, (size_t)len, &why)) < 0) {
		printf("error %s\n", wa_why_text(&why, rc));
		free(pt);
		return 0;
	}
	free(pt);
	out = json_object();
	rec = json_object();
	if (!out || !rec || wa_msg_to_json(m, rec) < 0)
		return -1;
	json_object_set_new(out, "record", rec);
	json_object_set_new(out, "content", json_boolean(wa_msg_is_content(m)));
	json_object_set_new(out, "history_sync", json_boolean(wa_msg_is_history_sync(m)));
	if (strcmp(json_string_value(json_object_get(rec, "type")), wa_msg_type(m)) != 0)
		return -1;
	if (wa_msg_skdm(m, &group, &skdm, &skdmlen) == 0) {
		char *b = wa_base64_encode(skdm, skdmlen);

		json_object_set_new(out, "skdm", json_pack("{s:s?,s:s}", "group", group, "bytes", b));
		free(b);
	}
	if ((dsm = wa_msg_dsm_destination(m)))
		json_object_set_new(out, "dsm", json_string(dsm));
	if ((count = wa_msg_appstate_count(m))) {
		arr = json_array();
		json_object_set_new(out, "appstate", arr);
		for (i = 0; i < count; i++) {
			char name[256];
			json_t *doc;

			if ((rc = wa_msg_appstate_key(m, i, name, sizeof name, &doc)) < 0) {
				json_array_append_new(arr, json_pack("{s:s}", "error", wa_strerror(rc)));
				continue;
			}
			s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
			json_array_append_new(arr, json_pack("{s:s,s:s}", "name", name, "json", s));
			free(s);
			json_decref(doc);
		}
	}
	s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s\n", s);
	free(s);
	json_decref(out);
	wa_msg_free(m);
	return 0;
}

int
main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (one(line, (size_t)n) < 0) {
			fprintf(stderr, "wa-msgjson: out of memory\n");
			return 1;
		}
		fflush(stdout);
	}
	free(line);
	return 0;
}
