/*
 * wa-signal - the Signal test contract on lib/signal (C side; the Node
 * side is tests/fakewa/signal-node.mjs, Baileys' own repository).
 *
 *   wa-signal [-n] -d DIR
 *
 * One JSON request per line on stdin, exactly one JSON response line per
 * request on stdout, in order; binary values are base64.  DIR is a paired
 * Baileys multi-file auth folder; wa-signal holds its writer lock.  Every
 * request's changes are committed (one group commit; a batch is one
 * commit for all of its requests) before its response is written.
 *
 *   {"op":"bundle"}                          our bundle with an unused pre-key
 *   {"op":"process_bundle","jid":J,"bundle":{…}}
 *   {"op":"encrypt","jid":J,"pt":B64}        -> {"type":"pkmsg"|"msg","ct":B64}
 *   {"op":"decrypt","jid":J,"type":T,"ct":B64} -> {"pt":B64}
 *   {"op":"group_encrypt","group":G,"pt":B64} -> {"skdm":B64,"ct":B64}
 *   {"op":"process_skdm","group":G,"jid":J,"skdm":B64}
 *   {"op":"group_decrypt","group":G,"jid":J,"ct":B64} -> {"pt":B64}
 *   {"op":"identity","jid":J}                -> {"identityKey":B33|null}
 *   {"op":"batch","requests":[…]}            -> {"responses":[…]}
 *   {"op":"quit"}
 *
 * -n (benchmarks only) never commits: everything stays in the store's
 * overlay, nothing reaches the folder.
 * A changed identity key (trusted, as Baileys does) is reported on stderr.
 * Errors: {"ok":false,"error":CLASS,"detail":TEXT}, CLASS as in
 * lib/signal/cipher.h.  The process answers every line; quit or EOF exits
 * 0.  Exit 64 for bad usage, 66/75/65 when the folder cannot be opened,
 * locked, or its creds.json is unusable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/bufjson.h"
#include "exitcode.h"
#include "signal/cipher.h"
#include "signal/store.h"
#include "store/authdir.h"

#define USAGE "usage: wa-signal [-n] -d DIR"

struct ctx {
	struct wa_sigstore *st;
	int nocommit;
	uint32_t *given;      /* pre-key ids handed out by bundle */
	size_t ngiven;
};

static json_t *
err(const char *cls, const char *detail)
{
	return json_pack("{s:b,s:s,s:s}", "ok", 0, "error", cls, "detail", detail);
}

static json_t *
err2(const char *cls, const char *a, const char *b)
{
	char d[WA_WHY_MAX + 64];

	snprintf(d, sizeof d, "%s%s", a, b);
	return err(cls, d);
}

static json_t *
sigerr(const struct wa_sigfail *f)
{
	return json_pack("{s:b,s:s,s:s}", "ok", 0, "error", wa_sigclass_name(f->cls), "detail", f->detail);
}

static json_t *
b64(const uint8_t *b, size_t n)
{
	char *s = wa_base64_encode(b, n);
	json_t *v = s ? json_string(s) : NULL;

	free(s);
	return v;
}

/* Decode the base64 string field k of o; exact length when want > 0. */
static int
arg_b64(uint8_t **out, size_t *len, const json_t *o, const char *k, size_t want)
{
	const json_t *v = json_object_get(o, k);

	*out = NULL;
	*len = 0;
	if (!json_is_string(v) || wa_base64_decode(out, len, json_string_value(v), json_string_length(v)) < 0)
		return -1;
	if (want && *len != want) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static const char *
arg_str(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A public key: 33 bytes with 0x05, or 32 bytes (0x05 added). */
static int
arg_pub(uint8_t out[33], const json_t *o, const char *k)
{
	uint8_t *b;
	size_t n;
	int rc = -1;

	if (arg_b64(&b, &n, o, k, 0) < 0)
		return -1;
	if (n == 33 && b[0] == 0x05) {
		memcpy(out, b, 33);
		rc = 0;
	} else if (n == 32) {
		out[0] = 0x05;
		memcpy(out + 1, b, 32);
		rc = 0;
	}
	free(b);
	return rc;
}

static int
arg_uint(uint32_t *out, const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0xffffffffLL)
		return -1;
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static int
given(struct ctx *c, uint32_t id)
{
	size_t i;

	for (i = 0; i < c->ngiven; i++)
		if (c->given[i] == id)
			return 1;
	return 0;
}

static json_t *
op_bundle(struct ctx *c)
{
	const struct wa_keyjson_creds *cr = wa_sigstore_creds(c->st);
	uint8_t ik[33], spk[33], pk[33];
	uint32_t *ids = NULL, id = 0;
	size_t n = 0, i;
	json_t *r, *pre = NULL;
	struct wa_why why = { "" };

	if (wa_sigstore_prekey_ids(c->st, &ids, &n) < 0)
		return err("internal", "cannot list the pre-keys");
	for (i = 0; i < n && !pre; i++) {
		char name[64], idtxt[16];
		const json_t *doc;
		struct wa_keypair kp;
		if (given(c, ids[i]))
			continue;
		snprintf(idtxt, sizeof idtxt, "%u", ids[i]);
		wa_fname_make(name, sizeof name, WA_FT_PRE_KEY, idtxt);
		if (wa_sigstore_get(c->st, &doc, name, &why) < 0 || wa_keyjson_prekey(&kp, doc, &why) < 0)
			continue;
		wa_curve_djb(pk, kp.pub);
		wa_curve_keypair_wipe(&kp);
		id = ids[i];
		pre = json_pack("{s:i,s:o}", "keyId", (json_int_t)id, "publicKey", b64(pk, 33));
	}
	free(ids);
	if (pre) {
		uint32_t *g = realloc(c->given, (c->ngiven + 1) * sizeof *g);
		if (g) {
			c->given = g;
			c->given[c->ngiven++] = id;
		}
	}
	wa_curve_djb(ik, cr->identity.pub);
	wa_curve_djb(spk, cr->spk.pub);
	r = json_pack("{s:b,s:i,s:o,s:{s:i,s:o,s:o}}", "ok", 1, "registrationId", (json_int_t)cr->regid,
	    "identityKey", b64(ik, 33), "signedPreKey", "keyId", (json_int_t)cr->spk_id,
	    "publicKey", b64(spk, 33), "signature", b64(cr->spk_sig, 64));
	if (r && pre)
		json_object_set_new(r, "preKey", pre);
	else
		json_decref(pre);
	return r;
}

static json_t *
op_process_bundle(struct ctx *c, const json_t *req)
{
	const json_t *b = json_object_get(req, "bundle"), *spk = json_object_get(b, "signedPreKey"),
	    *pk = json_object_get(b, "preKey");
	const char *jid = arg_str(req, "jid");
	struct wa_sigbundle sb;
	struct wa_sigfail f;
	uint8_t *sig;
	size_t n;

	memset(&sb, 0, sizeof sb);
	if (!jid || !json_is_object(b) || arg_uint(&sb.regid, b, "registrationId") < 0 ||
	    arg_pub(sb.identity, b, "identityKey") < 0 || !json_is_object(spk) ||
	    arg_uint(&sb.spk_id, spk, "keyId") < 0 || arg_pub(sb.spk, spk, "publicKey") < 0 ||
	    arg_b64(&sig, &n, spk, "signature", 64) < 0)
		return err("bad_request", "process_bundle wants jid and a bundle");
	memcpy(sb.spk_sig, sig, 64);
	free(sig);
	if (json_is_object(pk)) {
		if (arg_uint(&sb.prekey_id, pk, "keyId") < 0 || arg_pub(sb.prekey, pk, "publicKey") < 0)
			return err("bad_request", "bad preKey in the bundle");
		sb.has_prekey = 1;
	}
	if (wa_sigcipher_process_bundle(c->st, jid, &sb, &f) < 0)
		return sigerr(&f);
	return json_pack("{s:b}", "ok", 1);
}

static json_t *
op_encrypt(struct ctx *c, const json_t *req)
{
	const char *jid = arg_str(req, "jid");
	uint8_t *pt, *ct;
	size_t ptlen, ctlen;
	struct wa_sigfail f;
	int type, rc;

	if (!jid || arg_b64(&pt, &ptlen, req, "pt", 0) < 0)
		return err("bad_request", "encrypt wants jid and pt");
	rc = wa_sigcipher_encrypt(&ct, &ctlen, &type, c->st, jid, pt, ptlen, &f);
	free(pt);
	if (rc < 0)
		return sigerr(&f);
	{
		json_t *r = json_pack("{s:b,s:s,s:o}", "ok", 1, "type", type == WA_SIG_PKMSG ? "pkmsg" : "msg",
		    "ct", b64(ct, ctlen));
		free(ct);
		return r;
	}
}

static json_t *
op_decrypt(struct ctx *c, const json_t *req)
{
	const char *jid = arg_str(req, "jid"), *type = arg_str(req, "type");
	uint8_t *pt, *ct;
	size_t ptlen, ctlen;
	struct wa_sigfail f;
	json_t *r;
	int rc, t;

	if (!jid || !type || (strcmp(type, "pkmsg") && strcmp(type, "msg")) ||
	    arg_b64(&ct, &ctlen, req, "ct", 0) < 0)
		return err("bad_request", "decrypt wants jid, type pkmsg or msg, and ct");
	t = strcmp(type, "pkmsg") == 0 ? WA_SIG_PKMSG : WA_SIG_MSG;
	rc = wa_sigcipher_decrypt(&pt, &ptlen, c->st, jid, t, ct, ctlen, &f);
	free(ct);
	if (rc < 0)
		return sigerr(&f);
	if (wa_sigstore_identity_changed(c->st))
		fprintf(stderr, "wa-signal: identity key of %s changed; its session was replaced\n",
		    wa_sigstore_identity_changed(c->st));
	r = json_pack("{s:b,s:o}", "ok", 1, "pt", b64(pt, ptlen));
	free(pt);
	return r;
}

static json_t *
op_group_encrypt(struct ctx *c, const json_t *req)
{
	const char *group = arg_str(req, "group");
	uint8_t *pt, *ct, *skdm;
	size_t ptlen, ctlen, skdmlen;
	struct wa_sigfail f;
	json_t *r;
	int rc;

	if (!group || arg_b64(&pt, &ptlen, req, "pt", 0) < 0)
		return err("bad_request", "group_encrypt wants group and pt");
	rc = wa_sigcipher_group_encrypt(&skdm, &skdmlen, &ct, &ctlen, c->st, group, pt, ptlen, &f);
	free(pt);
	if (rc < 0)
		return sigerr(&f);
	r = json_pack("{s:b,s:o,s:o}", "ok", 1, "skdm", b64(skdm, skdmlen), "ct", b64(ct, ctlen));
	free(skdm);
	free(ct);
	return r;
}

static json_t *
op_process_skdm(struct ctx *c, const json_t *req)
{
	const char *group = arg_str(req, "group"), *jid = arg_str(req, "jid");
	uint8_t *skdm;
	size_t n;
	struct wa_sigfail f;
	int rc;

	if (!group || !jid || arg_b64(&skdm, &n, req, "skdm", 0) < 0)
		return err("bad_request", "process_skdm wants group, jid and skdm");
	rc = wa_sigcipher_process_skdm(c->st, group, jid, skdm, n, &f);
	free(skdm);
	return rc < 0 ? sigerr(&f) : json_pack("{s:b}", "ok", 1);
}

static json_t *
op_group_decrypt(struct ctx *c, const json_t *req)
{
	const char *group = arg_str(req, "group"), *jid = arg_str(req, "jid");
	uint8_t *pt, *ct;
	size_t ptlen, ctlen;
	struct wa_sigfail f;
	json_t *r;
	int rc;

	if (!group || !jid || arg_b64(&ct, &ctlen, req, "ct", 0) < 0)
		return err("bad_request", "group_decrypt wants group, jid and ct");
	rc = wa_sigcipher_group_decrypt(&pt, &ptlen, c->st, group, jid, ct, ctlen, &f);
	free(ct);
	if (rc < 0)
		return sigerr(&f);
	r = json_pack("{s:b,s:o}", "ok", 1, "pt", b64(pt, ptlen));
	free(pt);
	return r;
}

static json_t *
op_identity(struct ctx *c, const json_t *req)
{
	const char *jid = arg_str(req, "jid"), *file, *cwhy;
	struct wa_why why = { "" };
	struct wa_sigaddr a;
	uint8_t key[33];
	int rc;

	if (!jid)
		return err("bad_request", "identity wants jid");
	wa_sigstore_op_begin(c->st);
	rc = wa_sigstore_resolve(c->st, &a, jid, &why);
	if (rc == 0)
		rc = wa_sigstore_identity(c->st, key, &a, &why);
	file = wa_sigstore_corrupt(c->st, &cwhy);
	wa_sigstore_op_end(c->st, 1);
	if (rc == WA_ENOTFOUND)
		return json_pack("{s:b,s:n}", "ok", 1, "identityKey");
	if (rc < 0 && file[0]) {
		char d[WA_WHY_MAX + 320];
		snprintf(d, sizeof d, "'%s': %s", file, cwhy);
		return json_pack("{s:b,s:s,s:s}", "ok", 0, "error", "corrupt_store", "detail", d);
	}
	if (rc < 0)
		return err("bad_request", why.text);
	return json_pack("{s:b,s:o}", "ok", 1, "identityKey", b64(key, 33));
}

static json_t *
one(struct ctx *c, const json_t *req, int *quit)
{
	const char *op = arg_str(req, "op");

	if (!json_is_object(req) || !op)
		return err("bad_request", "a request is an object with \"op\"");
	if (strcmp(op, "bundle") == 0)
		return op_bundle(c);
	if (strcmp(op, "process_bundle") == 0)
		return op_process_bundle(c, req);
	if (strcmp(op, "encrypt") == 0)
		return op_encrypt(c, req);
	if (strcmp(op, "decrypt") == 0)
		return op_decrypt(c, req);
	if (strcmp(op, "group_encrypt") == 0)
		return op_group_encrypt(c, req);
	if (strcmp(op, "process_skdm") == 0)
		return op_process_skdm(c, req);
	if (strcmp(op, "group_decrypt") == 0)
		return op_group_decrypt(c, req);
	if (strcmp(op, "identity") == 0)
		return op_identity(c, req);
	if (strcmp(op, "quit") == 0) {
		*quit = 1;
		return json_pack("{s:b}", "ok", 1);
	}
	return err2("bad_request", "unknown op ", op);
}

static json_t *
handle(struct ctx *c, const json_t *req, int *quit)
{
	struct wa_why why = { "" };
	json_t *r;
	const json_t *reqs = json_object_get(req, "requests");

	if (json_is_object(req) && json_is_string(json_object_get(req, "op")) &&
	    strcmp(json_string_value(json_object_get(req, "op")), "batch") == 0) {
		size_t i;
		json_t *sub;
		json_t *rs = json_array();
		if (!json_is_array(reqs)) {
			json_decref(rs);
			return err("bad_request", "batch wants requests");
		}
		json_array_foreach(reqs, i, sub) {
			int q = 0;
			json_array_append_new(rs, one(c, sub, &q));
		}
		r = json_pack("{s:b,s:o}", "ok", 1, "responses", rs);
	} else {
		r = one(c, req, quit);
	}
	if (!c->nocommit && wa_sigstore_commit(c->st, &why) < 0) {
		json_decref(r);
		return err2("internal", "commit failed: ", why.text);
	}
	return r ? r : err("internal", "out of memory");
}

int
main(int argc, char **argv)
{
	struct wa_authdir *ad = NULL;
	struct wa_lock_holder holder;
	struct wa_why why = { "" };
	struct ctx c = { 0 };
	const char *dir = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int opt, quit = 0, rc;

	while ((opt = getopt(argc, argv, "d:n")) != -1) {
		if (opt == 'd')
			dir = optarg;
		else if (opt == 'n')
			c.nocommit = 1;
		else
			goto usage;
	}
	if (!dir || optind != argc)
		goto usage;
	rc = wa_authdir_open(&ad, dir, WA_AUTHDIR_WRITE, "wa-signal", &holder, &why);
	if (rc < 0) {
		fprintf(stderr, "wa-signal: %s\n", why.text);
		return rc == WA_ELOCKED ? WA_EXIT_LOCKED : rc == WA_ENOTFOUND ? WA_EXIT_NOINPUT : WA_EXIT_IOERR;
	}
	if ((rc = wa_sigstore_open(&c.st, ad, &why)) < 0) {
		fprintf(stderr, "wa-signal: %s\n", why.text);
		wa_authdir_close(ad);
		return rc == WA_ENOTFOUND ? WA_EXIT_NOINPUT : WA_EXIT_DATAERR;
	}
	while (!quit && (n = getline(&line, &cap, stdin)) > 0) {
		json_error_t je;
		json_t *req, *resp;
		char *out;

		if (n == 1 && line[0] == '\n')
			continue;
		req = json_loadb(line, (size_t)n, 0, &je);
		resp = req ? handle(&c, req, &quit) : err2("bad_request", "not JSON: ", je.text);
		out = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
		printf("%s\n", out ? out : "{\"ok\":false,\"error\":\"internal\",\"detail\":\"out of memory\"}");
		fflush(stdout);
		free(out);
		json_decref(resp);
		json_decref(req);
	}
	free(line);
	free(c.given);
	wa_sigstore_free(c.st);
	wa_authdir_close(ad);
	return 0;
usage:
	fprintf(stderr, "%s\n", USAGE);
	return WA_EXIT_USAGE;
}
