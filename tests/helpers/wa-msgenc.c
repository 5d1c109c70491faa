/*
 * wa-msgenc - lib/msg's encoder as a line filter, for
 * tests/0701-msg-encode.t.
 *
 *	wa-msgenc < specs      one JSON object per line
 *
 * Specs: {"kind":"text","text":T[,"reply_id":I,"participant":P]},
 * {"kind":"reaction","chat":C,"id":I,"from_me":B[,"participant":P],
 *  "emoji":E,"ts":N}, {"kind":"revoke","chat":C,"id":I[,"participant":P]},
 * {"kind":"dsm","dest":D,"inner":SPEC},
 * {"kind":"skdm","group":G,"skdm":BASE64[,"inner":SPEC]}.
 * For each prints base64 of the padded Message (wa_msgenc_pad), or
 * "error <reason>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/bufjson.h"
#include "msg/msgenc.h"

static const char *
s(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int
enc(const json_t *sp, uint8_t **out, size_t *len)
{
	const char *k = s(sp, "kind");
	uint8_t *in = NULL, *sk = NULL;
	size_t inlen = 0, sklen = 0;
	int rc;

	if (!k)
		return WA_EINVAL;
	if (strcmp(k, "text") == 0)
		return wa_msgenc_text(out, len, s(sp, "text"), s(sp, "reply_id"), s(sp, "participant"));
	if (strcmp(k, "reaction") == 0)
		return wa_msgenc_reaction(out, len, s(sp, "chat"), s(sp, "id"),
		    json_is_true(json_object_get(sp, "from_me")), s(sp, "participant"), s(sp, "emoji"),
		    json_integer_value(json_object_get(sp, "ts")));
	if (strcmp(k, "revoke") == 0)
		return wa_msgenc_revoke(out, len, s(sp, "chat"), s(sp, "id"), s(sp, "participant"));
	if (json_object_get(sp, "inner") && (rc = enc(json_object_get(sp, "inner"), &in, &inlen)) < 0)
		return rc;
	if (strcmp(k, "dsm") == 0)
		rc = wa_msgenc_dsm(out, len, s(sp, "dest"), in, inlen);
	else if (strcmp(k, "skdm") == 0) {
		const char *b = s(sp, "skdm");
		if (!b || wa_base64_decode(&sk, &sklen, b, strlen(b)) < 0)
			rc = WA_EINVAL;
		else
			rc = wa_msgenc_skdm(out, len, in, inlen, s(sp, "group"), sk, sklen);
	} else
		rc = WA_EINVAL;
	free(in);
	free(sk);
	return rc;
}

int
main(void)
{
	char line[1 << 16];

	while (fgets(line, sizeof line, stdin)) {
		json_t *sp = json_loads(line, 0, NULL);
		uint8_t *m = NULL, *pt = NULL;
		size_t mlen = 0, ptlen = 0;
		int rc;
		char *b;

		if (!sp) {
			printf("error bad json\n");
			continue;
		}
		if ((rc = enc(sp, &m, &mlen)) < 0 || (rc = wa_msgenc_pad(&pt, &ptlen, m, mlen)) < 0) {
			printf("error %s\n", wa_strerror(rc));
		} else {
			if (!(b = wa_base64_encode(pt, ptlen)))
				return 70;
			printf("%s\n", b);
			free(b);
		}
		free(m);
		free(pt);
		json_decref(sp);
	}
	return 0;
}
