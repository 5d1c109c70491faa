/*
 * send.c - the sending side of a session (send.h, wa-protocol(7) §13).
 *
 * How it works.  Every job and every retry answer is a task with a state:
 * NEW -> (usync iq) -> BUNDLES -> (encrypt iq) -> READY -> (pump) -> ACK.
 * The iq callbacks only record what came back (device lists in the
 * cache, parsed bundles in the task) and move the state; everything that
 * changes the key store happens in wa_send_pump, at a point the caller
 * chose because nothing else is staged on the overlay: the bundles are
 * processed, each ready task's Message encrypted for its devices (one op
 * per device: a device whose session fails is left out and logged), then
 * one wa_sigstore_commit for all of them, and only after it returned 0
 * the stanzas leave, in task order.  A crash before the commit leaves the
 * job queued and the chains as they were (the stanza never left); a crash
 * after it leaves chains advanced past keys that were never used, which
 * costs nothing: the job is sent again from a fresh chain step.
 *
 * Guarantees: no ciphertext leaves before the chain that made it is
 * durable (R3); a job is reported sent only on the server's ack of its
 * id; a job in flight when the connection ends is forgotten here (the
 * caller still has it queued).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg/msgenc.h"
#include "session/send.h"
#include "signal/cipher.h"
#include "store/durable.h"
#include "store/fname.h"
#include "wire/jid.h"

#define JID_MAX 160
#define RECREATE_MS (3600 * 1000)

enum tstate { T_NEW = 0, T_WAIT_GROUP, T_WAIT_USYNC, T_BUNDLES, T_WAIT_BUNDLES, T_READY, T_WAIT_ACK };

struct dev {
	char jid[JID_MAX];
	int own;			/* our own other device: the device-sent copy */
	int has_key;			/* group: it has our sender key (sender-key-memory) */
	int has_bundle;
	struct wa_sigbundle b;
};

struct task {
	struct task *next;
	unsigned long seq;
	json_t *job;
	const char *id, *to, *type;
	enum tstate state;
	struct dev *devs;
	size_t ndevs;
	int tries;			/* usync / bundle rounds */
	/* a retry answer */
	int retry, count;
	char device[JID_MAX], recipient[JID_MAX], participant[JID_MAX], t[24];
	char ackid[128];		/* read jobs: the receipt's id */
	int group;			/* to is a group */
	char **skdm_to;			/* group: devices the stanza carries our key to */
	size_t nskdm;
};

struct req {
	struct req *next;
	struct wa_send *s;
	unsigned long seq;
};

struct wa_send {
	struct wa_send_opts o;
	struct wa_send_stats stats;
	struct task *tasks;
	unsigned long seq;
	struct req *reqs;
	json_t *devices;		/* user JID -> [device, ...] */
	json_t *retried;		/* "id device" -> answers */
	json_t *recreated;		/* device JID -> ms of the last bundle fetch */
	json_t *groups;			/* group JID -> [member user JID, ...] */
	struct wa_jid me;
	char me_user[JID_MAX];
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void __attribute__((format(printf, 3, 4)))
logf_(struct wa_send *s, int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!s->o.on_log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	s->o.on_log(s->o.arg, level, line);
}

static const char *
jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* ---- tasks -------------------------------------------------------------- */

static void
task_free(struct task *t)
{
	if (!t)
		return;
	size_t i;

	json_decref(t->job);
	free(t->devs);
	for (i = 0; i < t->nskdm; i++)
		free(t->skdm_to[i]);
	free(t->skdm_to);
	free(t);
}

static struct task *
task_new(struct wa_send *s, json_t *job)
{
	struct task *t = calloc(1, sizeof *t), **p;

	if (!t)
		return NULL;
	t->seq = ++s->seq;
	t->job = json_incref(job);
	t->id = jstr(job, "id");
	t->to = jstr(job, "to");
	t->type = jstr(job, "type");
	for (p = &s->tasks; *p; p = &(*p)->next)
		;
	*p = t;
	return t;
}

static void
task_remove(struct wa_send *s, struct task *t)
{
	struct task **p;

	for (p = &s->tasks; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	task_free(t);
}

static struct task *
task_by_seq(struct wa_send *s, unsigned long seq)
{
	struct task *t;

	for (t = s->tasks; t; t = t->next)
		if (t->seq == seq)
			return t;
	return NULL;
}

static void
task_fail(struct wa_send *s, struct task *t, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
task_fail(struct wa_send *s, struct task *t, const char *fmt, ...)
{
	char why[WA_WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (t->retry)
		logf_(s, WA_LOG_WARN, "retry receipt for %s from %s not answered: %s", t->id, t->device, why);
	else {
		s->stats.failed++;
		if (s->o.on_failed)
			s->o.on_failed(s->o.arg, t->job, why);
	}
	task_remove(s, t);
}

static int
add_dev(struct task *t, const char *jid, int own)
{
	struct dev *d;
	size_t i;

	for (i = 0; i < t->ndevs; i++)
		if (strcmp(t->devs[i].jid, jid) == 0)
			return 0;
	if (!(d = realloc(t->devs, (t->ndevs + 1) * sizeof *d)))
		return WA_ENOMEM;
	t->devs = d;
	d = &t->devs[t->ndevs++];
	memset(d, 0, sizeof *d);
	snprintf(d->jid, sizeof d->jid, "%s", jid);
	d->own = own;
	return 0;
}

/* ---- JIDs --------------------------------------------------------------- */

/* The user (no device) of jid, in out: 0, or WA_EINVAL. */
static int
user_of(char out[JID_MAX], const char *jid)
{
	struct wa_jid j, u;

	if (!jid || wa_jid_parse(&j, jid) < 0 || !wa_jid_is_user(&j))
		return WA_EINVAL;
	if (wa_jid_make(&u, j.user, j.server, 0) < 0 || wa_jid_format(out, JID_MAX, &u) < 0)
		return WA_EINVAL;
	return 0;
}

static int
device_jid(char out[JID_MAX], const char *user, unsigned device)
{
	struct wa_jid j, d;

	if (wa_jid_parse(&j, user) < 0 || wa_jid_make(&d, j.user, j.server, device) < 0 ||
	    wa_jid_format(out, JID_MAX, &d) < 0)
		return WA_EINVAL;
	return 0;
}

static int
is_me(const struct wa_send *s, const char *jid)
{
	struct wa_jid j;

	return wa_jid_parse(&j, jid) == 0 && strcmp(j.user, s->me.user) == 0 &&
	    strcmp(j.server, s->me.server) == 0 && j.device == s->me.device;
}

static int
has_session(struct wa_send *s, const char *jid)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_sigaddr a;
	signal_protocol_address sa;

	if (wa_sigstore_resolve(s->o.store, &a, jid, &why) < 0)
		return 0;
	sa.name = a.name;
	sa.name_len = strlen(a.name);
	sa.device_id = (int32_t)a.device;
	return signal_protocol_session_contains_session(wa_sigstore_ctx(s->o.store), &sa) == 1;
}

/* ---- iqs ---------------------------------------------------------------- */

static void iq_done(void *arg, struct wa_conn *c, int rc, const struct wa_node *reply);

static int
send_iq(struct wa_send *s, struct task *t, struct wa_node *iq)
{
	struct req *q = calloc(1, sizeof *q);
	int rc;

	if (!q) {
		wa_node_free(iq);
		return WA_ENOMEM;
	}
	q->s = s;
	q->seq = t->seq;
	q->next = s->reqs;
	s->reqs = q;
	rc = s->o.iq ? s->o.iq(s->o.arg, iq, iq_done, q) : WA_ECLOSED;
	wa_node_free(iq);
	if (rc < 0) {
		s->reqs = q->next;
		free(q);
	}
	return rc;
}

static void take_usync(struct wa_send *s, struct task *t, const struct wa_node *reply);
static void take_bundles(struct wa_send *s, struct task *t, const struct wa_node *reply);
static void take_group(struct wa_send *s, struct task *t, const struct wa_node *reply);

static void
iq_done(void *arg, struct wa_conn *c, int rc, const struct wa_node *reply)
{
	struct req *q = arg, **p;
	struct wa_send *s = q->s;
	struct task *t;

	(void)c;
	for (p = &s->reqs; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			break;
		}
	t = task_by_seq(s, q->seq);
	free(q);
	if (!t)
		return;
	if (rc < 0 || !reply) {
		/* timeout or closed: the next connection starts over */
		logf_(s, WA_LOG_INFO, "%s: no answer to an iq (%s)", t->id, wa_strerror(rc));
		t->state = T_NEW;
		return;
	}
	if (wa_node_attr(reply, "type") && strcmp(wa_node_attr(reply, "type"), "error") == 0) {
		const struct wa_node *e = wa_node_child(reply, "error");
		task_fail(s, t, "the server refused the %s query: %s %s",
		    t->state == T_WAIT_USYNC ? "device" : "pre-key", e && wa_node_attr(e, "code") ?
		    wa_node_attr(e, "code") : "", e && wa_node_attr(e, "text") ? wa_node_attr(e, "text") : "");
		return;
	}
	if (t->state == T_WAIT_GROUP)
		take_group(s, t, reply);
	else if (t->state == T_WAIT_USYNC)
		take_usync(s, t, reply);
	else if (t->state == T_WAIT_BUNDLES)
		take_bundles(s, t, reply);
}

/* ---- group members (§13.4) ---------------------------------------------- */

static int
group_query(struct wa_send *s, struct task *t)
{
	struct wa_node *iq = NULL, *q;
	int rc;

	if ((rc = wa_node_make(&iq, "iq", "to", t->to, "type", "get", "xmlns", "w:g2", (char *)NULL)) < 0 ||
	    (rc = wa_node_make(&q, "query", "request", "interactive", (char *)NULL)) < 0 ||
	    (rc = wa_node_child_add(iq, q)) < 0) {
		wa_node_free(iq);
		return rc;
	}
	t->state = T_WAIT_GROUP;
	return send_iq(s, t, iq);
}

/* The members, each in the phone-number form when the metadata gives it
 * (the form our 1:1 sessions are under), else as listed. */
static void
take_group(struct wa_send *s, struct task *t, const struct wa_node *reply)
{
	const struct wa_node *g = wa_node_child(reply, "group");
	json_t *arr = json_array();
	size_t i;

	for (i = 0; g && arr && i < g->nchildren; i++) {
		const struct wa_node *p = g->children[i];
		const char *pn = wa_node_attr(p, "phone_number"), *jid = wa_node_attr(p, "jid");
		char user[JID_MAX];

		if (strcmp(p->tag, "participant") != 0)
			continue;
		if (user_of(user, pn ? pn : jid) == 0)
			json_array_append_new(arr, json_string(user));
	}
	if (!arr || !json_array_size(arr)) {
		json_decref(arr);
		task_fail(s, t, "the group %s has no members we can read", t->to);
		return;
	}
	json_object_set_new(s->groups, t->to, arr);
	t->state = T_NEW;
}

static int
memory_name(char out[256], const char *group)
{
	return wa_fname_make(out, 256, WA_FT_SENDER_KEY_MEMORY, group);
}

/* 1 when sender-key-memory-<group>.json says device has our key. */
static int
has_key(struct wa_send *s, const char *group, const char *device)
{
	char name[256];
	const json_t *doc;
	struct wa_why why = WA_WHY_INIT;

	if (memory_name(name, group) < 0 || wa_sigstore_get(s->o.store, &doc, name, &why) < 0)
		return 0;
	return json_is_true(json_object_get(doc, device));
}

/* The server acked the stanza that carried our key to these devices. */
static void
mark_keys(struct wa_send *s, struct task *t)
{
	char name[256];
	const json_t *doc = NULL;
	struct wa_why why = WA_WHY_INIT;
	json_t *m;
	size_t i;

	if (!t->nskdm || memory_name(name, t->to) < 0)
		return;
	wa_sigstore_get(s->o.store, &doc, name, &why);
	if (!(m = doc ? json_deep_copy(doc) : json_object()))
		return;
	for (i = 0; i < t->nskdm; i++)
		json_object_set_new(m, t->skdm_to[i], json_true());
	wa_sigstore_op_begin(s->o.store);
	wa_sigstore_op_end(s->o.store, wa_sigstore_put(s->o.store, name, m) == 0);
}

/* Forget who has our key (a member's retry: a fresh distribution). */
static void
forget_key(struct wa_send *s, const char *group, const char *device)
{
	char name[256];
	const json_t *doc = NULL;
	struct wa_why why = WA_WHY_INIT;
	json_t *m;

	if (memory_name(name, group) < 0 || wa_sigstore_get(s->o.store, &doc, name, &why) < 0 ||
	    !json_object_get(doc, device) || !(m = json_deep_copy(doc)))
		return;
	json_object_del(m, device);
	wa_sigstore_op_begin(s->o.store);
	wa_sigstore_op_end(s->o.store, wa_sigstore_put(s->o.store, name, m) == 0);
}

/* ---- device discovery (§13.1) ------------------------------------------- */

static int
usync(struct wa_send *s, struct task *t, const char *const *users, size_t n)
{
	struct wa_node *iq = NULL, *u, *q, *l, *dv, *e;
	char sid[32];
	size_t i;
	int rc;

	snprintf(sid, sizeof sid, "%lu.%lu", (unsigned long)time(NULL), t->seq);
	if ((rc = wa_node_make(&iq, "iq", "to", "s.whatsapp.net", "type", "get", "xmlns", "usync", (char *)NULL)) < 0 ||
	    (rc = wa_node_make(&u, "usync", "sid", sid, "mode", "query", "last", "true", "index", "0",
	    "context", "message", (char *)NULL)) < 0 || (rc = wa_node_child_add(iq, u)) < 0 ||
	    (rc = wa_node_new(&q, "query")) < 0 || (rc = wa_node_child_add(u, q)) < 0 ||
	    (rc = wa_node_make(&dv, "devices", "version", "2", (char *)NULL)) < 0 ||
	    (rc = wa_node_child_add(q, dv)) < 0 || (rc = wa_node_new(&l, "list")) < 0 ||
	    (rc = wa_node_child_add(u, l)) < 0) {
		wa_node_free(iq);
		return rc;
	}
	for (i = 0; i < n; i++)
		if ((rc = wa_node_make(&e, "user", "jid", users[i], (char *)NULL)) < 0 ||
		    (rc = wa_node_child_add(l, e)) < 0) {
			wa_node_free(iq);
			return rc;
		}
	s->stats.usyncs++;
	t->state = T_WAIT_USYNC;
	return send_iq(s, t, iq);
}

static void
take_usync(struct wa_send *s, struct task *t, const struct wa_node *reply)
{
	const struct wa_node *us = wa_node_child(reply, "usync"), *l = us ? wa_node_child(us, "list") : NULL;
	size_t i, j;

	for (i = 0; l && i < l->nchildren; i++) {
		const struct wa_node *u = l->children[i], *d, *dl;
		char user[JID_MAX];
		json_t *arr;

		if (strcmp(u->tag, "user") != 0 || user_of(user, wa_node_attr(u, "jid")) < 0)
			continue;
		if (!(arr = json_array()))
			continue;
		d = wa_node_child(u, "devices");
		dl = d ? wa_node_child(d, "device-list") : NULL;
		for (j = 0; dl && j < dl->nchildren; j++) {
			const struct wa_node *e = dl->children[j];
			const char *id = wa_node_attr(e, "id"), *h = wa_node_attr(e, "is_hosted");
			char *end;
			unsigned long v;

			if (strcmp(e->tag, "device") != 0 || !id)
				continue;
			v = strtoul(id, &end, 10);
			/* Baileys: a non-zero device without key-index makes a bad request */
			if (*end || v > 99 || (v && !wa_node_attr(e, "key-index")) || (h && strcmp(h, "true") == 0))
				continue;
			json_array_append_new(arr, json_integer((json_int_t)v));
		}
		json_object_set_new(s->devices, user, arr);
	}
	t->state = T_NEW;	/* the next step finds them in the cache */
}

/* ---- bundles (§13.2) ---------------------------------------------------- */

static int
bytes_of(const struct wa_node *parent, const char *tag, uint8_t *out, size_t n)
{
	const struct wa_node *c = parent ? wa_node_child(parent, tag) : NULL;

	if (!c || c->content != WA_CONTENT_BYTES || c->len != n)
		return -1;
	memcpy(out, c->data, n);
	return 0;
}

static uint32_t
be(const uint8_t *p, size_t n)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* A bundle from <user> (or a retry receipt: reg from <registration>, the
 * key nodes in keys).  0, or -1 when it is not one. */
static int
parse_bundle(struct wa_sigbundle *b, const struct wa_node *regparent, const struct wa_node *keys)
{
	uint8_t reg[4], id[3], k32[32];
	const struct wa_node *sk, *pk;

	memset(b, 0, sizeof *b);
	if (wa_node_child(keys, "keys"))
		keys = wa_node_child(keys, "keys");
	if (bytes_of(regparent, "registration", reg, 4) < 0 || bytes_of(keys, "identity", k32, 32) < 0)
		return -1;
	b->regid = be(reg, 4);
	b->identity[0] = 5;
	memcpy(b->identity + 1, k32, 32);
	if (!(sk = wa_node_child(keys, "skey")) || bytes_of(sk, "id", id, 3) < 0 ||
	    bytes_of(sk, "value", k32, 32) < 0 || bytes_of(sk, "signature", b->spk_sig, 64) < 0)
		return -1;
	b->spk_id = be(id, 3);
	b->spk[0] = 5;
	memcpy(b->spk + 1, k32, 32);
	if ((pk = wa_node_child(keys, "key")) && bytes_of(pk, "id", id, 3) == 0 &&
	    bytes_of(pk, "value", k32, 32) == 0) {
		b->has_prekey = 1;
		b->prekey_id = be(id, 3);
		b->prekey[0] = 5;
		memcpy(b->prekey + 1, k32, 32);
	}
	return 0;
}

static int
fetch_bundles(struct wa_send *s, struct task *t, int identity)
{
	struct wa_node *iq = NULL, *k, *u;
	size_t i;
	int rc;

	if ((rc = wa_node_make(&iq, "iq", "to", "s.whatsapp.net", "type", "get", "xmlns", "encrypt", (char *)NULL)) < 0 ||
	    (rc = wa_node_new(&k, "key")) < 0 || (rc = wa_node_child_add(iq, k)) < 0) {
		wa_node_free(iq);
		return rc;
	}
	for (i = 0; i < t->ndevs; i++) {
		if (t->devs[i].has_bundle || t->devs[i].has_key || (!identity && has_session(s, t->devs[i].jid)))
			continue;
		if ((rc = wa_node_make(&u, "user", "jid", t->devs[i].jid, "reason", identity ? "identity" : NULL,
		    (char *)NULL)) < 0 || (rc = wa_node_child_add(k, u)) < 0) {
			wa_node_free(iq);
			return rc;
		}
		json_object_set_new(s->recreated, t->devs[i].jid, json_integer(now_ms()));
	}
	if (!k->nchildren) {
		wa_node_free(iq);
		t->state = T_READY;
		return 0;
	}
	s->stats.bundles++;
	t->state = T_WAIT_BUNDLES;
	return send_iq(s, t, iq);
}

static int
same_jid(const char *a, const char *b)
{
	struct wa_jid x, y;

	if (strcmp(a, b) == 0)
		return 1;
	return wa_jid_parse(&x, a) == 0 && wa_jid_parse(&y, b) == 0 && wa_jid_equal(&x, &y);
}

static void
take_bundles(struct wa_send *s, struct task *t, const struct wa_node *reply)
{
	const struct wa_node *l = wa_node_child(reply, "list");
	size_t i, j;

	for (i = 0; l && i < l->nchildren; i++) {
		const struct wa_node *u = l->children[i];
		const char *jid = wa_node_attr(u, "jid");

		if (strcmp(u->tag, "user") != 0 || !jid)
			continue;
		for (j = 0; j < t->ndevs; j++)
			if (same_jid(t->devs[j].jid, jid) && parse_bundle(&t->devs[j].b, u, u) == 0)
				t->devs[j].has_bundle = 1;
	}
	t->state = T_READY;
}

/* ---- advancing tasks ---------------------------------------------------- */

static json_t *
cached(struct wa_send *s, const char *user)
{
	return json_object_get(s->devices, user);
}

static void advance_group(struct wa_send *s, struct task *t);

/* A group job: members (w:g2), their devices and ours (usync), bundles
 * only for the devices that lack our sender key. */
static void
advance_group(struct wa_send *s, struct task *t)
{
	json_t *members = json_object_get(s->groups, t->to), *v, *arr, *dv;
	const char **ask = NULL;
	size_t n = 0, i, k;
	int rc;

	if (++t->tries > 4) {
		task_fail(s, t, "no group members, device list or pre-keys after 4 tries");
		return;
	}
	if (!members) {
		rc = group_query(s, t);
		goto sent;
	}
	if (!(ask = calloc(json_array_size(members) + 1, sizeof *ask))) {
		task_fail(s, t, "out of memory");
		return;
	}
	json_array_foreach(members, i, v)
		if (!cached(s, json_string_value(v)))
			ask[n++] = json_string_value(v);
	if (!cached(s, s->me_user))
		ask[n++] = s->me_user;
	if (n) {
		rc = usync(s, t, ask, n);
		free(ask);
		goto sent;
	}
	free(ask);
	free(t->devs);
	t->devs = NULL;
	t->ndevs = 0;
	for (i = 0; i <= json_array_size(members); i++) {
		const char *u = i < json_array_size(members) ? json_string_value(json_array_get(members, i)) : s->me_user;
		arr = cached(s, u);
		json_array_foreach(arr, k, dv) {
			char jid[JID_MAX];
			if (device_jid(jid, u, (unsigned)json_integer_value(dv)) < 0 || is_me(s, jid))
				continue;
			if (add_dev(t, jid, 0) < 0) {
				task_fail(s, t, "out of memory");
				return;
			}
			t->devs[t->ndevs - 1].has_key = has_key(s, t->to, jid);
		}
	}
	rc = fetch_bundles(s, t, 0);
sent:
	if (rc < 0)
		t->state = T_NEW;
}

/* NEW: the devices, from the cache or a usync; then the bundles. */
static void
advance(struct wa_send *s, struct task *t)
{
	char users[2][JID_MAX];
	const char *ask[2];
	size_t n = 0, i, k;
	int rc;

	if (t->state == T_NEW && t->group && !t->retry) {
		advance_group(s, t);
		return;
	}

	if (t->state != T_NEW)
		return;
	if (++t->tries > 3) {
		task_fail(s, t, "no device list or pre-keys after 3 tries");
		return;
	}
	if (t->retry) {
		/* one device; a bundle when the policy says so (send.h) */
		rc = fetch_bundles(s, t, 1);
		goto sent;
	}
	if (user_of(users[0], t->to) < 0) {
		task_fail(s, t, "bad recipient '%s'", t->to);
		return;
	}
	snprintf(users[1], JID_MAX, "%s", s->me_user);
	for (i = 0; i < 2; i++)
		if (!cached(s, users[i]))
			ask[n++] = users[i];
	if (n) {
		rc = usync(s, t, ask, n);
		goto sent;
	}
	free(t->devs);
	t->devs = NULL;
	t->ndevs = 0;
	for (i = 0; i < 2; i++) {
		json_t *arr = cached(s, users[i]), *v;
		json_array_foreach(arr, k, v) {
			char jid[JID_MAX];
			if (device_jid(jid, users[i], (unsigned)json_integer_value(v)) < 0 || is_me(s, jid))
				continue;
			if (add_dev(t, jid, i == 1 || strcmp(users[0], s->me_user) == 0) < 0) {
				task_fail(s, t, "out of memory");
				return;
			}
		}
	}
	for (i = 0, k = 0; i < t->ndevs; i++)
		k += !t->devs[i].own;
	if (!k) {
		task_fail(s, t, "%s has no devices to send to", users[0]);
		return;
	}
	rc = fetch_bundles(s, t, 0);
sent:
	if (rc < 0)
		t->state = T_NEW;	/* not sent: the connection is going; tried again */
}

/* ---- taking jobs -------------------------------------------------------- */

static size_t
chat_tasks(const struct wa_send *s, const char *to)
{
	const struct task *t;
	size_t n = 0;

	for (t = s->tasks; t; t = t->next)
		n += !t->retry && to && t->to && strcmp(t->to, to) == 0;
	return n;
}

int
wa_send_busy(const struct wa_send *s, const char *to)
{
	return chat_tasks(s, to) >= WA_SEND_MAX_PER_CHAT;
}

/* A task waits while an earlier one of its chat has not made its
 * sessions yet (devices unknown, bundles not processed): the sessions
 * are made once, by the first, and the chat's stanzas leave in order. */
static int
blocked(const struct wa_send *s, const struct task *t)
{
	const struct task *u;
	size_t i;

	for (u = s->tasks; u && u != t; u = u->next) {
		if (u->retry || strcmp(u->to, t->to) != 0)
			continue;
		if (u->state < T_READY)
			return 1;
		if (u->state == T_READY)
			for (i = 0; i < u->ndevs; i++)
				if (u->devs[i].has_bundle)
					return 1;
	}
	return 0;
}

int
wa_send_has(const struct wa_send *s, const char *id)
{
	const struct task *t;

	for (t = s->tasks; t; t = t->next)
		if (!t->retry && id && t->id && strcmp(t->id, id) == 0)
			return 1;
	return 0;
}

size_t
wa_send_inflight(const struct wa_send *s)
{
	const struct task *t;
	size_t n = 0;

	for (t = s->tasks; t; t = t->next)
		n += !t->retry;
	return n;
}

int
wa_send_job(struct wa_send *s, json_t *job)
{
	struct task *t;
	const char *type = jstr(job, "type"), *to = jstr(job, "to"), *id = jstr(job, "id");
	struct wa_jid j;
	int alone;

	if (!id || !to || !type)
		return WA_EINVAL;
	if (wa_send_busy(s, to) || wa_send_inflight(s) >= WA_SEND_MAX_INFLIGHT)
		return WA_EEXIST;
	alone = chat_tasks(s, to) == 0;
	if (!(t = task_new(s, job)))
		return WA_ENOMEM;
	if (wa_jid_parse(&j, to) < 0 || (!wa_jid_is_user(&j) && j.type != WA_JID_GROUP)) {
		task_fail(s, t, "bad recipient '%s'", to);
		return WA_EINVAL;
	}
	t->group = j.type == WA_JID_GROUP;
	if (t->group)
		json_object_del(s->groups, to);	/* members as of now (Baileys asks every time) */
	if (strcmp(type, "read") == 0) {
		const json_t *ids = json_object_get(job, "ids");
		const char *first = json_string_value(json_array_get(ids, 0));
		if (!first) {
			task_fail(s, t, "a read job without ids");
			return WA_EINVAL;
		}
		snprintf(t->ackid, sizeof t->ackid, "%s", first);
		t->state = T_READY;
		return 0;
	}
	if (strcmp(type, "text") != 0 && strcmp(type, "reaction") != 0 && strcmp(type, "revoke") != 0) {
		task_fail(s, t, "unknown job type '%s'", type);
		return WA_EINVAL;
	}
	if (alone)
		advance(s, t);	/* else wa_send_pump, in the chat's order */
	return 0;
}

/* ---- the Message of a job ----------------------------------------------- */

static int
job_message(uint8_t **out, size_t *len, const json_t *job)
{
	const char *type = jstr(job, "type"), *to = jstr(job, "to");
	const json_t *tg = json_object_get(job, "target"), *rt = json_object_get(job, "reply_to");

	if (strcmp(type, "text") == 0)
		return wa_msgenc_text(out, len, jstr(job, "text"), jstr(rt, "id"), jstr(rt, "participant"));
	if (strcmp(type, "reaction") == 0)
		return wa_msgenc_reaction(out, len, to, jstr(tg, "id"), json_is_true(json_object_get(tg, "from_me")),
		    jstr(tg, "participant"), jstr(job, "emoji") ? jstr(job, "emoji") : "", now_ms());
	if (strcmp(type, "revoke") == 0)
		return wa_msgenc_revoke(out, len, to, jstr(tg, "id"), NULL);
	return WA_EINVAL;
}

static const char *
stanza_type(const char *jobtype)
{
	return strcmp(jobtype, "reaction") == 0 ? "reaction" : "text";
}

/* ---- pump --------------------------------------------------------------- */

struct out {
	struct task *t;
	struct wa_node *n;
};

static int
enc_node(struct wa_node **out, const uint8_t *ct, size_t ctlen, int type, const struct task *t)
{
	char count[16];
	int rc;

	snprintf(count, sizeof count, "%d", t->count);
	if ((rc = wa_node_make(out, "enc", "v", "2", "type", type == WA_SIG_PKMSG ? "pkmsg" : "msg",
	    "count", t->retry ? count : NULL,
	    "decrypt-fail", strcmp(t->type, "reaction") == 0 ? "hide" : NULL, (char *)NULL)) < 0)
		return rc;
	if ((rc = wa_node_set_bytes(*out, ct, ctlen)) < 0) {
		wa_node_free(*out);
		*out = NULL;
	}
	return rc;
}

/* The stanza of a ready task, its devices encrypted on the overlay.
 * 0 and *out; 0 and *out NULL when the task failed; WA_ENOMEM. */
static int
build(struct wa_send *s, struct task *t, struct wa_node **out)
{
	uint8_t *msg = NULL, *pt = NULL, *dsm = NULL, *dpt = NULL, *skdm = NULL, *skct = NULL;
	size_t msglen, ptlen, dsmlen, dptlen, i, others = 0, skdmlen = 0, skctlen = 0;
	struct wa_node *n = NULL, *parts = NULL, *e;
	int rc, pk = 0;
	char t_now[24];

	*out = NULL;
	if ((rc = job_message(&msg, &msglen, t->job)) < 0) {
		task_fail(s, t, "the job cannot be made into a message (%s)", wa_strerror(rc));
		return rc == WA_ENOMEM ? rc : 0;
	}
	if (t->group) {
		/* our sender key: the skmsg of the content (a job), or only a
		 * fresh distribution (a member's retry: the content goes 1:1
		 * beside it) */
		struct wa_sigfail f;
		uint8_t *x = NULL;
		size_t xlen = 0;

		if ((rc = wa_msgenc_pad(&pt, &ptlen, msg, msglen)) < 0)
			goto out;
		if (wa_sigcipher_group_encrypt(&skdm, &skdmlen, &skct, &skctlen, s->o.store, t->to, pt, ptlen, &f) < 0) {
			task_fail(s, t, "our sender key for %s: %s", t->to, f.detail);
			rc = 0;
			goto out;
		}
		free(pt);
		pt = NULL;
		/* the 1:1 part: the distribution (and for a retry the content) */
		if ((rc = wa_msgenc_skdm(&x, &xlen, t->retry ? msg : NULL, msglen, t->to, skdm, skdmlen)) < 0)
			goto out;
		free(msg);
		msg = x;
		msglen = xlen;
	}
	if ((rc = wa_msgenc_pad(&pt, &ptlen, msg, msglen)) < 0 ||
	    (rc = wa_msgenc_dsm(&dsm, &dsmlen, t->recipient[0] ? t->recipient : t->to, msg, msglen)) < 0 ||
	    (rc = wa_msgenc_pad(&dpt, &dptlen, dsm, dsmlen)) < 0)
		goto out;
	snprintf(t_now, sizeof t_now, "%lld", (long long)(now_ms() / 1000));
	if (t->retry && t->group)
		rc = wa_node_make(&n, "message", "to", t->to, "type", stanza_type(t->type), "id", t->id,
		    "t", t->t[0] ? t->t : t_now, "participant", t->device, (char *)NULL);
	else if (t->retry)
		rc = wa_node_make(&n, "message", "to", t->device, "type", stanza_type(t->type), "id", t->id,
		    "t", t->t[0] ? t->t : t_now, "recipient", t->recipient[0] ? t->recipient : NULL,
		    "device_fanout", "false", (char *)NULL);
	else
		rc = wa_node_make(&n, "message", "id", t->id, "to", t->to, "type", stanza_type(t->type),
		    "edit", strcmp(t->type, "revoke") == 0 ? "7" : NULL, (char *)NULL);
	if (rc < 0)
		goto out;
	if (!t->retry && ((rc = wa_node_new(&parts, "participants")) < 0 || (rc = wa_node_child_add(n, parts)) < 0))
		goto out;
	for (i = 0; i < t->ndevs; i++) {
		struct dev *d = &t->devs[i];
		struct wa_sigfail f;
		uint8_t *ct = NULL;
		size_t ctlen;
		int type;

		if (d->has_key && !t->retry)
			continue;	/* it has our sender key: the skmsg is enough */
		if (d->has_bundle) {
			d->has_bundle = 0;
			if (wa_sigcipher_process_bundle(s->o.store, d->jid, &d->b, &f) < 0)
				logf_(s, WA_LOG_WARN, "%s: the pre-key bundle of %s is unusable: %s", t->id, d->jid, f.detail);
		}
		if (wa_sigcipher_encrypt(&ct, &ctlen, &type, s->o.store, d->jid, d->own ? dpt : pt,
		    d->own ? dptlen : ptlen, &f) < 0) {
			logf_(s, WA_LOG_WARN, "%s: not sent to %s: %s (%s)", t->id, d->jid, f.detail,
			    wa_sigclass_name(f.cls));
			continue;
		}
		pk |= type == WA_SIG_PKMSG;
		rc = enc_node(&e, ct, ctlen, type, t);
		free(ct);
		if (rc < 0)
			goto out;
		if (t->retry)
			rc = wa_node_child_add(n, e);
		else {
			struct wa_node *to;
			if ((rc = wa_node_make(&to, "to", "jid", d->jid, (char *)NULL)) < 0) {
				wa_node_free(e);
				goto out;
			}
			if ((rc = wa_node_child_add(to, e)) == 0)
				rc = wa_node_child_add(parts, to);
		}
		if (rc < 0)
			goto out;
		others += t->retry || !d->own;
		if (t->group && !t->retry) {
			char **v = realloc(t->skdm_to, (t->nskdm + 1) * sizeof *v);
			if (!v || !(v[t->nskdm] = strdup(d->jid))) {
				if (v)
					t->skdm_to = v;
				rc = WA_ENOMEM;
				goto out;
			}
			t->skdm_to = v;
			t->nskdm++;
		}
	}
	if (t->group && !t->retry) {
		if ((rc = wa_node_make(&e, "enc", "v", "2", "type", "skmsg",
		    "decrypt-fail", strcmp(t->type, "reaction") == 0 ? "hide" : NULL, (char *)NULL)) < 0)
			goto out;
		if ((rc = wa_node_set_bytes(e, skct, skctlen)) < 0) {
			wa_node_free(e);
			goto out;
		}
		if ((rc = wa_node_child_add(n, e)) < 0)	/* e is n's, even on error */
			goto out;
		others = 1;
	}
	if (!others) {
		wa_node_free(n);
		n = NULL;
		task_fail(s, t, "no device of %s could be encrypted for", t->retry ? t->device : t->to);
		rc = 0;
		goto out;
	}
	if (pk && s->o.device_identity) {
		uint8_t *di = NULL;
		size_t dilen = 0;
		if (s->o.device_identity(s->o.arg, &di, &dilen) == 0) {
			if ((rc = wa_node_new(&e, "device-identity")) < 0 || (rc = wa_node_set_bytes(e, di, dilen)) < 0 ||
			    (rc = wa_node_child_add(n, e)) < 0) {
				free(di);
				goto out;
			}
			free(di);
		}
	}
	*out = n;
	n = NULL;
	rc = 0;
out:
	wa_node_free(n);
	free(msg);
	free(pt);
	free(dsm);
	free(dpt);
	free(skdm);
	free(skct);
	return rc;
}

static int
build_read(struct wa_send *s, struct task *t, struct wa_node **out)
{
	const json_t *ids = json_object_get(t->job, "ids"), *v;
	struct wa_node *n = NULL, *l, *it;
	char ts[24];
	size_t i;
	int rc;

	(void)s;
	snprintf(ts, sizeof ts, "%lld", (long long)(now_ms() / 1000));
	if ((rc = wa_node_make(&n, "receipt", "id", t->ackid, "to", t->to, "type", "read",
	    "participant", jstr(t->job, "participant"), "t", ts, (char *)NULL)) < 0)
		return rc;
	if (json_array_size(ids) > 1) {
		if ((rc = wa_node_new(&l, "list")) < 0 || (rc = wa_node_child_add(n, l)) < 0)
			goto fail;
		json_array_foreach(ids, i, v) {
			if (i == 0 || !json_is_string(v))
				continue;
			if ((rc = wa_node_make(&it, "item", "id", json_string_value(v), (char *)NULL)) < 0 ||
			    (rc = wa_node_child_add(l, it)) < 0)
				goto fail;
		}
	}
	*out = n;
	return 0;
fail:
	wa_node_free(n);
	return rc;
}

int
wa_send_pump(struct wa_send *s, struct wa_why *why)
{
	struct out *outs = NULL;
	size_t nout = 0, cap = 0, i;
	struct task *t, *next;
	int rc = 0;

	for (t = s->tasks; t; t = next) {
		next = t->next;
		if (t->state == T_NEW && (t->retry || !blocked(s, t)))
			advance(s, t);
	}
	for (t = s->tasks; t; t = next) {
		struct wa_node *n = NULL;

		next = t->next;
		if (t->state != T_READY)
			continue;
		if (t->ackid[0])
			rc = build_read(s, t, &n);
		else
			rc = build(s, t, &n);
		if (rc < 0)
			goto fail;
		if (!n)
			continue;	/* failed and gone */
		if (nout == cap) {
			struct out *o = realloc(outs, (cap = cap ? cap * 2 : 8) * sizeof *o);
			if (!o) {
				wa_node_free(n);
				rc = WA_ENOMEM;
				goto fail;
			}
			outs = o;
		}
		outs[nout].t = t;
		outs[nout++].n = n;
		t->state = T_WAIT_ACK;
	}
	if (!nout)
		return 0;
	/* R3: the chains that made these ciphertexts are durable first */
	if ((rc = wa_sigstore_commit(s->o.store, why)) < 0)
		goto fail;
	for (i = 0; i < nout; i++) {
		t = outs[i].t;
		wa_durable_mark("%s %s", outs[i].n->tag, wa_node_attr(outs[i].n, "id"));
		if (s->o.send && s->o.send(s->o.arg, outs[i].n) < 0) {
			/* the connection is going: connection_lost follows */
			for (; i < nout; i++)
				wa_node_free(outs[i].n);
			break;
		}
		wa_node_free(outs[i].n);
		if (t->retry) {
			s->stats.retries_answered++;
			logf_(s, WA_LOG_INFO, "answered retry %d for %s from %s", t->count, t->id, t->device);
			task_remove(s, t);
		}
	}
	free(outs);
	return 0;
fail:
	for (i = 0; i < nout; i++) {
		wa_node_free(outs[i].n);
		outs[i].t->state = T_NEW;
	}
	free(outs);
	if (why && !why->text[0])
		wa_why_set(why, rc, "sending: %s", wa_strerror(rc));
	return rc;
}

/* ---- what the server and the peers say ---------------------------------- */

int
wa_send_node(struct wa_send *s, const struct wa_node *n)
{
	const char *cls, *id, *type;
	struct task *t;

	if (strcmp(n->tag, "notification") == 0) {
		char user[JID_MAX];
		type = wa_node_attr(n, "type");
		if (type && strcmp(type, "devices") == 0 && user_of(user, wa_node_attr(n, "from")) == 0)
			json_object_del(s->devices, user);
		return 0;
	}
	if (strcmp(n->tag, "ack") != 0 || !(cls = wa_node_attr(n, "class")) || !(id = wa_node_attr(n, "id")))
		return 0;
	type = wa_node_attr(n, "type");
	for (t = s->tasks; t; t = t->next) {
		if (t->state != T_WAIT_ACK || t->retry)
			continue;
		if (t->ackid[0]) {
			if (strcmp(cls, "receipt") != 0 || strcmp(t->ackid, id) != 0 || (type && strcmp(type, "read") != 0))
				continue;
		} else if (strcmp(cls, "message") != 0 || strcmp(t->id, id) != 0)
			continue;
		if (wa_node_attr(n, "error")) {
			task_fail(s, t, "the server refused it: error %s", wa_node_attr(n, "error"));
			return 1;
		}
		{
			const char *ts = wa_node_attr(n, "t");
			int64_t ms = ts ? strtoll(ts, NULL, 10) * 1000 : now_ms();
			s->stats.sent++;
			if (t->group)
				mark_keys(s, t);
			if (s->o.on_sent)
				s->o.on_sent(s->o.arg, t->job, ms);
			task_remove(s, t);
		}
		return 1;
	}
	return 0;
}

static void
take_retry(struct wa_send *s, const struct wa_node *n)
{
	const char *id = wa_node_attr(n, "id"), *from = wa_node_attr(n, "from");
	const char *participant = wa_node_attr(n, "participant"), *recipient = wa_node_attr(n, "recipient");
	const struct wa_node *r = wa_node_child(n, "retry"), *keys = wa_node_child(n, "keys");
	const char *dev = participant ? participant : from;
	char key[400];
	json_t *job = NULL, *cnt;
	struct task *t;
	int count;
	struct wa_jid j;

	if (!id || !dev || wa_jid_parse(&j, from ? from : "") < 0)
		return;
	if (!s->o.find_job || s->o.find_job(s->o.arg, id, &job) < 0 || !job) {
		logf_(s, WA_LOG_INFO, "retry receipt for %s from %s: not one of ours that is kept", id, dev);
		return;
	}
	if (j.type == WA_JID_GROUP) {
		if (!participant) {
			json_decref(job);
			return;
		}
		forget_key(s, from, participant);	/* a fresh distribution goes with the answer */
	}
	snprintf(key, sizeof key, "%s %s", id, dev);
	cnt = json_object_get(s->retried, key);
	if (json_integer_value(cnt) >= WA_SEND_MAX_RETRIES) {
		logf_(s, WA_LOG_WARN, "retry receipt for %s from %s: answered %d times already, not again", id, dev,
		    WA_SEND_MAX_RETRIES);
		json_decref(job);
		return;
	}
	json_object_set_new(s->retried, key, json_integer(json_integer_value(cnt) + 1));
	count = r && wa_node_attr(r, "count") ? atoi(wa_node_attr(r, "count")) : 1;
	t = task_new(s, job);
	json_decref(job);
	if (!t)
		return;
	t->retry = 1;
	t->group = j.type == WA_JID_GROUP;
	t->count = count < 1 ? 1 : count;
	snprintf(t->device, sizeof t->device, "%s", dev);
	if (recipient)
		snprintf(t->recipient, sizeof t->recipient, "%s", recipient);
	if (participant)
		snprintf(t->participant, sizeof t->participant, "%s", participant);
	if (r && wa_node_attr(r, "t"))
		snprintf(t->t, sizeof t->t, "%s", wa_node_attr(r, "t"));
	if (add_dev(t, dev, recipient != NULL) < 0) {
		task_remove(s, t);
		return;
	}
	/* an own device's copy is the device-sent wrapper: devs[0].own; the
	 * peer's device must count as "others" for build */
	t->devs[0].own = 0;
	if (recipient) {
		/* encrypted as the device-sent copy */
		t->devs[0].own = 1;
	}
	if (keys && parse_bundle(&t->devs[0].b, n, keys) == 0) {
		t->devs[0].has_bundle = 1;
		t->state = T_READY;
	} else {
		int64_t last = json_integer_value(json_object_get(s->recreated, dev));
		if (!has_session(s, dev) || (t->count >= 2 && now_ms() - last > RECREATE_MS))
			t->state = T_NEW;	/* advance fetches a bundle */
		else
			t->state = T_READY;
	}
	if (t->state == T_NEW)
		advance(s, t);
}

void
wa_send_receipt(struct wa_send *s, const struct wa_node *n)
{
	const char *type = wa_node_attr(n, "type"), *id = wa_node_attr(n, "id");
	const char *dev = wa_node_attr(n, "participant") ? wa_node_attr(n, "participant") : wa_node_attr(n, "from");
	const char *what, *ts = wa_node_attr(n, "t");
	const struct wa_node *l;
	int64_t ms = ts ? strtoll(ts, NULL, 10) * 1000 : now_ms();
	size_t i;

	if (!id || !dev)
		return;
	if (type && strcmp(type, "retry") == 0) {
		take_retry(s, n);
		return;
	}
	if (!type || strcmp(type, "inactive") == 0)
		what = "delivered";
	else if (strcmp(type, "read") == 0 || strcmp(type, "read-self") == 0)
		what = "read";
	else if (strcmp(type, "played") == 0 || strcmp(type, "played-self") == 0)
		what = "played";
	else
		return;
	if (!s->o.on_status)
		return;
	s->o.on_status(s->o.arg, id, dev, what, ms);
	if ((l = wa_node_child(n, "list")))
		for (i = 0; i < l->nchildren; i++)
			if (strcmp(l->children[i]->tag, "item") == 0 && wa_node_attr(l->children[i], "id"))
				s->o.on_status(s->o.arg, wa_node_attr(l->children[i], "id"), dev, what, ms);
}

void
wa_send_connection_lost(struct wa_send *s)
{
	while (s->tasks)
		task_remove(s, s->tasks);
}

/* ---- life --------------------------------------------------------------- */

int
wa_send_new(struct wa_send **out, const struct wa_send_opts *o)
{
	struct wa_send *s;

	*out = NULL;
	if (!o->store || !o->me)
		return WA_EINVAL;
	if (!(s = calloc(1, sizeof *s)))
		return WA_ENOMEM;
	s->o = *o;
	if (wa_jid_parse(&s->me, o->me) < 0 || user_of(s->me_user, o->me) < 0) {
		free(s);
		return WA_EINVAL;
	}
	s->devices = json_object();
	s->retried = json_object();
	s->recreated = json_object();
	s->groups = json_object();
	if (!s->devices || !s->retried || !s->recreated || !s->groups) {
		wa_send_free(s);
		return WA_ENOMEM;
	}
	*out = s;
	return 0;
}

void
wa_send_free(struct wa_send *s)
{
	if (!s)
		return;
	wa_send_connection_lost(s);
	while (s->reqs) {
		struct req *q = s->reqs;
		s->reqs = q->next;
		free(q);
	}
	json_decref(s->devices);
	json_decref(s->retried);
	json_decref(s->recreated);
	json_decref(s->groups);
	free(s);
}

const struct wa_send_stats *
wa_send_stats(const struct wa_send *s)
{
	return &s->stats;
}
