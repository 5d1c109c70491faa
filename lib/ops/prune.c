/*
 * prune.c - wa-prune's selection (prune.h): which files the selectors
 * pick, decided from one scan of the folder without changing anything.
 * Moving them is the quarantine's job; creds.json is never selected.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bufjson.h"
#include "store/durable.h"
#include "base/file.h"
#include "store/fname.h"
#include "ops/health.h"
#include "store/names.h"
#include "ops/prune.h"
#include "store/scan.h"

#define PREKEY_ID_MAX 16777215L   /* 3-byte ids on the wire */

static int
alnum_run(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return 1;
}

/* Decimal digits s[0..n) as a number <= max, or -1. */
static long
decimal(const char *s, size_t n, long max)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

static void
set_name(struct wa_peer *p)
{
	if (p->domain)
		snprintf(p->name, sizeof p->name, "%s_%d", p->user, p->domain);
	else
		snprintf(p->name, sizeof p->name, "%s", p->user);
}

/* "user" or "user_N" in s[0..n) */
static int
parse_user(struct wa_peer *p, const char *s, size_t n, int allow_domain)
{
	const char *us = memchr(s, '_', n);
	size_t ulen = us ? (size_t)(us - s) : n;
	long d = 0;

	if (!alnum_run(s, ulen) || ulen >= sizeof p->user)
		return -1;
	if (us) {
		if (!allow_domain || (d = decimal(us + 1, n - ulen - 1, 255)) < 0)
			return -1;
	}
	memcpy(p->user, s, ulen);
	p->user[ulen] = 0;
	p->domain = (int)d;
	return 0;
}

int
wa_peer_parse(struct wa_peer *p, const char *spec, struct wa_why *why)
{
	const char *at = strchr(spec, '@'), *colon, *dot;
	size_t n = strlen(spec);

	memset(p, 0, sizeof *p);
	p->device = -1;
	if (n == 0 || n > 200)
		return wa_why_set(why, WA_EINVAL, "'%s': not a contact (JID, Signal address or user)", spec);
	if (at) {
		const char *server = at + 1;
		size_t ulen;
		int agent;
		colon = memchr(spec, ':', (size_t)(at - spec));
		ulen = colon ? (size_t)(colon - spec) : (size_t)(at - spec);
		if (colon && (p->device = decimal(colon + 1, (size_t)(at - colon - 1), 65535)) < 0)
			return wa_why_set(why, WA_EINVAL, "'%s': the device after ':' is not a number", spec);
		if (parse_user(p, spec, ulen, 1) < 0)
			return wa_why_set(why, WA_EINVAL, "'%s': not a contact's JID (user part)", spec);
		agent = p->domain;
		if (strcmp(server, "s.whatsapp.net") == 0 || strcmp(server, "c.us") == 0)
			p->domain = agent;
		else if (strcmp(server, "lid") == 0)
			p->domain = 1;
		else if (strcmp(server, "hosted") == 0)
			p->domain = 128;
		else if (strcmp(server, "hosted.lid") == 0)
			p->domain = 129;
		else
			return wa_why_set(why, WA_EINVAL, "'%s': not a contact's JID (server '%s'); "
			    "group state is in sender keys: use --sender-keys", spec, server);
		set_name(p);
		return 0;
	}
	if (strchr(spec, ':') || strchr(spec, '/'))
		return wa_why_set(why, WA_EINVAL, "'%s': not a contact (JID, Signal address or user)", spec);
	if ((dot = strrchr(spec, '.'))) {
		if ((p->device = decimal(dot + 1, strlen(dot + 1), 65535)) < 0 ||
		    parse_user(p, spec, (size_t)(dot - spec), 1) < 0)
			return wa_why_set(why, WA_EINVAL, "'%s': not a Signal address (NAME.DEVICE)", spec);
		set_name(p);
		return 0;
	}
	if (parse_user(p, spec, n, 1) < 0)
		return wa_why_set(why, WA_EINVAL, "'%s': not a contact (JID, Signal address or user)", spec);
	set_name(p);
	return 0;
}

int
wa_prekey_unusable(const char *id, size_t idlen, const char *buf, size_t len, const char **reason)
{
	json_error_t je;
	json_t *j;
	long v;
	int bad;

	if ((v = decimal(id, idlen, PREKEY_ID_MAX)) < 1 || id[0] == '0') {
		*reason = "its id is not a pre-key number a message can name";
		return 1;
	}
	if (wa_json_check(buf, len, NULL, NULL) < 0 || !(j = json_loadb(buf, len, 0, &je))) {
		*reason = "does not parse";
		return 1;
	}
	bad = !json_is_object(j) || wa_bufjson_len(json_object_get(j, "private")) != 32 ||
	    wa_bufjson_len(json_object_get(j, "public")) != 32;
	json_decref(j);
	if (bad) {
		*reason = "not a pair of 32-byte keys";
		return 1;
	}
	return 0;
}

/* ---- selection ------------------------------------------------------ */

struct sel {
	struct wa_prune_sel *s;
	size_t cap;
};

static int
pick(struct sel *x, const char *name, enum wa_prune_where where, unsigned selector, const char *reason)
{
	struct wa_prune_item *it;

	if (x->s->n == x->cap) {
		size_t ncap = x->cap ? x->cap * 2 : 64;
		struct wa_prune_item *nv = realloc(x->s->v, ncap * sizeof *nv);
		if (!nv)
			return WA_ENOMEM;
		x->s->v = nv;
		x->cap = ncap;
	}
	it = &x->s->v[x->s->n];
	if (!(it->name = strdup(name)))
		return WA_ENOMEM;
	it->where = where;
	it->selector = selector;
	it->reason = reason;
	x->s->n++;
	return 0;
}

static int
is_tmp(const char *name)
{
	return strncmp(name, WA_DURABLE_TMP_PREFIX, sizeof WA_DURABLE_TMP_PREFIX - 1) == 0;
}

/* The other name of a peer through Baileys' lid-mapping files, or "". */
static void
mapped_name(char *out, size_t n, int fd, const struct wa_peer *p)
{
	char file[160], key[80], *buf;
	struct wa_peer q;
	size_t len;
	json_t *j;
	const char *u;
	int to;

	out[0] = 0;
	switch (p->domain) {
	case 0: to = 1; snprintf(key, sizeof key, "%s", p->user); break;
	case 128: to = 129; snprintf(key, sizeof key, "%s", p->user); break;
	case 1: to = 0; snprintf(key, sizeof key, "%s_reverse", p->user); break;
	case 129: to = 128; snprintf(key, sizeof key, "%s_reverse", p->user); break;
	default: return;
	}
	if (wa_fname_make(file, sizeof file, WA_FT_LID_MAPPING, key) < 0)
		return;
	/* the value is a bare JSON string: jansson needs JSON_DECODE_ANY */
	if (wa_file_read(&buf, &len, fd, file, NULL, NULL) < 0)
		return;
	j = json_loadb(buf, len, JSON_DECODE_ANY, NULL);
	free(buf);
	if (!j)
		return;
	if (json_is_string(j) && (u = json_string_value(j)) && parse_user(&q, u, strlen(u), 0) == 0) {
		q.domain = to;
		q.device = -1;
		set_name(&q);
		snprintf(out, n, "%s", q.name);
	}
	json_decref(j);
}

/* Does session id "NAME.DEVICE" (as in the file name) belong to a peer? */
static int
session_match(const char *id, size_t idlen, const struct wa_peer *p, const char *alt)
{
	const char *dot = NULL;
	size_t i, nlen;
	long dev;

	for (i = idlen; i > 0; i--)
		if (id[i - 1] == '.') {
			dot = id + i - 1;
			break;
		}
	if (!dot)
		return 0;
	nlen = (size_t)(dot - id);
	if ((dev = decimal(dot + 1, idlen - nlen - 1, 65535)) < 0)
		return 0;
	if (p->device >= 0 && dev != p->device)
		return 0;
	if (strlen(p->name) == nlen && memcmp(id, p->name, nlen) == 0)
		return 1;
	return alt[0] && strlen(alt) == nlen && memcmp(id, alt, nlen) == 0;
}

static int
preflight(struct wa_authdir *ad, const struct wa_scan *s, struct wa_why *why)
{
	const struct wa_scan_entry *e = wa_scan_find(s, WA_CREDS);
	const char *reason;
	size_t len, pos;
	char *buf;
	int rc;

	if (!e)
		return wa_why_set(why, WA_ENOTFOUND, "'%s/%s': no such file: not an auth folder "
		    "(wa-prune works only where credentials are)", ad->path, WA_CREDS);
	if (e->kind == WA_SCAN_SYMLINK)
		return wa_why_set(why, WA_EUNSAFE, "'%s/%s': is a symbolic link; refusing to work on this "
		    "folder (put the real file in its place)", ad->path, WA_CREDS);
	if ((rc = wa_file_read(&buf, &len, ad->fd, WA_CREDS, ad->path, why)) < 0)
		return rc;
	rc = wa_json_check(buf, len, &pos, &reason);
	free(buf);
	if (rc < 0 && len == 0)
		return wa_why_set(why, WA_ECORRUPT, "'%s/%s': empty file; restore it with wa-restore "
		    "(wa-prune never touches creds.json)", ad->path, WA_CREDS);
	if (rc < 0)
		return wa_why_set(why, WA_ECORRUPT, "'%s/%s': not valid JSON at byte %zu of %zu: %s; "
		    "restore it with wa-restore (wa-prune never touches creds.json)",
		    ad->path, WA_CREDS, pos, len, reason);
	/* modes: wa-prune sets them to 0600 (wa_scan_fix_modes), as wa-run does */
	return 0;
}

static int
select_folder(struct sel *x, struct wa_authdir *ad, const struct wa_scan *s, unsigned what,
    const struct wa_peer *peers, size_t npeers, char (*alt)[80], struct wa_why *why)
{
	const char *reason, *id;
	size_t i, k, idlen, len;
	char *buf;
	int rc;

	for (i = 0; i < s->n; i++) {
		const struct wa_scan_entry *e = &s->e[i];
		int movable = e->kind != WA_SCAN_SUBDIR;
		enum wa_ftype ft = wa_fname_classify(e->name, NULL, NULL);
		unsigned chosen = 0;

		reason = NULL;
		if (!movable || ft == WA_FT_CREDS || strcmp(e->name, WA_SUBDIR) == 0)
			continue;
		if (e->kind == WA_SCAN_DIR || e->kind == WA_SCAN_OTHERKIND) {
			/* a folder, fifo, socket or device under an auth file's
			 * name: broken (wa-check says so), --corrupt moves it */
			if ((what & WA_PRUNE_CORRUPT) && ft != WA_FT_OTHER) {
				chosen = WA_PRUNE_CORRUPT;
				reason = e->kind == WA_SCAN_DIR ? "a folder" : "not a regular file";
			}
			goto decide;
		}
		if (is_tmp(e->name)) {
			if (what & WA_PRUNE_TMP) {
				chosen = WA_PRUNE_TMP;
				reason = "leftover temporary file";
			}
			goto decide;
		}
		wa_fname_classify(e->name, &id, &idlen);
		if ((what & WA_PRUNE_SESSIONS) && e->type == WA_FT_SESSION) {
			if (!npeers) {
				chosen = WA_PRUNE_SESSIONS;
				reason = "session";
			}
			for (k = 0; k < npeers; k++)
				if (session_match(id, idlen, &peers[k], alt[k])) {
					chosen = WA_PRUNE_SESSIONS;
					reason = "session";
					x->s->peer_hits[k]++;
				}
			if (chosen)
				goto decide;
		}
		if ((what & WA_PRUNE_SENDER_KEYS) &&
		    (e->type == WA_FT_SENDER_KEY || e->type == WA_FT_SENDER_KEY_MEMORY)) {
			chosen = WA_PRUNE_SENDER_KEYS;
			reason = "sender key";
			goto decide;
		}
		if (e->kind == WA_SCAN_SYMLINK) {
			/* wa never follows links in the folder: an auth file's
			 * name on a link is broken, --corrupt moves the link */
			if ((what & WA_PRUNE_CORRUPT) && ft != WA_FT_OTHER) {
				chosen = WA_PRUNE_CORRUPT;
				reason = "symbolic link";
			}
			goto decide;
		}
		if (e->type == WA_FT_OTHER)
			continue;
		if (!(what & (WA_PRUNE_CORRUPT | WA_PRUNE_PRE_KEYS)))
			continue;
		if (!(what & WA_PRUNE_CORRUPT) && e->type != WA_FT_PRE_KEY)
			continue;
		rc = wa_file_read(&buf, &len, ad->fd, e->name, ad->path, why);
		if (rc == WA_ENOTFOUND)
			continue;   /* gone since the listing */
		if ((rc == WA_ETOOBIG || rc == WA_EUNSAFE) && (what & WA_PRUNE_CORRUPT)) {
			/* over the size limit (wa-check: CRITICAL), or no longer a
			 * regular file: nothing can read it, --corrupt moves it */
			chosen = WA_PRUNE_CORRUPT;
			reason = rc == WA_ETOOBIG ? "over the size limit" : "not a regular file";
			goto decide;
		}
		if (rc == WA_ETOOBIG || rc == WA_EUNSAFE)
			continue;
		if (rc < 0)
			return rc;
		if ((what & WA_PRUNE_CORRUPT) && wa_json_check(buf, len, NULL, NULL) < 0) {
			chosen = WA_PRUNE_CORRUPT;
			reason = "does not parse";
		} else if ((what & WA_PRUNE_PRE_KEYS) && e->type == WA_FT_PRE_KEY &&
		    wa_prekey_unusable(id, idlen, buf, len, &reason)) {
			chosen = WA_PRUNE_PRE_KEYS;
		}
		free(buf);
decide:
		if (chosen && (rc = pick(x, e->name, WA_PRUNE_IN_FOLDER, chosen, reason)) < 0)
			return rc;
	}
	return 0;
}

static int
select_stage(struct sel *x, struct wa_authdir *ad, struct wa_why *why)
{
	struct wa_scan *s;
	size_t i;
	int fd, rc = 0;

	if (ad->stagefd >= 0) {
		fd = ad->stagefd;
	} else if (ad->wafd >= 0) {
		fd = openat(ad->wafd, WA_STAGE, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			return 0;
		if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
			/* the same cause and words as wa_authdir_open: 77 in every tool */
			return wa_why_set(why, WA_EUNSAFE, "'%s/%s/%s': not a real folder (symbolic link?)",
			    ad->path, WA_SUBDIR, WA_STAGE);
		if (fd < 0)
			return wa_why_set(why, WA_ESYS, "unable to open '%s/%s/%s': %s", ad->path,
			    WA_SUBDIR, WA_STAGE, strerror(errno));
	} else {
		return 0;
	}
	if ((rc = wa_scan_dir(&s, fd)) < 0) {
		rc = wa_why_set(why, rc, "unable to list '%s/%s/%s': %s", ad->path, WA_SUBDIR, WA_STAGE,
		    wa_strerror(rc));
		goto out;
	}
	for (i = 0; i < s->n && rc == 0; i++)
		if (s->e[i].kind != WA_SCAN_DIR && s->e[i].kind != WA_SCAN_SUBDIR)
			rc = pick(x, s->e[i].name, WA_PRUNE_IN_STAGE, WA_PRUNE_TMP, "leftover temporary file");
	wa_scan_free(s);
out:
	if (fd != ad->stagefd)
		close(fd);
	return rc;
}

int
wa_prune_select(struct wa_prune_sel **out, struct wa_authdir *ad, unsigned what,
    const struct wa_peer *peers, size_t npeers, struct wa_why *why)
{
	struct sel x = { NULL, 0 };
	struct wa_scan *s = NULL;
	char (*alt)[80] = NULL;
	size_t k;
	int rc;

	*out = NULL;
	if (!(x.s = calloc(1, sizeof *x.s)) ||
	    !(x.s->peer_hits = calloc(npeers ? npeers : 1, sizeof *x.s->peer_hits)) ||
	    !(alt = calloc(npeers ? npeers : 1, sizeof *alt))) {
		rc = WA_ENOMEM;
		goto fail;
	}
	if ((rc = wa_scan_dir(&s, ad->fd)) < 0) {
		rc = wa_why_set(why, rc, "unable to list '%s': %s", ad->path, wa_strerror(rc));
		goto fail;
	}
	if ((rc = preflight(ad, s, why)) < 0)
		goto fail;
	for (k = 0; k < npeers; k++)
		mapped_name(alt[k], sizeof alt[k], ad->fd, &peers[k]);
	if ((rc = select_folder(&x, ad, s, what, peers, npeers, alt, why)) < 0)
		goto fail;
	if ((what & WA_PRUNE_TMP) && (rc = select_stage(&x, ad, why)) < 0)
		goto fail;
	wa_scan_free(s);
	free(alt);
	*out = x.s;
	return 0;
fail:
	wa_scan_free(s);
	free(alt);
	wa_prune_sel_free(x.s);
	return rc;
}

void
wa_prune_sel_free(struct wa_prune_sel *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	free(s->peer_hits);
	free(s);
}
