/*
 * creds.c - read creds.json and judge it (creds.h): missing, corrupt
 * (with the byte offset or the missing field), or complete and paired.
 * It never writes and never makes keys.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/bufjson.h"
#include "base/file.h"
#include "store/authdir.h"
#include "store/creds.h"
#include "store/names.h"

static int
keypair_ok(const json_t *kp)
{
	return json_is_object(kp) &&
	    wa_bufjson_len(json_object_get(kp, "private")) == 32 &&
	    wa_bufjson_len(json_object_get(kp, "public")) == 32;
}

static int __attribute__((format(printf, 2, 3)))
problem(struct wa_creds_info *info, const char *fmt, ...)
{
	va_list ap;

	if (!info->problem[0]) {
		va_start(ap, fmt);
		vsnprintf(info->problem, sizeof info->problem, fmt, ap);
		va_end(ap);
	}
	return 0;
}

static void
copy_str(char *dst, size_t n, const json_t *v)
{
	if (json_is_string(v))
		snprintf(dst, n, "%s", json_string_value(v));
}

int
wa_creds_inspect(struct wa_creds_info *info, const json_t *c)
{
	static const char *keypairs[] = { "noiseKey", "pairingEphemeralKeyPair", "signedIdentityKey" };
	static const char *acct[] = { "details", "accountSignatureKey", "accountSignature", "deviceSignature" };
	const json_t *spk, *acc, *me, *v;
	size_t i;
	uint8_t *b;
	size_t n;

	memset(info, 0, sizeof *info);
	if (!json_is_object(c)) {
		problem(info, "%s", "not a JSON object");
		return 0;
	}
	info->complete = 1;
	for (i = 0; i < sizeof keypairs / sizeof keypairs[0]; i++)
		if (!keypair_ok(json_object_get(c, keypairs[i])))
			info->complete = problem(info, "%s missing or not a 32-byte key pair", keypairs[i]);
	spk = json_object_get(c, "signedPreKey");
	if (!json_is_object(spk) || !keypair_ok(json_object_get(spk, "keyPair")) ||
	    wa_bufjson_len(json_object_get(spk, "signature")) != 64 ||
	    !json_is_integer(json_object_get(spk, "keyId")))
		info->complete = problem(info, "%s missing or malformed", "signedPreKey");
	v = json_object_get(c, "registrationId");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		info->complete = problem(info, "%s missing or not a number", "registrationId");
	v = json_object_get(c, "advSecretKey");
	if (!json_is_string(v) || wa_base64_decode(&b, &n, json_string_value(v), json_string_length(v)) < 0) {
		info->complete = problem(info, "%s missing or not base64", "advSecretKey");
	} else {
		free(b);
		if (n != 32)
			info->complete = problem(info, "%s is not 32 bytes", "advSecretKey");
	}
	info->registered = json_is_true(json_object_get(c, "registered"));
	me = json_object_get(c, "me");
	if (json_is_object(me)) {
		copy_str(info->me, sizeof info->me, json_object_get(me, "id"));
		copy_str(info->lid, sizeof info->lid, json_object_get(me, "lid"));
	}
	copy_str(info->platform, sizeof info->platform, json_object_get(c, "platform"));

	info->paired = info->complete;
	if (!info->me[0] || !strchr(info->me, '@'))
		info->paired = problem(info, "%s: no me.id (never paired)", "not paired");
	acc = json_object_get(c, "account");
	if (!json_is_object(acc)) {
		info->paired = problem(info, "%s: no account (me alone is not proof of pairing)", "not paired");
	} else {
		for (i = 0; i < sizeof acct / sizeof acct[0]; i++)
			if (wa_bufjson_len(json_object_get(acc, acct[i])) <= 0)
				info->paired = problem(info, "account.%s missing or not binary", acct[i]);
	}
	return 0;
}

void
wa_creds_account(char *out, size_t n, const json_t *c)
{
	const json_t *id = json_object_get(json_object_get(c, "me"), "id");
	const char *s;
	size_t k;

	if (n)
		out[0] = 0;
	if (!json_is_string(id))
		return;
	s = json_string_value(id);
	k = strcspn(s, ":@");
	if (k >= n)
		k = n - 1;
	memcpy(out, s, k);
	out[k] = 0;
}

/* ---- the one reader and the one writer of creds.json ---------------- */

int
wa_creds_read(json_t **out, struct wa_creds_info *info, struct wa_authdir *ad, struct wa_why *why)
{
	json_t *c = NULL;
	int rc;

	*out = NULL;
	memset(info, 0, sizeof *info);
	if ((rc = wa_json_read(&c, ad->fd, WA_CREDS, ad->path, why)) < 0)
		return rc;
	wa_creds_inspect(info, c);
	if (!info->complete) {
		json_decref(c);
		return wa_why_set(why, WA_ECORRUPT, "'%s/%s': incomplete: %s", ad->path, WA_CREDS,
		    info->problem);
	}
	*out = c;
	return 0;
}

int
wa_creds_write(struct wa_authdir *ad, const json_t *creds, struct wa_why *why)
{
	char *text;
	size_t len;
	int rc;

	if (!(text = json_dumps(creds, JSON_COMPACT)))
		return wa_why_set(why, WA_ENOMEM, "'%s/%s': out of memory", ad->path, WA_CREDS);
	len = strlen(text);
	rc = wa_authdir_put(ad, WA_CREDS, text, len);
	OPENSSL_cleanse(text, len);
	free(text);
	if (rc < 0)
		return wa_why_set(why, rc, "unable to write '%s/%s': %s", ad->path, WA_CREDS,
		    rc == WA_ESYNC ? "renamed, but the folder could not be flushed to disk" : wa_strerror(rc));
	return 0;
}
