/*
 * fuzz-recv.c - libFuzzer harness for the stanza-to-spool path
 * (lib/session/recv.c): malformed stanzas and garbled ciphertext from
 * the server, on a real auth folder with real sessions.
 *
 *	make fuzz-build   (or make fuzz: FUZZ_TIME seconds per harness)
 *	build/fuzz/bin/fuzz-recv -max_len=4096 -rss_limit_mb=256 -malloc_limit_mb=64 fuzz/corpus/recv
 *
 * The fixture is fuzz/recv-fixture.json ($WA_TOP/fuzz/, else ./fuzz/;
 * made by fuzz/mkrecv.sh): a paired auth folder (its files), real
 * stanzas for it (two new peers' pkmsgs, a contact's msgs, group skmsgs
 * with their sender-key distributions) and the JIDs they name.  Every
 * input starts from the same state: the folder is written anew into a
 * scratch folder (/dev/shm when there is one) with an empty inbox, so an
 * input's outcome does not depend on the ones before it.
 *
 * Input: a sequence of items, one op byte each (op % 16), then its bytes
 * (reading past the end gives zeros):
 *   0-2  seed stanza k (byte), as it is
 *   3    seed stanza k with its id replaced (id, below)
 *   4    seed stanza k with one ciphertext byte flipped (enc index, 2
 *        bytes position, xor byte)
 *   5    seed stanza k with a ciphertext cut (enc index, 2 bytes length)
 *   6-11 a node built from the bytes: tag (message receipt notification
 *        call ib presence), an attribute mask (from participant id type t
 *        offline recipient sender_pn|participant_pn), each attribute a
 *        byte (JIDs from the fixture's list and hostile ones, ids, types,
 *        times; >= 0xf0: a raw string from the input), then up to 3
 *        children: tag (enc enc enc identity count offline offline_preview
 *        x), enc type (pkmsg msg skmsg msmsg other none), content (none,
 *        a seed ciphertext, a flipped seed ciphertext, raw bytes, a
 *        string, a list)
 *   12   <ib><offline_preview/></ib> or <ib><offline count/></ib>
 *   13   flush (the batch is also flushed every 8 nodes and at the end)
 *   14   seed stanza k with a hostile JID as from or participant
 *   15   the last stanza again (a redelivery inside the batch)
 * At most 32 items are taken.
 *
 * Properties, at every flush: wa_recv_flush succeeds (the disk is
 * healthy: no stanza may fail a batch, else the server redelivers it
 * for ever); every node that wa_recv_node took got exactly one reply, in
 * order, with its id: a <message> a receipt or an <ack class=message>
 * with no error or 487/488/495 (plus the hist_sync receipt), a <receipt>
 * an ack class=receipt, a <notification> class=notification, a <call>
 * class=call; nothing else is sent.  The inbox holds only whole JSON
 * files in new/, each with its id and a status ok or undecryptable (with
 * a reason), as many as were reported stored, none left in tmp/.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <ftw.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/bufjson.h"
#include "session/recv.h"
#include "signal/store.h"
#include "spool/spool.h"
#include "store/authdir.h"
#include "store/creds.h"
#include "wire/node.h"

#define fr_check(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz-recv: %s:%d: property failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

#define FR_MAX_ITEMS 32
#define FR_BATCH 8

struct fr_seedenc {
	const struct wa_node *enc;	/* in fr_seeds */
	size_t stanza;
};

static char fr_base[256];		/* scratch folder, "" before init */
static json_t *fr_fixture;
static struct wa_node **fr_seeds;
static size_t fr_nseeds;
static struct fr_seedenc *fr_encs;
static size_t fr_nencs;
static const char **fr_jids;
static size_t fr_njids;
static int fr_broken;			/* no fixture: every input is a no-op */

static const char *const fr_hostile_jids[] = {
	"", "x", "@", "@s.whatsapp.net", "@g.us", "status@broadcast", "123@s.whatsapp.net",
	"1:2@lid", "1:99999@s.whatsapp.net", "120363000000000000@g.us", "a@b@c", "1.2:3@lid",
	"12345678901234567890123456789012345678901234567890@lid", "0@c.us", "bot@bot", "x@newsletter",
	"123@s.whatsapp.net/..", "../../etc@lid", "123@hosted", "1:0@hosted.lid",
};
static const char *const fr_ids[] = {
	"3EB0AAAA", "3EB0AAAA", "3EB0BBBB", "", " ", "a b", "x/y", "..", "\x7f", "id\n",
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
};
static const char *const fr_types[] = { "text", "media", "encrypt", "pkmsg", "", "read", "hist_sync", "sender" };
static const char *const fr_times[] = { "0", "1767225600", "-1", "99999999999999999999", "x", "" };
static const char *const fr_tags[] = { "message", "receipt", "notification", "call", "ib", "presence" };
static const char *const fr_ctags[] = { "enc", "enc", "enc", "identity", "count", "offline", "offline_preview", "x" };
static const char *const fr_etypes[] = { "pkmsg", "msg", "skmsg", "msmsg", "other", NULL };

#define FR_N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the input ------------------------------------------------------------ */

struct fr_in {
	const uint8_t *p;
	size_t n;
};

static unsigned
fr_byte(struct fr_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static unsigned
fr_u16(struct fr_in *in)
{
	unsigned a = fr_byte(in);
	return a << 8 | fr_byte(in);
}

/* A raw string of up to 47 bytes from the input (stops at a NUL). */
static void
fr_raw(struct fr_in *in, char out[48])
{
	size_t len = fr_byte(in) % 48, i;

	for (i = 0; i < len && in->n; i++)
		out[i] = (char)fr_byte(in);
	out[i] = 0;
}

/* ---- the fixture ------------------------------------------------------------ */

static int
fr_from_json(struct wa_node **out, const json_t *j)
{
	const char *tag = json_string_value(json_object_get(j, "tag")), *k;
	json_t *attrs = json_object_get(j, "attrs"), *c = json_object_get(j, "content"), *v;
	struct wa_node *n;
	size_t i;

	*out = NULL;
	if (!tag || wa_node_new(&n, tag) < 0)
		return -1;
	json_object_foreach(attrs, k, v)
		if (!json_is_string(v) || wa_node_attr_set(n, k, json_string_value(v)) < 0)
			goto bad;
	if (json_is_array(c)) {
		wa_node_set_list(n);
		for (i = 0; i < json_array_size(c); i++) {
			struct wa_node *ch;
			if (fr_from_json(&ch, json_array_get(c, i)) < 0 || wa_node_child_add(n, ch) < 0)
				goto bad;
		}
	} else if (json_is_object(c)) {
		const char *b64 = json_string_value(json_object_get(c, "base64"));
		uint8_t *buf = NULL;
		size_t len = 0;
		if (!b64 || wa_base64_decode(&buf, &len, b64, strlen(b64)) < 0 || wa_node_set_bytes(n, buf, len) < 0) {
			free(buf);
			goto bad;
		}
		free(buf);
	} else if (json_is_string(c) && wa_node_set_string(n, json_string_value(c)) < 0) {
		goto bad;
	}
	*out = n;
	return 0;
bad:
	wa_node_free(n);
	return -1;
}

static int
fr_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void
fr_rm(const char *path)
{
	nftw(path, fr_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
fr_cleanup(void)
{
	if (fr_base[0])
		fr_rm(fr_base);
}

/* The scratch folders of harness processes that are gone (libFuzzer
 * leaves by _exit at times, and a failed property aborts): removed. */
static void
fr_sweep(const char *tmp)
{
	struct dirent *e;
	char path[4096];
	DIR *d;

	if (!(d = opendir(tmp)))
		return;
	while ((e = readdir(d))) {
		char *end;
		long pid;
		if (strncmp(e->d_name, "fuzz-recv.", 10) != 0)
			continue;
		pid = strtol(e->d_name + 10, &end, 10);
		if (end == e->d_name + 10 || *end != '.' || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;	/* alive (or not ours to know) */
		snprintf(path, sizeof path, "%s/%s", tmp, e->d_name);
		fr_rm(path);
	}
	closedir(d);
}

static int
fr_init(void)
{
	const char *top = getenv("WA_TOP"), *tmp = getenv("TMPDIR");
	char path[4096];
	json_t *st, *jids;
	size_t i, k;

	snprintf(path, sizeof path, "%s/fuzz/recv-fixture.json", top ? top : ".");
	if (!(fr_fixture = json_load_file(path, 0, NULL))) {
		fprintf(stderr, "fuzz-recv: unable to load '%s' (set WA_TOP)\n", path);
		return -1;
	}
	st = json_object_get(fr_fixture, "stanzas");
	fr_nseeds = json_array_size(st);
	fr_check(fr_nseeds > 0 && (fr_seeds = calloc(fr_nseeds, sizeof *fr_seeds)));
	for (i = 0; i < fr_nseeds; i++) {
		fr_check(fr_from_json(&fr_seeds[i], json_array_get(st, i)) == 0);
		for (k = 0; k < fr_seeds[i]->nchildren; k++)
			if (fr_seeds[i]->children[k]->content == WA_CONTENT_BYTES) {
				fr_check((fr_encs = realloc(fr_encs, (fr_nencs + 1) * sizeof *fr_encs)));
				fr_encs[fr_nencs].enc = fr_seeds[i]->children[k];
				fr_encs[fr_nencs++].stanza = i;
			}
	}
	fr_check(fr_nencs > 0);
	jids = json_object_get(fr_fixture, "jids");
	fr_njids = json_array_size(jids);
	fr_check((fr_jids = calloc(fr_njids + FR_N(fr_hostile_jids), sizeof *fr_jids)));
	for (i = 0; i < fr_njids; i++)
		fr_jids[i] = json_string_value(json_array_get(jids, i));
	for (k = 0; k < FR_N(fr_hostile_jids); k++)
		fr_jids[fr_njids++] = fr_hostile_jids[k];
	if (access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";
	if (!tmp || !*tmp)
		tmp = "/tmp";
	fr_sweep(tmp);
	snprintf(fr_base, sizeof fr_base, "%s/fuzz-recv.%ld.XXXXXX", tmp, (long)getpid());
	if (!mkdtemp(fr_base)) {
		fprintf(stderr, "fuzz-recv: mkdtemp '%s': %s\n", fr_base, strerror(errno));
		fr_base[0] = 0;
		return -1;
	}
	atexit(fr_cleanup);
	return 0;
}

/* The fixture's folder, anew, in BASE/run/auth; BASE/run/inbox absent. */
static void
fr_reset(void)
{
	char path[512];
	const char *name;
	json_t *v;

	snprintf(path, sizeof path, "%s/run", fr_base);
	fr_rm(path);
	fr_check(mkdir(path, 0700) == 0);
	snprintf(path, sizeof path, "%s/run/auth", fr_base);
	fr_check(mkdir(path, 0700) == 0);
	json_object_foreach(json_object_get(fr_fixture, "files"), name, v) {
		const char *text = json_string_value(v);
		size_t len = strlen(text);
		int fd;
		snprintf(path, sizeof path, "%s/run/auth/%s", fr_base, name);
		fr_check((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0);
		fr_check(write(fd, text, len) == (ssize_t)len);
		fr_check(close(fd) == 0);
	}
}

/* ---- one run ------------------------------------------------------------------ */

struct fr_taken {
	char tag[16];
	char *id;			/* NULL: none */
};

struct fr_run {
	struct wa_recv *r;
	struct fr_taken taken[FR_MAX_ITEMS + 1];
	size_t ntaken;
	struct wa_node *replies[4 * FR_MAX_ITEMS + 8];
	size_t nreplies;
	unsigned long stored;
	char inbox[512];
};

static int
fr_send(void *arg, const struct wa_node *n)
{
	struct fr_run *run = arg;

	fr_check(run->nreplies < FR_N(run->replies));
	fr_check(wa_node_dup(&run->replies[run->nreplies], n) == 0);
	run->nreplies++;
	return 0;
}

static void
fr_on_message(void *arg, const struct wa_recv_msg *m)
{
	struct fr_run *run = arg;
	const char *st = json_string_value(json_object_get(m->rec, "status"));

	fr_check(json_string_value(json_object_get(m->rec, "id")));
	fr_check(st && (strcmp(st, "ok") == 0 || strcmp(st, "undecryptable") == 0));
	fr_check(access(m->path, F_OK) == 0);
	run->stored++;
}

static int
fr_streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* What the inbox holds: only whole records in new/, none in tmp/. */
static void
fr_check_inbox(struct fr_run *run)
{
	char path[1024];
	struct dirent *e;
	unsigned long count = 0;
	DIR *d;

	snprintf(path, sizeof path, "%s/new", run->inbox);
	fr_check((d = opendir(path)));
	while ((e = readdir(d))) {
		json_t *rec, *id;
		const char *st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/new/%s", run->inbox, e->d_name);
		rec = json_load_file(path, 0, NULL);
		if (!rec)
			fprintf(stderr, "fuzz-recv: '%s' is not whole JSON\n", path);
		fr_check(json_is_object(rec));
		id = json_object_get(rec, "id");
		st = json_string_value(json_object_get(rec, "status"));
		fr_check(json_is_string(id) && json_string_length(id) > 0);
		fr_check(st && (strcmp(st, "ok") == 0 || strcmp(st, "undecryptable") == 0));
		if (strcmp(st, "undecryptable") == 0)
			fr_check(json_string_value(json_object_get(rec, "reason")));
		json_decref(rec);
		count++;
	}
	closedir(d);
	fr_check(count == run->stored);
	fr_check(count == wa_recv_stats(run->r)->messages);
	snprintf(path, sizeof path, "%s/tmp", run->inbox);
	fr_check((d = opendir(path)));
	while ((e = readdir(d)))
		fr_check(e->d_name[0] == '.');
	closedir(d);
}

static void
fr_flush(struct fr_run *run)
{
	struct wa_why why = WA_WHY_INIT;
	size_t i, j = 0;
	int rc;

	rc = wa_recv_flush(run->r, &why);
	if (rc < 0)
		fprintf(stderr, "fuzz-recv: flush failed: %s\n", wa_why_text(&why, rc));
	fr_check(rc == 0);
	/* one reply per taken node, in order, with its id */
	for (i = 0; i < run->ntaken; i++) {
		const struct fr_taken *t = &run->taken[i];
		const struct wa_node *a;
		const char *klass, *err;
		if (j >= run->nreplies)
			fprintf(stderr, "fuzz-recv: no reply for node %zu <%s id=%s>\n", i, t->tag, t->id ? t->id : "(none)");
		fr_check(j < run->nreplies);
		a = run->replies[j++];
		fr_check(fr_streq(wa_node_attr(a, "id"), t->id));
		klass = wa_node_attr(a, "class");
		err = wa_node_attr(a, "error");
		if (strcmp(t->tag, "message") == 0) {
			if (strcmp(a->tag, "receipt") == 0) {
				fr_check(!fr_streq(wa_node_attr(a, "type"), "hist_sync"));
			} else {
				fr_check(strcmp(a->tag, "ack") == 0 && fr_streq(klass, "message"));
				fr_check(!err || strcmp(err, "487") == 0 || strcmp(err, "488") == 0 ||
				    strcmp(err, "495") == 0);
			}
			/* a history-sync notification: its second receipt */
			if (j < run->nreplies && strcmp(run->replies[j]->tag, "receipt") == 0 &&
			    fr_streq(wa_node_attr(run->replies[j], "type"), "hist_sync") &&
			    fr_streq(wa_node_attr(run->replies[j], "id"), t->id))
				j++;
		} else {
			fr_check(strcmp(a->tag, "ack") == 0 && fr_streq(klass, t->tag) && !err);
		}
	}
	if (j != run->nreplies)
		fprintf(stderr, "fuzz-recv: %zu replies for %zu taken nodes\n", run->nreplies, run->ntaken);
	fr_check(j == run->nreplies);
	for (i = 0; i < run->nreplies; i++)
		wa_node_free(run->replies[i]);
	run->nreplies = 0;
	for (i = 0; i < run->ntaken; i++)
		free(run->taken[i].id);
	run->ntaken = 0;
	fr_check_inbox(run);
}

static void
fr_take(struct fr_run *run, const struct wa_node *n)
{
	int rc = wa_recv_node(run->r, n);

	fr_check(rc == 0 || rc == 1);
	if (rc == 1) {
		struct fr_taken *t = &run->taken[run->ntaken++];
		const char *id = wa_node_attr(n, "id");
		snprintf(t->tag, sizeof t->tag, "%s", n->tag);
		t->id = id ? strdup(id) : NULL;
		fr_check(!id || t->id);
	}
	fr_check(wa_recv_pending(run->r) == run->ntaken);
	if (run->ntaken >= FR_BATCH)
		fr_flush(run);
}

/* ---- building nodes ------------------------------------------------------------ */

static const char *
fr_pick(struct fr_in *in, const char *const *list, size_t n, char raw[48])
{
	unsigned b = fr_byte(in);

	if (b >= 0xf0) {
		fr_raw(in, raw);
		return raw;
	}
	return list[b % n];
}

/* The i-th <enc> child with bytes of n (modulo their number), or NULL. */
static struct wa_node *
fr_enc_of(struct wa_node *n, unsigned i)
{
	size_t k, count = 0;

	for (k = 0; k < n->nchildren; k++)
		if (n->children[k]->content == WA_CONTENT_BYTES)
			count++;
	if (!count)
		return NULL;
	i %= count;
	for (k = 0; k < n->nchildren; k++)
		if (n->children[k]->content == WA_CONTENT_BYTES && i-- == 0)
			return n->children[k];
	return NULL;
}

static void
fr_flip(struct wa_node *e, struct fr_in *in)
{
	unsigned pos = fr_u16(in), x = fr_byte(in) | 1;
	uint8_t *buf;

	if (!e || !e->len)
		return;
	fr_check((buf = malloc(e->len)));
	memcpy(buf, e->data, e->len);
	buf[pos % e->len] ^= (uint8_t)x;
	fr_check(wa_node_set_bytes(e, buf, e->len) == 0);
	free(buf);
}

static struct wa_node *
fr_build(struct fr_in *in)
{
	static const char *const keys[] = { "from", "participant", "id", "type", "t", "offline", "recipient" };
	char raw[48];
	struct wa_node *n;
	unsigned mask, nch, i;

	fr_check(wa_node_new(&n, fr_tags[fr_byte(in) % FR_N(fr_tags)]) == 0);
	mask = fr_byte(in);
	for (i = 0; i < 8; i++) {
		const char *v;
		if (!(mask & 1u << i))
			continue;
		switch (i) {
		case 2:  v = fr_pick(in, fr_ids, FR_N(fr_ids), raw); break;
		case 3:  v = fr_pick(in, fr_types, FR_N(fr_types), raw); break;
		case 4:  v = fr_pick(in, fr_times, FR_N(fr_times), raw); break;
		case 5:  v = fr_byte(in) & 1 ? "1" : "0"; break;
		default: v = fr_pick(in, fr_jids, fr_njids, raw); break;
		}
		fr_check(wa_node_attr_set(n, i < 7 ? keys[i] : (mask & 2 ? "participant_pn" : "sender_pn"), v) == 0);
	}
	nch = fr_byte(in) % 4;
	for (i = 0; i < nch; i++) {
		const char *et;
		struct wa_node *c;
		unsigned kind;
		fr_check(wa_node_new(&c, fr_ctags[fr_byte(in) % FR_N(fr_ctags)]) == 0);
		if ((et = fr_etypes[fr_byte(in) % FR_N(fr_etypes)]))
			fr_check(wa_node_attr_set(c, "type", et) == 0);
		if (strcmp(c->tag, "offline") == 0)
			fr_check(wa_node_attr_set(c, "count", fr_times[fr_byte(in) % FR_N(fr_times)]) == 0);
		kind = fr_byte(in) % 6;
		if (kind == 1 || kind == 2) {
			const struct wa_node *s = fr_encs[fr_byte(in) % fr_nencs].enc;
			fr_check(wa_node_set_bytes(c, s->data, s->len) == 0);
			if (kind == 2)
				fr_flip(c, in);
		} else if (kind == 3) {
			size_t len = fr_byte(in) % 200;
			if (len > in->n)
				len = in->n;
			fr_check(wa_node_set_bytes(c, in->p, len) == 0);
			in->p += len;
			in->n -= len;
		} else if (kind == 4) {
			fr_raw(in, raw);
			fr_check(wa_node_set_string(c, raw) == 0);
		} else if (kind == 5) {
			wa_node_set_list(c);
		}
		fr_check(wa_node_child_add(n, c) == 0);
	}
	return n;
}

/* ---- the harness ------------------------------------------------------------------ */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wa_why why = WA_WHY_INIT;
	struct wa_authdir *ad = NULL;
	struct wa_creds_info info;
	struct wa_spool *sp = NULL;
	struct wa_sigstore *st = NULL;
	struct wa_recv_opts o = { 0 };
	struct fr_run run;
	struct fr_in in = { data, size };
	struct wa_node *last = NULL;
	json_t *creds = NULL, *me;
	char path[512];
	int items, rc;

	if (fr_broken)
		return 0;
	if (!fr_base[0] && fr_init() < 0) {
		fr_broken = 1;
		return 0;
	}
	fr_reset();
	memset(&run, 0, sizeof run);
	snprintf(path, sizeof path, "%s/run/auth", fr_base);
	snprintf(run.inbox, sizeof run.inbox, "%s/run/inbox", fr_base);
	rc = wa_authdir_open(&ad, path, WA_AUTHDIR_WRITE, "fuzz-recv", NULL, &why);
	if (rc == 0)
		rc = wa_creds_read(&creds, &info, ad, &why);
	if (rc == 0)
		rc = wa_spool_open(&sp, run.inbox, 14, &why);
	if (rc == 0)
		rc = wa_sigstore_open(&st, ad, &why);
	if (rc < 0)
		fprintf(stderr, "fuzz-recv: the fixture does not open: %s\n", wa_why_text(&why, rc));
	fr_check(rc == 0);
	me = json_object_get(creds, "me");
	o.spool = sp;
	o.store = st;
	o.me = json_string_value(json_object_get(me, "id"));
	o.me_lid = json_string_value(json_object_get(me, "lid"));
	o.batch = FR_BATCH;
	o.send = fr_send;
	o.on_message = fr_on_message;
	o.arg = &run;
	fr_check(wa_recv_new(&run.r, &o) == 0);

	for (items = 0; items < FR_MAX_ITEMS && in.n; items++) {
		unsigned op = fr_byte(&in) % 16;
		struct wa_node *n = NULL;
		switch (op) {
		case 0: case 1: case 2: case 3: case 4: case 5: case 14: {
			struct wa_node *e;
			char raw[48];
			fr_check(wa_node_dup(&n, fr_seeds[fr_byte(&in) % fr_nseeds]) == 0);
			if (op == 3)
				fr_check(wa_node_attr_set(n, "id", fr_pick(&in, fr_ids, FR_N(fr_ids), raw)) == 0);
			else if (op == 4)
				fr_flip(fr_enc_of(n, fr_byte(&in)), &in);
			else if (op == 5 && (e = fr_enc_of(n, fr_byte(&in))))
				fr_check(wa_node_set_bytes(e, e->data, fr_u16(&in) % (e->len + 1)) == 0);
			else if (op == 14) {
				unsigned b = fr_byte(&in), h = fr_byte(&in) % FR_N(fr_hostile_jids);
				fr_check(wa_node_attr_set(n, wa_node_attr(n, "participant") && b & 1 ? "participant" : "from",
				    fr_hostile_jids[h]) == 0);
			}
			break;
		}
		case 6: case 7: case 8: case 9: case 10: case 11:
			n = fr_build(&in);
			break;
		case 12: {
			struct wa_node *c;
			fr_check(wa_node_new(&n, "ib") == 0);
			if (fr_byte(&in) & 1) {
				fr_check(wa_node_make(&c, "offline_preview", "count", "3", (char *)NULL) == 0);
			} else {
				fr_check(wa_node_make(&c, "offline", "count", fr_times[fr_byte(&in) % FR_N(fr_times)],
				    (char *)NULL) == 0);
			}
			fr_check(wa_node_child_add(n, c) == 0);
			break;
		}
		case 13:
			fr_flush(&run);
			continue;
		case 15:
			if (last)
				fr_check(wa_node_dup(&n, last) == 0);
			break;
		}
		if (!n)
			continue;
		fr_take(&run, n);
		wa_node_free(last);
		last = n;
	}
	fr_flush(&run);
	wa_node_free(last);
	wa_recv_free(run.r);
	wa_sigstore_free(st);
	wa_spool_free(sp);
	json_decref(creds);
	wa_authdir_close(ad);
	return 0;
}
