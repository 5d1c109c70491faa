/*
 * store.c - the key store overlay and libsignal-protocol-c's callbacks on
 * it (see store.h for the protocol and its guarantee).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/bufjson.h"
#include "base/file.h"
#include "crypto/signalctx.h"
#include "store/creds.h"
#include "store/durable.h"
#include "store/fname.h"
#include "store/names.h"
#include "store/quarantine.h"
#include "signal/skjson.h"
#include "signal/store.h"
#include "sigstore.pb-c.h"

#define NBUCKET 512

struct ent {
	struct ent *next;
	char *name;
	json_t *disk;      /* on disk when last read or committed (NULL: absent) */
	json_t *cur;       /* now (NULL: absent) */
	int saved;
	json_t *save;      /* cur at op_begin */
	/* sender keys: the C record of what the file holds now; when stale,
	 * cur is older and the content is pack(rec, cur) (made at commit or
	 * when read), so a run of group messages converts once, not per
	 * message */
	uint8_t *rec;
	size_t reclen;
	int stale;
	uint8_t *save_rec;
	size_t save_reclen;
	int save_stale;
	/* retire: what disk holds goes to quarantine at the commit, even when
	 * cur puts new content in its place (a session of an identity that
	 * changed, replaced in the same op by the new identity's session) */
	int retire, save_retire;
};

struct wa_sigstore {
	struct wa_authdir *ad;
	signal_context *sc;
	signal_protocol_store_context *ctx;
	struct wa_keyjson_creds creds;
	struct wa_sessjson_local local;
	struct ent *tab[NBUCKET];
	struct wa_sessjson_hint hint;
	struct wa_sessjson_bob bob;
	int have_bob;
	char corrupt[600];
	char corrupt_why[WA_WHY_MAX];
	char changed[WA_SIGNAL_ADDR_MAX + 8];
	int qfd, runfd;
	int no_identity_save;   /* this op only */
	int syserr;             /* a read failed for a system reason (WA_ESYS, WA_ENOMEM) */
	char syserr_why[WA_WHY_MAX];
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % NBUCKET;
}

static struct ent *
find(struct wa_sigstore *st, const char *name, int create)
{
	unsigned h = hash(name);
	struct ent *e;

	for (e = st->tab[h]; e; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	if (!create || !(e = calloc(1, sizeof *e)))
		return NULL;
	if (!(e->name = strdup(name))) {
		free(e);
		return NULL;
	}
	e->next = st->tab[h];
	st->tab[h] = e;
	return e;
}

static void
forget_all(struct wa_sigstore *st)
{
	struct ent *e, *n;
	size_t i;

	for (i = 0; i < NBUCKET; i++) {
		for (e = st->tab[i]; e; e = n) {
			n = e->next;
			json_decref(e->disk);
			json_decref(e->cur);
			json_decref(e->save);
			free(e->rec);
			free(e->save_rec);
			free(e->name);
			free(e);
		}
		st->tab[i] = NULL;
	}
}

static void
set_corrupt(struct wa_sigstore *st, const char *name, const char *why)
{
	snprintf(st->corrupt, sizeof st->corrupt, "%s", name);
	snprintf(st->corrupt_why, sizeof st->corrupt_why, "%s", why && *why ? why : "unreadable");
}

/* Bring cur up to date with a stale sender-key record. */
static int
materialize(struct wa_sigstore *st, struct ent *e)
{
	struct wa_why why = { "" };
	json_t *doc;
	int rc;

	if (!e->stale)
		return 0;
	if ((rc = wa_skjson_pack(&doc, e->rec, e->reclen, e->cur, &why)) < 0) {
		set_corrupt(st, e->name, why.text);
		return rc;
	}
	json_decref(e->cur);
	e->cur = doc;
	e->stale = 0;
	return 0;
}

/* Remember e as it was at op_begin, once per op. */
static int
savepoint(struct ent *e)
{
	if (e->saved)
		return 0;
	if (e->rec && !(e->save_rec = malloc(e->reclen ? e->reclen : 1)))
		return WA_ENOMEM;
	if (e->rec)
		memcpy(e->save_rec, e->rec, e->reclen);
	e->save_reclen = e->reclen;
	e->save_stale = e->stale;
	e->save_retire = e->retire;
	e->save = json_incref(e->cur);
	e->saved = 1;
	return 0;
}

static void
drop_rec(struct ent *e)
{
	free(e->rec);
	e->rec = NULL;
	e->reclen = 0;
	e->stale = 0;
}

/* The entry for name, read from disk the first time (cur may be stale). */
static int
load_ent(struct wa_sigstore *st, struct ent **out, const char *name, struct wa_why *why)
{
	struct ent *e = find(st, name, 0);
	struct wa_why w = { "" };
	json_t *d;
	int rc;

	*out = NULL;
	if (!e) {
		if (!wa_fname_safe(name))
			return wa_why_set(why, WA_EINVAL, "unsafe file name");
		rc = wa_json_read(&d, st->ad->fd, name, st->ad->path, &w);
		if (rc == WA_ENOTFOUND) {
			d = NULL;
		} else if (rc == WA_ESYS || rc == WA_ENOMEM) {
			/* the disk or memory failed, not the file: no verdict on it */
			st->syserr = rc;
			snprintf(st->syserr_why, sizeof st->syserr_why, "%s", w.text[0] ? w.text : wa_strerror(rc));
			wa_why_set(why, rc, "%s", st->syserr_why);
			return rc;
		} else if (rc < 0) {
			set_corrupt(st, name, w.text);
			wa_why_set(why, WA_ECORRUPT, "%s", w.text);
			return WA_ECORRUPT;
		}
		if (!(e = find(st, name, 1))) {
			json_decref(d);
			return WA_ENOMEM;
		}
		e->disk = d;
		e->cur = json_incref(d);
	}
	*out = e;
	return 0;
}

int
wa_sigstore_get(struct wa_sigstore *st, const json_t **doc, const char *name, struct wa_why *why)
{
	struct ent *e;
	int rc;

	*doc = NULL;
	if ((rc = load_ent(st, &e, name, why)) < 0)
		return rc;
	if ((rc = materialize(st, e)) < 0)
		return wa_why_set(why, rc, "%s", st->corrupt_why);
	if (!e->cur)
		return WA_ENOTFOUND;
	*doc = e->cur;
	return 0;
}

int
wa_sigstore_put(struct wa_sigstore *st, const char *name, json_t *doc)
{
	struct ent *e;
	int rc;

	/* read first, so that disk is known and a corrupt file is not overwritten blind */
	if ((rc = load_ent(st, &e, name, NULL)) < 0) {
		json_decref(doc);
		return rc;
	}
	if ((rc = savepoint(e)) < 0) {
		json_decref(doc);
		return rc;
	}
	drop_rec(e);
	json_decref(e->cur);
	e->cur = doc;
	return 0;
}

int
wa_sigstore_quarantine(struct wa_sigstore *st, const char *name)
{
	struct ent *e;
	struct stat sb;
	int rc;

	if (!wa_fname_safe(name) || wa_fname_classify(name, NULL, NULL) == WA_FT_PRE_KEY ||
	    wa_fname_classify(name, NULL, NULL) == WA_FT_CREDS)
		return WA_EINVAL;
	if ((rc = load_ent(st, &e, name, NULL)) == WA_ECORRUPT) {
		/* unreadable: known to be on disk, moved away as it is */
		if (fstatat(st->ad->fd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			return WA_ENOTFOUND;
		if (!(e = find(st, name, 1)))
			return WA_ENOMEM;
		json_decref(e->disk);
		json_decref(e->cur);
		e->disk = json_true();
		e->cur = NULL;
		drop_rec(e);
		return 0;
	}
	if (rc < 0)
		return rc;
	if (!e->disk)
		return WA_ENOTFOUND;
	return wa_sigstore_put(st, name, NULL);
}

void
wa_sigstore_op_begin(struct wa_sigstore *st)
{
	struct ent *e;
	size_t i;

	for (i = 0; i < NBUCKET; i++)
		for (e = st->tab[i]; e; e = e->next) {
			json_decref(e->save);
			e->save = NULL;
			free(e->save_rec);
			e->save_rec = NULL;
			e->saved = 0;
		}
	st->corrupt[0] = 0;
	st->corrupt_why[0] = 0;
	st->changed[0] = 0;
	st->hint.have = 0;
	st->have_bob = 0;
	st->no_identity_save = 0;
}

void
wa_sigstore_identity_save_off(struct wa_sigstore *st)
{
	st->no_identity_save = 1;
}

void
wa_sigstore_op_end(struct wa_sigstore *st, int ok)
{
	struct ent *e;
	size_t i;

	for (i = 0; i < NBUCKET; i++)
		for (e = st->tab[i]; e; e = e->next) {
			if (e->saved && !ok) {
				json_decref(e->cur);
				e->cur = e->save;
				free(e->rec);
				e->rec = e->save_rec;
				e->reclen = e->save_reclen;
				e->stale = e->save_stale;
				e->retire = e->save_retire;
			} else {
				json_decref(e->save);
				free(e->save_rec);
			}
			e->save = NULL;
			e->save_rec = NULL;
			e->saved = 0;
		}
	if (!ok)
		st->changed[0] = 0;
	st->hint.have = 0;
	st->have_bob = 0;
	st->no_identity_save = 0;
	OPENSSL_cleanse(&st->bob, sizeof st->bob);
}

void
wa_sigstore_hint(struct wa_sigstore *st, const struct wa_sessjson_hint *h,
    const struct wa_sessjson_bob *bob)
{
	if (h)
		st->hint = *h;
	else
		st->hint.have = 0;
	st->have_bob = bob != NULL;
	if (bob)
		st->bob = *bob;
}

const char *
wa_sigstore_corrupt(struct wa_sigstore *st, const char **why)
{
	if (why)
		*why = st->corrupt_why;
	return st->corrupt;
}

const char *
wa_sigstore_identity_changed(struct wa_sigstore *st)
{
	return st->changed[0] ? st->changed : NULL;
}

static int
changed(const struct ent *e)
{
	if (e->retire && e->disk)
		return 1;
	if (e->cur == e->disk)
		return 0;
	if (!e->cur || !e->disk)
		return 1;
	return !json_equal(e->cur, e->disk);
}

size_t
wa_sigstore_dirty(struct wa_sigstore *st)
{
	struct ent *e;
	size_t i, n = 0;

	for (i = 0; i < NBUCKET; i++)
		for (e = st->tab[i]; e; e = e->next)
			n += e->stale || changed(e);
	return n;
}

void
wa_sigstore_rollback(struct wa_sigstore *st)
{
	forget_all(st);
}

int
wa_sigstore_syserr(struct wa_sigstore *st, const char **why)
{
	int rc = st->syserr;

	if (why)
		*why = st->syserr_why;
	st->syserr = 0;
	return rc;
}

size_t
wa_sigstore_trim(struct wa_sigstore *st, size_t keep)
{
	struct ent *e, **pp;
	size_t i, n = 0, left = 0;

	for (i = 0; i < NBUCKET; i++)
		for (e = st->tab[i]; e; e = e->next)
			n++;
	for (i = 0; i < NBUCKET; i++)
		for (pp = &st->tab[i]; (e = *pp);) {
			if (e->stale || e->saved || changed(e) || (e->cur && n <= keep)) {
				pp = &e->next;
				left++;
				continue;
			}
			*pp = e->next;
			json_decref(e->disk);
			json_decref(e->cur);
			json_decref(e->save);
			free(e->rec);
			free(e->save_rec);
			free(e->name);
			free(e);
		}
	return left;
}

/* The quarantine sub-folder of this process, made at first use. */
static int
quarantine_dir(struct wa_sigstore *st)
{
	char stamp[WA_QUARANTINE_NAME_MAX];
	int rc;

	if (st->runfd >= 0)
		return st->runfd;
	if (st->qfd < 0 && (st->qfd = wa_authdir_subdir(st->ad, WA_QUARANTINE, 1)) < 0) {
		rc = st->qfd;
		st->qfd = -1;
		return rc;
	}
	wa_quarantine_stamp(stamp, sizeof stamp, time(NULL), getpid());
	rc = wa_durable_mkdir(st->qfd, stamp);
	if (rc < 0 && rc != WA_EEXIST)
		return rc;
	st->runfd = openat(st->qfd, stamp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return st->runfd >= 0 ? st->runfd : WA_ESYS;
}

/* The phase a changed entry's new content is written in: 1 for sessions
 * and for what replaces a retired file (moved away in phase 0), else 0. */
static int
put_phase(const struct ent *e)
{
	return e->retire || wa_fname_classify(e->name, NULL, NULL) == WA_FT_SESSION;
}

/* Move e's file into this process's quarantine folder within batch b. */
static int
batch_quarantine(struct wa_sigstore *st, struct wa_durable_batch *b, const struct ent *e,
    struct wa_why *why)
{
	char to[320];
	int q = quarantine_dir(st);

	if (q < 0)
		return wa_why_set(why, q, "'%s/%s/%s': %s", st->ad->path, WA_SUBDIR, WA_QUARANTINE,
		    wa_strerror(q));
	snprintf(to, sizeof to, "%s.%lld", e->name, now_ms());
	return wa_durable_batch_move(b, e->name, q, to);
}

/* One durable batch of the changed files: phase 0 every new content
 * but sessions', then the retired files to quarantine (after the puts, so
 * a retired name is not written in this phase); phase 1 the sessions' and
 * the retired files' new content and then every removal. */
static int
commit_phase(struct wa_sigstore *st, int phase, struct wa_why *why)
{
	struct wa_durable_batch *b;
	struct ent *e;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < NBUCKET; i++)
		for (e = st->tab[i]; e; e = e->next)
			if ((changed(e) && (e->cur ? put_phase(e) == phase : phase == 1 && e->disk)) ||
			    (phase == 0 && e->retire && e->disk))
				n++;
	if (n == 0)
		return 0;
	if ((rc = wa_durable_batch_begin(&b, st->ad->fd, st->ad->stagefd)) < 0)
		return wa_why_set(why, rc, "%s", wa_strerror(rc));
	for (i = 0; i < NBUCKET; i++)
		for (e = st->tab[i]; e; e = e->next) {
			char *text;
			if (!changed(e) || !e->cur || put_phase(e) != phase)
				continue;
			if (!(text = json_dumps(e->cur, JSON_COMPACT | JSON_ENCODE_ANY))) {
				rc = WA_ENOMEM;
				goto fail;
			}
			rc = wa_durable_batch_put(b, e->name, text, strlen(text));
			OPENSSL_cleanse(text, strlen(text));
			free(text);
			if (rc < 0) {
				wa_why_set(why, rc, "'%s/%s': %s", st->ad->path, e->name, wa_strerror(rc));
				goto fail;
			}
		}
	for (i = 0; phase == 0 && i < NBUCKET; i++)
		for (e = st->tab[i]; e; e = e->next)
			if (e->retire && e->disk && (rc = batch_quarantine(st, b, e, why)) < 0)
				goto fail;
	for (i = 0; phase == 1 && i < NBUCKET; i++)
		for (e = st->tab[i]; e; e = e->next) {
			if (!changed(e) || e->cur || !e->disk)
				continue;
			if (wa_fname_classify(e->name, NULL, NULL) == WA_FT_PRE_KEY)
				rc = wa_durable_batch_unlink(b, e->name);
			else
				rc = batch_quarantine(st, b, e, why);
			if (rc < 0)
				goto fail;
		}
	if ((rc = wa_durable_batch_commit(b)) < 0)
		return wa_why_set(why, rc, "'%s': group commit: %s", st->ad->path, wa_strerror(rc));
	for (i = 0; i < NBUCKET; i++)
		for (e = st->tab[i]; e; e = e->next) {
			if (phase == 0 && e->retire && e->disk) {
				/* moved away: the name is free for phase 1 */
				json_decref(e->disk);
				e->disk = NULL;
				continue;
			}
			if (changed(e) && (e->cur ? put_phase(e) == phase : phase == 1)) {
				json_decref(e->disk);
				e->disk = json_incref(e->cur);
			}
		}
	return 0;
fail:
	wa_durable_batch_abort(b);
	return rc;
}

/*
 * Two batches, in this order (each: temporaries, barrier, renames, one
 * folder fsync): first everything a message carried or caused besides
 * its ratchet (sender keys from a distribution message, identities, LID
 * mappings, app-state keys), then the sessions, then the removals (the
 * consumed pre-keys last, R4).  A crash between the two leaves the
 * sessions behind, so a redelivered message still decrypts and its
 * distribution message is processed again; the other way round a crash
 * could leave a session that can no longer decrypt the message that
 * carried a sender key that never reached the disk.
 */
int
wa_sigstore_commit(struct wa_sigstore *st, struct wa_why *why)
{
	struct ent *e;
	size_t i;
	int rc;

	if (wa_sigstore_dirty(st) == 0)
		return 0;
	for (i = 0; i < NBUCKET; i++)
		for (e = st->tab[i]; e; e = e->next)
			if ((rc = materialize(st, e)) < 0) {
				wa_why_set(why, rc, "'%s/%s': %s", st->ad->path, e->name, st->corrupt_why);
				return rc;
			}
	if ((rc = commit_phase(st, 0, why)) < 0 || (rc = commit_phase(st, 1, why)) < 0) {
		forget_all(st);
		return rc;
	}
	for (i = 0; i < NBUCKET; i++)
		for (e = st->tab[i]; e; e = e->next)
			e->retire = 0;
	return 0;
}

/* ---- addresses -------------------------------------------------------- */

static int
lid_lookup(char *lid, size_t n, const char *pn_user, void *arg)
{
	struct wa_sigstore *st = arg;
	char name[300];
	const json_t *doc;
	int rc;

	if (wa_fname_make(name, sizeof name, WA_FT_LID_MAPPING, pn_user) < 0)
		return 0;
	rc = wa_sigstore_get(st, &doc, name, NULL);
	if (rc == WA_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	if (!json_is_string(doc) || json_string_length(doc) == 0)
		return 0;   /* Baileys: typeof lidUser === 'string', else no mapping */
	if (json_string_length(doc) >= n) {
		set_corrupt(st, name, "not a LID user");
		return WA_ECORRUPT;
	}
	snprintf(lid, n, "%s", json_string_value(doc));
	return 1;
}

int
wa_sigstore_resolve(struct wa_sigstore *st, struct wa_sigaddr *out, const char *jid,
    struct wa_why *why)
{
	int rc;

	if ((rc = wa_sigaddr_from_jid(out, jid)) < 0)
		return wa_why_set(why, rc, "not a user JID Baileys would take");
	if ((rc = wa_sigaddr_resolve(out, out, lid_lookup, st)) < 0) {
		if (rc == WA_ECORRUPT && !st->corrupt[0])
			set_corrupt(st, "lid-mapping", "not a LID user");
		return wa_why_set(why, rc, "the LID mapping for this JID is unusable");
	}
	return 0;
}

static int
addr_of(struct wa_sigaddr *a, const signal_protocol_address *sa)
{
	if (!sa->name || sa->name_len == 0 || sa->name_len >= sizeof a->name ||
	    memchr(sa->name, 0, sa->name_len) || sa->device_id < 0)
		return WA_EINVAL;
	memcpy(a->name, sa->name, sa->name_len);
	a->name[sa->name_len] = 0;
	a->device = (unsigned)sa->device_id;
	return 0;
}

/* ---- identities ------------------------------------------------------- */

int
wa_sigstore_identity(struct wa_sigstore *st, uint8_t key[33], const struct wa_sigaddr *a,
    struct wa_why *why)
{
	char name[300];
	const json_t *doc;
	int rc;

	if ((rc = wa_sigaddr_file(name, sizeof name, WA_FT_IDENTITY_KEY, a)) < 0)
		return rc;
	if ((rc = wa_sigstore_get(st, &doc, name, why)) < 0)
		return rc;
	if ((rc = wa_keyjson_identity(key, doc, why)) < 0) {
		set_corrupt(st, name, why ? why->text : "not an identity key");
		return rc;
	}
	return 0;
}

/* The file name holds goes to quarantine at the commit, whatever this op
 * puts in its place (the session of an identity that changed: the pkmsg
 * of the new identity writes a new one in the same op). */
static int
retire(struct wa_sigstore *st, const char *name)
{
	struct ent *e;
	int rc;

	if ((rc = load_ent(st, &e, name, NULL)) < 0)
		return rc;
	if (!e->disk)
		return wa_sigstore_put(st, name, NULL);
	if ((rc = savepoint(e)) < 0)
		return rc;
	drop_rec(e);
	json_decref(e->cur);
	e->cur = NULL;
	e->retire = 1;
	return 0;
}

int
wa_sigstore_save_identity(struct wa_sigstore *st, const struct wa_sigaddr *a,
    const uint8_t key[33], int *chg, struct wa_why *why)
{
	uint8_t old[33];
	char name[300], sess[300];
	json_t *doc;
	int rc;

	*chg = 0;
	rc = wa_sigstore_identity(st, old, a, why);
	if (rc == 0 && memcmp(old, key, 33) == 0)
		return 0;
	if (rc < 0 && rc != WA_ENOTFOUND)
		return rc;
	if (rc == 0) {
		*chg = 1;
		wa_sigaddr_id(st->changed, sizeof st->changed, a);
		if (wa_sigaddr_file(sess, sizeof sess, WA_FT_SESSION, a) == 0 &&
		    (rc = retire(st, sess)) < 0)
			return rc;
	}
	if ((rc = wa_sigaddr_file(name, sizeof name, WA_FT_IDENTITY_KEY, a)) < 0)
		return rc;
	if (!(doc = wa_keyjson_identity_doc(key)))
		return WA_ENOMEM;
	return wa_sigstore_put(st, name, doc);
}

/* ---- pre-keys --------------------------------------------------------- */

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int
wa_sigstore_prekey_ids(struct wa_sigstore *st, uint32_t **ids, size_t *n)
{
	DIR *d;
	struct dirent *de;
	size_t cap = 64;
	int fd;

	*n = 0;
	if (!(*ids = malloc(cap * sizeof **ids)))
		return WA_ENOMEM;
	if ((fd = openat(st->ad->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		free(*ids);
		*ids = NULL;
		return WA_ESYS;
	}
	while ((de = readdir(d))) {
		unsigned long v;
		char *end;
		struct ent *e;
		if (strncmp(de->d_name, "pre-key-", 8) != 0)
			continue;
		v = strtoul(de->d_name + 8, &end, 10);
		if (strcmp(end, ".json") != 0 || end == de->d_name + 8 || v > 0xffffff)
			continue;
		if ((e = find(st, de->d_name, 0)) && !e->cur)
			continue;   /* consumed, not committed yet */
		if (*n == cap) {
			uint32_t *m = realloc(*ids, cap * 2 * sizeof *m);
			if (!m)
				break;
			*ids = m;
			cap *= 2;
		}
		(*ids)[(*n)++] = (uint32_t)v;
	}
	closedir(d);
	qsort(*ids, *n, sizeof **ids, cmp_u32);
	return 0;
}

static int
load_pre_key(signal_buffer **record, uint32_t id, void *ud)
{
	struct wa_sigstore *st = ud;
	struct wa_why why = { "" };
	struct wa_keypair kp;
	const json_t *doc;
	char name[64], idtxt[16];
	uint8_t *rec;
	size_t len;
	int rc;

	snprintf(idtxt, sizeof idtxt, "%u", id);
	wa_fname_make(name, sizeof name, WA_FT_PRE_KEY, idtxt);
	rc = wa_sigstore_get(st, &doc, name, &why);
	if (rc == WA_ENOTFOUND)
		return SG_ERR_INVALID_KEY_ID;
	if (rc < 0)
		return SG_ERR_UNKNOWN;
	if (wa_keyjson_prekey(&kp, doc, &why) < 0) {
		set_corrupt(st, name, why.text);
		return SG_ERR_UNKNOWN;
	}
	rc = wa_keyjson_prekey_record(&rec, &len, id, &kp);
	wa_curve_keypair_wipe(&kp);
	if (rc < 0)
		return SG_ERR_NOMEM;
	*record = signal_buffer_create(rec, len);
	OPENSSL_cleanse(rec, len);
	free(rec);
	return *record ? SG_SUCCESS : SG_ERR_NOMEM;
}

static int
store_pre_key(uint32_t id, uint8_t *record, size_t len, void *ud)
{
	return SG_ERR_UNKNOWN;   /* pre-keys are made by wa-run's upload, not here */
}

static int
contains_pre_key(uint32_t id, void *ud)
{
	struct wa_sigstore *st = ud;
	const json_t *doc;
	char name[64], idtxt[16];

	snprintf(idtxt, sizeof idtxt, "%u", id);
	wa_fname_make(name, sizeof name, WA_FT_PRE_KEY, idtxt);
	return wa_sigstore_get(st, &doc, name, NULL) == 0;
}

static int
remove_pre_key(uint32_t id, void *ud)
{
	struct wa_sigstore *st = ud;
	char name[64], idtxt[16];

	snprintf(idtxt, sizeof idtxt, "%u", id);
	wa_fname_make(name, sizeof name, WA_FT_PRE_KEY, idtxt);
	return wa_sigstore_put(st, name, NULL) < 0 ? SG_ERR_UNKNOWN : 0;
}

static int
load_signed_pre_key(signal_buffer **record, uint32_t id, void *ud)
{
	struct wa_sigstore *st = ud;
	uint8_t *rec;
	size_t len;

	if (wa_keyjson_spk_record(&rec, &len, &st->creds) < 0)
		return SG_ERR_NOMEM;
	*record = signal_buffer_create(rec, len);
	OPENSSL_cleanse(rec, len);
	free(rec);
	return *record ? SG_SUCCESS : SG_ERR_NOMEM;
}

static int
store_signed_pre_key(uint32_t id, uint8_t *record, size_t len, void *ud)
{
	return SG_ERR_UNKNOWN;
}

static int
contains_signed_pre_key(uint32_t id, void *ud)
{
	return 1;
}

static int
remove_signed_pre_key(uint32_t id, void *ud)
{
	return 0;
}

/* ---- identity store --------------------------------------------------- */

static int
get_identity_key_pair(signal_buffer **pub, signal_buffer **priv, void *ud)
{
	struct wa_sigstore *st = ud;
	uint8_t p[32];

	memcpy(p, st->creds.identity.priv, 32);
	wa_curve_clamp(p);
	*pub = signal_buffer_create(st->local.identity, 33);
	*priv = signal_buffer_create(p, 32);
	OPENSSL_cleanse(p, 32);
	if (!*pub || !*priv) {
		signal_buffer_free(*pub);
		signal_buffer_bzero_free(*priv);
		return SG_ERR_NOMEM;
	}
	return 0;
}

static int
get_local_registration_id(void *ud, uint32_t *id)
{
	*id = ((struct wa_sigstore *)ud)->creds.regid;
	return 0;
}

static int
save_identity(const signal_protocol_address *sa, uint8_t *key, size_t len, void *ud)
{
	struct wa_sigstore *st = ud;
	struct wa_sigaddr a;
	char name[300];
	uint8_t old[33];
	json_t *doc;
	int rc;

	if (addr_of(&a, sa) < 0 || wa_sigaddr_file(name, sizeof name, WA_FT_IDENTITY_KEY, &a) < 0)
		return SG_ERR_INVAL;
	if (!key || st->no_identity_save)
		return 0;   /* Baileys never forgets an identity */
	if (len != 33)
		return SG_ERR_INVALID_KEY;
	rc = wa_sigstore_identity(st, old, &a, NULL);
	if (rc == 0 && memcmp(old, key, 33) == 0)
		return 0;
	if (rc < 0 && rc != WA_ENOTFOUND)
		return SG_ERR_UNKNOWN;
	if (rc == 0)
		wa_sigaddr_id(st->changed, sizeof st->changed, &a);
	if (!(doc = wa_keyjson_identity_doc(key)))
		return SG_ERR_NOMEM;
	return wa_sigstore_put(st, name, doc) < 0 ? SG_ERR_UNKNOWN : 0;
}

static int
is_trusted_identity(const signal_protocol_address *sa, uint8_t *key, size_t len, void *ud)
{
	return 1;   /* trust on first use and on change, as Baileys */
}

/* ---- sessions --------------------------------------------------------- */

static int
session_file(char *name, size_t n, const signal_protocol_address *sa)
{
	struct wa_sigaddr a;

	if (addr_of(&a, sa) < 0)
		return WA_EINVAL;
	return wa_sigaddr_file(name, n, WA_FT_SESSION, &a);
}

static int
load_session(signal_buffer **record, signal_buffer **user, const signal_protocol_address *sa, void *ud)
{
	struct wa_sigstore *st = ud;
	struct wa_why why = { "" };
	const json_t *doc;
	char name[300];
	uint8_t *rec;
	size_t len;
	int rc;

	if (session_file(name, sizeof name, sa) < 0)
		return SG_ERR_INVAL;
	rc = wa_sigstore_get(st, &doc, name, &why);
	if (rc == WA_ENOTFOUND)
		return 0;
	if (rc < 0)
		return SG_ERR_UNKNOWN;
	if ((rc = wa_sessjson_unpack(&rec, &len, doc, &st->local, &why)) < 0) {
		set_corrupt(st, name, why.text);
		return rc == WA_ENOMEM ? SG_ERR_NOMEM : SG_ERR_UNKNOWN;
	}
	*record = signal_buffer_create(rec, len);
	OPENSSL_cleanse(rec, len);
	free(rec);
	return *record ? 1 : SG_ERR_NOMEM;
}

static int
sub_device_sessions(signal_int_list **sessions, const char *name, size_t len, void *ud)
{
	*sessions = signal_int_list_alloc();
	return *sessions ? 0 : SG_ERR_NOMEM;
}

/* Whether the current state of rec has a base key old has no entry for. */
static int
new_base_key(const uint8_t *rec, size_t len, const json_t *old)
{
	Wasig__RecordStructure *rs = wasig__record_structure__unpack(NULL, len, rec);
	char *bk;
	int isnew = 0;

	if (!rs)
		return 0;
	if (rs->currentsession && rs->currentsession->alicebasekey.len == 33 &&
	    (bk = wa_base64_encode(rs->currentsession->alicebasekey.data, 33))) {
		isnew = !json_object_get(json_object_get(old, "_sessions"), bk);
		free(bk);
	}
	wasig__record_structure__free_unpacked(rs, NULL);
	return isnew;
}

static int
store_session(const signal_protocol_address *sa, uint8_t *rec, size_t len, uint8_t *user,
    size_t ulen, void *ud)
{
	struct wa_sigstore *st = ud;
	struct wa_why why = { "" };
	const json_t *old = NULL;
	json_t *base = NULL, *doc;
	char name[300];
	int rc;

	if (session_file(name, sizeof name, sa) < 0)
		return SG_ERR_INVAL;
	rc = wa_sigstore_get(st, &old, name, &why);
	if (rc < 0 && rc != WA_ENOTFOUND)
		return SG_ERR_UNKNOWN;
	if (st->have_bob && new_base_key(rec, len, old)) {
		/* a pkmsg made this state: start from what libsignal-node's
		 * initIncoming would have had */
		base = old ? json_deep_copy(old) : json_object();
		if (!base || wa_sessjson_bob_init(base, &st->bob, now_ms()) < 0) {
			json_decref(base);
			set_corrupt(st, name, "cannot rebuild the responder's initial state");
			return SG_ERR_UNKNOWN;
		}
		old = base;
	}
	rc = wa_sessjson_pack(&doc, rec, len, old, now_ms(), st->hint.have ? &st->hint : NULL, &why);
	json_decref(base);
	if (rc < 0) {
		set_corrupt(st, name, why.text);
		return SG_ERR_UNKNOWN;
	}
	return wa_sigstore_put(st, name, doc) < 0 ? SG_ERR_UNKNOWN : 0;
}

static int
contains_session(const signal_protocol_address *sa, void *ud)
{
	struct wa_sigstore *st = ud;
	const json_t *doc;
	char name[300];

	if (session_file(name, sizeof name, sa) < 0)
		return 0;
	return wa_sigstore_get(st, &doc, name, NULL) == 0;
}

static int
delete_session(const signal_protocol_address *sa, void *ud)
{
	struct wa_sigstore *st = ud;
	const json_t *doc;
	char name[300];

	if (session_file(name, sizeof name, sa) < 0)
		return SG_ERR_INVAL;
	if (wa_sigstore_get(st, &doc, name, NULL) != 0)
		return 0;
	return wa_sigstore_put(st, name, NULL) < 0 ? SG_ERR_UNKNOWN : 1;
}

static int
delete_all_sessions(const char *name, size_t len, void *ud)
{
	return 0;
}

/* ---- sender keys ------------------------------------------------------ */

static int
sender_key_file(char *out, size_t n, const signal_protocol_sender_key_name *skn)
{
	struct wa_sigaddr a;
	char group[WA_JID_STR_MAX];

	if (!skn->group_id || skn->group_id_len == 0 || skn->group_id_len >= sizeof group ||
	    memchr(skn->group_id, 0, skn->group_id_len) || addr_of(&a, &skn->sender) < 0)
		return WA_EINVAL;
	memcpy(group, skn->group_id, skn->group_id_len);
	group[skn->group_id_len] = 0;
	return wa_sigaddr_sender_key_file(out, n, group, &a);
}

static int
store_sender_key(const signal_protocol_sender_key_name *skn, uint8_t *rec, size_t len,
    uint8_t *user, size_t ulen, void *ud)
{
	struct wa_sigstore *st = ud;
	struct wa_why why = { "" };
	const json_t *old = NULL;
	json_t *doc;
	char name[512];
	int rc;

	struct ent *e;
	uint8_t *copy;

	if (sender_key_file(name, sizeof name, skn) < 0)
		return SG_ERR_INVAL;
	if ((rc = load_ent(st, &e, name, &why)) < 0)
		return SG_ERR_UNKNOWN;
	old = e->cur;
	if (savepoint(e) < 0 || !(copy = malloc(len ? len : 1)))
		return SG_ERR_NOMEM;
	memcpy(copy, rec, len);
	/* the record must convert; the JSON itself is made at commit */
	if (!old) {
		if (wa_skjson_pack(&doc, rec, len, NULL, &why) < 0) {
			free(copy);
			set_corrupt(st, name, why.text);
			return SG_ERR_UNKNOWN;
		}
		json_decref(e->cur);
		e->cur = doc;
		drop_rec(e);
		e->rec = copy;
		e->reclen = len;
		return 0;
	}
	free(e->rec);
	e->rec = copy;
	e->reclen = len;
	e->stale = 1;
	return 0;
}

static int
load_sender_key(signal_buffer **record, signal_buffer **user,
    const signal_protocol_sender_key_name *skn, void *ud)
{
	struct wa_sigstore *st = ud;
	struct wa_why why = { "" };
	const json_t *doc;
	char name[512];
	uint8_t *rec;
	size_t len;
	int rc;

	struct ent *e;

	if (sender_key_file(name, sizeof name, skn) < 0)
		return SG_ERR_INVAL;
	if ((e = find(st, name, 0)) && e->rec && e->cur) {
		/* the C record of what the file holds now */
		*record = signal_buffer_create(e->rec, e->reclen);
		return *record ? 1 : SG_ERR_NOMEM;
	}
	rc = wa_sigstore_get(st, &doc, name, &why);
	if (rc == WA_ENOTFOUND)
		return 0;
	if (rc < 0)
		return SG_ERR_UNKNOWN;
	if ((rc = wa_skjson_unpack(&rec, &len, doc, &why)) < 0) {
		set_corrupt(st, name, why.text);
		return SG_ERR_UNKNOWN;
	}
	*record = signal_buffer_create(rec, len);
	if ((e = find(st, name, 0)) && !e->rec) {
		e->rec = rec;       /* cache it: the next load skips the JSON */
		e->reclen = len;
		e->stale = 0;
	} else {
		OPENSSL_cleanse(rec, len);
		free(rec);
	}
	return *record ? 1 : SG_ERR_NOMEM;
}

/* ---- open/free -------------------------------------------------------- */

int
wa_sigstore_open(struct wa_sigstore **out, struct wa_authdir *ad, struct wa_why *why)
{
	struct wa_sigstore *st;
	struct wa_creds_info info;
	json_t *creds = NULL;
	int rc;

	*out = NULL;
	if (ad->stagefd < 0)
		return wa_why_set(why, WA_EINVAL, "'%s': not open for writing", ad->path);
	if (!(st = calloc(1, sizeof *st)))
		return WA_ENOMEM;
	st->ad = ad;
	st->qfd = st->runfd = -1;
	if ((rc = wa_creds_read(&creds, &info, ad, why)) < 0)
		goto fail;
	if ((rc = wa_keyjson_creds(&st->creds, creds, why)) < 0) {
		char t[WA_WHY_MAX];
		snprintf(t, sizeof t, "%s", why ? why->text : "");
		wa_why_set(why, rc, "'%s/%s': %s", ad->path, WA_CREDS, t + (strncmp(t, "creds.json: ", 12) ? 0 : 12));
		goto fail;
	}
	json_decref(creds);
	creds = NULL;
	wa_curve_djb(st->local.identity, st->creds.identity.pub);
	st->local.regid = st->creds.regid;
	if ((rc = wa_signalctx_new(&st->sc)) < 0)
		goto fail;
	if (signal_protocol_store_context_create(&st->ctx, st->sc) < 0) {
		rc = WA_ENOMEM;
		goto fail;
	}
	{
		signal_protocol_session_store ss = {
			.load_session_func = load_session,
			.get_sub_device_sessions_func = sub_device_sessions,
			.store_session_func = store_session,
			.contains_session_func = contains_session,
			.delete_session_func = delete_session,
			.delete_all_sessions_func = delete_all_sessions,
			.user_data = st,
		};
		signal_protocol_pre_key_store ps = {
			.load_pre_key = load_pre_key,
			.store_pre_key = store_pre_key,
			.contains_pre_key = contains_pre_key,
			.remove_pre_key = remove_pre_key,
			.user_data = st,
		};
		signal_protocol_signed_pre_key_store sps = {
			.load_signed_pre_key = load_signed_pre_key,
			.store_signed_pre_key = store_signed_pre_key,
			.contains_signed_pre_key = contains_signed_pre_key,
			.remove_signed_pre_key = remove_signed_pre_key,
			.user_data = st,
		};
		signal_protocol_identity_key_store is = {
			.get_identity_key_pair = get_identity_key_pair,
			.get_local_registration_id = get_local_registration_id,
			.save_identity = save_identity,
			.is_trusted_identity = is_trusted_identity,
			.user_data = st,
		};
		signal_protocol_sender_key_store sks = {
			.store_sender_key = store_sender_key,
			.load_sender_key = load_sender_key,
			.user_data = st,
		};
		signal_protocol_store_context_set_session_store(st->ctx, &ss);
		signal_protocol_store_context_set_pre_key_store(st->ctx, &ps);
		signal_protocol_store_context_set_signed_pre_key_store(st->ctx, &sps);
		signal_protocol_store_context_set_identity_key_store(st->ctx, &is);
		signal_protocol_store_context_set_sender_key_store(st->ctx, &sks);
	}
	*out = st;
	return 0;
fail:
	json_decref(creds);
	wa_sigstore_free(st);
	return rc;
}

void
wa_sigstore_free(struct wa_sigstore *st)
{
	if (!st)
		return;
	forget_all(st);
	if (st->ctx)
		signal_protocol_store_context_destroy(st->ctx);
	wa_signalctx_free(st->sc);
	if (st->runfd >= 0)
		close(st->runfd);
	if (st->qfd >= 0)
		close(st->qfd);
	OPENSSL_cleanse(st, sizeof *st);
	free(st);
}

signal_context *
wa_sigstore_signal(struct wa_sigstore *st)
{
	return st->sc;
}

signal_protocol_store_context *
wa_sigstore_ctx(struct wa_sigstore *st)
{
	return st->ctx;
}

const struct wa_keyjson_creds *
wa_sigstore_creds(struct wa_sigstore *st)
{
	return &st->creds;
}
