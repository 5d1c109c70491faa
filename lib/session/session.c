/*
 * session.c - a logged-in connection (session.h): login payload, <success>
 * or <failure>, pre-key count and upload with the files on disk first,
 * passive/active, keepalive, and the end of the connection classified.
 *
 * Everything hangs off one wa_conn: the session is its on_open / on_node /
 * on_close and sets its timers and iqs, so there is no state outside the
 * struct and nothing runs between two wa_session_process calls.  Every
 * change to creds.json is made in the caller's json_t and written back
 * whole (wa_creds_write) before anything that depends on it is
 * sent.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/bufjson.h"
#include "crypto/credsgen.h"
#include "session/disconnect.h"
#include "base/file.h"
#include "store/fname.h"
#include "store/names.h"
#include "session/session.h"

#define SERVER "@s.whatsapp.net"

struct prekey {
	uint32_t id;
	unsigned char pub[32];
};

struct wa_session {
	struct wa_session_opts o;
	struct wa_authdir *ad;
	json_t *creds;
	struct wa_conn *c;
	enum wa_session_state state;
	struct wa_session_end end;
	int login_timer;
	int ka_timer;
	int uploading;		/* an upload iq is in flight */
	uint32_t up_first, up_end;
	long server_count;
	long long offset_ms;
	time_t last_inbound;
	int in_setup;		/* pre-key step of the login sequence still running */
};

/* ---- small helpers ------------------------------------------------------ */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void __attribute__((format(printf, 3, 4)))
slog(struct wa_session *s, enum wa_log_level lv, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!s->o.conn.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	s->o.conn.log(s->o.arg, lv, line);
}

void
wa_session_redact(char *line)
{
	char *p = line, *q, *e;

	while ((p = strchr(p, '{'))) {
		q = p + 1;
		if (!isdigit((unsigned char)*q)) {
			p++;
			continue;
		}
		while (isdigit((unsigned char)*q))
			q++;
		if (strncmp(q, " bytes: ", 8) != 0) {
			p++;
			continue;
		}
		q += 6;		/* at ": " */
		e = q + 2;
		while (isxdigit((unsigned char)*e) || *e == '.')
			e++;
		if (*e != '}') {
			p++;
			continue;
		}
		memmove(q, e, strlen(e) + 1);
		p = q;
	}
}

static void
conn_log(void *arg, enum wa_log_level lv, const char *line)
{
	struct wa_session *s = arg;
	char *copy;

	if (!s->o.conn.log)
		return;
	if (!(copy = strdup(line)))
		return;
	wa_session_redact(copy);
	s->o.conn.log(s->o.arg, lv, copy);
	free(copy);
}

void
wa_session_unified_id(char out[24], long long offset_ms)
{
	const long long day = 24LL * 3600 * 1000;
	long long v = ((now_ms() + offset_ms) + 3 * day) % (7 * day);

	snprintf(out, 24, "%lld", v < 0 ? v + 7 * day : v);
}

static int
buf_exact(unsigned char *out, size_t want, const json_t *v)
{
	uint8_t *b = NULL;
	size_t n = 0;
	int ok = wa_bufjson_decode(&b, &n, v) == 0 && n == want;

	if (ok)
		memcpy(out, b, want);
	if (b) {
		OPENSSL_cleanse(b, n);
		free(b);
	}
	return ok ? 0 : -1;
}

static void
be_bytes(unsigned char *out, uint32_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--, v >>= 8)
		out[i] = (unsigned char)(v & 0xff);
}

/* A new node tag with byte content. */
static struct wa_node *
node_bytes(const char *tag, const void *p, size_t n)
{
	struct wa_node *x = NULL;

	if (wa_node_new(&x, tag) < 0)
		return NULL;
	if (wa_node_set_bytes(x, p, n) < 0) {
		wa_node_free(x);
		return NULL;
	}
	return x;
}

/* Add child to parent; a NULL child (allocation failed) is an error. */
static int
add(struct wa_node *parent, struct wa_node *child)
{
	if (!child)
		return WA_ENOMEM;
	return wa_node_child_add(parent, child);
}

const char *
wa_session_end_name(const struct wa_session_end *e)
{
	switch (e->kind) {
	case WA_SESSION_END_NONE: return "open";
	case WA_SESSION_END_LOCAL: return "closed";
	case WA_SESSION_END_RESTART: return "restart required (515)";
	case WA_SESSION_END_FAILURE:
		switch (e->code) {
		case 401: return "logged out (401)";
		case 402: return "temporarily banned (402)";
		case 403: return "primary device gone or account locked (403)";
		case 405: return "client outdated (405)";
		case 406: return "banned (406)";
		default: return "login refused";
		}
	case WA_SESSION_END_STREAM_ERROR:
		if (strcmp(e->type, "replaced") == 0)
			return "replaced by another connection";
		if (strcmp(e->type, "device_removed") == 0)
			return "device removed (logged out)";
		return "stream error";
	case WA_SESSION_END_NETWORK: return "connection lost";
	case WA_SESSION_END_LOGIN_TIMEOUT: return "login timed out";
	case WA_SESSION_END_KEEPALIVE: return "keepalive unanswered";
	case WA_SESSION_END_STORAGE: return "storage error";
	}
	return "?";
}

/* Record why the session ends (the first reason wins) and close. */
static void __attribute__((format(printf, 4, 5)))
end_with(struct wa_session *s, enum wa_session_end_kind kind, int rc, const char *fmt, ...)
{
	va_list ap;

	if (s->end.kind == WA_SESSION_END_NONE) {
		s->end.kind = kind;
		s->end.rc = rc;
		va_start(ap, fmt);
		vsnprintf(s->end.text, sizeof s->end.text, fmt, ap);
		va_end(ap);
	}
	wa_conn_close(s->c);
}

/* ---- creds.json ----------------------------------------------------------- */

/* Set an integer field of creds (keeping its place) and save. */
static int
save_number(struct wa_session *s, const char *key, uint32_t v)
{
	json_t *old = json_object_get(s->creds, key), *keep = old ? json_incref(old) : NULL;
	struct wa_why why;
	int rc;

	if (json_object_set_new(s->creds, key, json_integer(v)) < 0) {
		json_decref(keep);
		end_with(s, WA_SESSION_END_STORAGE, WA_ENOMEM, "creds: out of memory");
		return WA_ENOMEM;
	}
	if ((rc = wa_creds_write(s->ad, s->creds, &why)) < 0) {
		/* the file still holds the old value: so does the object */
		if (keep)
			json_object_set(s->creds, key, keep);
		json_decref(keep);
		end_with(s, WA_SESSION_END_STORAGE, rc, "%s", why.text);
		return rc;
	}
	json_decref(keep);
	return 0;
}

static long
creds_id(const json_t *creds, const char *key)
{
	const json_t *v = json_object_get(creds, key);

	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > (json_int_t)WA_PREKEY_ID_MAX + 1)
		return -1;
	return (long)json_integer_value(v);
}

/* ---- pre-keys ------------------------------------------------------------- */

static void
report_prekeys(struct wa_session *s, int rc, unsigned uploaded, uint32_t first, uint32_t last,
    const char *why)
{
	struct wa_session_prekeys p;

	memset(&p, 0, sizeof p);
	p.rc = rc;
	p.server_count = s->server_count;
	p.uploaded = uploaded;
	p.first = first;
	p.last = last;
	if (why)
		snprintf(p.why, sizeof p.why, "%s", why);
	if (rc < 0)
		slog(s, WA_LOG_WARN, "pre-keys: %s", why ? why : wa_strerror(rc));
	if (s->o.on_prekeys)
		s->o.on_prekeys(s->o.arg, s, &p);
}

static void go_active(struct wa_session *s);

/* The login sequence goes on after its pre-key step. */
static void
setup_next(struct wa_session *s)
{
	if (!s->in_setup)
		return;
	s->in_setup = 0;
	if (wa_conn_state(s->c) != WA_CONN_OPEN)
		return;
	go_active(s);
}

/* Read one pre-key file; 0 and pub, or -1 when missing or unusable. */
static int
read_prekey(struct wa_session *s, uint32_t id, unsigned char pub[32])
{
	char id_s[16], name[64];
	unsigned char priv[32];
	json_t *j = NULL;
	struct wa_why why;
	int ok;

	snprintf(id_s, sizeof id_s, "%u", id);
	if (wa_fname_make(name, sizeof name, WA_FT_PRE_KEY, id_s) < 0)
		return -1;
	if (wa_json_read(&j, s->ad->fd, name, s->ad->path, &why) < 0)
		return -1;
	ok = buf_exact(pub, 32, json_object_get(j, "public")) == 0 &&
	    buf_exact(priv, 32, json_object_get(j, "private")) == 0;
	OPENSSL_cleanse(priv, sizeof priv);
	json_decref(j);
	return ok ? 0 : -1;
}

/* Make and durably write fresh pre-keys first..first+count-1. */
static int
write_prekeys(struct wa_session *s, uint32_t first, uint32_t count, struct prekey *keys,
    uint32_t range_first, struct wa_why *why)
{
	json_t *all = NULL, *v;
	const char *k;
	char name[64], *text;
	size_t len;
	int rc;

	if ((rc = wa_prekeys_generate(&all, first, count)) < 0)
		return wa_why_set(why, rc, "pre-keys: cannot make keys: %s", wa_strerror(rc));
	json_object_foreach(all, k, v) {
		uint32_t id = (uint32_t)strtoul(k, NULL, 10);
		if (wa_fname_make(name, sizeof name, WA_FT_PRE_KEY, k) < 0 ||
		    buf_exact(keys[id - range_first].pub, 32, json_object_get(v, "public")) < 0) {
			json_decref(all);
			return wa_why_set(why, WA_ENOMEM, "pre-keys: cannot encode key %s", k);
		}
		keys[id - range_first].id = id;
		if (!(text = json_dumps(v, JSON_COMPACT))) {
			json_decref(all);
			return wa_why_set(why, WA_ENOMEM, "pre-keys: out of memory");
		}
		len = strlen(text);
		rc = wa_authdir_put(s->ad, name, text, len);
		OPENSSL_cleanse(text, len);
		free(text);
		if (rc < 0) {
			json_decref(all);
			return wa_why_set(why, rc, "unable to write '%s/%s': %s", s->ad->path, name,
			    wa_strerror(rc));
		}
	}
	json_decref(all);
	return 0;
}

/* The <iq xmlns=encrypt type=set> upload stanza (§8.4). */
static int
upload_node(struct wa_session *s, struct wa_node **out, const struct prekey *keys, size_t n)
{
	const json_t *spk = json_object_get(s->creds, "signedPreKey");
	unsigned char reg[4], id3[3], ident[32], spub[32], sig[64], type = 5;
	struct wa_node *iq = NULL, *list = NULL, *skey = NULL, *key;
	json_int_t rid = json_integer_value(json_object_get(s->creds, "registrationId"));
	json_int_t sid = json_integer_value(json_object_get(spk, "keyId"));
	size_t i;
	int rc = WA_ENOMEM;

	*out = NULL;
	if (buf_exact(ident, 32, json_object_get(json_object_get(s->creds, "signedIdentityKey"), "public")) < 0 ||
	    buf_exact(spub, 32, json_object_get(json_object_get(spk, "keyPair"), "public")) < 0 ||
	    buf_exact(sig, 64, json_object_get(spk, "signature")) < 0 || sid < 0 || sid > WA_PREKEY_ID_MAX)
		return WA_ECORRUPT;
	be_bytes(reg, (uint32_t)rid, 4);
	if (wa_node_make(&iq, "iq", "xmlns", "encrypt", "type", "set", "to", SERVER, (char *)NULL) < 0 ||
	    add(iq, node_bytes("registration", reg, 4)) < 0 ||
	    add(iq, node_bytes("type", &type, 1)) < 0 ||
	    add(iq, node_bytes("identity", ident, 32)) < 0 ||
	    wa_node_new(&list, "list") < 0)
		goto fail;
	wa_node_set_list(list);
	for (i = 0; i < n; i++) {
		key = NULL;
		be_bytes(id3, keys[i].id, 3);
		if (wa_node_new(&key, "key") < 0)
			goto fail;
		if (add(key, node_bytes("id", id3, 3)) < 0 || add(key, node_bytes("value", keys[i].pub, 32)) < 0) {
			wa_node_free(key);
			goto fail;
		}
		if (wa_node_child_add(list, key) < 0)	/* key freed */
			goto fail;
	}
	rc = wa_node_child_add(iq, list);
	list = NULL;
	if (rc < 0)
		goto fail;
	rc = WA_ENOMEM;
	be_bytes(id3, (uint32_t)sid, 3);
	if (wa_node_new(&skey, "skey") < 0 || add(skey, node_bytes("id", id3, 3)) < 0 ||
	    add(skey, node_bytes("value", spub, 32)) < 0 ||
	    add(skey, node_bytes("signature", sig, 64)) < 0)
		goto fail;
	rc = wa_node_child_add(iq, skey);
	skey = NULL;
	if (rc < 0)
		goto fail;
	*out = iq;
	return 0;
fail:
	wa_node_free(list);
	wa_node_free(skey);
	wa_node_free(iq);
	return rc;
}

static void
upload_done(void *arg, struct wa_conn *c, int rc, const struct wa_node *reply)
{
	struct wa_session *s = arg;
	const char *type = reply ? wa_node_attr(reply, "type") : NULL;
	uint32_t first, end;
	long have;
	char why[WA_WHY_MAX];

	(void)c;
	if (reply)
		s->last_inbound = time(NULL);
	first = s->up_first;
	end = s->up_end;
	s->uploading = 0;
	if (rc < 0) {
		snprintf(why, sizeof why, "upload of pre-keys %u..%u: %s", first, end - 1, wa_strerror(rc));
		report_prekeys(s, rc, 0, 0, 0, why);
		setup_next(s);
		return;
	}
	if (!type || strcmp(type, "result") != 0) {
		const struct wa_node *e = wa_node_child(reply, "error");
		snprintf(why, sizeof why, "upload of pre-keys %u..%u refused: error %s %s", first, end - 1,
		    e && wa_node_attr(e, "code") ? wa_node_attr(e, "code") : "?",
		    e && wa_node_attr(e, "text") ? wa_node_attr(e, "text") : "");
		report_prekeys(s, WA_EPROTO, 0, 0, 0, why);
		setup_next(s);
		return;
	}
	/* (d): the server has them; only now are they marked uploaded */
	have = creds_id(s->creds, "firstUnuploadedPreKeyId");
	if (have < 0 || (uint32_t)have < end) {
		if (save_number(s, "firstUnuploadedPreKeyId", end) < 0)
			return;
	}
	report_prekeys(s, 0, end - first, first, end - 1, NULL);
	setup_next(s);
}

int
wa_session_upload_prekeys(struct wa_session *s, unsigned count, struct wa_why *why)
{
	struct prekey *keys = NULL;
	struct wa_node *iq = NULL;
	long first, next;
	uint32_t end, id, gen_from;
	int rc;

	if (s->state == WA_SESSION_CLOSED || wa_conn_state(s->c) != WA_CONN_OPEN)
		return wa_why_set(why, WA_ECLOSED, "connection closed");
	if (s->state != WA_SESSION_SETUP && s->state != WA_SESSION_ONLINE)
		return wa_why_set(why, WA_EPROTO, "not logged in yet");
	if (s->uploading)
		return wa_why_set(why, WA_EEXIST, "a pre-key upload is in flight");
	first = creds_id(s->creds, "firstUnuploadedPreKeyId");
	next = creds_id(s->creds, "nextPreKeyId");
	if (first < 0 || next < 0 || count == 0)
		return wa_why_set(why, WA_EINVAL, "creds: firstUnuploadedPreKeyId or nextPreKeyId is not a pre-key id");
	if ((unsigned long)first + count - 1 > WA_PREKEY_ID_MAX)
		return wa_why_set(why, WA_EINVAL, "pre-key ids would pass %u", WA_PREKEY_ID_MAX);
	end = (uint32_t)first + count;
	if (!(keys = calloc(count, sizeof *keys)))
		return WA_ENOMEM;

	/* (a) the keys of the range: those on disk below nextPreKeyId are
	 * kept (the server may hold them); anything else is made afresh */
	gen_from = (uint32_t)(next > first ? next : first);
	if (gen_from > end)
		gen_from = end;
	for (id = (uint32_t)first; id < gen_from; id++) {
		if (read_prekey(s, id, keys[id - first].pub) == 0) {
			keys[id - first].id = id;
			continue;
		}
		slog(s, WA_LOG_WARN, "pre-key %u is missing or unreadable; making it again", id);
		if ((rc = write_prekeys(s, id, 1, keys, (uint32_t)first, why)) < 0)
			goto storage;
	}
	if (gen_from < end && (rc = write_prekeys(s, gen_from, end - gen_from, keys, (uint32_t)first, why)) < 0)
		goto storage;

	/* (b) the ids are handed out before anyone hears of them */
	if ((uint32_t)next < end && (rc = save_number(s, "nextPreKeyId", end)) < 0) {
		wa_why_set(why, rc, "%s", s->end.text);
		free(keys);
		return rc;
	}

	/* (c) */
	if ((rc = upload_node(s, &iq, keys, count)) < 0) {
		free(keys);
		return wa_why_set(why, rc, "creds: signed pre-key or identity unusable");
	}
	free(keys);
	s->up_first = (uint32_t)first;
	s->up_end = end;
	rc = wa_conn_iq(s->c, iq, s->o.prekey_timeout_ms, upload_done, s, why);
	wa_node_free(iq);
	if (rc < 0)
		return rc;
	s->uploading = 1;
	slog(s, WA_LOG_INFO, "uploading pre-keys %ld..%u", first, end - 1);
	return 0;
storage:
	free(keys);
	end_with(s, WA_SESSION_END_STORAGE, rc, "%s", why->text);
	return rc;
}

static void
count_done(void *arg, struct wa_conn *c, int rc, const struct wa_node *reply)
{
	struct wa_session *s = arg;
	const struct wa_node *cn = reply ? wa_node_child(reply, "count") : NULL;
	const char *v = cn ? wa_node_attr(cn, "value") : NULL;
	struct wa_why why;
	unsigned want = 0;
	char *e;
	long n;

	(void)c;
	if (reply)
		s->last_inbound = time(NULL);
	if (rc < 0) {
		snprintf(why.text, sizeof why.text, "pre-key count: %s", wa_strerror(rc));
		report_prekeys(s, rc, 0, 0, 0, why.text);
		setup_next(s);
		return;
	}
	n = v ? strtol(v, &e, 10) : -1;
	if (!v || *e || n < 0) {
		snprintf(why.text, sizeof why.text, "pre-key count: the server answered %s",
		    wa_node_attr(reply, "type") && strcmp(wa_node_attr(reply, "type"), "error") == 0 ?
		    "with an error" : "without a count");
		report_prekeys(s, WA_EPROTO, 0, 0, 0, why.text);
		setup_next(s);
		return;
	}
	s->server_count = n;
	slog(s, WA_LOG_INFO, "the server holds %ld pre-keys", n);
	if (n == 0)
		want = s->o.prekey_initial;
	else if (n < (long)s->o.prekey_min)
		want = s->o.prekey_batch;
	if (!want) {
		report_prekeys(s, 0, 0, 0, 0, NULL);
		setup_next(s);
		return;
	}
	if ((rc = wa_session_upload_prekeys(s, want, &why)) < 0) {
		if (s->end.kind != WA_SESSION_END_NONE)
			return;		/* storage: the session is ending */
		report_prekeys(s, rc, 0, 0, 0, why.text);
		setup_next(s);
	}
}

static void
start_prekeys(struct wa_session *s)
{
	struct wa_node *iq = NULL, *cnt = NULL;
	struct wa_why why;

	s->in_setup = 1;
	if (wa_node_make(&iq, "iq", "xmlns", "encrypt", "type", "get", "to", SERVER, (char *)NULL) < 0 ||
	    wa_node_new(&cnt, "count") < 0 || wa_node_child_add(iq, cnt) < 0 ||
	    wa_conn_iq(s->c, iq, s->o.prekey_timeout_ms, count_done, s, &why) < 0) {
		wa_node_free(iq);
		report_prekeys(s, WA_ENOMEM, 0, 0, 0, "pre-key count: cannot send");
		setup_next(s);
		return;
	}
	wa_node_free(iq);
}

/* ---- passive / active ------------------------------------------------------ */

static void
online(struct wa_session *s)
{
	s->state = WA_SESSION_ONLINE;
	slog(s, WA_LOG_INFO, "online");
	if (s->o.on_online)
		s->o.on_online(s->o.arg, s);
}

static void
active_done(void *arg, struct wa_conn *c, int rc, const struct wa_node *reply)
{
	struct wa_session *s = arg;
	const char *type = reply ? wa_node_attr(reply, "type") : NULL;

	(void)c;
	if (reply)
		s->last_inbound = time(NULL);
	if (rc == WA_ECLOSED)
		return;
	if (rc < 0) {
		end_with(s, WA_SESSION_END_NETWORK, rc, "<active/> not answered: %s", wa_strerror(rc));
		return;
	}
	if (!type || strcmp(type, "result") != 0)
		slog(s, WA_LOG_WARN, "<active/> answered with type %s", type ? type : "(none)");
	online(s);
}

static void
go_active(struct wa_session *s)
{
	struct wa_node *iq = NULL, *act = NULL;
	struct wa_why why;

	if (s->o.passive) {
		online(s);
		return;
	}
	if (wa_node_make(&iq, "iq", "xmlns", "passive", "type", "set", "to", SERVER, (char *)NULL) < 0 ||
	    wa_node_new(&act, "active") < 0 || wa_node_child_add(iq, act) < 0 ||
	    wa_conn_iq(s->c, iq, s->o.prekey_timeout_ms, active_done, s, &why) < 0)
		end_with(s, WA_SESSION_END_NETWORK, WA_ENOMEM, "cannot send <active/>");
	wa_node_free(iq);
}

/* ---- keepalive ---------------------------------------------------------------- */

static void ka_schedule(struct wa_session *s);

static void
ka_done(void *arg, struct wa_conn *c, int rc, const struct wa_node *reply)
{
	struct wa_session *s = arg;

	(void)c;
	if (reply)
		s->last_inbound = time(NULL);
	(void)reply;
	if (rc == WA_ETIMEDOUT) {
		end_with(s, WA_SESSION_END_KEEPALIVE, rc, "keepalive ping not answered within %d ms",
		    s->o.keepalive_deadline_ms);
		return;
	}
	if (rc < 0)
		return;
	ka_schedule(s);
}

static void
ka_fire(void *arg, struct wa_conn *c)
{
	struct wa_session *s = arg;
	struct wa_node *iq = NULL, *ping = NULL;
	struct wa_why why;

	s->ka_timer = 0;
	if (wa_node_make(&iq, "iq", "xmlns", "w:p", "type", "get", "to", SERVER, (char *)NULL) < 0 ||
	    wa_node_new(&ping, "ping") < 0 || wa_node_child_add(iq, ping) < 0 ||
	    wa_conn_iq(c, iq, s->o.keepalive_deadline_ms, ka_done, s, &why) < 0)
		end_with(s, WA_SESSION_END_NETWORK, WA_ENOMEM, "cannot send a keepalive ping");
	wa_node_free(iq);
}

static void
ka_schedule(struct wa_session *s)
{
	unsigned r = 0;
	int span = s->o.keepalive_max_ms - s->o.keepalive_min_ms, rc;

	if (span > 0 && RAND_bytes((unsigned char *)&r, sizeof r) != 1)
		r = (unsigned)now_ms();
	rc = wa_conn_timer(s->c, s->o.keepalive_min_ms + (span > 0 ? (int)(r % (unsigned)span) : 0),
	    ka_fire, s);
	s->ka_timer = rc > 0 ? rc : 0;
}

/* ---- the connection's callbacks ------------------------------------------------ */

static void
login_timeout(void *arg, struct wa_conn *c)
{
	struct wa_session *s = arg;

	(void)c;
	s->login_timer = 0;
	end_with(s, WA_SESSION_END_LOGIN_TIMEOUT, WA_ETIMEDOUT,
	    "neither <success> nor <failure> within %d ms of the login", s->o.login_timeout_ms);
}

static void
on_open(void *arg, struct wa_conn *c)
{
	struct wa_session *s = arg;
	int rc;

	s->state = WA_SESSION_LOGIN;
	rc = wa_conn_timer(c, s->o.login_timeout_ms, login_timeout, s);
	s->login_timer = rc > 0 ? rc : 0;
	ka_schedule(s);
}

static long
attr_long(const struct wa_node *n, const char *key)
{
	const char *v = wa_node_attr(n, key);
	char *e;
	long x;

	if (!v || !*v)
		return -1;
	x = strtol(v, &e, 10);
	return *e ? -1 : x;
}

static void
handle_success(struct wa_session *s, const struct wa_node *n)
{
	const char *lid = wa_node_attr(n, "lid");
	json_t *me = json_object_get(s->creds, "me");
	const json_t *old = json_object_get(me, "lid");
	struct wa_node *ib = NULL, *us = NULL;
	struct wa_why why;
	char id[24];
	long t;

	if (s->login_timer)
		wa_conn_timer_cancel(s->c, s->login_timer);
	s->login_timer = 0;
	if (s->state != WA_SESSION_LOGIN) {
		slog(s, WA_LOG_WARN, "a second <success> ignored");
		return;
	}
	s->state = WA_SESSION_SETUP;
	s->end.authenticated = 1;
	if ((t = attr_long(n, "t")) > 0)
		s->offset_ms = (long long)t * 1000 - now_ms();
	slog(s, WA_LOG_INFO, "logged in as %s", json_string_value(json_object_get(me, "id")));
	/* Baileys: creds.me.lid = success.lid */
	if (lid && *lid && json_is_object(me) &&
	    (!json_is_string(old) || strcmp(json_string_value(old), lid) != 0)) {
		json_t *keep = old ? json_incref((json_t *)old) : NULL;
		int rc = WA_ENOMEM;
		snprintf(why.text, sizeof why.text, "creds: out of memory");
		if (json_object_set_new(me, "lid", json_string(lid)) < 0 ||
		    (rc = wa_creds_write(s->ad, s->creds, &why)) < 0) {
			if (keep)
				json_object_set(me, "lid", keep);
			else
				json_object_del(me, "lid");
			json_decref(keep);
			end_with(s, WA_SESSION_END_STORAGE, rc, "%s", why.text);
			return;
		}
		json_decref(keep);
	}
	wa_session_unified_id(id, s->offset_ms);
	if (wa_node_new(&ib, "ib") < 0 || wa_node_make(&us, "unified_session", "id", id, (char *)NULL) < 0 ||
	    wa_node_child_add(ib, us) < 0 || wa_conn_send(s->c, ib, &why) < 0)
		slog(s, WA_LOG_WARN, "cannot send unified_session");
	wa_node_free(ib);
	if (s->o.on_success)
		s->o.on_success(s->o.arg, s, n);
	if (wa_conn_state(s->c) != WA_CONN_OPEN)
		return;
	start_prekeys(s);
}

static void
handle_failure(struct wa_session *s, const struct wa_node *n)
{
	const char *msg = wa_node_attr(n, "message");

	if (s->login_timer)
		wa_conn_timer_cancel(s->c, s->login_timer);
	s->login_timer = 0;
	if (s->end.kind == WA_SESSION_END_NONE) {
		s->end.code = (int)attr_long(n, "reason");
		if (s->end.code < 0)
			s->end.code = 0;
		s->end.ban_code = attr_long(n, "code");
		s->end.expire = attr_long(n, "expire");
	}
	end_with(s, WA_SESSION_END_FAILURE, WA_EPROTO, "login refused: <failure reason=%s>%s%s",
	    wa_node_attr(n, "reason") ? wa_node_attr(n, "reason") : "?", msg ? ": " : "", msg ? msg : "");
}

static void
handle_stream_error(struct wa_session *s, const struct wa_node *n)
{
	const struct wa_node *ch = n->content == WA_CONTENT_LIST && n->nchildren ? n->children[0] : NULL;
	long code = attr_long(n, "code");

	if (s->end.kind == WA_SESSION_END_NONE) {
		s->end.code = code > 0 ? (int)code : 0;
		if (ch) {
			snprintf(s->end.child, sizeof s->end.child, "%s", ch->tag);
			if (wa_node_attr(ch, "type"))
				snprintf(s->end.type, sizeof s->end.type, "%s", wa_node_attr(ch, "type"));
		}
	}
	if (code == 515) {
		end_with(s, WA_SESSION_END_RESTART, WA_ECLOSED, "restart required (stream error 515)");
		return;
	}
	end_with(s, WA_SESSION_END_STREAM_ERROR, WA_ECLOSED, "stream error%s%s%s%s%s%s%s",
	    code > 0 ? " " : "", code > 0 ? wa_node_attr(n, "code") : "",
	    ch ? " <" : "", ch ? ch->tag : "",
	    ch && wa_node_attr(ch, "type") ? " type=" : "",
	    ch && wa_node_attr(ch, "type") ? wa_node_attr(ch, "type") : "",
	    ch ? "/>" : "");
}

/* <notification type=encrypt><count value=N/></notification>: the server
 * runs low on our pre-keys mid-session.  Acknowledged (as Baileys acks a
 * notification), then topped up as at login when it holds fewer than
 * prekey_min: the same upload, so the same order on disk (steps a-d). */
static void
handle_prekey_count(struct wa_session *s, const struct wa_node *n)
{
	const char *id = wa_node_attr(n, "id"), *from = wa_node_attr(n, "from");
	const char *v = wa_node_attr(wa_node_child(n, "count"), "value");
	struct wa_node *ack = NULL;
	struct wa_why why;
	char *e;
	long count = v ? strtol(v, &e, 10) : -1;
	int rc;

	if (id && wa_node_make(&ack, "ack", "id", id, "class", "notification", "type", "encrypt", "to",
	    from ? from : SERVER, (char *)NULL) == 0)
		wa_conn_send(s->c, ack, &why);
	wa_node_free(ack);
	if (!v || *e || count < 0) {
		slog(s, WA_LOG_WARN, "pre-key notification without a count: ignored");
		return;
	}
	s->server_count = count;
	slog(s, WA_LOG_INFO, "the server says it holds %ld pre-keys", count);
	if (count >= (long)s->o.prekey_min)
		return;
	if (s->uploading) {
		slog(s, WA_LOG_INFO, "a pre-key upload is in flight already");
		return;
	}
	if ((rc = wa_session_upload_prekeys(s, s->o.prekey_batch, &why)) < 0 &&
	    s->end.kind == WA_SESSION_END_NONE)
		report_prekeys(s, rc, 0, 0, 0, why.text);
}

int
wa_session_retry_prekey(struct wa_session *s, uint32_t *id, unsigned char pub[32], struct wa_why *why)
{
	struct prekey k;
	long first, next;
	int rc;

	if (s->state == WA_SESSION_CLOSED)
		return wa_why_set(why, WA_ECLOSED, "connection closed");
	if (s->uploading)
		return wa_why_set(why, WA_EEXIST, "a pre-key upload is in flight");
	first = creds_id(s->creds, "firstUnuploadedPreKeyId");
	next = creds_id(s->creds, "nextPreKeyId");
	if (first < 0 || next < 0 || (unsigned long)first > WA_PREKEY_ID_MAX)
		return wa_why_set(why, WA_EINVAL, "creds: firstUnuploadedPreKeyId or nextPreKeyId is not a pre-key id");
	memset(&k, 0, sizeof k);
	/* a key below nextPreKeyId is on disk already (made, never uploaded) */
	if ((first >= next || read_prekey(s, (uint32_t)first, k.pub) < 0) &&
	    (rc = write_prekeys(s, (uint32_t)first, 1, &k, (uint32_t)first, why)) < 0) {
		end_with(s, WA_SESSION_END_STORAGE, rc, "%s", why->text);
		return rc;
	}
	if (next <= first && (rc = save_number(s, "nextPreKeyId", (uint32_t)first + 1)) < 0)
		return wa_why_set(why, rc, "%s", s->end.text);
	/* handed out in a retry receipt: the sender may use it, so it is
	 * never uploaded (Baileys' getNextPreKeys(..., 1) does the same) */
	if ((rc = save_number(s, "firstUnuploadedPreKeyId", (uint32_t)first + 1)) < 0)
		return wa_why_set(why, rc, "%s", s->end.text);
	*id = (uint32_t)first;
	memcpy(pub, k.pub, 32);
	return 0;
}

void
wa_session_fail_storage(struct wa_session *s, int rc, const char *why)
{
	end_with(s, WA_SESSION_END_STORAGE, rc, "%s", why && *why ? why : wa_strerror(rc));
}

static int
on_node(void *arg, struct wa_conn *c, const struct wa_node *n)
{
	struct wa_session *s = arg;
	const char *type, *xmlns;

	s->last_inbound = time(NULL);
	if (strcmp(n->tag, "success") == 0) {
		handle_success(s, n);
		return 0;
	}
	if (strcmp(n->tag, "failure") == 0) {
		handle_failure(s, n);
		return 0;
	}
	if (strcmp(n->tag, "stream:error") == 0) {
		handle_stream_error(s, n);
		return 0;
	}
	if (strcmp(n->tag, "xmlstreamend") == 0) {
		end_with(s, WA_SESSION_END_NETWORK, WA_ECLOSED, "the server ended the stream");
		return 0;
	}
	/* a ping from the server: answer it (neither client expects one) */
	if (strcmp(n->tag, "iq") == 0 && (type = wa_node_attr(n, "type")) && strcmp(type, "get") == 0 &&
	    (xmlns = wa_node_attr(n, "xmlns")) && strcmp(xmlns, "urn:xmpp:ping") == 0 && wa_node_attr(n, "id")) {
		struct wa_node *r = NULL;
		struct wa_why why;
		if (wa_node_make(&r, "iq", "to", SERVER, "type", "result", "id", wa_node_attr(n, "id"),
		    (char *)NULL) == 0)
			wa_conn_send(c, r, &why);
		wa_node_free(r);
		return 0;
	}
	if (strcmp(n->tag, "notification") == 0 && (type = wa_node_attr(n, "type")) &&
	    strcmp(type, "encrypt") == 0 && wa_node_child(n, "count")) {
		handle_prekey_count(s, n);
		return 0;
	}
	if (s->o.on_node)
		return s->o.on_node(s->o.arg, s, n);
	return 0;
}

static void
on_close(void *arg, struct wa_conn *c, int rc, const char *why)
{
	struct wa_session *s = arg;

	(void)c;
	if (s->end.kind == WA_SESSION_END_NONE) {
		s->end.kind = rc == 0 ? WA_SESSION_END_LOCAL : WA_SESSION_END_NETWORK;
		s->end.rc = rc;
		snprintf(s->end.text, sizeof s->end.text, "%s", rc == 0 ? "closed" : why);
	}
	s->state = WA_SESSION_CLOSED;
	{
		/* one wording per cause: "closed", not "closed: closed";
		 * "login refused: <failure ...>", not "login refused: login refused: ..." */
		const char *name = wa_session_end_name(&s->end), *text = s->end.text;
		size_t nl = strlen(name);
		if (!*text || strcmp(text, name) == 0)
			slog(s, WA_LOG_INFO, "session ended: %s", name);
		else if (strncmp(text, name, nl) == 0 && text[nl] == ':')
			slog(s, WA_LOG_INFO, "session ended: %s", text);
		else
			slog(s, WA_LOG_INFO, "session ended: %s: %s", name, text);
	}
	if (s->o.on_close)
		s->o.on_close(s->o.arg, s, &s->end);
}

/* ---- life cycle ------------------------------------------------------------------ */

int
wa_session_open(struct wa_session **out, struct wa_authdir *ad, json_t *creds,
    const struct wa_session_opts *opts, struct wa_why *why)
{
	struct wa_creds_info info;
	struct wa_session *s;
	struct wa_conn_opts co;
	struct wa_keypair noise;
	const json_t *nk = json_object_get(creds, "noiseKey");
	unsigned char *payload = NULL;
	size_t plen = 0;
	int rc;

	*out = NULL;
	wa_creds_inspect(&info, creds);
	if (!info.paired)
		return wa_why_set(why, WA_EINVAL, "'%s/%s': %s", ad->path, WA_CREDS, info.problem);
	if (buf_exact(noise.priv, 32, json_object_get(nk, "private")) < 0 ||
	    buf_exact(noise.pub, 32, json_object_get(nk, "public")) < 0)
		return wa_why_set(why, WA_EINVAL, "'%s/%s': no usable noiseKey", ad->path, WA_CREDS);
	if (!(s = calloc(1, sizeof *s))) {
		wa_curve_keypair_wipe(&noise);
		return WA_ENOMEM;
	}
	s->o = *opts;
	if (s->o.client.version[0] == 0)
		wa_client_config_default(&s->o.client);
#define DEF(f, v) do { if (s->o.f <= 0) s->o.f = (v); } while (0)
	DEF(login_timeout_ms, 20000);
	DEF(keepalive_min_ms, 20000);
	DEF(keepalive_max_ms, 30000);
	DEF(keepalive_deadline_ms, 10000);
	DEF(prekey_timeout_ms, 30000);
#undef DEF
	if (s->o.keepalive_max_ms < s->o.keepalive_min_ms)
		s->o.keepalive_max_ms = s->o.keepalive_min_ms;
	if (!s->o.prekey_initial)
		s->o.prekey_initial = WA_PREKEY_INITIAL;
	if (!s->o.prekey_min)
		s->o.prekey_min = WA_PREKEY_MIN;
	if (!s->o.prekey_batch)
		s->o.prekey_batch = WA_PREKEY_BATCH;
	s->ad = ad;
	s->creds = json_incref(creds);
	s->server_count = -1;
	s->end.ban_code = s->end.expire = -1;
	rc = wa_clientpayload_login(&payload, &plen, &s->o.client, info.me, why);
	if (rc < 0) {
		wa_curve_keypair_wipe(&noise);
		wa_session_free(s);
		return rc;
	}
	co = s->o.conn;
	co.log = conn_log;
	co.on_open = on_open;
	co.on_node = on_node;
	co.on_close = on_close;
	co.arg = s;
	rc = wa_conn_open(&s->c, &co, &noise, payload, plen, why);
	wa_curve_keypair_wipe(&noise);
	free(payload);
	if (rc < 0) {
		wa_session_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

enum wa_session_state
wa_session_state(const struct wa_session *s)
{
	return s->state;
}

int
wa_session_pollfds(struct wa_session *s, struct pollfd *fds, int max, int *timeout_ms)
{
	return wa_conn_pollfds(s->c, fds, max, timeout_ms);
}

void
wa_session_process(struct wa_session *s)
{
	struct wa_why why;

	wa_conn_process(s->c, &why);
}

void
wa_session_close(struct wa_session *s)
{
	if (s->state != WA_SESSION_CLOSED)
		end_with(s, WA_SESSION_END_LOCAL, 0, "closed");
}

struct wa_conn *
wa_session_conn(struct wa_session *s)
{
	return s->c;
}

const struct wa_session_end *
wa_session_end(const struct wa_session *s)
{
	return &s->end;
}

long long
wa_session_clock_offset(const struct wa_session *s)
{
	return s->offset_ms;
}

time_t
wa_session_last_inbound(const struct wa_session *s)
{
	return s->last_inbound;
}

void
wa_session_free(struct wa_session *s)
{
	if (!s)
		return;
	wa_conn_free(s->c);
	json_decref(s->creds);
	free(s);
}

void
wa_session_end_dc(struct wa_dc_input *in, const struct wa_session_end *e)
{
	memset(in, 0, sizeof *in);
	in->verified = 1;
	in->authenticated = e->authenticated;
	in->expire = -1;
	in->rc = e->rc;
	/* the class's own reason says all for stanzas; the end's text for the rest */
	switch (e->kind) {
	case WA_SESSION_END_NETWORK: case WA_SESSION_END_LOGIN_TIMEOUT:
	case WA_SESSION_END_KEEPALIVE: case WA_SESSION_END_STORAGE:
		in->text = e->text[0] ? e->text : NULL;
		break;
	default:
		break;
	}
	switch (e->kind) {
	case WA_SESSION_END_NONE:
	case WA_SESSION_END_LOCAL:
		in->source = WA_DC_SHUTDOWN;
		break;
	case WA_SESSION_END_RESTART:
		in->source = WA_DC_STREAM_ERROR;
		in->code = 515;
		break;
	case WA_SESSION_END_FAILURE:
		in->source = WA_DC_FAILURE;
		in->code = e->code;
		in->ban_code = e->ban_code > 0 ? (int)e->ban_code : 0;
		in->expire = e->expire;
		break;
	case WA_SESSION_END_STREAM_ERROR:
		in->source = WA_DC_STREAM_ERROR;
		in->code = e->code;
		in->child = e->child[0] ? e->child : NULL;
		in->child_type = e->type[0] ? e->type : NULL;
		break;
	case WA_SESSION_END_NETWORK:
		in->source = WA_DC_CLOSED;
		break;
	case WA_SESSION_END_LOGIN_TIMEOUT:
	case WA_SESSION_END_KEEPALIVE:
		in->source = WA_DC_TIMEOUT;
		break;
	case WA_SESSION_END_STORAGE:
		in->source = WA_DC_LOCAL;
		break;
	}
}
