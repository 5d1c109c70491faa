/*
 * wa-recv-feed - the receive pipeline (session/recv.h) without a network,
 * for the crash-state replay, the fuzzers' corpus and the unit tests.
 *
 *	wa-recv-feed [-m] [-r] [--batch N] AUTH INBOX < stanzas.jsonl
 *
 * Each input line is a node in fakewa's Node JSON ({"tag", "attrs":
 * {...}, "content": [nodes] | "string" | {"base64": "..."}}); a line
 * {"flush": true} commits the batch taken so far.  The batch is also
 * committed every N nodes (default 100) and at the end of input.  Every
 * node the pipeline sends (receipts, acks) is printed on stdout as one
 * line of the same JSON, after wa_durable_mark("<tag> <id>") (the crash
 * log's marker).  With -m every stored record is printed as well, as
 * {"stored": RECORD, "path": FILE}.  With -r failed decryptions are
 * answered with retry receipts, counted in AUTH/.wa/retries.json (no
 * key bundles: no session to take pre-keys from).  Events go to stderr as
 * {"event": KIND, ...}.
 *
 * Exit: 0; 1 a flush failed (its reason on stderr); 2 usage or setup.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/bufjson.h"
#include "session/recv.h"
#include "session/retry.h"
#include "signal/store.h"
#include "spool/spool.h"
#include "store/authdir.h"
#include "store/creds.h"
#include "store/durable.h"
#include "wire/node.h"

#define USAGE "usage: wa-recv-feed [-m] [-r] [--batch N] AUTH INBOX < stanzas.jsonl"

static int show_stored;

static json_t *
to_json(const struct wa_node *n)
{
	json_t *o = json_object(), *a = json_object();
	size_t i;

	for (i = 0; i < n->nattrs; i++)
		json_object_set_new(a, n->attrs[i].key, json_string(n->attrs[i].value));
	json_object_set_new(o, "tag", json_string(n->tag));
	json_object_set_new(o, "attrs", a);
	if (n->content == WA_CONTENT_LIST) {
		json_t *l = json_array();
		for (i = 0; i < n->nchildren; i++)
			json_array_append_new(l, to_json(n->children[i]));
		json_object_set_new(o, "content", l);
	} else if (n->content == WA_CONTENT_STRING) {
		json_object_set_new(o, "content", json_stringn((const char *)n->data, n->len));
	} else if (n->content == WA_CONTENT_BYTES) {
		char *b = wa_base64_encode(n->data, n->len);
		json_object_set_new(o, "content", json_pack("{s:s}", "base64", b ? b : ""));
		free(b);
	}
	return o;
}

static int
from_json(struct wa_node **out, const json_t *j)
{
	const char *tag = json_string_value(json_object_get(j, "tag")), *k;
	json_t *attrs = json_object_get(j, "attrs"), *c = json_object_get(j, "content"), *v;
	struct wa_node *n;
	size_t i;
	int rc;

	*out = NULL;
	if (!tag || (rc = wa_node_new(&n, tag)) < 0)
		return WA_EINVAL;
	json_object_foreach(attrs, k, v) {
		if (!json_is_string(v) || wa_node_attr_set(n, k, json_string_value(v)) < 0) {
			wa_node_free(n);
			return WA_EINVAL;
		}
	}
	if (json_is_array(c)) {
		wa_node_set_list(n);
		for (i = 0; i < json_array_size(c); i++) {
			struct wa_node *ch;
			if ((rc = from_json(&ch, json_array_get(c, i))) < 0 || (rc = wa_node_child_add(n, ch)) < 0) {
				wa_node_free(n);
				return rc;
			}
		}
	} else if (json_is_string(c)) {
		if (wa_node_set_string(n, json_string_value(c)) < 0) {
			wa_node_free(n);
			return WA_ENOMEM;
		}
	} else if (json_is_object(c)) {
		const char *b64 = json_string_value(json_object_get(c, "base64"));
		uint8_t *buf = NULL;
		size_t len = 0;
		if (!b64 || wa_base64_decode(&buf, &len, b64, strlen(b64)) < 0 ||
		    wa_node_set_bytes(n, buf, len) < 0) {
			free(buf);
			wa_node_free(n);
			return WA_EINVAL;
		}
		free(buf);
	}
	*out = n;
	return 0;
}

static void
print_json(FILE *f, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s)
		fprintf(f, "%s\n", s);
	free(s);
	fflush(f);
	json_decref(o);
}

static int
send_node(void *arg, const struct wa_node *n)
{
	(void)arg;
	print_json(stdout, to_json(n));
	return 0;
}

static void
on_message(void *arg, const struct wa_recv_msg *m)
{
	(void)arg;
	if (show_stored)
		print_json(stdout, json_pack("{s:O, s:s}", "stored", m->rec, "path", m->path));
}

static void
on_event(void *arg, const char *kind, const json_t *ev)
{
	json_t *o = json_deep_copy(ev);

	(void)arg;
	json_object_set_new(o, "event", json_string(kind));
	print_json(stderr, o);
}

static void
on_offline(void *arg, unsigned long count, int64_t ms)
{
	(void)arg;
	print_json(stderr, json_pack("{s:s, s:I, s:I}", "event", "offline", "count", (json_int_t)count,
	    "ms", (json_int_t)ms));
}

static int
flush(struct wa_recv *r)
{
	struct wa_why why = WA_WHY_INIT;
	int rc = wa_recv_flush(r, &why);

	if (rc < 0)
		fprintf(stderr, "wa-recv-feed: flush: %s\n", wa_why_text(&why, rc));
	return rc;
}

int
main(int argc, char **argv)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_authdir *ad = NULL;
	struct wa_creds_info info;
	struct wa_spool *sp = NULL;
	struct wa_sigstore *st = NULL;
	struct wa_recv *r = NULL;
	struct wa_recv_opts o = { 0 };
	struct wa_retries *rt = NULL;
	int retries = 0;
	json_t *creds = NULL, *me;
	char *line = NULL;
	size_t cap = 0;
	long batch = 100;
	int i = 1, rc, status = 0;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-m") == 0)
			show_stored = 1;
		else if (strcmp(argv[i], "-r") == 0)
			retries = 1;
		else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
			batch = strtol(argv[++i], NULL, 10);
		else
			break;
	}
	if (argc - i != 2 || batch < 1) {
		fprintf(stderr, "%s\n", USAGE);
		return 2;
	}
	if ((rc = wa_authdir_open(&ad, argv[i], WA_AUTHDIR_WRITE, "wa-recv-feed", NULL, &why)) < 0 ||
	    (rc = wa_creds_read(&creds, &info, ad, &why)) < 0 ||
	    (rc = wa_spool_open(&sp, argv[i + 1], 14, &why)) < 0 ||
	    (rc = wa_sigstore_open(&st, ad, &why)) < 0) {
		fprintf(stderr, "wa-recv-feed: %s\n", wa_why_text(&why, rc));
		return 2;
	}
	if (retries && (rc = wa_retries_open(&rt, ad->wafd, ad->stagefd, &why)) < 0) {
		fprintf(stderr, "wa-recv-feed: %s\n", wa_why_text(&why, rc));
		return 2;
	}
	o.retries = rt;
	me = json_object_get(creds, "me");
	o.spool = sp;
	o.store = st;
	o.me = json_string_value(json_object_get(me, "id"));
	o.me_lid = json_string_value(json_object_get(me, "lid"));
	o.batch = (size_t)batch;
	o.send = send_node;
	o.on_message = on_message;
	o.on_event = on_event;
	o.on_offline = on_offline;
	if ((rc = wa_recv_new(&r, &o)) < 0) {
		fprintf(stderr, "wa-recv-feed: %s\n", wa_strerror(rc));
		return 2;
	}
	while (getline(&line, &cap, stdin) > 0) {
		json_error_t je;
		json_t *j = json_loads(line, 0, &je);
		struct wa_node *n;
		if (!j) {
			fprintf(stderr, "wa-recv-feed: bad line: %s\n", je.text);
			continue;
		}
		if (json_is_true(json_object_get(j, "flush"))) {
			json_decref(j);
			if (flush(r) < 0)
				status = 1;
			continue;
		}
		if (from_json(&n, j) < 0) {
			fprintf(stderr, "wa-recv-feed: not a node\n");
			json_decref(j);
			continue;
		}
		json_decref(j);
		if ((rc = wa_recv_node(r, n)) < 0)
			fprintf(stderr, "wa-recv-feed: %s\n", wa_strerror(rc));
		wa_node_free(n);
		if (wa_recv_pending(r) >= (size_t)batch && flush(r) < 0)
			status = 1;
	}
	if (flush(r) < 0)
		status = 1;
	free(line);
	wa_recv_free(r);
	wa_retries_free(rt);
	wa_sigstore_free(st);
	wa_spool_free(sp);
	json_decref(creds);
	wa_authdir_close(ad);
	return status;
}
