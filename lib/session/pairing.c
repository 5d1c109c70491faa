/*
 * pairing.c - the registration connection (pairing.h): pair-device and the
 * QR schedule, the link-code exchange, pair-success checked, written,
 * answered, and the 515 that ends it.
 *
 * The one rule that matters: creds.json is written (durably, complete,
 * paired) after pair-success verifies and before the phone is told
 * anything, so a crash at any instant leaves either no creds.json (the
 * phone never got our signature: nothing was linked) or a complete paired
 * one (the link may or may not have finished: the next login says).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "base/bufjson.h"
#include "base/loop.h"
#include "store/creds.h"
#include "crypto/pair.h"
#include "session/pairing.h"
#include "session/session.h"
#include "wire/ws.h"

#define SERVER "@s.whatsapp.net"
#define MAX_REFS 64

enum phase {
	PH_CONNECTING = 0,	/* until <pair-device> */
	PH_CODES,		/* QR refs current (or the link code alive) */
	PH_FINISHING,		/* link code: the phone answered, companion_finish out */
	PH_VERIFYING,		/* pair-success being handled */
	PH_RESTART,		/* reply sent, waiting for the 515 */
	PH_DONE,
};

struct wa_pairing {
	struct wa_pairing_opts o;
	struct wa_authdir *ad;
	json_t *creds;
	struct wa_conn *c;
	enum phase phase;
	struct wa_pairing_outcome out;
	int have_outcome;		/* the connection is closed */
	int status_set;			/* out.status decided (the close may still be under way) */

	char *refs[MAX_REFS];
	size_t reflen[MAX_REFS];
	int nrefs;
	int64_t codes_at;	/* monotonic ms the refs came */
	int cur;			/* current ref, 0-based; -1 before any */
	int code_timer;			/* next window boundary */
	int step_timer;
	const char *platform_id;

	char code[WA_PAIR_CODE_LEN + 1];
	unsigned char *link_ref;	/* link_code_pairing_ref from companion_hello's answer */
	size_t link_ref_len;
	int code_shown;
};

static void __attribute__((format(printf, 3, 4)))
plog(struct wa_pairing *p, enum wa_log_level lv, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!p->o.conn.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	p->o.conn.log(p->o.arg, lv, line);
}

static void
conn_log(void *arg, enum wa_log_level lv, const char *line)
{
	struct wa_pairing *p = arg;
	char *copy;

	if (!p->o.conn.log || !(copy = strdup(line)))
		return;
	wa_session_redact(copy);
	p->o.conn.log(p->o.arg, lv, copy);
	free(copy);
}

/* Decide how it ends (the first decision wins) and close. */
static void __attribute__((format(printf, 4, 5)))
finish(struct wa_pairing *p, enum wa_pairing_status st, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!p->status_set) {
		p->status_set = 1;
		p->out.status = st;
		p->out.rc = rc;
		va_start(ap, fmt);
		vsnprintf(p->out.text, sizeof p->out.text, fmt, ap);
		va_end(ap);
	}
	p->phase = PH_DONE;
	wa_conn_close(p->c);
}

static void
cancel(struct wa_pairing *p, int *timer)
{
	if (*timer)
		wa_conn_timer_cancel(p->c, *timer);
	*timer = 0;
}

static int
window_ms(const struct wa_pairing *p, int i)
{
	return i == 0 ? p->o.qr_first_ms : p->o.qr_next_ms;
}

static int
valid_from_now(const struct wa_pairing *p, int from)
{
	long long ms = 0;
	int i;

	for (i = from; i < p->nrefs; i++)
		ms += window_ms(p, i);
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

void
wa_pairing_display(char *out, size_t n, const struct wa_client_config *cfg)
{
	snprintf(out, n, "%s (%s)", cfg->browser[1], cfg->browser[0]);
}

static struct wa_node *
node_bytes(const char *tag, const void *d, size_t n)
{
	struct wa_node *x = NULL;

	if (wa_node_new(&x, tag) < 0)
		return NULL;
	if (wa_node_set_bytes(x, d, n) < 0) {
		wa_node_free(x);
		return NULL;
	}
	return x;
}

static struct wa_node *
node_string(const char *tag, const char *s)
{
	struct wa_node *x = NULL;

	if (wa_node_new(&x, tag) < 0)
		return NULL;
	if (wa_node_set_string(x, s) < 0) {
		wa_node_free(x);
		return NULL;
	}
	return x;
}

static int
add(struct wa_node *parent, struct wa_node *child)
{
	return child ? wa_node_child_add(parent, child) : WA_ENOMEM;
}

static int
key32(unsigned char out[32], const json_t *creds, const char *obj, const char *field)
{
	uint8_t *b = NULL;
	size_t n = 0;
	int ok = wa_bufjson_decode(&b, &n, json_object_get(json_object_get(creds, obj), field)) == 0 &&
	    n == 32;

	if (ok)
		memcpy(out, b, 32);
	if (b) {
		OPENSSL_cleanse(b, n);
		free(b);
	}
	return ok ? 0 : -1;
}

/* ---- QR schedule ---------------------------------------------------------- */

static void step_timeout(void *arg, struct wa_conn *c);

static void
show_current(struct wa_pairing *p)
{
	struct wa_why why;
	char *qr = NULL;
	int rc;

	if (p->o.phone) {
		plog(p, WA_LOG_INFO, "pairing ref %d of %d current (the code stays valid)", p->cur + 1, p->nrefs);
		return;
	}
	rc = wa_pair_qr_string(&qr, p->refs[p->cur], p->reflen[p->cur], p->creds, p->platform_id, &why);
	if (rc < 0) {
		finish(p, rc == WA_EPROTO ? WA_PAIRING_CLOSED : WA_PAIRING_ABORTED, rc, "%s", why.text);
		return;
	}
	plog(p, WA_LOG_INFO, "QR code %d of %d, valid for %d ms", p->cur + 1, p->nrefs, window_ms(p, p->cur));
	if (p->o.on_qr)
		p->o.on_qr(p->o.arg, qr, p->cur + 1, p->nrefs, window_ms(p, p->cur));
	OPENSSL_cleanse(qr, strlen(qr));
	free(qr);
}

static void
window_over(void *arg, struct wa_conn *c)
{
	struct wa_pairing *p = arg;
	int rc;

	p->code_timer = 0;
	if (p->phase != PH_CODES)
		return;
	if (p->cur + 1 >= p->nrefs) {
		finish(p, WA_PAIRING_EXPIRED, WA_ETIMEDOUT, p->o.phone ?
		    "the code expired before it was entered on the phone" :
		    "all %d QR codes expired without a scan", p->nrefs);
		return;
	}
	p->cur++;
	rc = wa_conn_timer(c, window_ms(p, p->cur), window_over, p);
	p->code_timer = rc > 0 ? rc : 0;
	show_current(p);
}

static void
free_refs(struct wa_pairing *p)
{
	int i;

	for (i = 0; i < p->nrefs; i++)
		free(p->refs[i]);
	p->nrefs = 0;
}

static void code_hello(struct wa_pairing *p);

static void
handle_pair_device(struct wa_pairing *p, const struct wa_node *iq, const struct wa_node *pd)
{
	struct wa_node *ack = NULL;
	struct wa_why why;
	size_t i;
	int rc;

	/* answer at once: <iq to=@s.whatsapp.net type=result id=ID/> */
	if (wa_node_make(&ack, "iq", "to", SERVER, "type", "result", "id", wa_node_attr(iq, "id"),
	    (char *)NULL) < 0 || wa_conn_send(p->c, ack, &why) < 0) {
		wa_node_free(ack);
		finish(p, WA_PAIRING_CLOSED, WA_ECLOSED, "cannot answer pair-device");
		return;
	}
	wa_node_free(ack);
	if (p->phase != PH_CONNECTING && p->phase != PH_CODES) {
		plog(p, WA_LOG_WARN, "pair-device ignored in this phase");
		return;
	}
	free_refs(p);
	for (i = 0; pd->content == WA_CONTENT_LIST && i < pd->nchildren && p->nrefs < MAX_REFS; i++) {
		const struct wa_node *r = pd->children[i];
		if (strcmp(r->tag, "ref") != 0 || r->len == 0 ||
		    (r->content != WA_CONTENT_BYTES && r->content != WA_CONTENT_STRING))
			continue;
		if (!(p->refs[p->nrefs] = malloc(r->len + 1))) {
			finish(p, WA_PAIRING_ABORTED, WA_ENOMEM, "out of memory");
			return;
		}
		memcpy(p->refs[p->nrefs], r->data, r->len);
		p->refs[p->nrefs][r->len] = 0;
		p->reflen[p->nrefs++] = r->len;
	}
	if (p->nrefs == 0) {
		finish(p, WA_PAIRING_CLOSED, WA_EPROTO, "pair-device without refs");
		return;
	}
	cancel(p, &p->step_timer);
	cancel(p, &p->code_timer);
	p->phase = PH_CODES;
	p->cur = 0;
	p->codes_at = wa_clock_mono_ms();
	plog(p, WA_LOG_INFO, "the server sent %d pairing refs", p->nrefs);
	rc = wa_conn_timer(p->c, window_ms(p, 0), window_over, p);
	p->code_timer = rc > 0 ? rc : 0;
	if (p->o.phone && !p->code_shown)
		code_hello(p);
	else
		show_current(p);
}

/* ---- link code ---------------------------------------------------------------- */

static void
hello_done(void *arg, struct wa_conn *c, int rc, const struct wa_node *reply)
{
	struct wa_pairing *p = arg;
	const struct wa_node *reg, *ref, *err;
	char shown[WA_PAIR_CODE_LEN + 2];

	(void)c;
	if (rc == WA_ECLOSED)
		return;
	if (rc < 0) {
		finish(p, WA_PAIRING_TIMEOUT, rc, "the server did not answer the code request within %d ms",
		    p->o.step_timeout_ms);
		return;
	}
	if (!wa_node_attr(reply, "type") || strcmp(wa_node_attr(reply, "type"), "result") != 0) {
		err = wa_node_child(reply, "error");
		finish(p, WA_PAIRING_REFUSED, WA_EPROTO, "the server refused a code for %s: error %s %s",
		    p->o.phone, err && wa_node_attr(err, "code") ? wa_node_attr(err, "code") : "?",
		    err && wa_node_attr(err, "text") ? wa_node_attr(err, "text") : "");
		return;
	}
	reg = wa_node_child(reply, "link_code_companion_reg");
	ref = reg ? wa_node_child(reg, "link_code_pairing_ref") : NULL;
	if (ref && ref->len && (p->link_ref = malloc(ref->len))) {
		memcpy(p->link_ref, ref->data, ref->len);
		p->link_ref_len = ref->len;
	}
	p->code_shown = 1;
	wa_pair_code_format(shown, p->code);
	plog(p, WA_LOG_INFO, "pairing code ready for %s", p->o.phone);
	if (p->o.on_code)
		p->o.on_code(p->o.arg, shown, valid_from_now(p, p->cur));
}

static void
code_hello(struct wa_pairing *p)
{
	struct wa_node *iq = NULL, *reg = NULL;
	unsigned char eph[32], noise[32], wrapped[WA_PAIR_CODE_WRAPPED];
	char jid[64], display[128];
	struct wa_why why;
	int rc;

	if (wa_pair_code_generate(p->code) < 0 || key32(eph, p->creds, "pairingEphemeralKeyPair", "public") < 0 ||
	    key32(noise, p->creds, "noiseKey", "public") < 0 ||
	    wa_pair_code_wrap(wrapped, p->code, eph, NULL, NULL) < 0) {
		finish(p, WA_PAIRING_ABORTED, WA_ECORRUPT, "cannot make a pairing code from these credentials");
		return;
	}
	snprintf(jid, sizeof jid, "%s@s.whatsapp.net", p->o.phone);
	wa_pairing_display(display, sizeof display, &p->o.client);
	rc = WA_ENOMEM;
	if (wa_node_make(&iq, "iq", "to", SERVER, "type", "set", "xmlns", "md", (char *)NULL) < 0 ||
	    wa_node_make(&reg, "link_code_companion_reg", "jid", jid, "stage", "companion_hello",
	    "should_show_push_notification", "true", (char *)NULL) < 0)
		goto fail;
	if (add(reg, node_bytes("link_code_pairing_wrapped_companion_ephemeral_pub", wrapped, sizeof wrapped)) < 0 ||
	    add(reg, node_bytes("companion_server_auth_key_pub", noise, 32)) < 0 ||
	    add(reg, node_string("companion_platform_id", p->platform_id)) < 0 ||
	    add(reg, node_string("companion_platform_display", display)) < 0 ||
	    add(reg, node_string("link_code_pairing_nonce", "0")) < 0)
		goto fail;
	rc = wa_node_child_add(iq, reg);
	reg = NULL;
	if (rc < 0 || (rc = wa_conn_iq(p->c, iq, p->o.step_timeout_ms, hello_done, p, &why)) < 0)
		goto fail;
	wa_node_free(iq);
	plog(p, WA_LOG_INFO, "companion_hello sent for %s", p->o.phone);
	return;
fail:
	wa_node_free(reg);
	wa_node_free(iq);
	finish(p, WA_PAIRING_ABORTED, rc, "cannot send companion_hello: %s", wa_strerror(rc));
}

static void
finish_done(void *arg, struct wa_conn *c, int rc, const struct wa_node *reply)
{
	struct wa_pairing *p = arg;
	const struct wa_node *err;

	(void)c;
	if (rc == WA_ECLOSED || p->phase != PH_FINISHING)
		return;
	if (rc < 0) {
		finish(p, WA_PAIRING_TIMEOUT, rc, "the server did not answer companion_finish within %d ms",
		    p->o.step_timeout_ms);
		return;
	}
	if (!wa_node_attr(reply, "type") || strcmp(wa_node_attr(reply, "type"), "result") != 0) {
		err = wa_node_child(reply, "error");
		finish(p, WA_PAIRING_REFUSED, WA_EPROTO, "the phone refused the code (error %s %s): "
		    "was it typed correctly?",
		    err && wa_node_attr(err, "code") ? wa_node_attr(err, "code") : "?",
		    err && wa_node_attr(err, "text") ? wa_node_attr(err, "text") : "");
		return;
	}
	plog(p, WA_LOG_INFO, "companion_finish accepted; waiting for pair-success");
	/* pair-success is due now */
	rc = wa_conn_timer(p->c, p->o.step_timeout_ms, step_timeout, p);
	p->step_timer = rc > 0 ? rc : 0;
}

static void
ack_notification(struct wa_pairing *p, const struct wa_node *n)
{
	struct wa_node *ack = NULL;
	struct wa_why why;

	if (!wa_node_attr(n, "id"))
		return;
	if (wa_node_make(&ack, "ack", "id", wa_node_attr(n, "id"), "class", "notification",
	    "type", wa_node_attr(n, "type"), "to", wa_node_attr(n, "from") ? wa_node_attr(n, "from") : SERVER,
	    (char *)NULL) == 0)
		wa_conn_send(p->c, ack, &why);
	wa_node_free(ack);
}

static void
handle_link_notification(struct wa_pairing *p, const struct wa_node *n)
{
	const struct wa_node *reg = wa_node_child(n, "link_code_companion_reg");
	const struct wa_node *ref, *wr, *pid;
	struct wa_pair_code_finish f;
	unsigned char eph[32], ipriv[32], ipub[32];
	struct wa_node *iq = NULL, *fin = NULL;
	char jid[64];
	struct wa_why why;
	int rc;

	ack_notification(p, n);
	if (!p->o.phone || !p->code_shown || p->phase != PH_CODES || !reg)
		return;
	ref = wa_node_child(reg, "link_code_pairing_ref");
	wr = wa_node_child(reg, "link_code_pairing_wrapped_primary_ephemeral_pub");
	pid = wa_node_child(reg, "primary_identity_pub");
	if (!wr || wr->len != WA_PAIR_CODE_WRAPPED || !pid || pid->len != 32) {
		plog(p, WA_LOG_WARN, "link_code_companion_reg notification without its keys; ignored");
		return;
	}
	if (p->link_ref && (!ref || ref->len != p->link_ref_len || memcmp(ref->data, p->link_ref, ref->len) != 0)) {
		plog(p, WA_LOG_WARN, "link_code_companion_reg notification for another pairing ref; ignored");
		return;
	}
	if (key32(eph, p->creds, "pairingEphemeralKeyPair", "private") < 0 ||
	    key32(ipriv, p->creds, "signedIdentityKey", "private") < 0 ||
	    key32(ipub, p->creds, "signedIdentityKey", "public") < 0) {
		finish(p, WA_PAIRING_ABORTED, WA_ECORRUPT, "creds: key pairs unusable");
		goto out;
	}
	rc = wa_pair_code_finish(&f, p->code, eph, ipriv, ipub, wr->data, pid->data, NULL);
	if (rc < 0) {
		finish(p, rc == WA_EVERIFY ? WA_PAIRING_REFUSED : WA_PAIRING_ABORTED, rc,
		    "the phone's link-code answer is unusable: %s", wa_strerror(rc));
		goto out;
	}
	if ((rc = wa_pair_code_apply(p->creds, p->code, f.adv_secret)) < 0) {
		wa_pair_code_finish_wipe(&f);
		finish(p, WA_PAIRING_ABORTED, rc, "creds: %s", wa_strerror(rc));
		goto out;
	}
	snprintf(jid, sizeof jid, "%s@s.whatsapp.net", p->o.phone);
	rc = WA_ENOMEM;
	if (wa_node_make(&iq, "iq", "to", SERVER, "type", "set", "xmlns", "md", (char *)NULL) == 0 &&
	    wa_node_make(&fin, "link_code_companion_reg", "jid", jid, "stage", "companion_finish",
	    (char *)NULL) == 0 &&
	    add(fin, node_bytes("link_code_pairing_wrapped_key_bundle", f.bundle, sizeof f.bundle)) == 0 &&
	    add(fin, node_bytes("companion_identity_public", ipub, 32)) == 0 &&
	    add(fin, ref ? node_bytes("link_code_pairing_ref", ref->data, ref->len) :
	    node_bytes("link_code_pairing_ref", p->link_ref, p->link_ref_len)) == 0) {
		rc = wa_node_child_add(iq, fin);
		fin = NULL;
		if (rc == 0)
			rc = wa_conn_iq(p->c, iq, p->o.step_timeout_ms, finish_done, p, &why);
	}
	wa_pair_code_finish_wipe(&f);
	wa_node_free(fin);
	wa_node_free(iq);
	if (rc < 0) {
		finish(p, WA_PAIRING_ABORTED, rc, "cannot send companion_finish: %s", wa_strerror(rc));
		goto out;
	}
	/* the phone has the code: the QR schedule no longer applies */
	cancel(p, &p->code_timer);
	p->phase = PH_FINISHING;
	plog(p, WA_LOG_INFO, "the phone answered the code; companion_finish sent");
out:
	OPENSSL_cleanse(eph, sizeof eph);
	OPENSSL_cleanse(ipriv, sizeof ipriv);
}

/* ---- pair-success -------------------------------------------------------------- */

static void
reply_error(struct wa_pairing *p, const char *id, const char *code, const char *text)
{
	struct wa_node *iq = NULL, *e = NULL;
	struct wa_why why;

	if (wa_node_make(&iq, "iq", "to", SERVER, "type", "error", "id", id, (char *)NULL) == 0 &&
	    wa_node_make(&e, "error", "code", code, "text", text, (char *)NULL) == 0 &&
	    wa_node_child_add(iq, e) == 0)
		wa_conn_send(p->c, iq, &why);
	wa_node_free(iq);
}

static void
handle_pair_success(struct wa_pairing *p, const struct wa_node *iq, const struct wa_node *ps)
{
	const struct wa_node *di = wa_node_child(ps, "device-identity");
	const struct wa_node *dev = wa_node_child(ps, "device");
	const struct wa_node *plat = wa_node_child(ps, "platform");
	const struct wa_node *biz = wa_node_child(ps, "biz");
	const char *id = wa_node_attr(iq, "id");
	struct wa_pair_success in;
	struct wa_pair_result res;
	struct wa_node *reply = NULL, *sign = NULL, *ident = NULL, *ib = NULL, *us = NULL;
	struct wa_why why;
	char uid[24];
	int rc;

	if (p->phase != PH_CODES && p->phase != PH_FINISHING) {
		plog(p, WA_LOG_WARN, "pair-success ignored in this phase");
		return;
	}
	cancel(p, &p->code_timer);
	cancel(p, &p->step_timer);
	p->phase = PH_VERIFYING;
	if (p->o.on_scanned)
		p->o.on_scanned(p->o.arg);
	if (!id) {
		finish(p, WA_PAIRING_FORGED, WA_EVERIFY, "pair-success without an iq id");
		return;
	}
	memset(&in, 0, sizeof in);
	if (di && (di->content == WA_CONTENT_BYTES || di->content == WA_CONTENT_STRING)) {
		in.identity = di->data;
		in.identity_len = di->len;
	}
	in.jid = dev ? wa_node_attr(dev, "jid") : NULL;
	in.lid = dev ? wa_node_attr(dev, "lid") : NULL;
	in.platform = plat ? wa_node_attr(plat, "name") : NULL;
	in.biz_name = biz ? wa_node_attr(biz, "name") : NULL;

	rc = wa_pair_verify(&res, p->creds, &in, &why);
	if (rc == WA_EVERIFY) {
		reply_error(p, id, strstr(why.text, ": hmac") ? "401" : strstr(why.text, ": account-sig") ? "401" : "500",
		    strstr(why.text, ": hmac") ? "hmac-mismatch" :
		    strstr(why.text, ": account-sig") ? "signature-mismatch" : "internal-error");
		wa_pair_result_free(&res);
		finish(p, WA_PAIRING_FORGED, rc, "%s", why.text);
		return;
	}
	if (rc < 0) {
		reply_error(p, id, "500", "internal-error");
		wa_pair_result_free(&res);
		finish(p, WA_PAIRING_ABORTED, rc, "%s", why.text);
		return;
	}

	/* 1, 2: on disk, complete, before the phone hears from us */
	why.text[0] = 0;
	if (p->o.on_verified && (rc = p->o.on_verified(p->o.arg, res.creds, &why)) < 0) {
		reply_error(p, id, "500", "internal-error");
		wa_pair_result_free(&res);
		finish(p, WA_PAIRING_STORAGE, rc, "%s", why.text[0] ? why.text : wa_strerror(rc));
		return;
	}
	if ((rc = wa_creds_write(p->ad, res.creds, &why)) < 0) {
		reply_error(p, id, "500", "internal-error");
		wa_pair_result_free(&res);
		finish(p, WA_PAIRING_STORAGE, rc, "%s", why.text);
		return;
	}
	p->out.creds = json_incref(res.creds);
	if (p->o.on_saved)
		p->o.on_saved(p->o.arg, res.creds);

	/* 3: the device signature goes out */
	rc = WA_ENOMEM;
	if (wa_node_make(&reply, "iq", "to", SERVER, "type", "result", "id", id, (char *)NULL) == 0 &&
	    wa_node_new(&sign, "pair-device-sign") == 0 &&
	    wa_node_make(&ident, "device-identity", "key-index", res.key_index, (char *)NULL) == 0 &&
	    wa_node_set_bytes(ident, res.reply, res.reply_len) == 0) {
		rc = wa_node_child_add(sign, ident);
		ident = NULL;
		if (rc == 0) {
			rc = wa_node_child_add(reply, sign);
			sign = NULL;
		}
		if (rc == 0)
			rc = wa_conn_send(p->c, reply, &why);
	}
	wa_node_free(ident);
	wa_node_free(sign);
	wa_node_free(reply);
	wa_pair_result_free(&res);
	if (rc < 0) {
		finish(p, WA_PAIRING_SAVED, rc, "credentials saved, but the reply could not be sent: %s",
		    wa_strerror(rc));
		return;
	}
	wa_session_unified_id(uid, 0);
	if (wa_node_new(&ib, "ib") == 0 && wa_node_make(&us, "unified_session", "id", uid, (char *)NULL) == 0 &&
	    wa_node_child_add(ib, us) == 0)
		wa_conn_send(p->c, ib, &why);
	wa_node_free(ib);
	p->phase = PH_RESTART;
	rc = wa_conn_timer(p->c, p->o.step_timeout_ms, step_timeout, p);
	p->step_timer = rc > 0 ? rc : 0;
	plog(p, WA_LOG_INFO, "device signature sent; waiting for the server to restart the stream");
}

/* ---- the connection's callbacks ----------------------------------------------- */

static void
step_timeout(void *arg, struct wa_conn *c)
{
	struct wa_pairing *p = arg;

	(void)c;
	p->step_timer = 0;
	switch (p->phase) {
	case PH_CONNECTING:
		finish(p, WA_PAIRING_TIMEOUT, WA_ETIMEDOUT, "no pair-device from the server within %d ms",
		    p->o.step_timeout_ms);
		break;
	case PH_FINISHING:
		finish(p, WA_PAIRING_TIMEOUT, WA_ETIMEDOUT, "no pair-success within %d ms of companion_finish",
		    p->o.step_timeout_ms);
		break;
	case PH_RESTART:
		finish(p, WA_PAIRING_SAVED, WA_ETIMEDOUT, "credentials saved and the reply sent, "
		    "but no restart (515) from the server within %d ms", p->o.step_timeout_ms);
		break;
	default:
		break;
	}
}

static void
on_open(void *arg, struct wa_conn *c)
{
	struct wa_pairing *p = arg;
	int rc = wa_conn_timer(c, p->o.step_timeout_ms, step_timeout, p);

	p->step_timer = rc > 0 ? rc : 0;
	plog(p, WA_LOG_INFO, "registration sent; waiting for pair-device");
}

static int
on_node(void *arg, struct wa_conn *c, const struct wa_node *n)
{
	struct wa_pairing *p = arg;
	const char *type = wa_node_attr(n, "type");
	const struct wa_node *ch;

	(void)c;
	if (strcmp(n->tag, "iq") == 0 && type && strcmp(type, "set") == 0) {
		if ((ch = wa_node_child(n, "pair-device"))) {
			handle_pair_device(p, n, ch);
			return 0;
		}
		if ((ch = wa_node_child(n, "pair-success"))) {
			handle_pair_success(p, n, ch);
			return 0;
		}
	}
	if (strcmp(n->tag, "notification") == 0 && type && strcmp(type, "link_code_companion_reg") == 0) {
		handle_link_notification(p, n);
		return 0;
	}
	if (strcmp(n->tag, "stream:error") == 0) {
		const char *code = wa_node_attr(n, "code");
		if (p->phase == PH_RESTART && code && strcmp(code, "515") == 0) {
			finish(p, WA_PAIRING_PAIRED, 0, "paired; the server asks for a restart (515)");
			return 0;
		}
		if (p->phase == PH_RESTART)
			finish(p, WA_PAIRING_SAVED, WA_ECLOSED, "credentials saved and the reply sent, "
			    "but the server ended the stream (error %s) instead of a restart", code ? code : "?");
		else
			finish(p, WA_PAIRING_CLOSED, WA_ECLOSED, "the server ended the stream (error %s)",
			    code ? code : "?");
		return 0;
	}
	if (strcmp(n->tag, "failure") == 0) {
		finish(p, p->phase == PH_RESTART ? WA_PAIRING_SAVED : WA_PAIRING_REFUSED, WA_EPROTO,
		    "the server refused the registration: <failure reason=%s>",
		    wa_node_attr(n, "reason") ? wa_node_attr(n, "reason") : "?");
		return 0;
	}
	return 0;
}

static void
on_close(void *arg, struct wa_conn *c, int rc, const char *why)
{
	struct wa_pairing *p = arg;

	(void)c;
	if (!p->status_set) {
		switch (p->phase) {
		case PH_RESTART:
			finish(p, WA_PAIRING_SAVED, rc < 0 ? rc : WA_ECLOSED, "credentials saved and the reply "
			    "sent, but the connection closed without a restart (515): %s", why);
			break;
		case PH_CODES:
			/* the server ends the registration connection in order
			 * (a close frame) when its refs are used up, on its own
			 * schedule, which may be shorter than ours: that is the
			 * codes expiring, not a network failure */
			if (rc == WA_ECLOSED && strcmp(why, WA_WS_CLOSE_FRAME) == 0) {
				long long secs = (wa_clock_mono_ms() - p->codes_at) / 1000;
				if (p->o.phone)
					finish(p, WA_PAIRING_EXPIRED, WA_ECLOSED, "the server ended the pairing "
					    "session after %lld s: the code expired", secs);
				else
					finish(p, WA_PAIRING_EXPIRED, WA_ECLOSED, "the server ended the pairing "
					    "session after %lld s, with QR code %d of %d current: the codes "
					    "expired", secs, p->cur + 1, p->nrefs);
				break;
			}
			if (p->cur + 1 >= p->nrefs) {
				finish(p, WA_PAIRING_EXPIRED, WA_ECLOSED, p->o.phone ?
				    "the server closed the connection: the code expired" :
				    "the server closed the connection: every QR code expired");
				break;
			}
			/* fall through */
		default:
			if (rc == WA_ETIMEDOUT)
				finish(p, WA_PAIRING_TIMEOUT, rc, "%s", why);
			else if (rc == 0)
				finish(p, WA_PAIRING_ABORTED, 0, "closed");
			else
				finish(p, WA_PAIRING_CLOSED, rc, "%s", why);
			break;
		}
	}
	p->have_outcome = 1;
	p->phase = PH_DONE;
}

/* ---- life cycle ----------------------------------------------------------------- */

static int
phone_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 7 || n > 15 || s[0] == '0')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
registration(struct wa_registration *reg, const json_t *creds)
{
	const json_t *spk = json_object_get(creds, "signedPreKey");
	const json_t *rid = json_object_get(creds, "registrationId"), *kid = json_object_get(spk, "keyId");
	uint8_t *sig = NULL;
	size_t n = 0;
	int ok;

	memset(reg, 0, sizeof *reg);
	if (!json_is_integer(rid) || !json_is_integer(kid) || json_integer_value(kid) < 0)
		return -1;
	reg->registration_id = (uint32_t)json_integer_value(rid);
	reg->signed_prekey_id = (uint32_t)json_integer_value(kid);
	if (key32(reg->identity_pub, creds, "signedIdentityKey", "public") < 0 ||
	    wa_bufjson_decode(&sig, &n, json_object_get(spk, "signature")) < 0)
		return -1;
	ok = n == 64;
	if (ok)
		memcpy(reg->signed_prekey_sig, sig, 64);
	free(sig);
	if (!ok || wa_bufjson_decode(&sig, &n, json_object_get(json_object_get(spk, "keyPair"), "public")) < 0)
		return -1;
	ok = n == 32;
	if (ok)
		memcpy(reg->signed_prekey_pub, sig, 32);
	free(sig);
	return ok ? 0 : -1;
}

int
wa_pairing_open(struct wa_pairing **out, struct wa_authdir *ad, json_t *creds,
    const struct wa_pairing_opts *opts, struct wa_why *why)
{
	struct wa_creds_info info;
	struct wa_registration reg;
	struct wa_pairing *p;
	struct wa_conn_opts co;
	struct wa_keypair noise;
	unsigned char *payload = NULL;
	size_t plen = 0;
	int rc;

	*out = NULL;
	wa_creds_inspect(&info, creds);
	if (!info.complete)
		return wa_why_set(why, WA_EINVAL, "creds: %s", info.problem);
	if (opts->phone && !phone_ok(opts->phone))
		return wa_why_set(why, WA_EINVAL, "'%s' is not a phone number: 7 to 15 digits with the "
		    "country code, not starting with 0", opts->phone);
	if (registration(&reg, creds) < 0 || key32(noise.priv, creds, "noiseKey", "private") < 0 ||
	    key32(noise.pub, creds, "noiseKey", "public") < 0)
		return wa_why_set(why, WA_EINVAL, "creds: keys unusable for registration");
	if (!(p = calloc(1, sizeof *p))) {
		wa_curve_keypair_wipe(&noise);
		return WA_ENOMEM;
	}
	p->o = *opts;
	if (p->o.client.version[0] == 0)
		wa_client_config_default(&p->o.client);
	if (p->o.qr_first_ms <= 0)
		p->o.qr_first_ms = 60000;
	if (p->o.qr_next_ms <= 0)
		p->o.qr_next_ms = 20000;
	if (p->o.step_timeout_ms <= 0)
		p->o.step_timeout_ms = 20000;
	p->ad = ad;
	p->creds = json_incref(creds);
	p->cur = -1;
	p->platform_id = wa_pair_platform_id(p->o.client.browser[0], p->o.client.browser[1]);
	if ((rc = wa_clientpayload_register(&payload, &plen, &p->o.client, &reg, why)) < 0) {
		wa_curve_keypair_wipe(&noise);
		wa_pairing_free(p);
		return rc;
	}
	co = p->o.conn;
	co.log = conn_log;
	co.on_open = on_open;
	co.on_node = on_node;
	co.on_close = on_close;
	co.arg = p;
	rc = wa_conn_open(&p->c, &co, &noise, payload, plen, why);
	wa_curve_keypair_wipe(&noise);
	free(payload);
	if (rc < 0) {
		wa_pairing_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int
wa_pairing_pollfds(struct wa_pairing *p, struct pollfd *fds, int max, int *timeout_ms)
{
	return wa_conn_pollfds(p->c, fds, max, timeout_ms);
}

void
wa_pairing_process(struct wa_pairing *p)
{
	struct wa_why why;

	wa_conn_process(p->c, &why);
}

const struct wa_pairing_outcome *
wa_pairing_outcome(const struct wa_pairing *p)
{
	return p->have_outcome ? &p->out : NULL;
}

void
wa_pairing_abort(struct wa_pairing *p, const char *why)
{
	if (!p->have_outcome)
		finish(p, WA_PAIRING_ABORTED, 0, "%s", why);
}

void
wa_pairing_free(struct wa_pairing *p)
{
	if (!p)
		return;
	wa_conn_free(p->c);
	free_refs(p);
	free(p->link_ref);
	json_decref(p->out.creds);
	json_decref(p->creds);
	OPENSSL_cleanse(p->code, sizeof p->code);
	free(p);
}
