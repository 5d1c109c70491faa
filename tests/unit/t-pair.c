/*
 * t-pair.c - pairing against vectors made by Baileys (tests/fakewa/
 * pair-vectors.mjs): every valid pair-success is accepted and gives
 * Baileys' creds.json byte for byte (but for the randomised device
 * signature, which is checked to verify), every forged one is rejected by
 * the check it targets; link-code crypto equals Baileys'; the QR string
 * equals buildPairingQRData's.
 *
 *	t-pair [--reply FILE]
 *
 * --reply writes, for the valid vectors, JSON lines {name, reply, keyIndex,
 * creds} for `node tests/fakewa/pair-vectors.mjs --check FILE`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adv.pb-c.h"
#include "base/bufjson.h"
#include "store/creds.h"
#include "crypto/curve.h"
#include "crypto/pair.h"
#include "tap.h"

#include "pair-vectors.h"

#define NV (sizeof pair_vectors / sizeof pair_vectors[0])

static json_t *
load(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (!j) {
		fprintf(stderr, "bad vector json: %s\n", e.text);
		exit(2);
	}
	return j;
}

static int
key32(unsigned char out[32], const json_t *creds, const char *obj, const char *field)
{
	uint8_t *b = NULL;
	size_t n = 0;
	int ok = wa_bufjson_decode(&b, &n, json_object_get(json_object_get(creds, obj), field)) == 0 && n == 32;

	if (ok)
		memcpy(out, b, 32);
	free(b);
	return ok;
}

static char *
dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT);
}

static void
check_valid(const struct pair_vector *v, const json_t *creds, FILE *reply_out)
{
	struct wa_pair_success ps = { v->identity, v->identity_len, v->jid, v->lid, v->platform, v->biz };
	struct wa_pair_result res;
	struct wa_why why = { "" };
	struct wa_creds_info info;
	Wa__ADVSignedDeviceIdentity *mine = NULL, *theirs = NULL;
	unsigned char ipub[32], msg[2 + 256 + 64];
	json_t *expect, *acc;
	char *a = NULL, *b = NULL, *dsig_b64 = NULL;
	int rc;

	rc = wa_pair_verify(&res, creds, &ps, &why);
	if (!ok(rc == 0, "%s: accepted", v->name)) {
		printf("#   rc %d: %s\n", rc, why.text);
		wa_pair_result_free(&res);
		return;
	}
	is_str(res.key_index, v->expect_key_index, "%s: key-index is Baileys'", v->name);
	mine = wa__advsigned_device_identity__unpack(NULL, res.reply_len, res.reply);
	theirs = wa__advsigned_device_identity__unpack(NULL, v->expect_reply_len, v->expect_reply);
	ok(mine && theirs, "%s: reply decodes", v->name);
	if (mine && theirs) {
		ok(!mine->has_accountsignaturekey, "%s: reply leaves accountSignatureKey out", v->name);
		ok(mine->details.len == theirs->details.len &&
		    memcmp(mine->details.data, theirs->details.data, mine->details.len) == 0 &&
		    mine->accountsignature.len == 64 &&
		    memcmp(mine->accountsignature.data, theirs->accountsignature.data, 64) == 0,
		    "%s: reply details and accountSignature are Baileys'", v->name);
		key32(ipub, creds, "signedIdentityKey", "public");
		if (mine->details.len <= 256) {
			msg[0] = 6, msg[1] = 1;
			memcpy(msg + 2, mine->details.data, mine->details.len);
			memcpy(msg + 2 + mine->details.len, ipub, 32);
			memcpy(msg + 2 + mine->details.len + 32, pv_account_pub, 32);
			ok(wa_curve_verify(ipub, msg, 2 + mine->details.len + 64, mine->devicesignature.data,
			    mine->devicesignature.len) == 0, "%s: device signature verifies (06 01 layout)", v->name);
		}
		dsig_b64 = wa_base64_encode(mine->devicesignature.data, mine->devicesignature.len);
	}

	/* creds: Baileys' text, with our device signature in place of Baileys' */
	expect = load(v->expect_creds);
	acc = json_object_get(expect, "account");
	if (dsig_b64 && acc)
		json_object_set_new(acc, "deviceSignature", json_string(dsig_b64));
	a = dump(res.creds);
	b = dump(expect);
	if (!ok(a && b && strcmp(a, b) == 0, "%s: creds.json is Baileys' byte for byte", v->name))
		printf("#   wa:      %s\n#   Baileys: %s\n", a, b);
	wa_creds_inspect(&info, res.creds);
	ok(info.complete && info.paired, "%s: wa_creds_inspect says paired (%s)", v->name, info.problem);
	is_str(info.me, v->jid, "%s: me.id", v->name);

	if (reply_out) {
		char *r64 = wa_base64_encode(res.reply, res.reply_len);
		json_t *line = json_pack("{s:s, s:s, s:s, s:s}", "name", v->name, "reply", r64,
		    "keyIndex", res.key_index, "creds", a);
		char *l = json_dumps(line, JSON_COMPACT);

		fprintf(reply_out, "%s\n", l);
		free(l);
		json_decref(line);
		free(r64);
	}
	free(a);
	free(b);
	free(dsig_b64);
	json_decref(expect);
	if (mine)
		wa__advsigned_device_identity__free_unpacked(mine, NULL);
	if (theirs)
		wa__advsigned_device_identity__free_unpacked(theirs, NULL);
	wa_pair_result_free(&res);
}

static void
check_forged(const struct pair_vector *v, const json_t *creds)
{
	struct wa_pair_success ps = { v->identity, v->identity_len, v->jid, v->lid, v->platform, v->biz };
	struct wa_pair_result res;
	struct wa_why why = { "" };
	char want[128];
	int rc;

	rc = wa_pair_verify(&res, creds, &ps, &why);
	snprintf(want, sizeof want, "pair-success: %s: ", v->check);
	ok(rc == WA_EVERIFY && strncmp(why.text, want, strlen(want)) == 0,
	    "%s: rejected by %s%s", v->name, v->check, v->baileys_accepts ? " (Baileys rc14 accepts it)" : "");
	if (rc != WA_EVERIFY || strncmp(why.text, want, strlen(want)) != 0)
		printf("#   rc %d: %s\n", rc, why.text);
	ok(!res.creds && !res.reply, "%s: nothing to write", v->name);
	wa_pair_result_free(&res);
}

static void
link_code(json_t *qr, const json_t *code_creds)
{
	unsigned char w[80], pub[32], eph_pub[32], eph_priv[32], ipriv[32], ipub[32];
	char code[9], code2[9], shown[10], *a, *b;
	struct wa_pair_code_finish f, f2;
	json_t *c;

	wa_pair_code_encode(code, pv_lc_raw);
	is_str(code, pv_lc_code, "link code: 5 bytes encode as Baileys' bytesToCrockford");
	ok(wa_pair_code_valid(code), "link code: valid");
	wa_pair_code_format(shown, code);
	ok(strlen(shown) == 9 && shown[4] == '-' && memcmp(shown, code, 4) == 0 &&
	    memcmp(shown + 5, code + 4, 4) == 0, "link code: shown as XXXX-XXXX (%s)", shown);
	ok(!wa_pair_code_valid("ABCDEFGI") && !wa_pair_code_valid("ABCDEFGO") &&
	    !wa_pair_code_valid("ABCDEFGU") && !wa_pair_code_valid("abcdefgh") &&
	    !wa_pair_code_valid("ABCDEFG") && !wa_pair_code_valid("ABCDEFGHJ") &&
	    !wa_pair_code_valid("ABCD-EFG") && !wa_pair_code_valid("0BCDEFGH") && !wa_pair_code_valid(NULL),
	    "link code: I, O, U, 0, lower case, hyphen, wrong length refused");
	ok(wa_pair_code_generate(code2) == 0 && wa_pair_code_valid(code2), "link code: generated %s", code2);

	key32(eph_pub, qr, "pairingEphemeralKeyPair", "public");
	key32(eph_priv, qr, "pairingEphemeralKeyPair", "private");
	key32(ipriv, qr, "signedIdentityKey", "private");
	key32(ipub, qr, "signedIdentityKey", "public");
	ok(wa_pair_code_wrap(w, code, eph_pub, pv_lc_wrapped, pv_lc_wrapped + 32) == 0 &&
	    memcmp(w, pv_lc_wrapped, 80) == 0, "link code: wrapped companion key is Baileys' generatePairingKey");
	ok(wa_pair_code_unwrap(pub, code, pv_lc_wrapped) == 0 && memcmp(pub, eph_pub, 32) == 0,
	    "link code: unwrap gives the ephemeral key back");
	ok(wa_pair_code_unwrap(pub, code2, pv_lc_wrapped) == 0 && memcmp(pub, eph_pub, 32) != 0,
	    "link code: another code unwraps to another key");
	ok(wa_pair_code_wrap(w, code, eph_pub, NULL, NULL) == 0 && memcmp(w, pv_lc_wrapped, 48) != 0 &&
	    wa_pair_code_unwrap(pub, code, w) == 0 && memcmp(pub, eph_pub, 32) == 0,
	    "link code: random salt and iv round-trip");
	ok(wa_pair_code_wrap(w, "abc", eph_pub, NULL, NULL) == WA_EINVAL, "link code: wrap refuses a bad code");
	ok(wa_pair_code_unwrap(pub, code, pv_lc_primary_wrapped) == 0 &&
	    memcmp(pub, pv_lc_primary_eph_pub, 32) == 0, "link code: the primary's ephemeral key unwraps");

	ok(wa_pair_code_finish(&f, code, eph_priv, ipriv, ipub, pv_lc_primary_wrapped,
	    pv_lc_primary_identity, pv_lc_rnd) == 0, "companion_finish: computed");
	ok(memcmp(f.bundle, pv_lc_bundle, sizeof f.bundle) == 0, "companion_finish: key bundle is Baileys'");
	ok(memcmp(f.adv_secret, pv_lc_adv, 32) == 0, "companion_finish: adv secret is Baileys'");
	ok(wa_pair_code_finish(&f2, code2, eph_priv, ipriv, ipub, pv_lc_primary_wrapped,
	    pv_lc_primary_identity, pv_lc_rnd) == 0 && memcmp(f2.adv_secret, pv_lc_adv, 32) != 0,
	    "companion_finish: a wrong code gives another adv secret");
	wa_pair_code_finish_wipe(&f2);
	ok(wa_pair_code_finish(&f2, code, eph_priv, ipriv, ipub, pv_lc_primary_wrapped,
	    pv_lc_primary_identity, NULL) == 0 && memcmp(f2.adv_secret, pv_lc_adv, 32) != 0 &&
	    memcmp(f2.bundle, pv_lc_bundle, 32) != 0, "companion_finish: fresh randomness by default");
	wa_pair_code_finish_wipe(&f2);
	{
		static const unsigned char zero[32];
		ok(wa_pair_code_finish(&f2, code, eph_priv, ipriv, ipub, pv_lc_primary_wrapped, zero,
		    pv_lc_rnd) == WA_EVERIFY, "companion_finish: a low-order primary identity is refused");
		ok(memcmp(&f2, zero, 32) == 0, "companion_finish: nothing left on failure");
	}

	c = json_deep_copy(qr);
	ok(wa_pair_code_apply(c, code, f.adv_secret) == 0, "code apply: done");
	a = dump(c);
	b = dump(code_creds);
	if (!ok(a && b && strcmp(a, b) == 0, "code apply: creds.json is Baileys' after the exchange"))
		printf("#   wa:      %s\n#   Baileys: %s\n", a, b);
	free(a);
	free(b);
	json_decref(c);
	wa_pair_code_finish_wipe(&f);
}

static void
qr_string(const json_t *qr)
{
	struct wa_why why = { "" };
	char *s = NULL;
	json_t *c;
	size_t i;

	ok(wa_pair_qr_string(&s, pv_qr_ref, strlen(pv_qr_ref), qr, "1", &why) == 0, "qr: built (%s)", why.text);
	is_str(s, pv_qr_string, "qr: string is Baileys' buildPairingQRData");
	free(s);
	s = NULL;
	ok(wa_pair_qr_string(&s, "2@x", 3, qr, NULL, &why) == 0 && s &&
	    strncmp(s, WA_PAIR_QR_PREFIX "2@x,", strlen(WA_PAIR_QR_PREFIX) + 4) == 0 &&
	    strlen(s) == strlen(WA_PAIR_QR_PREFIX) + 3 + 3 * 45, "qr: without platform, four parts");
	free(s);
	s = NULL;
	ok(wa_pair_qr_string(&s, "2@a,b", 5, qr, "1", &why) == WA_EPROTO && !s, "qr: comma in ref refused");
	ok(wa_pair_qr_string(&s, "2@a\033[2J", 7, qr, "1", &why) == WA_EPROTO, "qr: escape in ref refused");
	ok(wa_pair_qr_string(&s, "2@\xc3\xa9", 4, qr, "1", &why) == WA_EPROTO, "qr: non-ASCII ref refused");
	ok(wa_pair_qr_string(&s, "", 0, qr, "1", &why) == WA_EPROTO, "qr: empty ref refused");
	ok(wa_pair_qr_string(&s, "2@x", 3, qr, "1,2", &why) == WA_EINVAL, "qr: bad platform refused");
	c = json_deep_copy(qr);
	json_object_del(c, "advSecretKey");
	ok(wa_pair_qr_string(&s, "2@x", 3, c, "1", &why) == WA_ECORRUPT && strstr(why.text, "advSecretKey"),
	    "qr: creds without advSecretKey: %s", why.text);
	json_decref(c);
	for (i = 0; i < sizeof pv_platforms / sizeof pv_platforms[0]; i++)
		is_str(wa_pair_platform_id(pv_platforms[i].os, pv_platforms[i].name), pv_platforms[i].id,
		    "platform id of (%s, %s) is Baileys'", pv_platforms[i].os, pv_platforms[i].name);
}

static void
bad_creds(const json_t *qr)
{
	const struct pair_vector *v = &pair_vectors[0];
	struct wa_pair_success ps = { v->identity, v->identity_len, v->jid, v->lid, v->platform, v->biz };
	struct wa_pair_result res;
	struct wa_why why = { "" };
	json_t *c;

	c = json_deep_copy(qr);
	json_object_del(json_object_get(c, "signedIdentityKey"), "private");
	ok(wa_pair_verify(&res, c, &ps, &why) == WA_ECORRUPT && strstr(why.text, "signedIdentityKey.private"),
	    "creds without the identity private key: %s", why.text);
	json_decref(c);
	c = json_deep_copy(qr);
	json_object_set(json_object_get(c, "signedIdentityKey"), "public",
	    json_object_get(json_object_get(qr, "noiseKey"), "public"));
	ok(wa_pair_verify(&res, c, &ps, &why) == WA_ECORRUPT && strstr(why.text, "not the private key's"),
	    "creds whose identity public key is not the private key's: %s", why.text);
	json_decref(c);
	c = json_deep_copy(qr);
	json_object_set_new(c, "advSecretKey", json_string("AAAA"));
	ok(wa_pair_verify(&res, c, &ps, &why) == WA_ECORRUPT, "creds with a 3-byte adv secret: %s", why.text);
	json_decref(c);
	c = json_deep_copy(qr);
	json_object_set_new(c, "signalIdentities", json_string("x"));
	ok(wa_pair_verify(&res, c, &ps, &why) == WA_ECORRUPT, "creds with a bad signalIdentities: %s", why.text);
	json_decref(c);

	/* a business name that is not UTF-8 is kept, made ASCII */
	ps.biz_name = "\xff\xfe Acme";
	ok(wa_pair_verify(&res, qr, &ps, &why) == 0 &&
	    json_is_string(json_object_get(json_object_get(res.creds, "me"), "name")) &&
	    strcmp(json_string_value(json_object_get(json_object_get(res.creds, "me"), "name")), "?? Acme") == 0,
	    "a business name that is not UTF-8 is stored with '?'");
	wa_pair_result_free(&res);
	ps.biz_name = v->biz;

	/* a second pairing appends to signalIdentities, as Baileys does */
	c = json_deep_copy(qr);
	json_object_set_new(c, "signalIdentities", json_pack("[{s:{s:s,s:i},s:o}]", "identifier", "name",
	    "1@lid", "deviceId", 0, "identifierKey", wa_bufjson_encode((const uint8_t *)"x", 1)));
	ok(wa_pair_verify(&res, c, &ps, &why) == 0 &&
	    json_array_size(json_object_get(res.creds, "signalIdentities")) == 2,
	    "an earlier signalIdentities entry is kept");
	wa_pair_result_free(&res);
	json_decref(c);
}

int
main(int argc, char **argv)
{
	FILE *reply_out = NULL;
	json_t *qr = load(pv_creds_qr), *code = load(pv_creds_code);
	size_t i;

	if (argc == 3 && strcmp(argv[1], "--reply") == 0) {
		if (!(reply_out = fopen(argv[2], "w"))) {
			perror(argv[2]);
			return 2;
		}
	} else if (argc != 1) {
		fprintf(stderr, "usage: t-pair [--reply FILE]\n");
		return 2;
	}
	for (i = 0; i < NV; i++) {
		const struct pair_vector *v = &pair_vectors[i];
		const json_t *c = v->code ? code : qr;

		if (v->check)
			check_forged(v, c);
		else
			check_valid(v, c, reply_out);
	}
	link_code(qr, code);
	qr_string(qr);
	bad_creds(qr);
	if (reply_out && fclose(reply_out) != 0) {
		perror(argv[2]);
		return 2;
	}
	json_decref(qr);
	json_decref(code);
	done_testing();
	return exit_status();
}
