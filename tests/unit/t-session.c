/*
 * t-session.c - the parts of lib/session.h and lib/pairing.h that need no
 * server: log redaction, the unified_session id, creds.json saved field by
 * field (unknown fields and key order kept, compact, 0600, durable) and
 * loaded with "missing" told from "unusable", the end names, and the
 * argument checks of wa_session_open and wa_pairing_open.  The protocol
 * itself is tested against fakewa (tests/2000-2003).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/authdir.h"
#include "crypto/credsgen.h"
#include "store/durable.h"
#include "base/file.h"
#include "session/pairing.h"
#include "session/session.h"
#include "tap.h"

static void
redact(const char *in, const char *want)
{
	char buf[512];

	snprintf(buf, sizeof buf, "%s", in);
	wa_session_redact(buf);
	is_str(buf, want, "redact: %s", in);
}

static char *
slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* the keys of an object, space separated */
static void
keys(char *out, size_t n, const json_t *o)
{
	const char *k;
	json_t *v;

	out[0] = 0;
	json_object_foreach((json_t *)o, k, v) {
		(void)v;
		snprintf(out + strlen(out), n - strlen(out), "%s%s", out[0] ? " " : "", k);
	}
}

int
main(void)
{
	char tmpl[] = "/tmp/t-session.XXXXXX", path[256], k1[1024], k2[1024], id[24], *text;
	struct wa_authdir *ad = NULL;
	struct wa_creds_info info;
	struct wa_session *s = NULL;
	struct wa_pairing *p = NULL;
	struct wa_session_opts so;
	struct wa_pairing_opts po;
	struct wa_session_end e;
	struct wa_why why = { "" };
	json_t *c = NULL, *back = NULL;
	struct stat st;
	long long v;
	int rc, fd;

	/* ---- redaction ---- */
	redact("-> <iq><ref>{42 bytes: 32406162636465}</ref></iq>", "-> <iq><ref>{42 bytes}</ref></iq>");
	redact("<a>{80 bytes: 0011aabb...}</a><b>{3 bytes: 010203}</b>", "<a>{80 bytes}</a><b>{3 bytes}</b>");
	redact("<x>{0 bytes}</x>", "<x>{0 bytes}</x>");
	redact("<x k=\"{not bytes}\">{12 bytes: zz}</x>", "<x k=\"{not bytes}\">{12 bytes: zz}</x>");
	redact("{", "{");
	redact("no braces", "no braces");

	/* ---- unified_session id ---- */
	wa_session_unified_id(id, 0);
	v = atoll(id);
	ok(v >= 0 && v < 7LL * 24 * 3600 * 1000, "unified_session id %s within a week of ms", id);
	wa_session_unified_id(id, -30LL * 24 * 3600 * 1000);
	v = atoll(id);
	ok(v >= 0 && v < 7LL * 24 * 3600 * 1000, "... also with a large negative clock offset (%s)", id);

	/* ---- creds.json save / load ---- */
	if (!mkdtemp(tmpl)) {
		ok(0, "mkdtemp");
		return 1;
	}
	rc = wa_authdir_open(&ad, tmpl, WA_AUTHDIR_WRITE, "t-session", NULL, &why);
	is_int(rc, 0, "open a folder for writing");
	if (rc < 0)
		return exit_status();
	rc = wa_creds_read(&back, &info, ad, &why);
	is_int(rc, WA_ENOTFOUND, "load: no creds.json is 'not found'");

	fd = openat(ad->fd, "creds.json", O_WRONLY | O_CREAT | O_EXCL, 0600);
	ok(fd >= 0 && write(fd, "{\"noiseKey\":{\"priv", 18) == 18, "a torn creds.json");
	close(fd);
	rc = wa_creds_read(&back, &info, ad, &why);
	is_int(rc, WA_ECORRUPT, "load: a torn creds.json is corrupt, not missing");
	ok(strstr(why.text, "creds.json") != NULL, "... why names the file: %s", why.text);

	c = json_pack("{s:i}", "registrationId", 1);
	rc = wa_creds_write(ad, c, &why);
	is_int(rc, 0, "save");
	json_decref(c);
	rc = wa_creds_read(&back, &info, ad, &why);
	is_int(rc, WA_ECORRUPT, "load: JSON without the keys is corrupt (incomplete)");
	ok(strstr(why.text, "incomplete") != NULL, "... why says incomplete: %s", why.text);

	is_int(wa_creds_generate(&c), 0, "fresh creds");
	json_object_set_new(c, "zzUnknown", json_pack("{s:[i,i]}", "kept", 1, 2));
	json_object_set_new(c, "additionalData", json_string("café ü"));
	is_int(wa_creds_write(ad, c, &why), 0, "save creds with fields wa does not know");
	snprintf(path, sizeof path, "%s/creds.json", tmpl);
	text = slurp(path);
	ok(text && !strstr(text, ": ") && !strstr(text, ", ") && !strchr(text, '\n'),
	    "written compact, as Baileys' JSON.stringify");
	ok(text && strstr(text, "\"café ü\""), "UTF-8 kept as it is");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	rc = wa_creds_read(&back, &info, ad, &why);
	is_int(rc, 0, "load it back");
	ok(info.complete && !info.paired, "complete, not paired");
	keys(k1, sizeof k1, c);
	keys(k2, sizeof k2, back);
	is_str(k2, k1, "same keys in the same order");

	/* a field changed in place keeps its place */
	json_object_set_new(back, "nextPreKeyId", json_integer(813));
	is_int(wa_creds_write(ad, back, &why), 0, "save with nextPreKeyId changed");
	json_decref(back);
	back = NULL;
	is_int(wa_creds_read(&back, &info, ad, &why), 0, "load again");
	keys(k2, sizeof k2, back);
	is_str(k2, k1, "the changed field kept its place");
	is_int(json_integer_value(json_object_get(back, "nextPreKeyId")), 813, "and has the new value");
	ok(json_equal(json_object_get(back, "zzUnknown"), json_object_get(c, "zzUnknown")), "unknown field intact");

	/* ---- argument checks ---- */
	memset(&so, 0, sizeof so);
	so.conn.url = "ws://127.0.0.1:1/ws/chat";
	rc = wa_session_open(&s, ad, back, &so, &why);
	is_int(rc, WA_EINVAL, "wa_session_open refuses unpaired creds");
	ok(strstr(why.text, "not paired") != NULL, "... saying why: %s", why.text);
	ok(s == NULL, "... and returns no session");

	memset(&po, 0, sizeof po);
	po.conn.url = "ws://127.0.0.1:1/ws/chat";
	po.phone = "0123456789";
	rc = wa_pairing_open(&p, ad, back, &po, &why);
	is_int(rc, WA_EINVAL, "wa_pairing_open refuses a number with a leading 0");
	po.phone = "1555000";
	rc = wa_pairing_open(&p, ad, back, &po, &why);
	ok(rc == 0 && p, "a 7-digit number is taken (%s)", rc < 0 ? why.text : "ok");
	wa_pairing_free(p);
	p = NULL;
	json_object_del(back, "noiseKey");
	po.phone = NULL;
	rc = wa_pairing_open(&p, ad, back, &po, &why);
	is_int(rc, WA_EINVAL, "wa_pairing_open refuses creds without a noise key");

	{
		struct wa_client_config cfg;
		char d[64];
		wa_client_config_default(&cfg);
		wa_pairing_display(d, sizeof d, &cfg);
		is_str(d, "Chrome (Mac OS)", "companion_platform_display as Baileys'");
	}

	/* ---- end names ---- */
	memset(&e, 0, sizeof e);
	e.kind = WA_SESSION_END_FAILURE;
	e.code = 401;
	is_str(wa_session_end_name(&e), "logged out (401)", "end name: failure 401");
	e.kind = WA_SESSION_END_STREAM_ERROR;
	snprintf(e.type, sizeof e.type, "replaced");
	is_str(wa_session_end_name(&e), "replaced by another connection", "end name: replaced");
	e.kind = WA_SESSION_END_RESTART;
	is_str(wa_session_end_name(&e), "restart required (515)", "end name: 515");

	json_decref(c);
	json_decref(back);
	wa_authdir_close(ad);
	snprintf(path, sizeof path, "rm -rf '%s'", tmpl);
	if (system(path) != 0)
		ok(0, "clean up");
	done_testing();
	return exit_status();
}
